"""The Trace contract: what the engine decided, step by step.

Every front end (TUI, CLI, quiz, shell) reads a ``Trace`` and never re-derives what
the engine decided.  A ``Step`` carries the full state *after* it happened, so a
viewer can move backwards and forwards without recomputing anything.

Stdlib only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

#: Every kind of step the engine emits, in the words of DESIGN.md.
STEP_KINDS = (
    "send",  # a host puts a packet on the wire (client, pod, node process)
    "link",  # the packet crosses a link between two hosts
    "route",  # a routing decision on a host (local delivery or forward, out interface)
    "rule-match",  # a rule matched (its target is another step when it does something)
    "no-match",  # a rule was tried and did not match (kept so the UI can dim it)
    "jump",  # -j USER-CHAIN
    "goto",  # -g USER-CHAIN
    "return",  # RETURN, or falling off the end of a user chain
    "policy",  # the built-in chain's policy decided
    "dnat",
    "snat",
    "masquerade",
    "mark",
    "accept",
    "drop",
    "reject",
    "log",
    "conntrack-new",  # first packet of a connection: entry created, nat table consulted
    "conntrack-hit",  # known connection: nat table skipped, entry translates
    "conntrack-reverse",  # reply direction: conntrack undoes the NAT
    "conntrack-confirm",  # the new entry is confirmed as the packet leaves the host
    "conntrack-invalid",  # the packet does not fit any entry's state
    "deliver",  # the packet reaches a socket
    "socket-error",  # an ICMP error or a RST reached the client: its socket reports ``Step.error``
    "timeout",  # nothing answers: the sender gives up
)

#: How a connection ends (``Trace.ending``), named for what happened to it.
ENDINGS = {
    "delivered": "the connection worked: the server's answers reached the client",
    "rejected": "a host answered with an error: a REJECT rule's ICMP error (by default port "
    "unreachable) or TCP reset, or the server's kernel's RST (UDP: ICMP port unreachable) "
    "because nothing listens on the port",
    "dropped": "a host discarded a packet without a word (a DROP rule or policy, a martian "
    "source, a full conntrack table, a host that does not forward): the client hears nothing",
    "timed-out": "nothing was dropped, but no answer reached the client's socket (the reply "
    "went to another host, or came from an address the client never talked to)",
    "unreachable": "routing failed: no route, or nobody answers ARP for the next hop and the "
    "kernel sends ICMP host unreachable",
}

#: What the client's socket reports (``Trace.error``, ``Step.error``), as strerror() words it.
ERRORS = {
    "ECONNREFUSED": "Connection refused",
    "ECONNRESET": "Connection reset by peer",
    "ETIMEDOUT": "Connection timed out",
    "EHOSTUNREACH": "No route to host",
    "ENETUNREACH": "Network is unreachable",
    "ENOPROTOOPT": "Protocol not available",
    "EPERM": "Operation not permitted",
}

#: ``Trace.outcome`` (the older, coarser word, kept for JSON readers) for each ending.
OUTCOME_OF_ENDING = {
    "delivered": "delivered",
    "rejected": "refused",
    "dropped": "timeout",
    "timed-out": "timeout",
    "unreachable": "unreachable",
}
_ENDING_OF_OUTCOME = {"delivered": "delivered", "refused": "rejected", "timeout": "timed-out",
                      "unreachable": "unreachable", "dropped": "dropped"}


def error_text(errno_name: str) -> str:
    """``ECONNREFUSED`` -> ``Connection refused (ECONNREFUSED)``; "" for ""."""
    if not errno_name:
        return ""
    return f"{ERRORS.get(errno_name, errno_name)} ({errno_name})"


@dataclass(frozen=True)
class PacketView:
    """The packet's headers after a step (what the learner sees)."""

    src: str
    dst: str
    proto: str  # "tcp" | "udp" | "icmp"
    sport: int = 0
    dport: int = 0
    mark: int = 0
    flags: tuple[str, ...] = ()  # TCP flags: ("SYN",), ("SYN", "ACK"), ...
    direction: str = "original"  # "original" | "reply"

    def endpoint_text(self, which: str) -> str:
        ip = self.src if which == "src" else self.dst
        port = self.sport if which == "src" else self.dport
        return f"{ip}:{port}" if port else ip


@dataclass(frozen=True)
class ConntrackView:
    """One conntrack entry as ``conntrack -L`` prints it, plus its parts."""

    line: str  # the exact `conntrack -L` line
    proto: str
    state: str  # "SYN_SENT", "ESTABLISHED", "TIME_WAIT", "" for udp ...
    orig: tuple[str, str, int, int]  # src, dst, sport, dport
    reply: tuple[str, str, int, int]
    status: tuple[str, ...] = ()  # ("UNREPLIED",) or ("ASSURED",) ...
    event: str = ""  # "new" | "update" | "destroy" | "" (unchanged, listed for context)


@dataclass(frozen=True)
class Step:
    index: int
    host: str
    kind: str
    why: str
    packet: PacketView
    packet_no: int = 0  # which packet of the connection (0 = first, e.g. the SYN)
    packet_label: str = ""  # "SYN", "SYN-ACK", "request", ...
    hook: str = ""  # PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING or ""
    table: str = ""
    chain: str = ""
    rule_index: int = 0  # 1-based, as `iptables -L --line-numbers`; 0 = none
    rule: str = ""  # the rule's iptables-save text
    changed: tuple[str, ...] = ()  # header fields this step rewrote
    conntrack: tuple[ConntrackView, ...] = ()  # entries of this host after the step
    touched: int = -1  # index into ``conntrack`` of the entry this step touched
    roll: float | None = None  # statistic random: the roll
    probability: float | None = None  # statistic random: the probability as the kernel keeps it
    target: str = ""  # next chain or target name (jump/goto/dnat ...)
    link: tuple[str, str] = ()  # (from host, to host) for kind == "link"
    error: str = ""  # kind "socket-error"/"timeout": the errno the client's socket reports (see ERRORS)
    # nftables (kube-proxy's nftables mode), as ``nft monitor trace`` cannot show them:
    lookup: str = ""  # the set or map a rule looked the packet up in ("@service-ips", "numgen random mod 2")
    key: str = ""  # the key looked up ("10.96.0.1 . tcp . 8080"; numgen: the number drawn)
    element: str = ""  # the element that matched ("10.96.0.1 . tcp . 8080 : goto service-…"; "" if none)
    #: the step's chain is a base chain: its declaration ("type nat hook prerouting priority dstnat; policy accept;")
    base_chain: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Step":
        d = dict(data)
        d["packet"] = PacketView(**{**d["packet"], "flags": tuple(d["packet"].get("flags", ()))})
        d["conntrack"] = tuple(
            ConntrackView(
                **{
                    **c,
                    "orig": tuple(c["orig"]),
                    "reply": tuple(c["reply"]),
                    "status": tuple(c.get("status", ())),
                }
            )
            for c in d.get("conntrack", ())
        )
        d["changed"] = tuple(d.get("changed", ()))
        d["link"] = tuple(d.get("link", ()))
        return cls(**d)


@dataclass(frozen=True)
class Trace:
    scenario: str  # scenario name
    flow: str  # flow name
    hosts: tuple[str, ...]  # every host the trace mentions, in topology order
    steps: tuple[Step, ...]
    #: the older, coarser word: "delivered" | "refused" | "timeout" | "unreachable" (a
    #: single-packet dump trace may also say "dropped"); ``ending`` says what happened
    outcome: str
    summary: str  # one sentence: what happened to the connection
    seed: int | None = None
    endpoint: str = ""  # the endpoint (pod name) chosen, "" if none
    server_saw: str = ""  # "ip:port" the server saw as the client's address
    client_saw: str = ""  # "ip:port" the client saw as the reply's source
    meta: dict[str, Any] = field(default_factory=dict)
    #: how the connection ended, one of ENDINGS: delivered, rejected, dropped, timed-out,
    #: unreachable (left empty, e.g. in a Trace built by hand or read from older JSON, it is
    #: the closest word for ``outcome``)
    ending: str = ""
    #: the errno the client's socket reports ("" when it reports none, e.g. delivered, or a
    #: UDP client that simply hears nothing), one of ERRORS
    error: str = ""

    def __post_init__(self) -> None:
        if not self.ending:
            object.__setattr__(self, "ending", _ENDING_OF_OUTCOME.get(self.outcome, self.outcome))

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def steps_on(self, host: str) -> list[Step]:
        return [s for s in self.steps if s.host == host]

    def chain_path(self, host: str | None = None, packet_no: int | None = None) -> list[str]:
        """The ordered ``table:chain`` names entered (for comparison with the kernel)."""
        path: list[str] = []
        for s in self.steps:
            if host is not None and s.host != host:
                continue
            if packet_no is not None and s.packet_no != packet_no:
                continue
            if s.chain:
                name = f"{s.table}:{s.chain}"
                if not path or path[-1] != name:
                    path.append(name)
        return path

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "flow": self.flow,
            "hosts": list(self.hosts),
            "outcome": self.outcome,
            "ending": self.ending,
            "error": self.error,
            "summary": self.summary,
            "seed": self.seed,
            "endpoint": self.endpoint,
            "server_saw": self.server_saw,
            "client_saw": self.client_saw,
            "meta": self.meta,
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Trace":
        return cls(
            scenario=data["scenario"],
            flow=data["flow"],
            hosts=tuple(data["hosts"]),
            steps=tuple(Step.from_dict(s) for s in data["steps"]),
            outcome=data["outcome"],
            summary=data["summary"],
            seed=data.get("seed"),
            endpoint=data.get("endpoint", ""),
            server_saw=data.get("server_saw", ""),
            client_saw=data.get("client_saw", ""),
            meta=data.get("meta", {}),
            ending=data.get("ending", ""),
            error=data.get("error", ""),
        )

    @classmethod
    def from_json(cls, text: str) -> "Trace":
        return cls.from_dict(json.loads(text))
