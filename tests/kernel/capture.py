"""Parsers for what the kernel reports: ``xtables-monitor --trace`` and ``conntrack``.

Stdlib only; no root needed (the unit tests run them on recorded output in fixtures/).

``xtables-monitor --trace`` (iptables 1.8.9, nf_tables) prints, for every base chain a
traced packet enters, one ``PACKET:`` line with the headers as that chain sees them, then
one ``TRACE:`` line per event in that chain and the user chains it jumps to::

    PACKET: 2 3c084be9 IN=va MACSRC=.. SRC=10.0.0.2 DST=10.96.0.1 LEN=60 .. ID=42803 DF SPORT=40000 DPORT=8080 SYN
     TRACE: 2 3c084be9 nat:PREROUTING:rule:0x6:JUMP:KUBE-SERVICES  -4 -t nat -A PREROUTING -j KUBE-SERVICES
     TRACE: 2 3c084be9 nat:KUBE-SERVICES:rule:0x7:ACCEPT  -4 -t nat -A KUBE-SERVICES -d .. -j DNAT ..
     TRACE: 2 3c084be9 nat:KUBE-POSTROUTING:rule:0x11:0xfffffffb  -4 -t nat -A KUBE-POSTROUTING .. -j RETURN
     TRACE: 2 3c084be9 nat:POSTROUTING:policy:ACCEPT

``2`` is the family (NFPROTO_IPV4), ``3c084be9`` the trace id, ``0x11`` the rule handle.
Only rules that match show up (a non-matching rule leaves no line).  A ``-j RETURN`` rule's
verdict is printed as the number ``0xfffffffb``; falling off the end of a user chain prints
nothing at all on this kernel (6.x; older ones printed ``:return:``, still parsed).
The trace id is derived from the skb and is *reused* by later packets, so packets are told
apart by the order of the base chains, not by the id alone (see ``parse_trace``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubeflow_tui.trace import ConntrackView

# ---------------------------------------------------------------------------------------
# xtables-monitor --trace

BUILTIN_CHAINS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")

# (hook rank, table priority): a packet's base chains come in strictly increasing order.
_HOOK_RANK = {"PREROUTING": 0, "OUTPUT": 0, "INPUT": 1, "FORWARD": 1, "POSTROUTING": 2}
_TABLE_PRIO = {"raw": -300, "mangle": -150, "nat": -100, "filter": 0, "security": 50}
_NAT_SRC_HOOKS = ("INPUT", "POSTROUTING")  # nat runs at srcnat priority (+100) there


def base_chain_order(table: str, hook: str) -> tuple[int, int]:
    prio = 100 if (table == "nat" and hook in _NAT_SRC_HOOKS) else _TABLE_PRIO.get(table, 0)
    return (_HOOK_RANK.get(hook, 3), prio)


_TRACE_RE = re.compile(
    r"^\s*TRACE:\s+(?P<family>\d+)\s+(?P<id>[0-9a-f]+)\s+"
    r"(?P<table>[^:\s]+):(?P<chain>[^:\s]+):(?P<kind>rule|return|policy)"
    r"(?::(?P<rest>\S*))?(?:\s+(?P<rule>.*?))?\s*$"
)
_PACKET_RE = re.compile(r"^\s*PACKET:\s+(?P<family>\d+)\s+(?P<id>[0-9a-f]+)\s*(?P<fields>.*?)\s*$")
_RULE_PREFIX_RE = re.compile(r"^-4\s+-t\s+\S+\s+")
TCP_FLAGS = ("SYN", "ACK", "FIN", "RST", "PSH", "URG", "ECE", "CWR")


@dataclass(frozen=True)
class KHeader:
    """The headers of a packet as one base chain saw them (one ``PACKET:`` line)."""

    src: str
    dst: str
    proto: str  # "tcp" | "udp" | "icmp" | number as text
    sport: int = 0
    dport: int = 0
    flags: tuple[str, ...] = ()  # TCP flags in the kernel's order, e.g. ("SYN", "ACK")
    iif: str = ""
    oif: str = ""
    ip_id: int = 0
    length: int = 0
    mark: int = 0
    line: str = ""

    @property
    def src_text(self) -> str:
        return f"{self.src}:{self.sport}" if self.sport else self.src

    @property
    def dst_text(self) -> str:
        return f"{self.dst}:{self.dport}" if self.dport else self.dst


@dataclass(frozen=True)
class KEvent:
    """One ``TRACE:`` line: a rule that matched, a return, or a base chain's policy."""

    table: str
    chain: str
    kind: str  # "rule" | "return" | "policy"
    verdict: str  # ACCEPT DROP CONTINUE RETURN JUMP GOTO QUEUE BREAK ...
    target: str = ""  # the chain for JUMP/GOTO
    handle: int = 0  # the rule handle (rules only)
    rule: str = ""  # iptables-save text: "-A CHAIN ..."
    hook: str = ""  # the base chain this event happened under
    trace_id: str = ""
    line: str = ""

    @property
    def label(self) -> str:
        """``table:chain:verdict`` in the form ``compare`` uses for both sides."""
        return f"{self.table}:{self.chain}:{verdict_label(self.kind, self.verdict, self.target)}"


def verdict_label(kind: str, verdict: str, target: str = "") -> str:
    if kind == "policy":
        return f"policy:{verdict}"
    if kind == "return":
        return "return"
    return f"{verdict}:{target}" if target else verdict


@dataclass
class KPacket:
    """Everything one packet did on one host, in order."""

    trace_id: str
    family: int
    headers: list[KHeader] = field(default_factory=list)  # one per base chain entered
    events: list[KEvent] = field(default_factory=list)
    base_chains: list[tuple[str, str]] = field(default_factory=list)  # (table, hook)

    @property
    def first(self) -> KHeader:
        return self.headers[0]

    @property
    def last(self) -> KHeader:
        return self.headers[-1]

    @property
    def flags(self) -> tuple[str, ...]:
        return self.first.flags if self.headers else ()

    def path(self) -> list[str]:
        return [e.label for e in self.events]

    def hooks(self) -> list[str]:
        out: list[str] = []
        for _, hook in self.base_chains:
            if hook not in out:
                out.append(hook)
        return out

    def describe(self) -> str:
        h = self.first
        flags = " ".join(h.flags)
        return f"{h.proto} {h.src_text} > {h.dst_text}{' ' + flags if flags else ''}"


_PROTO_NAMES = {"6": "tcp", "17": "udp", "1": "icmp"}

# nf_tables' own verdict codes, printed as numbers by xtables-monitor 1.8.9 (seen: a
# ``-j RETURN`` rule traces as ``rule:0x11:0xfffffffb``)
NFT_VERDICTS = {
    "0xffffffff": "CONTINUE",
    "0xfffffffe": "BREAK",
    "0xfffffffd": "JUMP",
    "0xfffffffc": "GOTO",
    "0xfffffffb": "RETURN",
}


def parse_packet_fields(text: str, line: str = "") -> KHeader:
    kv: dict[str, str] = {}
    flags: list[str] = []
    for tok in text.split():
        if "=" in tok:
            k, _, v = tok.partition("=")
            kv.setdefault(k, v)
        elif tok in TCP_FLAGS:
            flags.append(tok)
    # xtables-monitor names no protocol: TCP segments carry flags, UDP only ports
    if "SPORT" in kv:
        proto = "tcp" if flags else "udp"
    elif "TYPE" in kv:
        proto = "icmp"
    elif "PROTO" in kv:
        proto = _PROTO_NAMES.get(kv["PROTO"], kv["PROTO"].lower())
    else:
        # 1.8.9 prints nothing of an ICMP header (seen: REJECT's port-unreachable and ICMP
        # redirects carry only addresses); the referee traces only tcp, udp and icmp
        proto = "icmp"

    def num(key: str, base: int = 10) -> int:
        v = kv.get(key, "")
        try:
            return int(v, 0) if v.startswith("0x") else int(v, base)
        except ValueError:
            return 0

    return KHeader(
        src=kv.get("SRC", ""),
        dst=kv.get("DST", ""),
        proto=proto,
        sport=num("SPORT"),
        dport=num("DPORT"),
        flags=tuple(flags),
        iif=kv.get("IN", ""),
        oif=kv.get("OUT", ""),
        ip_id=num("ID"),
        length=num("LEN"),
        mark=num("MARK"),
        line=line,
    )


def parse_trace_line(line: str) -> KEvent | None:
    m = _TRACE_RE.match(line)
    if not m:
        return None
    kind = m["kind"]
    rest = m["rest"] or ""
    handle = 0
    verdict = ""
    target = ""
    if kind == "rule":
        h, _, v = rest.partition(":")
        handle = int(h, 16) if h.startswith("0x") else int(h or 0)
        verdict, _, target = v.partition(":")
        verdict = NFT_VERDICTS.get(verdict, verdict)
    elif kind == "policy":
        verdict = rest
    else:  # return: falling off the end of a user chain
        verdict = rest or "RETURN"
    rule = _RULE_PREFIX_RE.sub("", m["rule"] or "")
    return KEvent(
        table=m["table"],
        chain=m["chain"],
        kind=kind,
        verdict=verdict,
        target=target,
        handle=handle,
        rule=rule,
        trace_id=m["id"],
        line=line.rstrip("\n"),
    )


def parse_trace(text: str) -> list[KPacket]:
    """Group ``xtables-monitor --trace`` output into packets, in the order they happened.

    A ``PACKET:`` line opens a base chain; the ``TRACE:`` lines after it with the same id
    belong to it.  A packet is a run of base chains with one trace id whose (hook, table
    priority) strictly increases: raw PREROUTING → nat PREROUTING → filter FORWARD → nat
    POSTROUTING.  When the order would go backwards, it is a new packet (the kernel reuses
    trace ids: they are a hash of the skb pointer).

    Another packet's lines may come in between: a packet the kernel generates *while*
    judging this one -- REJECT's ICMP error is traced before the REJECT rule's own line,
    an ICMP redirect before the forwarded packet's FORWARD chain.  So a line continues the
    latest packet with its id, not merely the one before it.
    """
    packets: list[KPacket] = []
    latest: dict[str, KPacket] = {}  # trace id -> the latest packet with that id
    hooks: dict[int, str] = {}  # id(packet) -> the base chain it is in
    pending: tuple[KHeader, str, int] | None = None  # a PACKET line waiting for its first event

    def start(trace_id: str, family: int) -> KPacket:
        p = KPacket(trace_id=trace_id, family=family)
        packets.append(p)
        latest[trace_id] = p
        return p

    for raw in text.splitlines():
        if not raw.strip():
            continue
        pm = _PACKET_RE.match(raw)
        if pm:
            pending = (parse_packet_fields(pm["fields"], raw.rstrip("\n")), pm["id"], int(pm["family"]))
            continue
        ev = parse_trace_line(raw)
        if ev is None:
            continue
        cur = latest.get(ev.trace_id)
        if pending is not None and pending[1] == ev.trace_id and ev.chain in BUILTIN_CHAINS:
            header, _, family = pending
            pending = None
            order = base_chain_order(ev.table, ev.chain)
            # a packet a node sent to itself leaves through OUTPUT/POSTROUTING out of lo and comes
            # back in from lo through PREROUTING with a new trace id: the same packet
            # (same addresses, ports and IP id), one path through the node
            back = None
            if header.iif == "lo" and ev.chain == "PREROUTING" and cur is None:
                for p in reversed(packets):
                    h = p.headers[-1] if p.headers else None
                    if (h is not None and h.oif == "lo" and p.base_chains
                            and p.base_chains[-1][1] in ("OUTPUT", "POSTROUTING")
                            and (h.src, h.dst, h.sport, h.dport, h.ip_id)
                            == (header.src, header.dst, header.sport, header.dport, header.ip_id)):
                        back = p
                        break
            if back is not None:
                cur = back
                latest[ev.trace_id] = cur
            elif cur is None or not cur.base_chains or order <= base_chain_order(*cur.base_chains[-1]):
                cur = start(ev.trace_id, family)
            cur.base_chains.append((ev.table, ev.chain))
            cur.headers.append(header)
            hooks[id(cur)] = ev.chain
        elif cur is None:
            # an event without its PACKET line (e.g. output cut at the start): own packet
            cur = start(ev.trace_id, 2)
            if ev.chain in BUILTIN_CHAINS:
                cur.base_chains.append((ev.table, ev.chain))
                hooks[id(cur)] = ev.chain
        hook = hooks.get(id(cur), "")
        cur.events.append(KEvent(**{**ev.__dict__, "hook": hook or (ev.chain if ev.chain in BUILTIN_CHAINS else "")}))
    return packets


# ---------------------------------------------------------------------------------------
# conntrack -L / conntrack -E

_CT_EVENT_RE = re.compile(r"^\s*\[(NEW|UPDATE|DESTROY)\]\s+")


def parse_conntrack_line(line: str) -> ConntrackView | None:
    """One ``conntrack -L`` (or ``-E``) line as a ``ConntrackView``; None for other text.

    ``tcp      6 119 TIME_WAIT src=.. dst=.. sport=.. dport=.. src=.. dst=.. sport=..
    dport=.. [ASSURED] mark=0 use=1``; udp has no state; ``[UNREPLIED]`` sits between the
    two tuples.  Ports are 0 for protocols without them (icmp).
    """
    text = line.strip()
    event = ""
    m = _CT_EVENT_RE.match(text)
    if m:
        event = m.group(1).lower()
        text = text[m.end():]
    toks = text.split()
    if len(toks) < 3 or not toks[1].isdigit():
        return None
    proto = toks[0]
    i = 2
    if toks[i].isdigit():  # timeout (absent in DESTROY events)
        i += 1
    state = ""
    if i < len(toks) and "=" not in toks[i] and not toks[i].startswith("["):
        state = toks[i]
        i += 1
    tuples: list[dict[str, str]] = []
    status: list[str] = []
    for tok in toks[i:]:
        if tok.startswith("[") and tok.endswith("]"):
            status.append(tok[1:-1])
            continue
        k, sep, v = tok.partition("=")
        if not sep:
            continue
        if k == "src":
            tuples.append({})
        if tuples and len(tuples) <= 2 and k in ("src", "dst", "sport", "dport") and k not in tuples[-1]:
            tuples[-1][k] = v
    if len(tuples) < 2:
        return None

    def tup(d: dict[str, str]) -> tuple[str, str, int, int]:
        return (d.get("src", ""), d.get("dst", ""), int(d.get("sport", 0)), int(d.get("dport", 0)))

    return ConntrackView(
        line=line.strip(),
        proto=proto,
        state=state,
        orig=tup(tuples[0]),
        reply=tup(tuples[1]),
        status=tuple(status),
        event=event,
    )


def parse_conntrack(text: str) -> list[ConntrackView]:
    """Every entry in ``conntrack -L`` (or ``conntrack -E``) output, in order."""
    out = []
    for line in text.splitlines():
        ct = parse_conntrack_line(line)
        if ct is not None:
            out.append(ct)
    return out
