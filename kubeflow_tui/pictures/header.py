"""The header card: the packet's headers before and after a rewrite, the rewrites so far,
and the conntrack entry the step created or matched, original and reply tuples side by side.

Changed fields carry a ``✱`` (and colour), so the card reads without colour.  When the
current step rewrote the header, "before" is the packet just before that step; otherwise
the card compares the packet as its sender put it on the wire with the packet now.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text

from kubeflow_tui.ladder import LadderRow, build_ladder
from kubeflow_tui.pictures.wire import packet_run
from kubeflow_tui.trace import ConntrackView, PacketView, Trace

CHANGED = "✱"
STYLES = {
    "title": Style(bold=True),
    "head": Style(bold=True, underline=True),
    "field": Style(dim=True),
    "changed": Style(color="magenta", bold=True),
    "nat": Style(color="magenta"),
    "current": Style(reverse=True),
    "dim": Style(dim=True),
    "ct": Style(color="cyan"),
}

_FIELDS = (
    ("src", lambda p: p.endpoint_text("src"), ("src", "sport")),
    ("dst", lambda p: p.endpoint_text("dst"), ("dst", "dport")),
    ("proto", lambda p: p.proto, ("proto",)),
    ("flags", lambda p: ",".join(p.flags) or "-", ("flags",)),
    ("mark", lambda p: f"{p.mark:#x}", ("mark",)),
)


def compare(before: PacketView, after: PacketView) -> list[tuple[str, str, str, bool]]:
    """[(field, before, after, changed)] for src, dst, proto, flags, mark."""
    out = []
    for name, get, _ in _FIELDS:
        b, a = get(before), get(after)
        out.append((name, b, a, b != a))
    return out


def reply_marks(ct: ConntrackView) -> list[str]:
    """Where the reply tuple is not the original turned round: that is the NAT."""
    o_src, o_dst, o_sport, o_dport = ct.orig
    r_src, r_dst, r_sport, r_dport = ct.reply
    marks = []
    if (r_src, r_sport) != (o_dst, o_dport):
        marks.append(f"reply src {r_src}:{r_sport} ≠ original dst {o_dst}:{o_dport}: the destination was NATed (DNAT)")
    if (r_dst, r_dport) != (o_src, o_sport):
        marks.append(f"reply dst {r_dst}:{r_dport} ≠ original src {o_src}:{o_sport}: the source was NATed (SNAT)")
    return marks


class HeaderCard:
    def __init__(self, trace: Trace | None, step: int, *, ladder_rows: tuple[LadderRow, ...] | None = None):
        self.trace, self.step = trace, step
        self._rows = ladder_rows

    def parts(self, width: int | None = None) -> list[RenderableType]:
        """The card's parts; ``width``: the room it has (a narrow card shortens the column
        heading rather than wrap it)."""
        if self.trace is None or not self.trace.steps:
            return [Text("No trace yet.", style=STYLES["dim"])]
        t = self.trace
        idx = max(0, min(self.step, len(t.steps) - 1))
        s = t.steps[idx]
        run = packet_run(t, idx)
        sent = run[0]
        rewrote = any(f in s.changed for f in ("src", "dst", "sport", "dport", "mark"))
        if rewrote and idx > 0:
            before, b_head, a_head = t.steps[idx - 1].packet, "before this step", f"after ({_what(s)})"
        else:
            before, b_head, a_head = sent.packet, f"as {sent.host} sent it", "now"
        rows = compare(before, s.packet)
        if width is not None:
            need = max(len(r[0]) for r in rows) + 3 + 1 + max([len(b_head)] + [len(r[1]) for r in rows]) \
                + max([len(a_head)] + [len(r[2]) for r in rows])
            if need > width and b_head.startswith("as "):
                b_head = "as sent"
        label = s.packet_label or "packet"
        title = Text()
        title.append(f"{label} ({s.packet.direction})", STYLES["title"])
        title.append(f" on {s.host}" + (f" at {s.hook}" if s.hook else ""), STYLES["dim"])
        out: list[RenderableType] = [title]
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=STYLES["field"])
        grid.add_column()
        grid.add_column(width=1)
        grid.add_column()
        grid.add_row("", Text(b_head, STYLES["head"]), "", Text(a_head, STYLES["head"]))
        for name, b, a, changed in rows:
            grid.add_row(name, b, Text(CHANGED, STYLES["changed"]) if changed else "",
                         Text(a, STYLES["changed"] if changed else Style()))
        out.append(grid)
        out.extend(self._rewrites(run, idx))
        out.extend(self._conntrack(s))
        return out

    def _rewrites(self, run, idx: int) -> list[RenderableType]:
        rows = self._rows if self._rows is not None else build_ladder(self.trace).rows
        first = run[0].index
        mine = [r for r in rows if r.kind == "nat" and first <= r.step <= idx]
        if not mine:
            return [Text("no rewrite of this packet yet", style=STYLES["dim"])]
        out: list[RenderableType] = [Text("rewrites of this packet:", style=STYLES["head"])]
        for r in mine:
            line = Text(f"{'▶' if r.step == idx else ' '}{r.marker} {r.nat} {r.field} {r.before} → {r.after}"
                        f" on {r.host} ({r.where})", style=STYLES["nat"])
            if r.step == idx:
                line.stylize(STYLES["current"])
            out.append(line)
        return out

    def _conntrack(self, s) -> list[RenderableType]:
        if not s.kind.startswith("conntrack") or not 0 <= s.touched < len(s.conntrack):
            return [Text("conntrack: this step creates or matches no entry", style=STYLES["dim"])]
        ct = s.conntrack[s.touched]
        verb = {"conntrack-new": "created", "conntrack-confirm": "confirmed",
                "conntrack-hit": "matched (original direction)",
                "conntrack-reverse": "matched (reply direction)"}.get(s.kind, s.kind)
        head = Text(f"conntrack entry {verb} on {s.host}", style=STYLES["head"])
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=STYLES["field"])
        grid.add_column()
        grid.add_column()
        grid.add_row("", Text("original", STYLES["head"]), Text("reply", STYLES["head"]))
        marks = reply_marks(ct)
        o, r = ct.orig, ct.reply
        dnat = (r[0], r[2]) != (o[1], o[3])
        snat = (r[1], r[3]) != (o[0], o[2])
        grid.add_row("src", f"{o[0]}:{o[2]}", Text(f"{r[0]}:{r[2]}" + (f" {CHANGED}" if dnat else ""),
                                                   STYLES["changed"] if dnat else STYLES["ct"]))
        grid.add_row("dst", f"{o[1]}:{o[3]}", Text(f"{r[1]}:{r[3]}" + (f" {CHANGED}" if snat else ""),
                                                   STYLES["changed"] if snat else STYLES["ct"]))
        state = " ".join(x for x in (ct.proto, ct.state, *(f"[{st}]" for st in ct.status)) if x)
        out: list[RenderableType] = [head, grid, Text(state, style=STYLES["ct"])]
        for m in marks:
            out.append(Text(f"{CHANGED} {m}", style=STYLES["changed"]))
        if not marks:
            out.append(Text("reply = original turned round: no NAT on this connection here", style=STYLES["dim"]))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Group(*self.parts(options.max_width))


def _what(step) -> str:
    names = {"dnat": "DNAT", "snat": "SNAT", "masquerade": "MASQUERADE", "mark": "MARK",
             "conntrack-hit": "conntrack", "conntrack-reverse": "conntrack reverses the NAT"}
    return names.get(step.kind, step.kind)
