"""The netfilter pipeline of the host the packet is on, with the current hook and table lit.

::

    in ━▶ PREROUTING ━━━▶ routing ━━━━▶ FORWARD ━━━━━━━▶ POSTROUTING ━▶ out
          raw ct mangle NAT   │         mangle filter    ▲ mangle nat ct
                              ▼                          │
                            INPUT                     routing
                            mangle filter nat ct         ▲
                              ▼                          │
                            socket ━━━▶ OUTPUT ━━━━━━━━━━┛
                                        raw ct mangle nat filter

The tables at each hook are in the kernel's priority order (raw −300, conntrack −200,
mangle −150, nat DNAT −100, filter 0, nat SNAT +100, conntrack's confirm last); ``ct`` is
conntrack (lookup or new entry at PREROUTING/OUTPUT, confirm at POSTROUTING/INPUT).  The
security table is left out: kube-proxy writes nothing there.  nftables base chains the
Trace names (table ``kube-proxy`` …) are added at their hook.

Where the packet is comes from the Trace only: the step's hook and table, ``route`` steps
for routing, ``deliver``/``send`` for the socket.  The current hook is drawn in reverse
video, the current table in CAPITALS (reads without colour), the way this packet took on
this host in heavy lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from kubeflow_tui.pictures.canvas import HEAVY, Canvas
from kubeflow_tui.pictures.wire import packet_run
from kubeflow_tui.trace import Step, Trace

HOOK_TABLES: dict[str, tuple[str, ...]] = {
    "PREROUTING": ("raw", "conntrack", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "nat", "conntrack"),
    "FORWARD": ("mangle", "filter"),
    "OUTPUT": ("raw", "conntrack", "mangle", "nat", "filter"),
    "POSTROUTING": ("mangle", "nat", "conntrack"),
}
SHORT = {"conntrack": "ct"}

#: (x, y) of each box of the picture; "routing-out" routes a locally generated packet,
#: "reroute" is the second look-up after nat OUTPUT changed its destination.
NODES = {
    "in": (0, 0),
    "PREROUTING": (6, 0),
    "routing": (22, 0),
    "FORWARD": (36, 0),
    "POSTROUTING": (53, 0),
    "out": (69, 0),
    "INPUT": (22, 4),
    "socket": (22, 7),
    "routing-out": (33, 7),
    "OUTPUT": (45, 7),
    "reroute": (53, 4),
}
LABELS = {"routing-out": "routing"}
WIDTH = 72

#: Connectors: (from, to) → cells and the glyphs drawn there.
EDGES: dict[tuple[str, str], list[tuple[int, int, str]]] = {
    ("in", "PREROUTING"): [(3, 0, "─"), (4, 0, "▶")],
    ("PREROUTING", "routing"): [(x, 0, "─") for x in range(17, 20)] + [(20, 0, "▶")],
    ("routing", "FORWARD"): [(x, 0, "─") for x in range(30, 34)] + [(34, 0, "▶")],
    ("FORWARD", "POSTROUTING"): [(x, 0, "─") for x in range(44, 51)] + [(51, 0, "▶")],
    ("POSTROUTING", "out"): [(65, 0, "─"), (66, 0, "─"), (67, 0, "▶")],
    ("routing", "INPUT"): [(25, 2, "│"), (25, 3, "▼")],
    ("INPUT", "socket"): [(25, 6, "▼")],
    ("socket", "routing-out"): [(29, 7, "─"), (30, 7, "─"), (31, 7, "▶")],
    ("routing-out", "OUTPUT"): [(41, 7, "─"), (42, 7, "─"), (43, 7, "▶")],
    ("OUTPUT", "reroute"): [(x, 7, "─") for x in range(52, 56)] + [(56, 7, "┘"), (56, 6, "│"), (56, 5, "▲")],
    ("reroute", "POSTROUTING"): [(56, 3, "│"), (56, 2, "│"), (56, 1, "▲")],
}
#: Box pairs a packet goes between through a box it does not stop at.
THROUGH = {("OUTPUT", "POSTROUTING"): "reroute"}

STYLES = {
    "hook": Style(bold=True),
    "table": Style(color="bright_black"),
    "edge": Style(color="blue"),
    "taken": Style(color="yellow", bold=True),
    "current": Style(reverse=True, bold=True),
    "current_table": Style(color="black", bgcolor="yellow", bold=True),
    "visited": Style(color="yellow", bold=True, underline=True),
    "title": Style(bold=True),
    "dim": Style(dim=True),
    "selected": Style(underline=True, bold=True),
}


@dataclass(frozen=True)
class Where:
    """Where a step happens in the pipeline: a box (hook, routing, socket …) and a table."""

    box: str  # a key of NODES, or "" when the packet is on the wire
    table: str = ""


def locate(trace: Trace, index: int) -> Where:
    """The box (and table) of step ``index``, read from the Trace."""
    s = trace.steps[index]
    run = [x for x in packet_run(trace, index) if x.host == s.host]
    local_sender = any(x.kind == "send" for x in run)
    if s.kind == "link":
        return Where("")
    if s.kind in ("send", "deliver"):
        return Where("socket")
    if s.kind == "route":
        if not (local_sender or s.hook == "OUTPUT"):
            return Where("routing")
        after_output = any(x.hook == "OUTPUT" and x.kind != "route" for x in run if x.index < s.index)
        return Where("reroute" if after_output else "routing-out")
    hook = s.hook
    if not hook:
        # conntrack steps without a hook sit where the neighbouring steps are: a new or
        # looked-up entry at the first hook of this host, a confirm at the last one.
        around = [x.hook for x in run if x.hook and x.kind != "route"]
        if s.kind == "conntrack-confirm":
            hook = around[-1] if around else "POSTROUTING"
        else:
            later = [x.hook for x in trace.steps[index + 1 :] if x.host == s.host and x.hook][:1]
            hook = later[0] if later and later[0] in ("PREROUTING", "OUTPUT") else (
                "OUTPUT" if local_sender else "PREROUTING")
    table = "conntrack" if s.kind.startswith("conntrack") else s.table
    return Where(hook if hook in NODES else "", table)


def boxes_taken(trace: Trace, index: int) -> list[str]:
    """The boxes this packet has gone through on the current host, in order."""
    s = trace.steps[index]
    out: list[str] = []
    run = packet_run(trace, index)
    for x in run:
        if x.host != s.host:
            continue
        w = locate(trace, x.index)
        if w.box and (not out or out[-1] != w.box):
            out.append(w.box)
    arrived = any(x.kind == "link" and x.host == s.host for x in run)
    if arrived and (not out or out[0] != "in"):
        out.insert(0, "in")
    return out


def chain_walk(trace: Trace, index: int, hook: str) -> list[tuple[str, list[str], str]]:
    """For this packet on this host at ``hook``: [(table, chains entered, verdict)]."""
    s = trace.steps[index]
    walks: list[tuple[str, list[str], str]] = []
    for x in packet_run(trace, index):
        if x.host != s.host or x.hook != hook or not x.chain:
            continue
        if not walks or walks[-1][0] != x.table:
            walks.append((x.table, [], ""))
        table, chains, verdict = walks[-1]
        if not chains or chains[-1] != x.chain:
            chains.append(x.chain)
        if x.kind in ("dnat", "snat", "masquerade", "accept", "drop", "reject", "mark") or x.kind == "policy":
            verdict = x.target or x.kind.upper()
        walks[-1] = (table, chains, verdict)
    return walks


def hook_absent(trace: Trace, index: int, hook: str) -> str:
    """Why ``hook`` of this host shows no chain walk of this packet at step ``index``: it
    passed there meeting no rule, it gets there later, or it does not pass there at all."""
    s = trace.steps[index]
    steps = trace.steps
    if any(x.host == s.host and x.hook == hook for x in packet_run(trace, index)):
        return "reached, no rule of these tables met so far"
    for x in steps[index + 1:]:
        if x.kind == "send":
            break
        if x.host == s.host and x.hook == hook:
            return f"no chain walked here yet: the packet gets here at step {x.index + 1}"
    return f"this packet does not pass {hook} on {s.host}"


class PipelinePicture:
    """The pipeline of step ``step``'s host; ``selected`` shows that hook's chain walk."""

    def __init__(self, trace: Trace | None, step: int, *, selected: str = ""):
        self.trace, self.step, self.selected = trace, step, selected

    def _tables(self, hook: str) -> list[str]:
        tables = list(HOOK_TABLES.get(hook, ()))
        if self.trace is not None:
            for s in self.trace.steps:
                if s.hook == hook and s.table and s.table not in tables and not s.kind.startswith("conntrack"):
                    tables.insert(len(tables) - 1 if tables and tables[-1] == "conntrack" else len(tables), s.table)
        return tables

    def canvas(self, width: int, height: int) -> Canvas:
        rows = 10
        c = Canvas(max(width, 20), max(height, rows + 1))
        if self.trace is None or not self.trace.steps:
            c.put(0, 0, "No trace yet.", STYLES["dim"])
            return c
        idx = max(0, min(self.step, len(self.trace.steps) - 1))
        s = self.trace.steps[idx]
        where = locate(self.trace, idx)
        taken = boxes_taken(self.trace, idx)
        label = s.packet_label or "packet"
        title = Text()
        title.append(f"{s.host}", STYLES["title"])
        title.append(f" · {label} ({s.packet.direction})", STYLES["dim"])
        if where.box:
            title.append(f" · {LABELS.get(where.box, where.box)}", STYLES["title"])
            if where.table:
                title.append(f" › {where.table}", STYLES["title"])
        else:
            title.append(" · on the wire", STYLES["dim"])
        c.put_text(0, 0, title)
        y0 = 1
        taken_edges = set()
        for a, b in zip(taken, taken[1:]):
            mid = THROUGH.get((a, b))
            taken_edges |= {(a, mid), (mid, b)} if mid else {(a, b)}
        for (a, b), cells in EDGES.items():
            on = (a, b) in taken_edges
            for x, y, ch in cells:
                c.put(x, y0 + y, ch.translate(HEAVY) if on else ch, STYLES["taken" if on else "edge"])
        for name, (x, y) in NODES.items():
            text = LABELS.get(name, name)
            style = STYLES["hook"]
            if name == where.box:
                style = STYLES["current"]
            elif name in taken:
                style = STYLES["visited"]
            if name == self.selected:
                style = style + STYLES["selected"]
            c.put(x, y0 + y, text, style)
            if name in HOOK_TABLES:
                tx = x
                for t in self._tables(name):
                    short = SHORT.get(t, t)
                    cur = name == where.box and t == where.table
                    c.put(tx, y0 + y + 1, short.upper() if cur else short,
                          STYLES["current_table"] if cur else STYLES["table"])
                    tx += len(short) + 1
        self._detail(c, y0 + rows, idx, where)
        return c

    def _detail(self, c: Canvas, y: int, idx: int, where: Where) -> None:
        hook = self.selected or (where.box if where.box in HOOK_TABLES else "")
        if not hook or y >= c.height:
            return
        walks = chain_walk(self.trace, idx, hook)
        head = Text()
        head.append(f"{hook}", STYLES["title"])
        head.append(" on this host, this packet" + (" (selected; esc follows the packet)" if self.selected else "")
                    + ":", STYLES["dim"])
        c.put_text(0, y, head)
        y += 1
        if not walks:
            c.put(2, y, f"({hook_absent(self.trace, idx, hook)})", STYLES["dim"])
            return
        for table, chains, verdict in walks:
            if y >= c.height:
                return
            line = f"{table}: " + " → ".join(chains) + (f" ▶ {verdict}" if verdict else "")
            for part in _wrap(line, c.width - 2):
                if y >= c.height:
                    return
                c.put(2, y, part, None)
                y += 1

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        height = options.height or options.size.height
        yield self.canvas(options.max_width, height).text()


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, max(10, width), subsequent_indent="  ", break_on_hyphens=False) or [""]

