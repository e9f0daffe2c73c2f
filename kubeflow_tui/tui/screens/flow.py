"""The flow screen: a scenario + a flow (the lesson screen, ``lesson.LessonScreen``, adds
the lesson's Markdown).

The screens' body is ``flow_view.FlowView``; the less used tools (predict mode, running
again, the ruleset, the shell) are in ``flow_tools``, imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer

from kubeflow_tui.tui import keys
from kubeflow_tui.tui.screens.breakpoints import TooSmall, apply_breakpoints
from kubeflow_tui.tui.screens.flow_view import PANEL_TITLES, PANELS, FlowView

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace
    from kubeflow_tui.tui.app import KubeflowApp
    from kubeflow_tui.tui.widgets.shell_pane import ShellPane

__all__ = ["PANELS", "PANEL_TITLES", "SPEEDS", "FlowScreen", "FlowView"]  # (and LessonScreen, below)


def __getattr__(name: str) -> Any:
    # LessonScreen lives in ``lesson`` (a scenario's screen does not need it at start-up)
    if name == "LessonScreen":
        from kubeflow_tui.tui.screens.lesson import LessonScreen

        return LessonScreen
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # steps per second


class FlowScreen(Screen):
    """Step through one flow of a scenario."""

    HELP_TITLE = "Stepping through a flow"
    BINDINGS = [
        Binding("right,l", "step(1)", "Next", tooltip="Next step of the packet", id="flow.next", priority=True),
        Binding("left,h", "step(-1)", "Prev", tooltip="Previous step", id="flow.prev", show=False, priority=True),
        Binding("space", "play", "Play", tooltip="Play / pause the flow", id="flow.play", priority=True),
        Binding("plus,equals_sign", "speed(1)", "Faster", tooltip="Play faster", id="flow.faster", show=False),
        Binding("minus,underscore", "speed(-1)", "Slower", tooltip="Play slower", id="flow.slower", show=False),
        Binding("home,g", "jump('start')", "Start", tooltip="Jump to the first step", id="flow.start", show=False,
                priority=True),
        Binding("end,G", "jump('end')", "End", tooltip="Jump to the last step", id="flow.end", show=False,
                priority=True),
        Binding("s", "shell", "Shell", tooltip="Shell on this cluster: iptables, conntrack, kubectl, curl …",
                id="flow.shell"),
        Binding("y", "predict", "Predict", tooltip="Predict mode on/off: stop before each decisive step and guess",
                id="flow.predict", show=False),
        Binding("z", "quiz", "Quiz", tooltip="Quiz on these flows", id="flow.quiz", show=False),
        Binding("f", "pick_flow", "Flow", tooltip="Pick another flow of this scenario", id="flow.pick", show=False),
        Binding("n", "ruleset", "Rules", tooltip="This node's full ruleset (iptables-save), searchable",
                id="flow.ruleset", show=False),
        Binding("r", "reroll", "New seed", tooltip="Run the flow again with a new seed (another random endpoint)",
                id="flow.reroll", show=False),
        Binding("e", "endpoint", "Endpoint", tooltip="Run the flow again with an endpoint you choose",
                id="flow.endpoint", show=False),
        *[Binding(str(i + 1), f"panel({i})", f"Panel {i + 1}", tooltip=f"Show panel {i + 1} (the numbered tabs)",
                  id=f"flow.panel{i + 1}", show=False, group=keys.PANELS) for i in range(5)],
        Binding("escape,backspace", "back", "Back", tooltip="Back to the lesson list (from the shell: to the flow)",
                id="flow.back", show=False),
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
        yield FlowView(lesson_markdown=self.lesson_markdown(), id="flow-view", title=self.title_text(),
                       pending=self.starting, shell=self._shell_hooks)
        yield Footer(compact=True)

    def _shell_hooks(self) -> tuple[Any, Any]:
        """(get the live cluster, reset it) for the shell pane, if the engine keeps one."""
        engine = self.kapp.engine
        live = getattr(engine, "live_sim", None)
        reset = getattr(engine, "reset_live", None)
        return ((lambda: live(self.scenario)) if live is not None else None,
                (lambda: reset(self.scenario)) if reset is not None else None)

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
        try:  # the panels the first frame did not show: the keys queued below may need them
            self.query_one(FlowView).mount_hidden_panels()
        except NoMatches:
            pass
        from kubeflow_tui.tui.engine import EngineError  # (with the engine: after the first frame)

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
        try:
            self.query_one(FlowView).load_lesson_markdown()
        except NoMatches:
            pass

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
        from kubeflow_tui.tui.engine import EngineError

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
        if self._typing() and action != "back":
            return False  # while the learner types in the shell, the keys are the shell's (esc leaves)
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

    # ------------------------------------------------------------------ predict mode (code: flow_tools)
    def _load_predict_points(self) -> None:
        _tools().load_predict_points(self)

    def action_predict(self) -> None:
        if self.wait_for_engine("predict"):
            return
        _tools().toggle_predict(self)

    def _ask(self, step_index: int) -> None:
        _tools().ask(self, step_index)

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
        _tools().reroll(self)

    def action_endpoint(self) -> None:
        if self.wait_for_engine("endpoint"):
            return
        _tools().pick_endpoint(self)

    def flow_choices(self) -> list[tuple[str, str]]:
        desc = {f.name: f.description for f in getattr(self.scenario, "flows", [])}
        return [(f, f"{f}  {desc.get(f, '')}".rstrip()) for f in self.flows]

    def action_pick_flow(self) -> None:
        if self.wait_for_engine("pick_flow") or self._asking:
            return
        _tools().pick_flow(self)

    def next_flow(self) -> str:
        """The flow the picker highlights first: the current one."""
        return self.flow

    def current_node(self) -> str | None:
        return _tools().current_node(self)

    def action_ruleset(self) -> None:
        if self.wait_for_engine("ruleset"):
            return
        _tools().show_ruleset(self)

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
            return self.query_one("#shell")  # type: ignore[return-value]
        except NoMatches:
            return None

    def action_shell(self) -> None:
        if self.wait_for_engine("shell"):
            return
        _tools().open_shell(self)

    def leave_shell(self, *, rerun: bool = True) -> None:
        _tools().leave_shell(self, rerun=rerun)

    def _after_shell(self) -> None:
        _tools().after_shell(self)

    # (handlers of ShellPane.Play and ShellPane.Leave, named so that the shell pane's module
    # is not needed to define them: it is imported when the pane is made)
    def on_shell_pane_play(self, event: ShellPane.Play) -> None:
        event.stop()
        self.show_trace(event.trace, event.line)

    def on_shell_pane_leave(self, event: ShellPane.Leave) -> None:
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


def _tools():  # noqa: ANN202
    """``flow_tools``: imported when first used, not when the app starts."""
    from kubeflow_tui.tui.screens import flow_tools

    return flow_tools


def _stem(source: str) -> str:
    """A scenario's name from its path, until the file is loaded."""
    from pathlib import PurePath

    return PurePath(source).stem if source else ""
