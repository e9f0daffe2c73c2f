"""One flow in both of kube-proxy's modes, side by side (the flow screen's ``b``).

Left iptables, right nftables: per packet of the connection, on each host, the rules each
datapath evaluated (with what each did, the nftables map looked up, its key and the
element that matched), the rule counts and the address rewrites, and whether both
datapaths reach the same result.  From 120 columns the two columns stand side by side;
below, one shows at a time (tabs; ``m`` switches).  The engine runs the flow in both modes
in a worker (:class:`~kubeflow_tui.tui.engine.RealEngine.in_mode`); the layout comes from
:mod:`kubeflow_tui.mode_compare`, which reads the two Traces.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static, Tab, Tabs

from kubeflow_tui.mode_compare import ModeComparison, PacketWalk, compare_modes
from kubeflow_tui.tui.screens.breakpoints import TooSmall, apply_breakpoints

MODES = ("iptables", "nftables")


class BothModesScreen(Screen):
    """A flow with kube-proxy in iptables mode beside the same flow in nftables mode."""

    HELP_TITLE = "Both modes side by side (b)"
    DEFAULT_CSS = """
    BothModesScreen #both-title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    BothModesScreen #both-summary { height: auto; max-height: 9; padding: 0 1; background: $boost; }
    BothModesScreen #both-tabs { height: 2; }
    BothModesScreen.-wide #both-tabs { display: none; }
    BothModesScreen #both-columns { height: 1fr; }
    BothModesScreen .mode-column { width: 1fr; height: 1fr; padding: 0 1; }
    BothModesScreen.-wide .mode-column { border: round $primary 50%; border-title-color: $accent; }
    BothModesScreen.-narrow .mode-column { display: none; }
    BothModesScreen.-narrow .mode-column.-shown { display: block; }
    BothModesScreen .mode-column:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("right,l,full_stop", "packet(1)", "Next packet", tooltip="The next packet of the connection",
                id="both.next", priority=True),
        Binding("left,h,comma", "packet(-1)", "Prev packet", tooltip="The previous packet of the connection",
                id="both.prev", priority=True),
        Binding("m", "other_mode", "Other mode", tooltip="Show the other mode's column (below 120 columns)",
                id="both.mode"),
        Binding("escape,backspace,b", "back", "Back", tooltip="Back to the flow", id="both.back"),
    ]

    class Compared(Message):
        """The flow ran in both modes (or could not: ``error``)."""

        def __init__(self, comparison: ModeComparison | None, error: str = "") -> None:
            super().__init__()
            self.comparison = comparison
            self.error = error

    #: the packet shown (its number in the connection)
    packet: reactive[int] = reactive(0, init=False)
    #: the column shown below 120 columns
    shown: reactive[str] = reactive("iptables", init=False)
    comparison: reactive[ModeComparison | None] = reactive(None, init=False, always_update=True)

    def __init__(self, scenario: Any, flow: str, *, seed: int | None = None, endpoint: str | None = None) -> None:
        super().__init__()
        self.scenario = scenario
        self.flow = flow
        self.seed = seed
        self.endpoint = endpoint
        mode = getattr(getattr(scenario, "cluster", None), "proxyMode", "iptables")
        self.set_reactive(BothModesScreen.shown, mode if mode in MODES else "iptables")

    def compose(self) -> ComposeResult:
        apply_breakpoints(self)
        yield TooSmall()
        name = getattr(self.scenario, "name", "")
        yield Static(f"{name} › {self.flow}: kube-proxy in iptables mode and in nftables mode", id="both-title")
        yield Static("Running the flow in both modes …", id="both-summary")
        yield Tabs(*[Tab(m, id=f"tab-{m}") for m in MODES], active=f"tab-{self.shown}", id="both-tabs")
        with Horizontal(id="both-columns"):
            for m in MODES:
                col = VerticalScroll(Static(id=f"text-{m}"), id=f"col-{m}",
                                     classes="mode-column" + (" -shown" if m == self.shown else ""))
                col.border_title = m
                col.loading = True
                yield col
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#col-{self.shown}").focus()
        self._run()

    # ------------------------------------------------------------------ the engine, in a worker
    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _run(self) -> None:
        from kubeflow_tui.tui.engine import EngineError

        engine = self.app.engine  # type: ignore[attr-defined]
        try:
            ipt = engine.run_flow(engine.in_mode(self.scenario, "iptables"), self.flow, seed=self.seed,
                                  endpoint=self.endpoint)
            # the same endpoint in both modes (each datapath draws its own random number)
            nft = engine.run_flow(engine.in_mode(self.scenario, "nftables"), self.flow, seed=self.seed,
                                  endpoint=self.endpoint or ipt.endpoint or None)
        except EngineError as exc:
            self.post_message(self.Compared(None, str(exc)))
            return
        self.post_message(self.Compared(compare_modes(ipt, nft)))

    @on(Compared)
    def _compared(self, message: Compared) -> None:
        message.stop()
        for m in MODES:
            self.query_one(f"#col-{m}").loading = False
        if message.comparison is None:
            self.query_one("#both-summary", Static).update(Text(message.error))
            self.notify(message.error, title="Cannot run the flow in both modes", severity="error", timeout=10)
            return
        self.comparison = message.comparison

    # ------------------------------------------------------------------ drawing
    def watch_comparison(self) -> None:
        self._draw()

    def watch_packet(self) -> None:
        self._draw()

    def watch_shown(self, mode: str) -> None:
        for m in MODES:
            self.query_one(f"#col-{m}").set_class(m == mode, "-shown")
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{mode}":
            tabs.active = f"tab-{mode}"
        if not self.has_class("-wide"):
            self.query_one(f"#col-{mode}").focus()

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        mode = (event.tab.id or "").removeprefix("tab-")
        if mode in MODES:
            self.shown = mode

    def walks(self) -> tuple[PacketWalk | None, PacketWalk | None]:
        assert self.comparison is not None
        return self.comparison.packets[self.packet]

    def _draw(self) -> None:
        c = self.comparison
        if c is None or not c.packets:
            return
        walks = self.walks()
        self.query_one("#both-summary", Static).update(self.summary(c, walks))
        for m, walk in zip(MODES, walks):
            col = self.query_one(f"#col-{m}")
            col.border_title = f"{m}: {walk.rules} rules" if walk is not None else m
            self.query_one(f"#text-{m}", Static).update(self.column(walk))
            col.scroll_home(animate=False)
        tabs = self.query_one(Tabs)
        for m, walk in zip(MODES, walks):
            tabs.query_one(f"#tab-{m}", Tab).label = f"{m} ({walk.rules} rules)" if walk is not None else m

    @staticmethod
    def _packet_head(walks: tuple[PacketWalk | None, PacketWalk | None]) -> PacketWalk:
        return next(w for w in walks if w is not None)

    def summary(self, c: ModeComparison, walks: tuple[PacketWalk | None, PacketWalk | None]) -> Table:
        head = self._packet_head(walks)
        table = Table(box=None, show_edge=False, pad_edge=False, expand=True, padding=(0, 1),
                      title=Text(f"packet {self.packet + 1} of {len(c.packets)}: {head.label} {head.sent}",
                                 style="bold"), title_justify="left")
        table.add_column("", style="bold", no_wrap=True, ratio=None)
        table.add_column("iptables", ratio=1)
        table.add_column("nftables", ratio=1)
        counts = [f"{w.rules} this packet" if w is not None else "not seen" for w in walks]
        counts = [f"{n}, {c.rules(m)} in the flow" for n, m in zip(counts, MODES)]
        table.add_row("rules", *counts)
        rw = ["; ".join(r.text() for r in w.rewrites) or "none" if w is not None else "" for w in walks]
        same = [w.rewrites if w is not None else () for w in walks]
        if _same_rewrites(*same):
            rw[1] = Text("the same" + (" (the port is drawn at random)" if _masq(walks) else ""), style="green")
        table.add_row("rewrites", *rw)
        ends = [f"{t.ending}, the client saw {t.client_saw or 'no reply'}" for t in (c.iptables, c.nftables)]
        if c.same_result:
            ends[1] = Text("the same result", style="green")
        table.add_row("ending", *ends)
        return table

    @staticmethod
    def column(walk: PacketWalk | None) -> Text:
        t = Text(no_wrap=False, overflow="fold")
        if walk is None:
            t.append("This packet does not exist in this mode.")
            return t
        host = hook = chain = None
        for ln in walk.lines:
            if ln.host != host:
                host, hook, chain = ln.host, None, None
                t.append(f"{host}\n", "bold")
            if ln.hook != hook:
                hook, chain = ln.hook, None
                t.append(f"▸ {hook}\n", "bold magenta")
            nft = " " in ln.table
            if (ln.table, ln.chain) != chain:
                chain = (ln.table, ln.chain)
                t.append(f"  {ln.table} {ln.chain}\n" if nft else f"  {ln.table}:{ln.chain}\n", "bold cyan")
                if ln.base_chain:
                    t.append(f"    {ln.base_chain}\n", "dim")
            if not ln.rule:
                t.append(f"    {ln.did}\n", "dim")
                continue
            style = "dim" if ln.did == "no match" else ""
            if nft:
                t.append(f"    {ln.rule}", style)
                t.append(f" # handle {ln.handle}\n", "dim")
            else:
                t.append(f"  {ln.handle:>2} {ln.rule}\n", style)
            if ln.lookup:
                t.append(f"       {ln.lookup}\n", "yellow")
            t.append(f"       → {ln.did}\n", "dim" if ln.did == "no match" else "green")
        if not walk.lines:
            t.append("No rule of kube-proxy's sees this packet here.\n", "dim")
        for r in walk.rewrites:
            t.append(f"{r.text()}\n", "bold yellow")
        t.rstrip()
        return t

    # ------------------------------------------------------------------ keys
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "packet" and self.comparison is None:
            return None
        if action == "other_mode" and self.has_class("-wide"):
            return None  # both columns show
        return True

    def action_packet(self, delta: int) -> None:
        if self.comparison is None:
            return
        new = self.packet + delta
        if not 0 <= new < len(self.comparison.packets):
            self.notify("No more packets that way.", timeout=2)
            return
        self.packet = new

    def action_other_mode(self) -> None:
        self.shown = MODES[1 - MODES.index(self.shown)]

    def action_back(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()


def _same_rewrites(a: tuple, b: tuple) -> bool:
    def key(rws: tuple) -> list:
        return [(r.host, r.before, r.after.rsplit(":", 1)[0] if r.what in ("masquerade", "snat") else r.after)
                for r in rws]

    return key(a) == key(b)


def _masq(walks: tuple[PacketWalk | None, PacketWalk | None]) -> bool:
    return any(r.what in ("masquerade", "snat") for w in walks if w is not None for r in w.rewrites)

