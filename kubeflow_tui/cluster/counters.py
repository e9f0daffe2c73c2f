"""Packet and byte counters that move as the kernel's do: per rule, per built-in chain's
policy, per interface.

After every connection the simulator runs, ``Counters.count(trace)`` adds each packet to
what it hit, from the Trace's steps (the engine already decided which tables a packet
walks: the nat table sees a connection's first packet only, filter/raw/mangle every one):

* a rule is counted when the packet matched it (a jump, a target, a counter-only rule);
* a built-in chain's policy when the packet fell off its end;
* an interface when the packet crossed a link (``ip -s link``).

Bytes are the IP total length as the kernel counts them in iptables: a TCP packet of a
Linux connection carries the timestamp option (header 32 bytes; 40 with the SYN's
MSS/SACK/window-scale options), so a SYN is 60 bytes, a bare ACK 52, data 52 + payload;
a RST answering a SYN 40; UDP 28 + payload.  On an interface ``ip -s link`` counts the
frame: 14 more bytes of Ethernet header.  (The neighbour discovery and IPv6 chatter of a
real interface is not simulated: only the connections' packets are counted.)

Counters belong to rule objects (``id`` of the ``Rule`` in the node's ruleset, the rule kept
alive with its count): a rule inserted above keeps the counts of the rules below, a rule
replaced (``-R``) or rewritten by a kube-proxy sync starts from 0, as in the kernel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..netfilter.rules import Chain, Rule, Ruleset, Table

if TYPE_CHECKING:  # pragma: no cover
    from ..trace import Step, Trace
    from .sim import ClusterSim

#: the test servers' exchange when nothing else is said: the client sends "hello\n", the
#: server answers "saw <ip:port> from <pod>\n" (tests/kernel/netns.py, the shell's nc)
DEFAULT_REQUEST = len("hello\n")

TCP_DATA_HEADER = 20 + 32  # IP + TCP with the timestamp option
TCP_SYN_HEADER = 20 + 40  # + MSS, SACK permitted, window scale
ETHERNET = 14

Payload = Callable[["Trace"], tuple[int, int]]


def default_payload(trace: "Trace") -> tuple[int, int]:
    served = trace.endpoint or ""
    return DEFAULT_REQUEST, len(f"saw {trace.server_saw} from {served}\n")


def packet_size(step: "Step", payload: tuple[int, int]) -> int:
    """The IP total length of the packet a step shows."""
    proto = step.packet.proto
    label = step.packet_label
    if proto == "tcp":
        flags = set(step.packet.flags)
        if "SYN" in flags:
            return TCP_SYN_HEADER
        if "RST" in flags:
            return 40  # a RST answering a SYN carries no options
        if label == "request":
            return TCP_DATA_HEADER + payload[0]
        if label == "response":
            return TCP_DATA_HEADER + payload[1]
        return TCP_DATA_HEADER
    if proto in ("udp", "sctp"):
        return 28 + (payload[1] if step.packet.direction == "reply" else payload[0])
    return 28 + 56  # icmp echo of ping's default 56 bytes


@dataclass
class Counters:
    sim: "ClusterSim"
    #: id(rule) -> [rule, packets, bytes]
    rules: dict[int, list] = field(default_factory=dict)
    #: (node, table, chain) -> [packets, bytes] of the policy
    policies: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    #: (host, interface) -> [rx bytes, rx packets, tx bytes, tx packets]
    links: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    #: host -> (interface, neighbour host) it sent to, most recent last (``ip neigh``)
    neighbours: dict[str, dict[tuple[str, str], None]] = field(default_factory=dict)
    #: the last connections run, with their payload sizes and wall-clock time (tcpdump)
    recent: list[tuple["Trace", tuple[int, int], float, bool]] = field(default_factory=list)

    # ------------------------------------------------------------------ counting

    def count(self, trace: "Trace", payload: Payload | None = None) -> None:
        sizes = (payload or default_payload)(trace)
        # (a payload function with ``http = True`` says the bytes were an HTTP exchange)
        self.recent = self.recent[-19:] + [(trace, sizes, time.time(), bool(getattr(payload, "http", False)))]
        for step in trace.steps:
            size = packet_size(step, sizes)
            n = 1
            if step.packet.proto == "tcp" and step.packet_label in ("request", "response"):
                data = sizes[0] if step.packet_label == "request" else sizes[1]
                if not data:
                    continue  # nothing to send (nc -z): no such segment
                # quick-ack mode at a connection's start: the receiver acknowledges each data
                # segment at once with a bare ACK (52 bytes) that takes the same path through
                # the rules as the data (the server's ACK of the request goes the response's
                # way, the client's ACK of the response the request's way)
                n = 2
            for k in range(n):
                self._count_step(step, size if k == 0 else TCP_DATA_HEADER)

    def _count_step(self, step: "Step", size: int) -> None:
        if step.kind == "link" and len(step.link) == 2:
            self._count_link(step.link[0], step.link[1], size + ETHERNET)
            return
        st = self.sim.nodes.get(step.host)
        if st is None or not step.table:
            return
        if step.kind == "policy":
            c = self.policies.setdefault((step.host, step.table, step.chain), [0, 0])
            c[0] += 1
            c[1] += size
            return
        if step.rule_index <= 0 or step.kind == "no-match":
            return
        if step.table.startswith("legacy-"):  # iptables-legacy's table (cluster/legacy.py)
            t = st.legacy.tables.get(step.table[len("legacy-"):]) if st.legacy is not None else None
        else:
            t = st.ruleset.tables.get(step.table)
        chain = t.chains.get(step.chain) if t is not None else None
        if chain is None or step.rule_index > len(chain.rules):
            return
        rule = chain.rules[step.rule_index - 1]
        c = self.rules.get(id(rule))
        if c is None or c[0] is not rule:
            c = self.rules[id(rule)] = [rule, 0, 0]
        c[1] += 1
        c[2] += size

    def _count_link(self, a: str, b: str, size: int) -> None:
        hosts = self.sim.topology.hosts
        ha, hb = hosts.get(a), hosts.get(b)
        if ha is None or hb is None:
            return
        seen = self.neighbours.setdefault(a, {})
        seen.pop((_iface_towards(ha, b), b), None)
        seen[(_iface_towards(ha, b), b)] = None
        tx = self.links.setdefault((a, _iface_towards(ha, b)), [0, 0, 0, 0])
        tx[2] += size
        tx[3] += 1
        rx = self.links.setdefault((b, _iface_towards(hb, a)), [0, 0, 0, 0])
        rx[0] += size
        rx[1] += 1

    # ------------------------------------------------------------------ reading

    def interface(self, host: str, dev: str) -> tuple[int, int, int, int]:
        """(rx bytes, rx packets, tx bytes, tx packets) of one interface."""
        c = self.links.get((host, dev), [0, 0, 0, 0])
        return c[0], c[1], c[2], c[3]

    def rule(self, rule: Rule) -> tuple[int, int]:
        c = self.rules.get(id(rule))
        if c is None or c[0] is not rule:
            return 0, 0
        return c[1], c[2]

    def view(self, node: str, rs: Ruleset, step_table: Callable[[str], str] = str) -> Ruleset:
        """A copy of ``rs`` whose rules and policies carry the counts (for -L -v, -S -v,
        iptables-save -c); ``rs`` itself when nothing was counted on this node.
        ``step_table`` names a table as its Steps do (the legacy backend's ``legacy-filter``)."""
        if not self.rules and not self.policies:
            return rs
        out = Ruleset()
        for tname, t in rs.tables.items():
            nt = Table(tname)
            for cname, c in t.chains.items():
                rules = []
                for r in c.rules:
                    p, b = self.rule(r)
                    rules.append(r._replace(packets=r.packets + p, bytes=r.bytes + b) if p else r)
                pol = self.policies.get((node, step_table(tname), cname), (0, 0))
                nt.chains[cname] = Chain(c.name, c.policy, rules, c.packets + pol[0], c.bytes + pol[1])
            out.tables[tname] = nt
        return out

    # ------------------------------------------------------------------ zeroing (-Z)

    def zero(self, node: str, table: str, chain: Chain) -> None:
        for r in chain.rules:
            self.rules.pop(id(r), None)
        self.policies.pop((node, table, chain.name), None)


def iface_towards(host, other: str) -> str:
    """The interface of ``host`` that leads to the neighbour ``other``."""
    return _iface_towards(host, other)


def _iface_towards(host, other: str) -> str:
    if other == host.name:
        return "lo"
    for i in host.interfaces:
        if i.peer == other:
            return i.name
    return "eth0"
