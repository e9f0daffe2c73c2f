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

PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "sctp": 132}

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
#: net.netfilter.nf_conntrack_icmp_timeout
ICMP_TIMEOUT = 30
UDP_TIMEOUT_STREAM = 120

#: nf_conntrack_proto_sctp's timeouts (net.netfilter.nf_conntrack_sctp_timeout_*)
SCTP_TIMEOUTS = {
    "CLOSED": 10,
    "COOKIE_WAIT": 3,
    "COOKIE_ECHOED": 3,
    "ESTABLISHED": 210,
    "SHUTDOWN_SENT": 3,
    "SHUTDOWN_RECD": 3,
    "SHUTDOWN_ACK_SENT": 3,
    "HEARTBEAT_SENT": 30,
}
_SCTP_STATES = ("NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED", "SHUTDOWN_SENT",
                "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT")
#: nf_conntrack_proto_sctp's sctp_conntracks[direction][chunk] (columns in _SCTP_STATES'
#: order; "IV": invalid); chunks it does not list (DATA, SACK ...) leave the state alone
_S = {"NO": "NONE", "CL": "CLOSED", "CW": "COOKIE_WAIT", "CE": "COOKIE_ECHOED", "ES": "ESTABLISHED",
      "SS": "SHUTDOWN_SENT", "SR": "SHUTDOWN_RECD", "SA": "SHUTDOWN_ACK_SENT", "HS": "HEARTBEAT_SENT",
      "IV": ""}
_SCTP_TABLE = {
    "ORIGINAL": {
        "INIT": "CL CL CW CE ES CL CL SA CW",
        "INIT_ACK": "CL CL CW CE ES SS SR SA CL",
        "ABORT": "CL CL CL CL CL CL CL CL CL",
        "SHUTDOWN": "CL CL CW CE SS SS SR SA CL",
        "SHUTDOWN_ACK": "SA CL CW CE ES SA SA SA SA",
        "ERROR": "CL CL CW CE ES SS SR SA CL",
        "COOKIE_ECHO": "CL CL CE CE ES SS SR SA CL",
        "COOKIE_ACK": "CL CL CW ES ES SS SR SA CL",
        "SHUTDOWN_COMPLETE": "CL CL CW CE ES SS SR CL CL",
        "HEARTBEAT": "HS CL CW CE ES SS SR SA HS",
        "HEARTBEAT_ACK": "CL CL CW CE ES SS SR SA HS",
    },
    "REPLY": {
        "INIT": "IV CL CW CE ES SS SR SA IV",
        "INIT_ACK": "IV CW CW CE ES SS SR SA IV",
        "ABORT": "IV CL CL CL CL CL CL CL IV",
        "SHUTDOWN": "IV CL CW CE SR SS SR SA IV",
        "SHUTDOWN_ACK": "IV CL CW CE ES SA SA SA IV",
        "ERROR": "IV CL CW CL ES SS SR SA IV",
        "COOKIE_ECHO": "IV CL CE CE ES SS SR SA IV",
        "COOKIE_ACK": "IV CL CW ES ES SS SR SA IV",
        "SHUTDOWN_COMPLETE": "IV CL CW CE ES SS SR CL IV",
        "HEARTBEAT": "IV CL CW CE ES SS SR SA HS",
        "HEARTBEAT_ACK": "IV CL CW CE ES SS SR SA ES",
    },
}


def sctp_next_state(state: str, direction: str, chunks: tuple[str, ...]) -> str:
    """The association's state after a packet's chunks ("" = NONE before the first)."""
    for chunk in chunks:
        row = _SCTP_TABLE[direction].get(chunk)
        if row is None:
            continue
        nxt = _S[row.split()[_SCTP_STATES.index(state or "NONE")]]
        if nxt:
            state = nxt
    return state


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
        if self.proto == "icmp":  # an echo has no ports: the addresses alone tell
            return self.reply[0] != self.orig[1]
        return (self.reply[0], self.reply[2]) != (self.orig[1], self.orig[3])

    @property
    def snat(self) -> bool:
        if self.proto == "icmp":
            return self.reply[1] != self.orig[0]
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
        icmp = self.proto == "icmp"
        parts.append(_icmp_text(self.orig, 8) if icmp else _tuple_text(self.orig))
        if not self.seen_reply:
            parts.append("[UNREPLIED]")
        parts.append(_icmp_text(self.reply, 0) if icmp else _tuple_text(self.reply))
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


def _icmp_text(t: Tuple4, icmp_type: int) -> str:
    # an ICMP echo's tuple: the addresses, the type (8 request, 0 reply) and the echo id,
    # kept here in the sport slot (the dport slot stays 0)
    return f"src={t[0]} dst={t[1]} type={icmp_type} code=0 id={t[2]}"


def packet_tuple(p: Packet) -> Tuple4:
    return (p.src, p.dst, p.sport, p.dport)


def invert(t: Tuple4, proto: str = "") -> Tuple4:
    if proto == "icmp":  # an echo reply carries the request's id: (dst, src, id, 0)
        return (t[1], t[0], t[2], t[3])
    return (t[1], t[0], t[3], t[2])


#: tcp_can_early_drop (net/netfilter/nf_conntrack_proto_tcp.c): the TCP states in which an
#: ASSURED entry may still be evicted from a full table
EARLY_DROP_TCP_STATES = frozenset({"FIN_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "CLOSE_WAIT"})
#: sctp_can_early_drop (nf_conntrack_proto_sctp.c)
EARLY_DROP_SCTP_STATES = frozenset({"CLOSED", "SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT"})


@dataclass
class ConntrackTable:
    """One host's conntrack table (confirmed entries, in creation order).

    ``drop`` counts as the kernel's per-CPU statistic of that name (``conntrack -S``):
    packets dropped because the table was full and no entry could be allocated."""

    entries: list[ConntrackEntry] = field(default_factory=list)
    max_entries: int = 262144
    _next_id: int = 1
    drop: int = 0

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
        e = ConntrackEntry(proto=p.proto, orig=t, reply=invert(t, p.proto), created=now, id=self._next_id)
        self._next_id += 1
        if p.proto == "tcp":
            e.state = "SYN_SENT" if "SYN" in p.flags and "ACK" not in p.flags else "ESTABLISHED"
            e.timeout = TCP_TIMEOUTS[e.state]
        elif p.proto == "sctp":
            e.state = sctp_next_state("", "ORIGINAL", p.flags) or "CLOSED"  # an INIT: NONE -> CLOSED
            e.timeout = SCTP_TIMEOUTS[e.state]
        elif p.proto == "icmp":
            e.timeout = ICMP_TIMEOUT
        else:
            e.timeout = UDP_TIMEOUT
        return e

    @property
    def full(self) -> bool:
        return len(self.entries) >= self.max_entries

    def make_room(self) -> ConntrackEntry | None:
        """A new connection meets a full table, as nf_conntrack_core.c handles it.

        ``__nf_conntrack_alloc`` first calls ``early_drop()``, which looks for an entry that
        is not ASSURED only in the 8 hash buckets next to the new tuple's
        (NF_CT_EVICTION_RANGE): in a table of far more buckets than entries (a lowered
        nf_conntrack_max keeps the machine's hashsize) it finds none, the allocation fails
        and the packet is dropped ("nf_conntrack: table full, dropping packet", stat
        ``drop``; ``early_drop`` stays 0).  The failure tells the garbage collector to evict
        early: once the table is at least 95% full (``nf_conntrack_max / 100u * 95u``, so never
        below 100 entries) ``gc_worker_can_early_drop`` lets it kill an entry that is not
        ASSURED or is closing (``tcp_can_early_drop``: FIN_WAIT, LAST_ACK, TIME_WAIT, CLOSE,
        CLOSE_WAIT; ``sctp_can_early_drop`` likewise), and a later retransmission finds the
        room.  Live connections (ASSURED, ESTABLISHED) are never evicted.

        Counts the drop; returns the entry the collector evicts, or None."""
        self.drop += 1
        if self.max_entries // 100 * 95 == 0:
            return None
        for e in self.entries:
            if not e.assured or (e.proto == "tcp" and e.state in EARLY_DROP_TCP_STATES) or (
                    e.proto == "sctp" and e.state in EARLY_DROP_SCTP_STATES):
                self.entries.remove(e)  # gc_worker's nf_ct_kill: counted in no statistic
                return e
        return None

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
    elif e.proto == "icmp":
        e.timeout = ICMP_TIMEOUT
    elif e.proto == "sctp":
        e.state = sctp_next_state(e.state, direction, p.flags)
        if e.state == "ESTABLISHED":
            e.assured = True  # set on the way into ESTABLISHED (COOKIE_ACK)
        e.timeout = SCTP_TIMEOUTS[e.state]
    elif e.proto == "udp":
        # A quick request/reply stays at the short timeout and is not ASSURED: the kernel
        # only calls a UDP flow a stream when it is still active after two seconds.
        e.timeout = UDP_TIMEOUT
