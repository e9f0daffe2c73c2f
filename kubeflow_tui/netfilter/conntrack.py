"""The connection tracking table of one host, as the kernel keeps it.

An entry has an original tuple (as the first packet arrived) and a reply tuple (what
a reply must look like).  NAT is decided once, on the first packet, by the nat
table; it is stored in the entry by rewriting the reply tuple, and every later packet
of the connection, in either direction, is translated from the entry alone.

``ConntrackEntry.line()`` prints what ``conntrack -L`` (conntrack-tools 1.4.7) prints.
Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .packet import Packet

PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1}

#: Kernel defaults (net.netfilter.nf_conntrack_*_timeout), read on this kind of machine.
TCP_TIMEOUTS = {
    "SYN_SENT": 120,
    "SYN_RECV": 60,
    "ESTABLISHED": 432000,
    "FIN_WAIT": 120,
    "CLOSE_WAIT": 60,
    "LAST_ACK": 30,
    "TIME_WAIT": 120,
    "CLOSE": 10,
}
UDP_TIMEOUT = 30
UDP_TIMEOUT_STREAM = 120

Tuple4 = tuple[str, str, int, int]  # src, dst, sport, dport


@dataclass
class ConntrackEntry:
    proto: str
    orig: Tuple4
    reply: Tuple4
    state: str = ""  # TCP state; "" for udp
    seen_reply: bool = False
    assured: bool = False
    confirmed: bool = False
    timeout: int = 0
    mark: int = 0
    created: float = 0.0
    id: int = 0

    @property
    def dnat(self) -> bool:
        """The reply's source is not the original destination: a DNAT happened."""
        return (self.reply[0], self.reply[2]) != (self.orig[1], self.orig[3])

    @property
    def snat(self) -> bool:
        return (self.reply[1], self.reply[3]) != (self.orig[0], self.orig[2])

    def status(self) -> tuple[str, ...]:
        out = []
        if not self.seen_reply:
            out.append("UNREPLIED")
        if self.assured:
            out.append("ASSURED")
        return tuple(out)

    def ct_status(self) -> frozenset[str]:
        s = {"CONFIRMED"} if self.confirmed else set()
        if self.seen_reply:
            s.add("SEEN_REPLY")
        if self.assured:
            s.add("ASSURED")
        if self.dnat:
            s.add("DNAT")
        if self.snat:
            s.add("SNAT")
        return frozenset(s)

    def line(self) -> str:
        """The entry exactly as `conntrack -L` prints it."""
        num = PROTO_NUMBERS.get(self.proto, 0)
        # The kernel prints the seconds left; a moment after an update that is one less
        # than the full timeout (431999 for a fresh ESTABLISHED entry, 119 for TIME_WAIT).
        parts = [f"{self.proto:<8} {num} {max(self.timeout - 1, 0)}"]
        if self.state:
            parts.append(self.state)
        parts.append(_tuple_text(self.orig))
        if not self.seen_reply:
            parts.append("[UNREPLIED]")
        parts.append(_tuple_text(self.reply))
        if self.assured:
            parts.append("[ASSURED]")
        parts.append(f"mark={self.mark} use=1")
        return " ".join(parts)

    def matches_filter(
        self,
        proto: str | None = None,
        src: str | None = None,
        dst: str | None = None,
        reply_src: str | None = None,
        reply_dst: str | None = None,
        sport: int | None = None,
        dport: int | None = None,
    ) -> bool:
        if proto and self.proto != proto:
            return False
        if src and self.orig[0] != src:
            return False
        if dst and self.orig[1] != dst:
            return False
        if sport and self.orig[2] != sport:
            return False
        if dport and self.orig[3] != dport:
            return False
        if reply_src and self.reply[0] != reply_src:
            return False
        if reply_dst and self.reply[1] != reply_dst:
            return False
        return True


def _tuple_text(t: Tuple4) -> str:
    return f"src={t[0]} dst={t[1]} sport={t[2]} dport={t[3]}"


def packet_tuple(p: Packet) -> Tuple4:
    return (p.src, p.dst, p.sport, p.dport)


def invert(t: Tuple4) -> Tuple4:
    return (t[1], t[0], t[3], t[2])


#: tcp_can_early_drop (net/netfilter/nf_conntrack_proto_tcp.c): the TCP states in which an
#: ASSURED entry may still be evicted from a full table
EARLY_DROP_TCP_STATES = frozenset({"FIN_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "CLOSE_WAIT"})


@dataclass
class ConntrackTable:
    """One host's conntrack table (confirmed entries, in creation order).

    ``drop`` and ``early_drop`` count as the kernel's per-CPU statistics of the same names
    (``conntrack -S``): packets dropped because the table was full, entries evicted at
    allocation to make room."""

    entries: list[ConntrackEntry] = field(default_factory=list)
    max_entries: int = 262144
    _next_id: int = 1
    drop: int = 0
    early_drop: int = 0

    def load(self, entries: list[ConntrackEntry]) -> None:
        """Start from entries read elsewhere (a node's ``conntrack -L``): copies, so the
        caller's list is never changed; new entries are numbered after them."""
        self.entries = [replace(e) for e in entries]
        self._next_id = max((e.id for e in self.entries), default=0) + 1

    def lookup(self, p: Packet) -> tuple[ConntrackEntry | None, str]:
        """Find the entry a packet belongs to: (entry, "ORIGINAL" | "REPLY")."""
        t = packet_tuple(p)
        for e in self.entries:
            if e.proto != p.proto:
                continue
            if e.orig == t:
                return e, "ORIGINAL"
            if e.reply == t:
                return e, "REPLY"
        return None, ""

    def new(self, p: Packet, now: float) -> ConntrackEntry:
        """An unconfirmed entry for a packet that opens a connection."""
        t = packet_tuple(p)
        e = ConntrackEntry(proto=p.proto, orig=t, reply=invert(t), created=now, id=self._next_id)
        self._next_id += 1
        if p.proto == "tcp":
            e.state = "SYN_SENT" if "SYN" in p.flags and "ACK" not in p.flags else "ESTABLISHED"
            e.timeout = TCP_TIMEOUTS[e.state]
        else:
            e.timeout = UDP_TIMEOUT
        return e

    @property
    def full(self) -> bool:
        return len(self.entries) >= self.max_entries

    def make_room(self) -> tuple[ConntrackEntry | None, bool]:
        """Room for a new entry in a full table, as nf_conntrack_core.c makes it.

        Returns (the evicted entry or None, whether the packet asking was dropped first).
        ``early_drop()`` at allocation evicts an entry that is not ASSURED, and the new
        connection goes on.  When every entry is ASSURED the allocation fails: the packet is
        dropped ("nf_conntrack: table full, dropping packet", stat ``drop``) and the garbage
        collector is told to evict what ``gc_worker_can_early_drop`` allows, ASSURED TCP entries
        in a closing state (``tcp_can_early_drop``); the client's retransmission then finds
        room.  ESTABLISHED (and ASSURED UDP) entries are never evicted: with only those the
        table stays full, and (None, True) says so."""
        for e in self.entries:
            if not e.assured:
                self.entries.remove(e)
                self.early_drop += 1
                return e, False
        self.drop += 1
        for e in self.entries:
            if e.proto == "tcp" and e.state in EARLY_DROP_TCP_STATES:
                self.entries.remove(e)  # gc_worker's nf_ct_kill: counted in no statistic
                return e, True
        return None, True

    def confirm(self, e: ConntrackEntry) -> None:
        if not e.confirmed:
            e.confirmed = True
            self.entries.append(e)

    def flush(self) -> int:
        n = len(self.entries)
        self.entries.clear()
        return n

    def delete(self, **filters) -> list[ConntrackEntry]:
        gone = [e for e in self.entries if e.matches_filter(**filters)]
        self.entries = [e for e in self.entries if e not in gone]
        return gone

    def lines(self) -> list[str]:
        return [e.line() for e in self.entries]


# TCP state machine: (state, direction, flags) -> next state.  A reduced form of the
# kernel's tcp_conntracks table covering the packets a connection here sends.
def tcp_next_state(state: str, direction: str, flags: tuple[str, ...]) -> str:
    f = set(flags)
    if "RST" in f:
        return "CLOSE"
    if "SYN" in f and "ACK" in f:
        return "SYN_RECV" if direction == "REPLY" and state in ("SYN_SENT", "SYN_RECV") else state
    if "SYN" in f:
        return "SYN_SENT" if state in ("SYN_SENT", "CLOSE", "TIME_WAIT") else state
    if "FIN" in f:
        if state == "ESTABLISHED":
            return "FIN_WAIT"
        if state in ("FIN_WAIT", "CLOSE_WAIT"):
            return "LAST_ACK"
        return state
    if "ACK" in f:
        if state == "SYN_RECV" and direction == "ORIGINAL":
            return "ESTABLISHED"
        if state == "FIN_WAIT":
            return "CLOSE_WAIT"
        if state == "LAST_ACK":
            return "TIME_WAIT"
        return state
    return state


def update_entry(e: ConntrackEntry, p: Packet, direction: str) -> None:
    """Advance an entry's state for a packet of its connection."""
    old = e.state
    if direction == "REPLY":
        e.seen_reply = True
    if e.proto == "tcp":
        e.state = tcp_next_state(e.state, direction, p.flags)
        if not e.assured and old in ("SYN_RECV", "ESTABLISHED") and e.state == "ESTABLISHED":
            e.assured = True
        e.timeout = TCP_TIMEOUTS[e.state]
    elif e.proto == "udp":
        # A quick request/reply stays at the short timeout and is not ASSURED: the kernel
        # only calls a UDP flow a stream when it is still active after two seconds.
        e.timeout = UDP_TIMEOUT
