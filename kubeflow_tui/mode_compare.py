"""One flow in both of kube-proxy's modes, packet by packet (the app's side-by-side view).

Reads two Traces of the same flow, one with kube-proxy in iptables mode and one in
nftables mode, and lays them out per packet: on each host, the rules each datapath
evaluated (every rule tried, in order, with what it did), how many, and the address
rewrites (DNAT, MASQUERADE, conntrack's reverse NAT).  Nothing is re-decided here: every
line is a step of a Trace.  Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .trace import Step, Trace

#: the steps that say what a rule tried did (a rule's first step may be followed by its action's)
MATCH_KINDS = ("rule-match", "no-match")
#: the address rewrites of a packet (NAT rules, and conntrack translating a known connection)
NAT_KINDS = ("dnat", "snat", "masquerade")
CT_NAT_KINDS = ("conntrack-hit", "conntrack-reverse")


def is_nft(step: Step) -> bool:
    """A step in an nftables table ("ip kube-proxy"); iptables' tables are one word ("nat")."""
    return " " in step.table


@dataclass(frozen=True)
class RuleLine:
    """One rule a datapath evaluated (or a chain's end: ``rule`` empty)."""

    step: int  # the index of its first step in the Trace
    host: str
    hook: str
    table: str
    chain: str
    handle: int  # iptables: its position in the chain (1-based); nftables: its handle
    rule: str  # the rule as iptables-save / nft list ruleset print it ("" for a chain's end or policy)
    did: str  # what it did: "no match", "jump KUBE-SVC-…", "goto service-…", "dnat to 10.244.1.5:8080" …
    lookup: str = ""  # nftables: the map looked up, its key and the element that matched
    base_chain: str = ""  # nftables: the base chain's declaration


@dataclass(frozen=True)
class Rewrite:
    """An address rewrite of the packet on a host."""

    step: int
    host: str
    what: str  # "dnat", "masquerade", "conntrack-hit" …
    before: str  # "10.96.0.1:8080"
    after: str

    def text(self, *, port_too: bool = True) -> str:
        return f"{self.host}: {self.what} {self.before} → {self.after if port_too else self.after.rsplit(':', 1)[0]}"


@dataclass(frozen=True)
class PacketWalk:
    """What one datapath did to one packet of the connection."""

    packet_no: int
    label: str  # "SYN", "SYN-ACK" …
    sent: str  # "10.244.2.7:40000 → 10.96.0.1:8080"
    lines: tuple[RuleLine, ...]
    rewrites: tuple[Rewrite, ...]

    @property
    def rules(self) -> int:
        """The rules evaluated (a chain's end and a base chain's policy are not rules)."""
        return sum(1 for ln in self.lines if ln.rule)


@dataclass(frozen=True)
class ModeComparison:
    """A flow in both modes: ``packets[i] == (iptables walk, nftables walk)``."""

    iptables: Trace
    nftables: Trace
    packets: tuple[tuple[PacketWalk | None, PacketWalk | None], ...]

    def rules(self, mode: str) -> int:
        i = 0 if mode == "iptables" else 1
        return sum(p[i].rules for p in self.packets if p[i] is not None)

    def rewrites(self, mode: str) -> list[Rewrite]:
        i = 0 if mode == "iptables" else 1
        return [r for p in self.packets if p[i] is not None for r in p[i].rewrites]

    @property
    def same_result(self) -> bool:
        """Both datapaths end the connection alike, the server and the client see the same
        addresses, and every packet is rewritten alike (a masquerade's port is drawn at random
        by the kernel, ``--random-fully``: only its address is compared)."""
        a, b = self.iptables, self.nftables
        if (a.ending, a.error) != (b.ending, b.error) or len(self.packets) == 0:
            return False
        if _addr(a.server_saw, a) != _addr(b.server_saw, b) or a.client_saw != b.client_saw:
            return False
        drawn_a, drawn_b = _drawn(a), _drawn(b)
        return all(_nat_key(p[0], drawn_a) == _nat_key(p[1], drawn_b) for p in self.packets)


def _addr(saw: str, trace: Trace) -> str:
    """What the server saw, without the port when a masquerade drew it."""
    masq = any(s.kind in ("masquerade", "snat") for s in trace.steps)
    return saw.rsplit(":", 1)[0] if masq else saw


def _drawn(trace: Trace) -> frozenset[str]:
    """The source ``ip:port`` each masquerade of the trace drew (at random, per datapath)."""
    return frozenset(s.packet.endpoint_text("src") for s in trace.steps
                     if s.kind in ("masquerade", "snat") and s.packet is not None)


def _nat_key(walk: PacketWalk | None, drawn: frozenset[str] = frozenset()) -> tuple:
    """The rewrites of a packet, a drawn port left out wherever it shows (the masquerade
    itself, and conntrack's rewrites of the later packets to and from it)."""
    if walk is None:
        return ()

    def key(text: str) -> str:
        return text.rsplit(":", 1)[0] if text in drawn else text

    return tuple((r.host, r.what.startswith("conntrack"), key(r.before), key(r.after)) for r in walk.rewrites)


def _did(s: Step) -> str:
    nft = is_nft(s)
    k = s.kind
    if k == "no-match":
        return "no match"
    if k == "rule-match":
        return "match"
    if k in ("jump", "goto"):
        return f"{k} {s.target}"
    if k == "return":
        return "return"
    if k == "policy":
        return f"policy {s.target or ('accept' if nft else 'ACCEPT')}"
    if k == "dnat":
        return f"{'dnat to' if nft else 'DNAT --to-destination'} {s.packet.endpoint_text('dst')}"
    if k in ("snat", "masquerade"):
        return f"{k if nft else k.upper()} to {s.packet.src}"
    if k == "mark":
        return f"{'meta mark set' if nft else 'MARK'} {hex(s.packet.mark)}"
    return k if nft else k.upper()


def _lookup(s: Step) -> str:
    if not s.lookup:
        return ""
    if s.lookup.startswith("numgen"):
        return f"{s.lookup} gave {s.key}: element {s.element}"
    if s.element:
        return f"key {s.key} in {s.lookup}: element {s.element}"
    return f"key {s.key} not in {s.lookup}"


def _endpoint(s: Step, which: str) -> str:
    return s.packet.endpoint_text(which)


def packet_walk(trace: Trace, packet_no: int) -> PacketWalk | None:
    """The rules and rewrites of one packet of ``trace`` (``None`` if it has no such packet)."""
    steps = [s for s in trace.steps if s.packet_no == packet_no]
    if not steps:
        return None
    lines: list[RuleLine] = []
    rewrites: list[Rewrite] = []
    prev: Step | None = None
    for s in steps:
        before = trace.steps[s.index - 1].packet if s.index > 0 else s.packet
        if s.kind in NAT_KINDS or (s.kind in CT_NAT_KINDS and s.changed):
            which = "dst" if s.kind == "dnat" or (s.kind in CT_NAT_KINDS and {"dst", "dport"} & set(s.changed)) \
                else "src"
            b, a = before.endpoint_text(which), _endpoint(s, which)
            if b != a:
                rewrites.append(Rewrite(s.index, s.host, s.kind, b, a))
        same_rule = (prev is not None and s.rule and prev.host == s.host and prev.chain == s.chain
                     and prev.rule == s.rule and prev.rule_index == s.rule_index and s.kind not in MATCH_KINDS)
        if same_rule and lines:  # the action of the rule just listed (a match, then its target)
            last = lines[-1]
            did = _did(s) if last.did == "match" else f"{last.did}, {_did(s)}"
            lines[-1] = RuleLine(last.step, last.host, last.hook, last.table, last.chain, last.handle, last.rule,
                                 did, last.lookup or _lookup(s), last.base_chain)
        elif s.chain and (s.rule or s.kind in ("return", "policy")):
            lines.append(RuleLine(s.index, s.host, s.hook, s.table, s.chain, s.rule_index if s.rule else 0,
                                  s.rule, _did(s), _lookup(s), s.base_chain))
        prev = s
    first = steps[0]
    sent = f"{first.packet.endpoint_text('src')} → {first.packet.endpoint_text('dst')}"
    return PacketWalk(packet_no, first.packet_label or f"packet {packet_no + 1}", sent, tuple(lines), tuple(rewrites))


def compare_modes(iptables: Trace, nftables: Trace) -> ModeComparison:
    """The two traces of one flow, packet by packet."""
    count = max([s.packet_no for s in iptables.steps + nftables.steps] + [-1]) + 1
    return ModeComparison(iptables, nftables,
                          tuple((packet_walk(iptables, n), packet_walk(nftables, n)) for n in range(count)))
