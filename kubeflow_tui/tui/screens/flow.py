"""The flow screen (a scenario + a flow) and the lesson screen (Markdown + the flow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Container, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Tab, Tabs

from kubeflow_tui.tui.engine import EngineError
from kubeflow_tui.tui.screens.common import PickerScreen, TooSmall, apply_breakpoints
from kubeflow_tui.tui.widgets import ChainWalk, ConntrackTable, Narration, PacketHeader, Topology
from kubeflow_tui.tui.widgets.shell_pane import ShellPane

if TYPE_CHECKING:
    from kubeflow_tui.lessons import Lesson
    from kubeflow_tui.trace import Trace
    from kubeflow_tui.tui.app import KubeflowApp

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # steps per second
PANELS = ("lesson", "chain", "topology", "conntrack", "shell")
PANEL_TITLES = {"lesson": "Lesson", "chain": "Chain walk", "topology": "Topology", "conntrack": "Conntrack",
                "shell": "Shell"}
#: actions that must not run while the learner types in the shell
TYPING_BLOCKS = {"step", "play", "jump", "speed", "reroll", "endpoint", "pick_flow", "ruleset", "panel",
                 "shell", "quiz", "predict", "lesson", "help", "toggle_theme", "quit", "open_scenario"}


class FlowView(Vertical):
    """Narration + packet header, always visible; the panels below them.

    Below 120 columns one panel shows at a time (tabs); from 120 columns all panels
    are laid out in a grid.  One set of widgets either way: CSS decides.

    The view is composed before the engine has run (``pending``): the first frame shows
    the lesson text and the panels with a "tracing…" placeholder, and ``show`` fills
    them in when the screen has its Trace.
    """

    def __init__(self, *, lesson_markdown: str | None = None, shell_sim: Any = None, shell_reset: Any = None,
                 title: str = "", pending: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self.lesson_markdown = lesson_markdown
        self.shell_sim = shell_sim
        self.shell_reset = shell_reset
        self.title = title
        self.pending = pending
        self.panels = [p for p in PANELS if p != "lesson" or lesson_markdown is not None]

    @property
    def first_panel(self) -> str:
        return "chain" if "chain" in self.panels and self.lesson_markdown is None else self.panels[0]

    def compose(self) -> ComposeResult:
        first = self.first_panel

        def cls(p: str) -> str:  # the first panel is active from the start: no restyle after mount
            return "panel -active" if p == first else "panel"

        nar = Narration(id="narration", title=self.title)
        nar.pending = self.pending
        yield nar
        packet = PacketHeader(id="packet")
        packet.pending = self.pending
        yield packet
        yield Tabs(*[Tab(f"{i + 1} {PANEL_TITLES[p]}", id=f"tab-{p}") for i, p in enumerate(self.panels)],
                   active=f"tab-{first}", id="panel-tabs")
        with Container(id="panels", classes="with-lesson" if self.lesson_markdown is not None else ""):
            if self.lesson_markdown is not None:
                from kubeflow_tui.tui.widgets.lesson_markdown import LessonMarkdown

                with VerticalScroll(id="lesson", classes=cls("lesson")):
                    yield LessonMarkdown(self.lesson_markdown, id="lesson-md")
            chain = ChainWalk(id="chain", classes=cls("chain"))
            chain.pending = self.pending
            yield chain
            with VerticalScroll(id="topology", classes=cls("topology")):
                topo = Topology(id="topology-view")
                topo.pending = self.pending
                yield topo
            ct = ConntrackTable(id="conntrack", classes=cls("conntrack"))
            ct.pending = self.pending
            yield ct
            yield ShellPane(self.shell_sim, reset_sim=self.shell_reset, id="shell", classes=cls("shell"))

    def on_mount(self) -> None:
        try:
            for i, p in enumerate(self.panels):
                self.query_one(f"#{p}").border_title = f"{i + 1} {PANEL_TITLES[p]}"
        except NoMatches:  # the screen was closed before it finished mounting
            return
        self.select_panel(self.first_panel)

    def select_panel(self, name: str) -> None:
        if name not in self.panels or not self.is_mounted:
            return
        try:
            self._select(name)
        except NoMatches:
            pass

    def _select(self, name: str) -> None:
        for p in self.panels:
            self.query_one(f"#{p}").set_class(p == name, "-active")
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{name}":
            tabs.active = f"tab-{name}"

    @property
    def active_panel(self) -> str:
        active = self.query_one(Tabs).active or ""
        return active.removeprefix("tab-")

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        name = (event.tab.id or "").removeprefix("tab-")
        try:
            for p in self.panels:
                self.query_one(f"#{p}").set_class(p == name, "-active")
            # a panel redrawn while hidden could not scroll: do it now it shows
            widget = self.query_one(f"#{name}")
        except NoMatches:
            return
        if hasattr(widget, "after_redraw"):
            self.call_after_refresh(widget.after_redraw)
        if name == "topology":
            # The topology is laid out to its panel's width; a panel hidden since the
            # screen opened has no width yet (and gets no Resize when shown): redraw it
            # once it has one.
            topo = self.query_one(Topology)
            if topo.trace is not None:
                self.call_after_refresh(topo.redraw)

    def show(self, trace: Trace | None, index: int, scenario: Any, *, title: str, playing: bool, speed: float,
             pending: bool = False) -> None:
        try:
            self._show(trace, index, scenario, title=title, playing=playing, speed=speed, pending=pending)
        except NoMatches:  # not mounted (yet, or any more)
            pass

    def _show(self, trace: Trace | None, index: int, scenario: Any, *, title: str, playing: bool, speed: float,
              pending: bool = False) -> None:
        self.pending = pending
        nar = self.query_one(Narration)
        nar.title, nar.playing, nar.speed = title, playing, speed
        for w in (nar, self.query_one(PacketHeader), self.query_one(ChainWalk), self.query_one(Topology),
                  self.query_one(ConntrackTable)):
            w.pending = pending
            w.show(trace, index, scenario)


class FlowScreen(Screen):
    """Step through one flow of a scenario."""

    BINDINGS = [
        Binding("right,l", "step(1)", "Next", priority=True),
        Binding("left,h", "step(-1)", "Prev", show=False, priority=True),
        Binding("space", "play", "Play", priority=True),
        Binding("plus,equals_sign", "speed(1)", "Faster", show=False),
        Binding("minus,underscore", "speed(-1)", "Slower", show=False),
        Binding("home,g", "jump('start')", "Start", show=False, priority=True),
        Binding("end,G", "jump('end')", "End", show=False, priority=True),
        Binding("s", "shell", "Shell"),
        Binding("y", "predict", "Predict"),
        Binding("z", "quiz", "Quiz"),
        Binding("f", "pick_flow", "Flow"),
        Binding("n", "ruleset", "Rules"),
        Binding("r", "reroll", "New seed", show=False),
        Binding("e", "endpoint", "Endpoint", show=False),
        Binding("1", "panel(0)", show=False),
        Binding("2", "panel(1)", show=False),
        Binding("3", "panel(2)", show=False),
        Binding("4", "panel(3)", show=False),
        Binding("5", "panel(4)", show=False),
        Binding("escape,backspace", "back", "Back", show=False),
    ]

    def __init__(
        self,
        scenario: Any,
        flow: str | None = None,
        *,
        source: str = "",
        flows: list[str] | None = None,
        seed: int | None = None,
        endpoint: str | None = None,
        start_step: int = 0,
    ) -> None:
        """``scenario`` is a loaded scenario, or ``None`` to load ``source`` (a path) after
        the first frame; ``flow`` ``None`` means the scenario's first flow."""
        super().__init__()
        self.scenario = scenario
        self.source = source
        self.flows = flows if flows is not None else [f.name for f in getattr(scenario, "flows", [])]
        self.flow = flow if flow is not None else (self.flows[0] if self.flows else "")
        self.seed = seed
        self.endpoint = endpoint
        self.trace: Trace | None = None
        self.index = 0
        self.start_step = start_step
        self.playing = False
        self.speed_i = 2
        self._timer = None
        self.adhoc = ""  # the shell line whose connection is shown ("" for a flow)
        self.predict = False
        self.predict_points: dict[int, Any] = {}
        self.predict_asked: set[int] = set()
        self.predict_right = 0
        self.predict_total = 0
        self._asking = False
        self._state_token: Any = None
        self._panel_before_shell = ""
        #: True until the engine has run (the scenario loaded, the first flow traced):
        #: the engine works after the first frame, so the screen shows at once.
        self.starting = True
        self._queued: list[tuple[str, tuple[Any, ...]]] = []  # keys pressed while starting
        self._queued_notice = False
        self._resumed = False

    @property
    def kapp(self) -> "KubeflowApp":
        return self.app  # type: ignore[return-value]

    @property
    def position(self) -> int:
        """The step to save as the learner's place (the saved one while still starting)."""
        return self.index if self.trace is not None or not self.starting else self.start_step

    # ------------------------------------------------------------------ layout
    def lesson_markdown(self) -> str | None:
        return None

    def compose(self) -> ComposeResult:
        apply_breakpoints(self)
        yield TooSmall()
        engine = self.kapp.engine
        live = getattr(engine, "live_sim", None)
        reset = getattr(engine, "reset_live", None)
        yield FlowView(lesson_markdown=self.lesson_markdown(), id="flow-view", title=self.title_text(),
                       pending=self.starting,
                       shell_sim=(lambda: live(self.scenario)) if live is not None else None,
                       shell_reset=(lambda: reset(self.scenario)) if reset is not None else None)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.redraw()  # the placeholders: the first frame shows the layout and the lesson text
        self.call_after_refresh(self._start)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # (then Screen's handler runs.)  The first resume comes just after the screen was
        # composed, its widgets styled as they were mounted: restyling the whole tree again
        # (a lesson's Markdown blocks and all) would only delay the first frame.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    # ------------------------------------------------------------------ engine
    def load_error(self, exc: BaseException) -> tuple[str, str]:
        """(title, message) of the error shown when the scenario cannot be loaded."""
        return "Cannot open this scenario", str(exc)

    def _start(self) -> None:
        """After the first frame: load the scenario if needed, run the first flow."""
        if not self.starting or not self.is_attached:
            return
        if self.scenario is None:
            try:
                self.scenario = self.kapp.engine.load(self.source)
            except EngineError as exc:
                self.starting = False
                self._queued.clear()
                self.kapp.screen_failed(self, *self.load_error(exc))
                return
            if not self.flows:
                self.flows = [f.name for f in getattr(self.scenario, "flows", [])]
                if not self.flows:
                    self.starting = False
                    self._queued.clear()
                    self.kapp.screen_failed(self, "Nothing to run",
                                            f"{self.source}: the scenario has no flows to show.")
                    return
            if not self.flow:
                self.flow = self.flows[0]
        self.starting = False
        self.run_flow(self.flow, seed=self.seed, endpoint=self.endpoint, start=self.start_step)
        queued, self._queued = self._queued, []
        for action, args in queued:  # the keys pressed while the engine worked, in order
            getattr(self, f"action_{action}")(*args)

    def wait_for_engine(self, action: str, *args: Any) -> bool:
        """True (and the action queued) while the engine has not run yet."""
        if not self.starting:
            return False
        if len(self._queued) < 50:
            self._queued.append((action, args))
        if not self._queued_notice:
            self._queued_notice = True
            self.notify("Still tracing the flow: your keys will apply in a moment.", timeout=2)
        return True

    def run_flow(self, flow: str, *, seed: int | None, endpoint: str | None, start: int = 0) -> bool:
        if self.starting:  # (the actions that run a flow wait for the engine: see wait_for_engine)
            return False
        try:
            trace = self.kapp.engine.run_flow(self.scenario, flow, seed=seed, endpoint=endpoint)
        except EngineError as exc:
            self.notify(str(exc), title=f"Cannot run flow {flow}", severity="error", timeout=10)
            if self.trace is None:
                self.redraw()
            return False
        self.flow, self.seed, self.endpoint = flow, seed, endpoint
        self.adhoc = ""
        self._state_token = self._token()
        self._set_trace(trace, start)
        return True

    def _set_trace(self, trace: Trace, start: int = 0) -> None:
        self.trace = trace
        self.index = max(0, min(start, len(trace.steps) - 1))
        self.predict_points = {}
        self.predict_asked = set()
        if self.predict:
            self._load_predict_points()
        self.stop_playing()
        self.redraw()

    def _token(self) -> Any:
        fn = getattr(self.kapp.engine, "state_token", None)
        return fn(self.scenario) if fn is not None else None

    def show_trace(self, trace: Trace, line: str) -> None:
        """Show a connection the shell ran (curl, nc) in the flow view."""
        self.adhoc = line
        self._set_trace(trace, 0)
        self.leave_shell(rerun=False)
        self.notify(f"Playing `{line}`: → steps, space plays; f goes back to the lesson's flows.", timeout=6)

    def title_text(self) -> str:
        name = getattr(self.scenario, "name", "") or (_stem(self.source) if self.scenario is None else self.source)
        if self.adhoc:
            return f"{name} › $ {self.adhoc}"
        extra = []
        if self.trace is not None:
            if self.trace.seed is not None:
                extra.append(f"seed {self.trace.seed}")
            if self.trace.endpoint:
                extra.append(f"→ {self.trace.endpoint}")
        if not self.flow:  # a scenario not loaded yet: its flows are not known
            return name
        return f"{name} › {self.flow}" + (f" ({', '.join(extra)})" if extra else "")

    def redraw(self) -> None:
        try:
            view = self.query_one(FlowView)
        except Exception:
            return
        view.show(self.trace, self.index, self.scenario, title=self.title_text(), playing=self.playing,
                  speed=SPEEDS[self.speed_i], pending=self.starting)
        if self.trace is not None and self.trace.steps and self.index == len(self.trace.steps) - 1 and not self.adhoc:
            self.on_flow_end()

    def on_flow_end(self) -> None:
        pass

    # ------------------------------------------------------------------ typing in the shell
    def _typing(self) -> bool:
        from kubeflow_tui.tui.widgets.shell_pane import ShellInput

        return isinstance(self.focused, ShellInput)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in TYPING_BLOCKS and self._typing():
            return False  # the key goes to the shell's input
        return True

    # ------------------------------------------------------------------ actions
    def _n(self) -> int:
        return len(self.trace.steps) if self.trace is not None else 0

    def action_step(self, delta: int) -> None:
        if self.wait_for_engine("step", delta):
            return
        if not self._n() or self._asking:
            return
        new = max(0, min(self.index + delta, self._n() - 1))
        if new == self.index:
            if delta > 0:
                self.stop_playing()
                self.notify("Last step. home/g goes back to the start; f picks another flow.", timeout=3)
            return
        self._go(new)

    def _go(self, new: int) -> None:
        """Move to step ``new``; in predict mode stop before a decisive step and ask first."""
        if self.predict and new > self.index:
            for i in sorted(self.predict_points):
                if self.index < i <= new and i not in self.predict_asked:
                    self.index = i - 1
                    self.redraw()
                    self._ask(i)
                    return
        self.index = new
        self.redraw()

    def action_jump(self, where: str) -> None:
        if self.wait_for_engine("jump", where):
            return
        if not self._n() or self._asking:
            return
        if where == "start":
            self.index = 0
            self.redraw()
        else:
            self._go(self._n() - 1)

    # ------------------------------------------------------------------ predict mode
    def _load_predict_points(self) -> None:
        if self.trace is None:
            return
        from kubeflow_tui.quiz import predict_points

        ctx_fn = getattr(self.kapp.engine, "quiz_context", None)
        try:
            ctx = ctx_fn(self.scenario) if ctx_fn is not None else None
        except Exception:
            ctx = None
        try:
            points = predict_points(self.trace, seed=self.trace.seed, context=ctx)
        except Exception as exc:  # a quiz bug must not stop the flow
            self.notify(f"No predictions for this flow ({exc.__class__.__name__}: {exc})", severity="warning")
            points = []
        self.predict_points = {p.step_index: p for p in points if p.step_index > 0}

    def action_predict(self) -> None:
        if self.wait_for_engine("predict"):
            return
        self.predict = not self.predict
        if self.predict:
            self._load_predict_points()
            self.predict_asked = {i for i in self.predict_points if i <= self.index}
            n = len([i for i in self.predict_points if i > self.index])
            self.notify(f"Predict mode on: the flow stops before {n} decisive step(s) and asks what happens "
                        "next. y turns it off.", title="Predict", timeout=6)
        else:
            self.notify(f"Predict mode off. You predicted {self.predict_right} of {self.predict_total} right.",
                        timeout=4)
        self.redraw()

    def _ask(self, step_index: int) -> None:
        from kubeflow_tui.tui.screens.quiz import PredictScreen

        point = self.predict_points[step_index]
        was_playing = self.playing
        self.stop_playing()
        self._asking = True
        assert self.trace is not None
        reveal = self.trace.steps[step_index].why
        order = sorted(self.predict_points)

        def done(result: Any) -> None:
            self._asking = False
            self.predict_asked.add(step_index)
            if result is not None:
                self.predict_total += 1
                self.predict_right += int(result.correct)
            self.index = step_index
            self.redraw()
            if was_playing:
                self.playing = True
                self._start_timer()
                self.redraw()

        self.app.push_screen(PredictScreen(point.question, reveal=reveal, number=order.index(step_index) + 1,
                                           total=len(order)), done)

    def action_play(self) -> None:
        if self.wait_for_engine("play") or self._asking:
            return
        if self.playing:
            self.stop_playing()
        else:
            if self._n() and self.index >= self._n() - 1:
                self.index = 0
            self.playing = True
            self._start_timer()
        self.redraw()

    def _start_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / SPEEDS[self.speed_i], self._tick)

    def _tick(self) -> None:
        if not self.playing or self._asking:
            return
        if self.index >= self._n() - 1:
            self.stop_playing()
            self.redraw()
            return
        self._go(self.index + 1)

    def stop_playing(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def action_speed(self, delta: int) -> None:
        self.speed_i = max(0, min(self.speed_i + delta, len(SPEEDS) - 1))
        if self.playing:
            self._start_timer()
        self.notify(f"Speed: {SPEEDS[self.speed_i]:g} steps per second", timeout=2)
        self.redraw()

    def action_reroll(self) -> None:
        if self.wait_for_engine("reroll"):
            return
        base = self.trace.seed if self.trace is not None and self.trace.seed is not None else self.seed
        if base is None:
            base = getattr(self.scenario, "seed", 0) or 0
        seed = base + 1
        if self.run_flow(self.flow, seed=seed, endpoint=None):
            ep = self.trace.endpoint if self.trace is not None else ""
            self.notify(f"Ran again with seed {seed}" + (f": the kernel picked {ep}." if ep else "."), timeout=4)

    def action_endpoint(self) -> None:
        if self.wait_for_engine("endpoint"):
            return
        pods = [p.name for p in getattr(self.scenario, "pods", [])]
        choices: list[tuple[Any, str]] = [("__random__", "let the kernel choose (new seed)")]
        choices += [(p, f"pin endpoint {p}") for p in pods]

        def done(choice: Any) -> None:
            if choice is None:
                return
            if choice == "__random__":
                self.action_reroll()
            elif self.run_flow(self.flow, seed=self.seed, endpoint=choice):
                self.notify(f"Endpoint pinned to {choice}.", timeout=3)

        self.app.push_screen(PickerScreen("Run again with which endpoint?", choices, current=self.endpoint), done)

    def flow_choices(self) -> list[tuple[str, str]]:
        desc = {f.name: f.description for f in getattr(self.scenario, "flows", [])}
        return [(f, f"{f}  {desc.get(f, '')}".rstrip()) for f in self.flows]

    def action_pick_flow(self) -> None:
        if self.wait_for_engine("pick_flow") or self._asking:
            return
        choices = self.flow_choices()
        if not choices:
            self.notify("This scenario has no flows.", severity="warning")
            return

        def done(choice: Any) -> None:
            if choice:
                self.run_flow(choice, seed=self.seed, endpoint=None)

        self.app.push_screen(PickerScreen("Pick a flow", choices, current=self.next_flow()), done)

    def next_flow(self) -> str:
        """The flow the picker highlights first: the current one."""
        return self.flow

    def current_node(self) -> str | None:
        nodes = [n.name for n in self.scenario.cluster.nodes] if self.scenario is not None else []
        if not nodes:
            return None
        if self.trace is None:
            return nodes[0]
        host = self.trace.steps[self.index].host
        if host in nodes:
            return host
        for p in getattr(self.scenario, "pods", []):
            if p.name == host:
                return p.node
        for c in getattr(self.scenario, "clients", []):
            if c.name == host and getattr(c, "node", None):
                return c.node
        # an outside host: the next node the packet reaches
        for s in self.trace.steps[self.index:]:
            if s.host in nodes:
                return s.host
        return nodes[0]

    def action_ruleset(self) -> None:
        if self.wait_for_engine("ruleset"):
            return
        from kubeflow_tui.tui.screens.ruleset import RulesetScreen

        node = self.current_node()
        if node is None:
            self.notify("This scenario has no nodes.", severity="warning")
            return
        try:
            text = self.kapp.engine.ruleset_text(self.scenario, node, seed=self.seed)
        except EngineError as exc:
            self.notify(str(exc), title=f"No ruleset for {node}", severity="error", timeout=8)
            return
        rule = ""
        if self.trace is not None and self.trace.steps[self.index].host == node:
            rule = self.trace.steps[self.index].rule
        self.app.push_screen(RulesetScreen(node, text, focus_rule=rule))

    def action_panel(self, i: int) -> None:
        try:
            view = self.query_one(FlowView)
        except NoMatches:
            return
        if i < len(view.panels):
            if view.panels[i] == "shell":
                self.action_shell()
                return
            was_shell = view.active_panel == "shell"
            view.select_panel(view.panels[i])
            if was_shell:
                self._after_shell()

    # ------------------------------------------------------------------ the shell pane
    def shell_pane(self) -> ShellPane | None:
        try:
            return self.query_one(ShellPane)
        except NoMatches:
            return None

    def action_shell(self) -> None:
        if self.wait_for_engine("shell"):
            return
        pane = self.shell_pane()
        if pane is None:
            return
        view = self.query_one(FlowView)
        if view.active_panel == "shell" and self.has_class("-wide") and not self._typing():
            pane.focus_input()
            return
        if view.active_panel != "shell":
            self._panel_before_shell = view.active_panel
        self.stop_playing()
        view.select_panel("shell")
        pane.start(self.current_node() if self.trace is not None else None)
        pane.focus_input()

    def leave_shell(self, *, rerun: bool = True) -> None:
        try:
            view = self.query_one(FlowView)
        except NoMatches:
            return
        if view.active_panel == "shell":
            back = self._panel_before_shell if self._panel_before_shell not in ("", "shell") else "chain"
            view.select_panel(back if back in view.panels else "chain")
        self.set_focus(None)
        if rerun:
            self._after_shell()

    def _after_shell(self) -> None:
        """The shell changed the cluster: run the current flow again on it."""
        token = self._token()
        if token is None or token == self._state_token or self.trace is None:
            return
        if self.adhoc:
            self._state_token = token
            self.notify("The cluster changed in the shell: run curl again there, or press f to run a flow "
                        "on the changed cluster.", timeout=6)
            return
        step = self.index
        if self.run_flow(self.flow, seed=self.seed, endpoint=self.endpoint, start=0):
            self.notify(f"The cluster changed in the shell, so {self.flow} ran again on it "
                        f"({self.trace.outcome if self.trace else ''}). Step through it to see what differs.",
                        title="Flow re-run", timeout=8)
        del step

    @on(ShellPane.Play)
    def _play_from_shell(self, event: ShellPane.Play) -> None:
        event.stop()
        self.show_trace(event.trace, event.line)

    @on(ShellPane.Leave)
    def _shell_exit(self, event: ShellPane.Leave) -> None:
        event.stop()
        self.leave_shell()

    # ------------------------------------------------------------------ quiz
    def action_quiz(self) -> None:
        if self.wait_for_engine("quiz"):
            return
        self.stop_playing()
        self.kapp.open_quiz(self.scenario, list(self.flows), title=f"Quiz: {getattr(self.scenario, 'name', '')}",
                            record_key=f"quiz:{getattr(self.scenario, 'name', '')}")

    def action_back(self) -> None:
        if self._typing() or (self.shell_pane() is not None and self.query_one(FlowView).active_panel == "shell"
                              and not self.has_class("-wide")):
            self.leave_shell()
            return
        if self.has_class("-wide") and self.query_one(FlowView).active_panel == "shell":
            self.leave_shell()
            return
        self.stop_playing()
        self.kapp.go_home()

    def on_unmount(self) -> None:
        self.stop_playing()

    # for tests and the command palette
    @property
    def step(self):
        return self.trace.steps[self.index] if self.trace is not None and self.trace.steps else None


class LessonScreen(FlowScreen):
    """A lesson: its Markdown beside (wide) or in a tab (narrow) of the live flow."""

    BINDINGS = [
        Binding("right_square_bracket", "lesson(1)", "Next lesson", show=False),
        Binding("left_square_bracket", "lesson(-1)", "Prev lesson", show=False),
    ]

    def __init__(self, lesson: "Lesson", scenario: Any = None, *, flow: str | None = None, start_step: int = 0,
                 seed: int | None = None) -> None:
        """``scenario`` ``None``: the lesson's scenario is loaded after the first frame."""
        flows = list(lesson.flows)
        super().__init__(scenario, flow if flow in flows else flows[0], source=str(lesson.scenario), flows=flows,
                         seed=seed, start_step=start_step)
        self.lesson = lesson
        self._shown_flow = False

    def action_quiz(self) -> None:
        if self.wait_for_engine("quiz"):
            return
        self.stop_playing()
        self.kapp.open_lesson_quiz(self.lesson, self.scenario)

    def _seen(self) -> set[str]:
        return set(self.kapp.progress.lesson(self.lesson.id).get("flows_done", []))

    def flow_choices(self) -> list[tuple[str, str]]:
        seen = self._seen()
        return [(f, ("✓ " if f in seen else "· ") + label) for f, label in super().flow_choices()]

    def next_flow(self) -> str:
        """The first flow not seen yet after the current one (else the current one)."""
        seen = self._seen()
        flows = list(self.flows)
        i = flows.index(self.flow) if self.flow in flows else -1
        for f in flows[i + 1:] + flows[: i + 1]:
            if f not in seen:
                return f
        return self.flow

    def lesson_markdown(self) -> str | None:
        return self.lesson.body

    def load_error(self, exc: BaseException) -> tuple[str, str]:
        return (f"Lesson {self.lesson.number} cannot start",
                f"{exc}\n\n(scenario: {self.lesson.scenario_ref})")

    def title_text(self) -> str:
        n = self.lesson.number
        head = f"Lesson {n}: " if n else ""
        base = super().title_text().split(" › ", 1)[-1]
        return f"{head}{self.lesson.title} › {base}"

    def on_flow_end(self) -> None:
        if self.flow in self.lesson.flows:
            self.kapp.lesson_flow_done(self.lesson, self.flow)

    def _show_flow_once(self) -> None:
        # On a small screen the lesson text hides the flow: the first step shows the
        # chain walk (once), and says how to get the text back.
        if not self._shown_flow and self.has_class("-narrow") and not self._typing():
            view = self.query_one(FlowView)
            if view.active_panel == "lesson":
                view.select_panel("chain")
                self.notify("Showing the chain walk. Press 1 to read the lesson again.", timeout=4)
        self._shown_flow = True

    def action_step(self, delta: int) -> None:
        if self.wait_for_engine("step", delta):
            return
        self._show_flow_once()
        super().action_step(delta)

    def action_jump(self, where: str) -> None:
        if self.wait_for_engine("jump", where):
            return
        self._show_flow_once()
        super().action_jump(where)

    def on_unmount(self) -> None:
        # (FlowScreen.on_unmount runs too: Textual calls each class's handler)
        self.kapp.save_position(self.lesson, self.flow, self.position)

    def action_lesson(self, delta: int) -> None:
        self.kapp.save_position(self.lesson, self.flow, self.position)
        self.kapp.open_lesson_relative(self.lesson, delta)


def _stem(source: str) -> str:
    """A scenario's name from its path, until the file is loaded."""
    from pathlib import PurePath

    return PurePath(source).stem if source else ""
