"""A ladder (sequence) diagram of a whole connection, read from a :class:`Trace`.

A column per host on the path; a row per thing a network engineer draws on such a
diagram: an arrow per packet per link (labelled with the addresses *as seen on that
link*), a NAT point on the host where a rewrite happened (DNAT on the node, MASQUERADE,
conntrack applying or undoing the translation), and where a packet ends early (dropped,
rejected with an ICMP error, timed out).

Everything comes from the Trace: link steps give the arrows and their headers, steps with
``changed`` address fields give the NAT points, drop/reject/timeout steps the endings.
Nothing is re-derived from the rules.  Stdlib only; ``render_ladder`` draws it with rich.

NAT markers read without colour: the shape says which kind of NAT, the fill who did it::

    ◆ DNAT by a nat-table rule        ◇ DNAT applied or undone by conntrack
    ■ SNAT/MASQUERADE by a rule       □ SNAT applied or undone by conntrack
"""

from __future__ import annotations

from dataclasses import dataclass

from kubeflow_tui.trace import PacketView, Step, Trace, error_text

#: Marker per NAT family (shape) and actor (filled: a rule; hollow: conntrack).
MARKERS = {
    ("dnat", "rule"): "◆",
    ("dnat", "conntrack"): "◇",
    ("snat", "rule"): "■",
    ("snat", "conntrack"): "□",
}
DROP_MARKER = "✗"
TIMEOUT_MARKER = "○"

LEGEND = (
    "◆ DNAT by a rule   ◇ DNAT applied/undone by conntrack   "
    "■ SNAT/MASQUERADE by a rule   □ SNAT applied/undone by conntrack   ✗ dropped/rejected   ○ timed out"
)

_ADDR_FIELDS = {"src": ("src", "sport"), "dst": ("dst", "dport")}


@dataclass(frozen=True)
class LadderRow:
    """One row of the diagram.

    ``kind`` is ``arrow`` (a packet crossing a link), ``icmp`` (an ICMP error sent back),
    ``nat`` (a rewrite on a host), ``end`` (dropped, rejected, timed out) or
    ``connection`` (a second connection starts, e.g. a proxy load balancer's own).
    """

    kind: str
    step: int  # index of the Trace step this row shows
    packet: int  # ordinal of the packet in the diagram (0-based); -1 for connection rows
    label: str = ""  # packet label: SYN, SYN-ACK, request …
    host: str = ""  # nat/end rows: where it happened; arrows: the sender
    to_host: str = ""  # arrows: the receiver
    src: str = ""  # arrows: "ip:port" as on this link
    dst: str = ""
    proto: str = ""
    flags: tuple[str, ...] = ()
    direction: str = "original"  # "original" | "reply"
    changed: tuple[str, ...] = ()  # arrows: "src"/"dst" differing from the packet as sent
    nats: tuple[int, ...] = ()  # arrows: row numbers of the NAT points made on the sender for it
    nat: str = ""  # nat rows: "DNAT", "MASQUERADE", "SNAT", "DNAT (conntrack)", "un-DNAT (conntrack)" …
    marker: str = ""  # nat/end rows: ◆ ◇ ■ □ ✗ ⌛
    field: str = ""  # nat rows: "src" | "dst"
    before: str = ""  # nat rows: "ip:port" before the rewrite
    after: str = ""  # nat rows: after
    where: str = ""  # nat/end rows: "nat PREROUTING", "filter FORWARD" …
    text: str = ""  # end/icmp/connection rows: what happened, in a few words

    @property
    def addresses(self) -> str:
        return f"{self.src} → {self.dst}"


@dataclass(frozen=True)
class Ladder:
    scenario: str
    flow: str
    ending: str  # Trace.ending: delivered, rejected, dropped, timed-out, unreachable
    hosts: tuple[str, ...]  # columns, in the order the connection first reaches them
    rows: tuple[LadderRow, ...]

    def column(self, host: str) -> int:
        return self.hosts.index(host)

    def arrows(self) -> list[LadderRow]:
        return [r for r in self.rows if r.kind in ("arrow", "icmp")]

    def nat_rows(self) -> list[LadderRow]:
        return [r for r in self.rows if r.kind == "nat"]

    def row_for_step(self, index: int) -> int:
        """The row to highlight while the viewer stands on Trace step ``index``: the last
        row shown at or before that step (-1 before the first arrow)."""
        best = -1
        for i, r in enumerate(self.rows):
            if r.step <= index:
                best = i
            else:
                break
        return best

    def packet_rows(self, packet: int) -> list[int]:
        return [i for i, r in enumerate(self.rows) if r.packet == packet]


def _endpoint(p: PacketView, side: str) -> str:
    return p.endpoint_text(side)


def _addr_changes(step: Step) -> list[str]:
    changed = set(step.changed)
    return [side for side, fields in _ADDR_FIELDS.items() if changed & set(fields)]


def _nat_name(step: Step, side: str) -> tuple[str, str]:
    """(name, marker) of a rewrite of ``side`` made by ``step``."""
    if step.kind == "dnat":
        return "DNAT", MARKERS["dnat", "rule"]
    if step.kind in ("snat", "masquerade"):
        return step.kind.upper(), MARKERS["snat", "rule"]
    if step.kind == "conntrack-reverse":
        # A reply's source is the original destination: rewriting it undoes a DNAT;
        # rewriting its destination undoes a source NAT.
        if side == "src":
            return "un-DNAT (conntrack)", MARKERS["dnat", "conntrack"]
        return "un-SNAT (conntrack)", MARKERS["snat", "conntrack"]
    # conntrack-hit (or any other step the engine says rewrote the header): the entry's
    # translation applied to a later packet of the connection.
    if side == "dst":
        return "DNAT (conntrack)", MARKERS["dnat", "conntrack"]
    return "SNAT (conntrack)", MARKERS["snat", "conntrack"]


def _where(step: Step) -> str:
    if step.table and step.hook:
        return f"{step.table} {step.hook}"
    return step.hook or step.table


def _packets(trace: Trace) -> list[list[Step]]:
    """Steps cut at every ``send``: one list per packet put on the wire."""
    out: list[list[Step]] = []
    for s in trace.steps:
        if s.kind == "send" or not out:
            out.append([])
        out[-1].append(s)
    return out


def _column_order(trace: Trace) -> tuple[str, ...]:
    order: list[str] = []

    def add(h: str) -> None:
        if h and h not in order:
            order.append(h)

    for s in trace.steps:
        if s.kind == "send":
            add(s.host)
        elif s.kind == "link" and len(s.link) == 2:
            add(s.link[0])
            add(s.link[1])
        elif s.kind in ("drop", "reject", "timeout", "deliver"):
            add(s.host)
    return tuple(order)


def build_ladder(trace: Trace) -> Ladder:
    rows: list[LadderRow] = []
    ordinal = -1
    last_no: int | None = None
    connections = 0
    for steps in _packets(trace):
        shows = any(s.kind in ("link", "drop", "reject", "timeout") for s in steps)
        if not shows:
            continue
        first = steps[0]
        if first.kind == "send" and last_no is not None and first.packet_no <= last_no:
            connections += 1
            rows.append(
                LadderRow(
                    kind="connection",
                    step=first.index,
                    packet=-1,
                    host=first.host,
                    src=_endpoint(first.packet, "src"),
                    dst=_endpoint(first.packet, "dst"),
                    proto=first.packet.proto,
                    text=f"connection {connections + 1}: {first.host} opens its own connection",
                )
            )
        last_no = first.packet_no
        ordinal += 1
        label = first.packet_label or ("reply" if first.packet.direction == "reply" else "packet")
        sent = first.packet
        pending: list[int] = []  # NAT rows on the current host, not yet carried by an arrow
        before = first.packet
        rejected: Step | None = None
        for s in steps:
            if s.kind == "link" and len(s.link) == 2:
                p = s.packet
                changed = tuple(
                    side
                    for side in ("src", "dst")
                    if _endpoint(p, side) != _endpoint(sent, side)
                )
                rows.append(
                    LadderRow(
                        kind="arrow",
                        step=s.index,
                        packet=ordinal,
                        label=label,
                        host=s.link[0],
                        to_host=s.link[1],
                        src=_endpoint(p, "src"),
                        dst=_endpoint(p, "dst"),
                        proto=p.proto,
                        flags=p.flags,
                        direction=p.direction,
                        changed=changed,
                        nats=tuple(i for i in pending if rows[i].host == s.link[0]),
                    )
                )
                pending = []
            elif s.kind == "socket-error" and rejected is not None and s.host != rejected.host:
                # the REJECT's answer (ICMP error or TCP reset), as the Trace's step carries it
                rows.append(
                    LadderRow(
                        kind="icmp",
                        step=s.index,
                        packet=ordinal,
                        label="ICMP" if s.packet.proto == "icmp" else (s.packet_label or "RST"),
                        host=rejected.host,
                        to_host=s.host,
                        src=_endpoint(s.packet, "src"),
                        dst=_endpoint(s.packet, "dst"),
                        proto=s.packet.proto,
                        direction="reply",
                        text=" ".join(part for part in (
                            f"{_endpoint(s.packet, 'src')} → {_endpoint(s.packet, 'dst')}",
                            s.packet_label.removeprefix("ICMP "),
                            f"({s.error})" if s.error else "") if part),
                    )
                )
            elif s.kind == "socket-error":
                # the error came back as a packet of its own (a server's RST): say what the
                # client's socket makes of it
                rows.append(
                    LadderRow(
                        kind="end",
                        step=s.index,
                        packet=ordinal,
                        label=label,
                        host=s.host,
                        marker=DROP_MARKER,
                        text=f"socket: {error_text(s.error)}",
                    )
                )
            elif s.kind in ("drop", "reject") or (s.kind == "policy" and s.target in ("DROP", "REJECT")):
                verb = "REJECT" if s.kind == "reject" or s.target == "REJECT" else "DROP"
                rows.append(
                    LadderRow(
                        kind="end",
                        step=s.index,
                        packet=ordinal,
                        label=label,
                        host=s.host,
                        marker=DROP_MARKER,
                        where=f"{s.table} {s.chain}".strip() if s.chain else _where(s),
                        text=verb,
                    )
                )
                if verb == "REJECT":
                    rejected = s
            elif s.kind == "timeout":
                rows.append(
                    LadderRow(
                        kind="end",
                        step=s.index,
                        packet=ordinal,
                        label=label,
                        host=s.host,
                        marker=TIMEOUT_MARKER,
                        text="no answer: timeout",
                    )
                )
            else:
                for side in _addr_changes(s):
                    name, marker = _nat_name(s, side)
                    rows.append(
                        LadderRow(
                            kind="nat",
                            step=s.index,
                            packet=ordinal,
                            label=label,
                            host=s.host,
                            nat=name,
                            marker=marker,
                            field=side,
                            before=_endpoint(before, side),
                            after=_endpoint(s.packet, side),
                            where=_where(s),
                        )
                    )
                    pending.append(len(rows) - 1)
            before = s.packet
    return Ladder(trace.scenario, trace.flow, trace.ending, _column_order(trace), tuple(rows))
