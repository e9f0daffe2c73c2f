"""Draw a :class:`~kubeflow_tui.ladder.Ladder` with rich: lifelines on the left, what
each row says on the right, e.g. at 80 columns::

    clusterip / pod-other-node: delivered
     client-b  node-b   node-a   web-1
        │        │        │        │
        ├───────▶│        │        │  SYN      10.244.2.7:40000 → 10.96.0.1:8080
        │        ◆        │        │  ◆ DNAT dst 10.96.0.1:8080 → 10.244.1.5:8080 (nat PREROUTING)
        │        ├───────▶│        │  SYN      10.244.2.7:40000 → 10.244.1.5:8080

Arrows are solid, ICMP errors dashed; NAT points and endings are shapes on the host's
lifeline (see :data:`kubeflow_tui.ladder.LEGEND`), so nothing depends on colour.
"""

from __future__ import annotations

import io
import sys
import textwrap

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from kubeflow_tui.ladder import DROP_MARKER, MARKERS, TIMEOUT_MARKER, Ladder, LadderRow, build_ladder
from kubeflow_tui.trace import Trace

STYLES = {
    "title": Style(bold=True),
    "host": Style(bold=True),
    "life": Style(dim=True),
    "original": Style(color="cyan"),
    "reply": Style(color="green"),
    "icmp": Style(color="red"),
    "nat": Style(color="magenta", bold=True),
    "end": Style(color="red", bold=True),
    "changed": Style(bold=True, underline=True),
    "connection": Style(bold=True),
    "current": Style(reverse=True),
    "cursor": Style(underline=True),
    "packet": Style(color="yellow", bold=True),
    "dim": Style(dim=True),
}

MIN_GAP = 7  # columns between two lifelines at the least
MAX_GAP = 18
LABEL_MIN = 40
POINTER = "▶"  # left margin mark of the current row (reads without colour)
CURSOR = "›"  # left margin mark of the row under the cursor
PACKET_BAR = "┃"  # left margin mark of the other rows of the current packet

_LEGEND_ITEMS = (
    (MARKERS["dnat", "rule"], "DNAT by a rule"),
    (MARKERS["dnat", "conntrack"], "DNAT applied/undone by conntrack"),
    (MARKERS["snat", "rule"], "SNAT/MASQUERADE by a rule"),
    (MARKERS["snat", "conntrack"], "SNAT applied/undone by conntrack"),
    (DROP_MARKER, "dropped/rejected"),
    (TIMEOUT_MARKER, "timed out"),
)


def row_label(row: LadderRow) -> tuple[str, str]:
    """(main text, detail) of a row's label column."""
    if row.kind == "arrow":
        proto = "" if row.proto == "tcp" else f" {row.proto}"
        return f"{row.label:<8} {row.src} → {row.dst}{proto}", ""
    if row.kind == "icmp":
        return f"ICMP     {row.text}", ""
    if row.kind == "nat":
        short = row.nat.replace(" (conntrack)", "")
        actor = "conntrack" if row.nat.endswith("(conntrack)") else ""
        where = ", ".join(x for x in (actor, row.where) if x)
        return f"{row.marker} {short} {row.field} {row.before} → {row.after}", f"({where})" if where else ""
    if row.kind == "end":
        return f"{row.marker} {row.text} on {row.host}", f"({row.where})" if row.where else ""
    if row.kind == "connection":
        return f"{row.text}: {row.src} → {row.dst}", ""
    return row.text, ""


class LadderPicture:
    """A rich renderable: the whole ladder at the width it is given.

    ``current`` is a row number to highlight (reverse video and a ``▶`` in the margin); the
    other rows of the same packet get a ``┃`` in the margin, the ``cursor`` row a ``›``.
    """

    def __init__(self, ladder: Ladder, *, current: int = -1, cursor: int = -1, title: bool = True,
                 legend: bool = True):
        self.ladder = ladder
        self.current = current
        self.cursor = cursor
        self.title = title
        self.legend = legend
        self.row_line: dict[int, int] = {}  # row number → its first line (filled by lines())
        self.rows_end = 0  # the line after the last row (filled by lines())

    # -- geometry -------------------------------------------------------------------
    def layout(self, width: int) -> tuple[list[int], int]:
        """(x of each lifeline, x where the label column starts)."""
        n = max(1, len(self.ladder.hosts))
        names = [len(h) for h in self.ladder.hosts] or [1]
        margin = 1 + max(1, names[0] // 2 + 1)
        labels = [sum(len(p) + 1 for p in row_label(r) if p) for r in self.ladder.rows] or [0]
        want = max(labels)
        if n == 1:
            gap = 0
        else:
            room = width - margin - 3 - min(want, max(LABEL_MIN, width - margin - 3 - MIN_GAP * (n - 1)))
            gap = max(MIN_GAP, min(MAX_GAP, room // (n - 1)))
        xs = [margin + i * gap for i in range(n)]
        return xs, xs[-1] + 3

    # -- rows -----------------------------------------------------------------------
    def _ladder_cells(self, xs: list[int], start: int) -> tuple[list[str], list[Style | None]]:
        chars = [" "] * start
        styles: list[Style | None] = [None] * start
        for x in xs:
            chars[x] = "│"
            styles[x] = STYLES["life"]
        return chars, styles

    def _row_cells(self, row: LadderRow, xs: list[int], start: int) -> tuple[list[str], list[Style | None]]:
        chars, styles = self._ladder_cells(xs, start)
        hosts = self.ladder.hosts
        if row.kind in ("arrow", "icmp") and row.host in hosts and row.to_host in hosts:
            a, b = xs[hosts.index(row.host)], xs[hosts.index(row.to_host)]
            style = STYLES["icmp" if row.kind == "icmp" else row.direction if row.direction in STYLES else "original"]
            line = "┄" if row.kind == "icmp" else "─"
            lo, hi = min(a, b), max(a, b)
            for x in range(lo + 1, hi):
                chars[x], styles[x] = line, style
            if b > a:
                chars[a], chars[b - 1] = "├", "▶"
            else:
                chars[a], chars[b + 1] = "┤", "◀"
            styles[a] = style
        elif row.kind in ("nat", "end") and row.host in hosts:
            x = xs[hosts.index(row.host)]
            chars[x], styles[x] = row.marker, STYLES["nat" if row.kind == "nat" else "end"]
        elif row.kind == "connection":
            for x in range(xs[0], xs[-1] + 1):
                if chars[x] == " ":
                    chars[x], styles[x] = "┈", STYLES["dim"]
        return chars, styles

    @staticmethod
    def _cells_text(chars: list[str], styles: list[Style | None]) -> Text:
        t = Text(no_wrap=True, overflow="crop")
        for c, s in zip(chars, styles):
            t.append(c, s)
        return t

    def _label_text(self, row: LadderRow, main: str) -> Text:
        t = Text(main)
        if row.kind == "arrow":
            t.stylize(STYLES[row.direction] if row.direction in STYLES else STYLES["original"], 0, len(row.label))
            off = main.index(row.src, 9)
            if "src" in row.changed:
                t.stylize(STYLES["changed"], off, off + len(row.src))
            doff = main.index(row.dst, off + len(row.src))
            if "dst" in row.changed:
                t.stylize(STYLES["changed"], doff, doff + len(row.dst))
        elif row.kind == "nat":
            t.stylize(STYLES["nat"], 0, len(main))
        elif row.kind in ("end", "icmp"):
            t.stylize(STYLES["end"], 0, len(main))
        elif row.kind == "connection":
            t.stylize(STYLES["connection"])
        return t

    def lines(self, width: int) -> list[Text]:
        xs, start = self.layout(width)
        label_w = max(12, width - start)
        out: list[Text] = []
        lad = self.ladder
        if self.title:
            out.append(Text(f"{lad.scenario} / {lad.flow}: {lad.ending}", style=STYLES["title"], no_wrap=True))
        out.extend(self._header(xs, start))
        blank = self._cells_text(*self._ladder_cells(xs, start))
        out.append(blank)
        packet = lad.rows[self.current].packet if 0 <= self.current < len(lad.rows) else -1
        for i, row in enumerate(lad.rows):
            main, detail = row_label(row)
            parts = textwrap.wrap(main, label_w, subsequent_indent="  ") or [""]
            n_main = len(parts)
            if detail:
                if len(parts[-1]) + 1 + len(detail) <= label_w:
                    parts[-1] += " " + detail
                else:
                    parts.extend(textwrap.wrap(detail, label_w, initial_indent="  ", subsequent_indent="  "))
            current = i == self.current
            kind_style = STYLES.get({"nat": "nat", "end": "end", "icmp": "end"}.get(row.kind, ""), Style())
            self.row_line[i] = len(out)
            for k, part in enumerate(parts):
                cells = self._row_cells(row, xs, start) if k == 0 else self._ladder_cells(xs, start)
                body = self._cells_text(*cells)
                line = Text(no_wrap=True, overflow="crop")
                if current and k == 0:
                    line.append(POINTER, STYLES["current"])
                elif i == self.cursor and k == 0:
                    line.append(CURSOR, STYLES["cursor"])
                elif packet >= 0 and row.packet == packet:
                    line.append(PACKET_BAR, STYLES["packet"])
                else:
                    line.append(" ")
                line.append_text(body[1:])
                if k == 0 and n_main == 1:
                    label = self._label_text(row, main)
                    label.append(part[len(main):], STYLES["dim"])
                elif k < n_main:
                    # a wrapped label: its detail, if on this line, stays dim
                    cut = len(part) - len(detail) - 1 if detail and k == n_main - 1 and part.endswith(detail) else len(part)
                    label = Text(part[:cut], kind_style)
                    label.append(part[cut:], STYLES["dim"])
                else:
                    label = Text(part, STYLES["dim"])
                line.append_text(label)
                if current:
                    line.stylize(STYLES["current"], 1)
                elif i == self.cursor:
                    line.stylize(STYLES["cursor"], 1)
                line.rstrip()
                out.append(line)
        self.rows_end = len(out)
        out.append(blank)
        if self.legend:
            out.extend(self._legend(width))
        for line in out:
            line.rstrip()
        return out

    def _header(self, xs: list[int], start: int) -> list[Text]:
        hosts = self.ladder.hosts
        gap = xs[1] - xs[0] if len(xs) > 1 else 99
        fits = all(len(h) < gap for h in hosts)
        rows = 1 if fits else 2
        lines = [[" "] * (start + 20) for _ in range(rows)]
        for i, (h, x) in enumerate(zip(hosts, xs)):
            room = gap - 1 if fits else 2 * gap - 1
            name = h if len(h) <= room else h[: max(1, room - 1)] + "…"
            left = max(0, x - len(name) // 2)
            target = lines[0 if fits else i % 2]
            if left + len(name) > len(target):
                target.extend(" " * (left + len(name) - len(target)))
            target[left : left + len(name)] = list(name)
        out = []
        for chars in lines:
            t = Text("".join(chars).rstrip(), style=STYLES["host"], no_wrap=True)
            out.append(t)
        return out

    def _legend(self, width: int) -> list[Text]:
        used = {r.marker for r in self.ladder.rows if r.marker}
        items = [f"{m} {what}" for m, what in _LEGEND_ITEMS if m in used]
        if any(r.kind == "icmp" for r in self.ladder.rows):
            items.append("┄ ICMP error")
        if not items:
            return []
        out: list[Text] = []
        line = ""
        for item in items:
            if line and len(line) + 3 + len(item) > width:
                out.append(Text(line, style=STYLES["dim"]))
                line = ""
            line = f"{line}   {item}" if line else item
        out.append(Text(line, style=STYLES["dim"]))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)


def ladder_text(trace: Trace, *, width: int = 80) -> str:
    """The ladder as plain text (no colour), e.g. for a golden file."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, color_system=None, highlight=False)
    console.print(LadderPicture(build_ladder(trace)))
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())


def print_ladder(trace: Trace, console: Console) -> None:
    console.print(LadderPicture(build_ladder(trace)))


class _Grey:
    """A renderable drawn without colours (bold, dim, reverse and the shapes stay)."""

    def __init__(self, renderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from Segment.remove_color(console.render(self.renderable, options))


def save_svg(renderable, path: str, *, width: int, title: str, no_color: bool = False) -> None:
    """Record ``renderable`` at ``width`` columns and write it as SVG (for slides);
    ``no_color`` keeps only the shapes and text attributes (bold, reverse …)."""
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", highlight=False)
    if no_color:
        renderable = _Grey(renderable)
    console.print(renderable)
    console.save_svg(path, title=title)


def emit(trace: Trace, args, console: Console) -> int:
    """``kubeflow-tui trace … --format ladder [--svg OUT.svg]``: print the ladder, or write
    the picture (the ladder, or with ``--format text`` the text trace) as SVG at the
    console's width and say so on stderr."""
    fmt = args.format or ("ladder" if args.svg else "text")
    if fmt == "text":
        from rich.console import Group

        from kubeflow_tui.render_trace import iter_lines

        picture = Group(*iter_lines(trace, verbose=args.verbose))
    else:
        picture = LadderPicture(build_ladder(trace))
    if not args.svg:
        console.print(picture)
        return 0
    save_svg(picture, args.svg, width=console.width, title=f"kubeflow-tui: {trace.scenario} / {trace.flow}",
             no_color=console.no_color)
    print(f"wrote {args.svg} ({fmt}, "
          f"{console.width} columns)", file=sys.stderr)
    return 0
