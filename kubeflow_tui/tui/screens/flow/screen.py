"""The flow screen: a scenario + a flow, stepped through (the lesson screen,
``screens.lesson.LessonScreen``, adds the lesson's text).

State is reactive (``trace``, ``index``, ``playing``, ``speed_i``, ``panel``, ``busy``) and
bound down to the ``FlowView`` (``data_bind``), which redraws its widgets from it.  The
engine (loading the scenario, tracing a flow, the node's rules) runs in thread workers
that come back as messages (``messages``); while one runs, ``busy`` is set and the keys
that need its result are disabled (``check_action``: greyed in the footer).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer

from kubeflow_tui.tui import keys
from kubeflow_tui.tui.messages import GoHome, OpenQuiz, ScreenFailed
from kubeflow_tui.tui.screens.breakpoints import TooSmall, apply_breakpoints
from kubeflow_tui.tui.screens.flow.messages import EngineFailed, RulesetReady, Traced
from kubeflow_tui.tui.screens.flow.predict import Predictions
from kubeflow_tui.tui.screens.flow.view import PANELS, SPEEDS, FlowView

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace
    from kubeflow_tui.tui.widgets.ladder_view import LadderView
    from kubeflow_tui.tui.widgets.pipeline import PipelineView
    from kubeflow_tui.tui.widgets.shell_pane import ShellPane

#: steps of the rule-by-rule walk: playback passes over them unless the chain panel shows
RULE_KINDS = frozenset({"rule-match", "no-match", "jump", "goto", "return", "policy", "mark", "log", "accept"})
#: NAT and conntrack events (``x`` goes from one to the next)
NAT_KINDS = frozenset({"dnat", "snat", "masquerade", "conntrack-new", "conntrack-hit", "conntrack-reverse",
                       "conntrack-confirm", "conntrack-invalid"})

def play_next(steps: Any, index: int, *, rules: bool) -> int:
    """The step playback shows after ``index``: the next one while the rule-by-rule walk
    shows (``rules``: the chain panel), else the next that is not a rule-by-rule step, so a
    whole flow plays in seconds (≤ 30 s at the default speed), not minutes."""
    if rules:
        return index + 1
    for i in range(index + 1, len(steps)):
        if steps[i].kind not in RULE_KINDS:
            return i
    return len(steps) - 1


def play_count(steps: Any, *, rules: bool) -> int:
    """How many steps playback shows from the first to the last."""
    n, i = 1, 0
    while i < len(steps) - 1:
        i, n = play_next(steps, i, rules=rules), n + 1
    return n


#: the default speed (index into SPEEDS): a whole flow plays in at most FLOW_SECONDS
DEFAULT_SPEED = 2
FLOW_SECONDS = 30.0


def play_rate(steps: Any, speed_i: int, *, rules: bool) -> float:
    """Steps per second at speed ``speed_i``: SPEEDS, scaled up for a long flow so that at
    the default speed the flow plays in at most FLOW_SECONDS (the other speeds in proportion)."""
    count = play_count(steps, rules=rules) if steps else 1
    scale = max(1.0, (count - 1) / (FLOW_SECONDS * SPEEDS[DEFAULT_SPEED]))
    return SPEEDS[speed_i] * scale


def needs_trace(action: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an action that needs the engine's result: disabled while the engine works."""
    action.needs_trace = True  # type: ignore[attr-defined]
    return action


class FlowScreen(Screen):
    """Step through one flow of a scenario."""

    HELP_TITLE = "Stepping through a flow"
    #: the panel shown first has the focus: ↑↓ pgup pgdn scroll the lesson text at once
    AUTO_FOCUS = "#panels > .panel.-active"
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
        Binding("n", "ruleset", "Rules", tooltip="This node's ruleset (iptables-save, or nft list ruleset), searchable",
                id="flow.ruleset", show=False),
        Binding("r", "reroll", "New seed", tooltip="Run the flow again with a new seed (another random endpoint)",
                id="flow.reroll", show=False),
        Binding("e", "endpoint", "Endpoint", tooltip="Run the flow again with an endpoint you choose",
                id="flow.endpoint", show=False),
        Binding("full_stop", "packet(1)", "Next packet", tooltip="Next packet of the connection (SYN, SYN-ACK …)",
                id="flow.next_packet", show=False),
        Binding("comma", "packet(-1)", "Prev packet", tooltip="Previous packet of the connection",
                id="flow.prev_packet", show=False),
        Binding("x", "event(1)", "Next NAT", tooltip="Next NAT or conntrack event (DNAT, MASQUERADE, entry …)",
                id="flow.next_event", show=False),
        Binding("X", "event(-1)", "Prev NAT", tooltip="Previous NAT or conntrack event", id="flow.prev_event",
                show=False),
        Binding("j", "host(1)", "Next host", tooltip="Next host the packet reaches", id="flow.next_host",
                show=False),
        Binding("k", "host(-1)", "Prev host", tooltip="Previous host of the packet", id="flow.prev_host",
                show=False),
        Binding("v", "events", "Events", tooltip="The event list: pick any step of the flow", id="flow.events"),
        Binding("m", "proxy_mode", "Mode", tooltip="Switch kube-proxy between iptables and nftables mode and run "
                "the flow again", id="flow.mode", show=False),
        Binding("b", "both_modes", "Both modes", tooltip="This flow in both modes side by side: iptables and "
                "nftables, rule by rule", id="flow.both", show=False),
        *[Binding(str(i + 1), f"panel({i})", f"Panel {i + 1}", tooltip=f"Show panel {i + 1} (the numbered tabs)",
                  id=f"flow.panel{i + 1}", show=False, group=keys.PANELS) for i in range(len(PANELS))],
        Binding("escape,backspace", "back", "Back", tooltip="Back to the lesson list (from the shell: to the flow)",
                id="flow.back"),
    ]

    #: the Trace shown (None until the engine has run)
    trace: reactive[Trace | None] = reactive(None, always_update=True, init=False)
    #: the step shown
    index: reactive[int] = reactive(0, init=False)
    playing: reactive[bool] = reactive(False, init=False)
    #: index into SPEEDS
    speed_i: reactive[int] = reactive(DEFAULT_SPEED, init=False)
    #: steps per second of playback now (the speed, scaled for a long flow; see play_rate)
    rate: reactive[float] = reactive(SPEEDS[DEFAULT_SPEED], init=False)
    #: the panel shown (below 120 columns; the shell's place when wide)
    panel: reactive[str] = reactive("", init=False)
    #: the engine is working (loading, tracing): the keys that need its result wait
    busy: reactive[bool] = reactive(True, init=False)
    #: the title line (scenario › flow (seed, endpoint))
    heading: reactive[str] = reactive("", init=False)
    scenario: reactive[Any] = reactive(None, always_update=True, init=False)

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
        self.set_reactive(FlowScreen.scenario, scenario)
        self.source = source
        self.flows = flows if flows is not None else [f.name for f in getattr(scenario, "flows", [])]
        self.flow = flow if flow is not None else (self.flows[0] if self.flows else "")
        self.seed = seed
        self.endpoint = endpoint
        self.start_step = start_step
        self.adhoc = ""  # the shell line whose connection is shown ("" for a flow)
        self.predictions = Predictions()
        self.asking = False  # a prediction question is open
        self.state_token: Any = None  # the live cluster's state when the flow last ran
        self.panel_before_shell = ""
        self.loaded_once = False
        self._timer: Any = None

    @property
    def kapp(self) -> Any:
        return self.app

    @property
    def position(self) -> int:
        """The step to save as the learner's place (the saved one until a trace shows)."""
        return self.index if self.trace is not None else self.start_step

    @property
    def step(self) -> Any:
        return self.trace.steps[self.index] if self.trace is not None and self.trace.steps else None

    # ------------------------------------------------------------------ layout
    def lesson_markdown(self) -> str | None:
        return None

    def compose(self) -> ComposeResult:
        apply_breakpoints(self)
        yield TooSmall()
        view = FlowView(lesson_markdown=self.lesson_markdown(), id="flow-view", shell=self._shell_hooks)
        self.set_reactive(FlowScreen.panel, view.first_panel)
        self.set_reactive(FlowScreen.heading, self.title_text())
        yield view.data_bind(trace=FlowScreen.trace, index=FlowScreen.index, playing=FlowScreen.playing,
                             speed_i=FlowScreen.speed_i, rate=FlowScreen.rate, pending=FlowScreen.busy, heading=FlowScreen.heading,
                             scenario=FlowScreen.scenario, panel=FlowScreen.panel)
        yield Footer(compact=True)

    def _shell_hooks(self) -> tuple[Any, Any]:
        """(get the live cluster, reset it) for the shell pane, if the engine keeps one."""
        engine = self.kapp.engine
        live = getattr(engine, "live_sim", None)
        reset = getattr(engine, "reset_live", None)
        return ((lambda: live(self.scenario)) if live is not None else None,
                (lambda: reset(self.scenario)) if reset is not None else None)

    def on_mount(self) -> None:
        self.call_after_refresh(self._start)  # the engine works after the first frame

    def _start(self) -> None:
        if self.is_attached and not self.loaded_once:
            self.trace_flow(self.flow, seed=self.seed, endpoint=self.endpoint, start=self.start_step)

    # ------------------------------------------------------------------ the engine, in workers
    def load_error(self, exc: BaseException) -> tuple[str, str]:
        """(title, message) of the error shown when the scenario cannot be loaded."""
        return "Cannot open this scenario", str(exc)

    def trace_flow(self, flow: str, *, seed: int | None, endpoint: str | None, start: int = 0,
                   then: Callable[[Trace], None] | None = None, scenario: Any = None) -> None:
        """Run ``flow`` (loading the scenario first if needed) in a worker; ``Traced`` or
        ``EngineFailed`` comes back.  ``scenario``: run it on this one instead (the mode switch)."""
        self.busy = True
        self._trace_worker(flow, seed, endpoint, start, then, scenario)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _trace_worker(self, flow: str, seed: int | None, endpoint: str | None, start: int,
                      then: Callable[[Trace], None] | None, instead: Any = None) -> None:
        from kubeflow_tui.tui.engine import EngineError

        engine = self.kapp.engine
        scenario, flows = instead if instead is not None else self.scenario, list(self.flows)
        if scenario is None:
            try:
                scenario = engine.load(self.source)
            except EngineError as exc:
                self.post_message(EngineFailed(*self.load_error(exc), loaded=False))
                return
            flows = flows or [f.name for f in getattr(scenario, "flows", [])]
            if not flows:
                self.post_message(EngineFailed("Nothing to run", f"{self.source}: the scenario has no flows to show.",
                                               loaded=False))
                return
        flow = flow or flows[0]
        try:
            trace = engine.run_flow(scenario, flow, seed=seed, endpoint=endpoint)
        except EngineError as exc:
            self.post_message(EngineFailed(f"Cannot run flow {flow}", str(exc), loaded=True))
            if self.scenario is None:  # the scenario loaded: keep it (the ruleset, the shell work)
                self.post_message(Traced(scenario, flows, flow, None, seed=seed, endpoint=endpoint,  # type: ignore[arg-type]
                                         start=0, token=None, then=None))
            return
        token_fn = getattr(engine, "state_token", None)
        token = token_fn(scenario) if token_fn is not None else None
        self.post_message(Traced(scenario, flows, flow, trace, seed=seed, endpoint=endpoint, start=start,
                                 token=token, then=then))

    @on(Traced)
    def _traced(self, message: Traced) -> None:
        message.stop()
        self.loaded_once = True
        self.scenario, self.flows = message.scenario, message.flows
        if message.trace is None:  # the scenario only (the flow failed)
            self.flow = message.flow
            self.busy = False
            self.heading = self.title_text()
            return
        self.flow, self.seed, self.endpoint = message.flow, message.seed, message.endpoint
        self.adhoc = ""
        self.state_token = message.token
        self.show_trace(message.trace, message.start)
        self.busy = False
        if message.then is not None:
            message.then(message.trace)

    @on(EngineFailed)
    def _engine_failed(self, message: EngineFailed) -> None:
        message.stop()
        self.busy = False
        if not message.loaded:
            self.post_message(ScreenFailed(message.title, message.message))
            return
        self.notify(message.message, title=message.title, severity="error", timeout=10)

    def show_trace(self, trace: Trace, start: int = 0, *, adhoc: str = "") -> None:
        """Show ``trace`` from step ``start`` (``adhoc``: the shell line that made it)."""
        self.stop_playing()
        self.adhoc = adhoc
        if self.predictions.on:
            self._load_predictions(trace)
        else:
            self.predictions.points, self.predictions.asked = {}, set()
        self.index = 0
        self.trace = trace
        self.heading = self.title_text()
        self.index = max(0, min(start, len(trace.steps) - 1))

    def title_text(self) -> str:
        name = getattr(self.scenario, "name", "") or (PurePath(self.source).stem if self.source else "")
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
        return f"{name} › {self.flow}" + (f" ({', '.join(extra)})" if extra else "") + self.mode_text()

    @property
    def proxy_mode(self) -> str:
        """kube-proxy's mode on the scenario shown ("" before it is loaded)."""
        cluster = getattr(self.scenario, "cluster", None)
        return getattr(cluster, "proxyMode", "") or ""

    def mode_text(self) -> str:
        return f" · {self.proxy_mode}" if self.proxy_mode else ""

    # ------------------------------------------------------------------ watchers
    def watch_busy(self) -> None:
        self.refresh_bindings()

    def watch_index(self, index: int) -> None:
        if self.trace is not None and self.trace.steps and index == len(self.trace.steps) - 1 and not self.adhoc:
            self.on_flow_end()

    def watch_playing(self, playing: bool) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if playing:
            self._timer = self.set_interval(1 / self.rate, self._tick)

    def _update_rate(self) -> None:
        steps = self.trace.steps if self.trace is not None else ()
        rate = play_rate(steps, self.speed_i, rules=self.panel == "chain")
        if rate != self.rate:
            self.rate = rate
            if self.playing:
                self.watch_playing(True)

    def watch_speed_i(self) -> None:
        self._update_rate()

    def watch_trace(self) -> None:
        self._update_rate()

    def watch_panel(self) -> None:
        self._update_rate()

    def on_flow_end(self) -> None:
        """The learner reached the last step of a flow (the lesson screen records it)."""

    # ------------------------------------------------------------------ keys
    def _typing(self) -> bool:
        from textual.widgets import Input

        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._typing() and action != "back":
            return False  # while the learner types in the shell, the keys are the shell's (esc leaves)
        method = getattr(self, f"action_{action}", None)
        if getattr(method, "needs_trace", False) and (self.busy or self.asking):
            return None  # shown greyed until the engine's result is in
        if action == "panel" and not self.query(FlowView):
            return None  # the panels arrive with the flow view (a lesson shows its text first)
        return True

    def _n(self) -> int:
        return len(self.trace.steps) if self.trace is not None else 0

    @needs_trace
    def action_step(self, delta: int) -> None:
        if not self._n():
            return
        new = max(0, min(self.index + delta, self._n() - 1))
        if new == self.index:
            if delta > 0:
                self.stop_playing()
                self.notify("Last step. home/g goes back to the start; f picks another flow.", timeout=3)
            return
        self.go(new)

    def go(self, new: int) -> None:
        """Move to step ``new``; in predict mode stop before a decisive step and ask first."""
        stop = self.predictions.next_stop(self.index, new)
        if stop is not None:
            self.index = stop - 1
            self._ask(stop)
            return
        self.index = new

    @needs_trace
    def action_jump(self, where: str) -> None:
        if not self._n():
            return
        if where == "start":
            self.index = 0
        else:
            self.go(self._n() - 1)

    @needs_trace
    def action_play(self) -> None:
        if self.playing:
            self.stop_playing()
            return
        if self._n() and self.index >= self._n() - 1:
            self.index = 0
        self.playing = bool(self._n())

    def _tick(self) -> None:
        if not self.playing or self.asking:
            return
        if self.index >= self._n() - 1:
            self.stop_playing()
            return
        self.go(self.play_next(self.index))

    def play_next(self, index: int) -> int:
        """The step playback shows after ``index`` (see ``play_next``)."""
        if self.trace is None:
            return index + 1
        return play_next(self.trace.steps, index, rules=self.panel == "chain")

    # ------------------------------------------------------------------ moving at a learner's scale
    def _find(self, start: int, delta: int, test: Callable[[int], bool]) -> int | None:
        i = start + delta
        while 0 <= i < self._n():
            if test(i):
                return i
            i += delta
        return None

    def _move(self, found: int | None, nothing: str) -> None:
        if found is None:
            self.notify(nothing, timeout=3)
            return
        self.stop_playing()
        if found > self.index:
            self.go(found)  # (predict mode asks before a decisive step)
        else:
            self.index = found

    @needs_trace
    def action_packet(self, delta: int) -> None:
        """The first step of the next (previous) packet of the connection."""
        if not self._n():
            return
        steps = self.trace.steps  # type: ignore[union-attr]
        here = steps[self.index].packet_no
        if delta > 0:
            found = self._find(self.index, 1, lambda i: steps[i].packet_no != here)
        else:
            start = self._find(self.index, -1, lambda i: steps[i].packet_no != here)  # the packet before
            if start is None:
                found = 0 if self.index else None
            else:
                prev = steps[start].packet_no
                found = self._find(start, -1, lambda i: steps[i].packet_no != prev)
                found = 0 if found is None else found + 1
        self._move(found, "No more packets that way.")

    @needs_trace
    def action_event(self, delta: int) -> None:
        steps = self.trace.steps if self.trace is not None else ()
        self._move(self._find(self.index, delta, lambda i: steps[i].kind in NAT_KINDS),
                   "No more NAT or conntrack events that way.")

    @needs_trace
    def action_host(self, delta: int) -> None:
        """The first step of the next (previous) host the packet is on."""
        if not self._n():
            return
        steps = self.trace.steps  # type: ignore[union-attr]
        here = steps[self.index].host
        found = self._find(self.index, delta, lambda i: steps[i].host != here and steps[i].kind != "link")
        if found is not None and delta < 0:  # to that host's first step
            there = steps[found].host
            while found > 0 and steps[found - 1].host == there and steps[found - 1].kind != "link":
                found -= 1
        self._move(found, "No more hosts that way.")

    def event_label(self, i: int) -> str:
        from kubeflow_tui.tui.screens.flow.events import event_label

        return event_label(self.trace, i)  # type: ignore[arg-type]

    @needs_trace
    def action_events(self) -> None:
        """Packet Tracer's event list: every step, pick one."""
        from kubeflow_tui.tui.screens.common import PickerScreen

        if not self._n():
            return
        self.stop_playing()

        def done(choice: Any) -> None:
            if choice is not None:
                self.index = int(choice)

        choices = [(i, self.event_label(i)) for i in range(self._n())]
        self.app.push_screen(PickerScreen("Events: pick a step", choices, current=self.index, classes="tall"), done)

    def on_ladder_view_arrow_selected(self, event: LadderView.ArrowSelected) -> None:
        event.stop()
        self.stop_playing()
        if self._n():
            self.index = max(0, min(event.step, self._n() - 1))

    def on_pipeline_view_hook_selected(self, event: PipelineView.HookSelected) -> None:
        """A hook picked in the pipeline: go to its first step on that host for this packet
        (the pipeline shows its chain walk; the chain panel is there too)."""
        event.stop()
        if not self._n():
            return
        steps = self.trace.steps  # type: ignore[union-attr]
        packet = steps[self.index].packet_no
        for i, s in enumerate(steps):
            if s.packet_no == packet and s.host == event.host and s.hook == event.hook:
                self.stop_playing()
                self.index = i
                return
        # (not passed: the pipeline itself says so under the picture, where the learner looks)

    def stop_playing(self) -> None:
        self.playing = False

    def action_speed(self, delta: int) -> None:
        self.speed_i = max(0, min(self.speed_i + delta, len(SPEEDS) - 1))
        self._update_rate()
        self.notify(f"Speed: {self.rate:.3g} steps per second", timeout=2)

    # ------------------------------------------------------------------ predict mode
    def _load_predictions(self, trace: Trace) -> None:
        ctx_fn = getattr(self.kapp.engine, "quiz_context", None)
        try:
            ctx = ctx_fn(self.scenario) if ctx_fn is not None else None
        except Exception:
            ctx = None
        problem = self.predictions.load(trace, ctx)
        if problem:
            self.notify(problem, severity="warning")

    @needs_trace
    def action_predict(self) -> None:
        p = self.predictions
        p.on = not p.on
        if p.on:
            self._load_predictions(self.trace)  # type: ignore[arg-type]
            p.asked = {i for i in p.points if i <= self.index}
            self.notify(f"Predict mode on: the flow stops before {p.ahead(self.index)} decisive step(s) and asks "
                        "what happens next. y turns it off.", title="Predict", timeout=6)
        else:
            self.notify(f"Predict mode off. You predicted {p.right} of {p.total} right.", timeout=4)

    def _ask(self, step_index: int) -> None:
        from kubeflow_tui.tui.screens.quiz import PredictScreen

        point = self.predictions.points[step_index]
        was_playing = self.playing
        self.stop_playing()
        self.asking = True
        self.refresh_bindings()
        assert self.trace is not None
        reveal = self.trace.steps[step_index].why
        number, total = self.predictions.number(step_index)

        def done(result: Any) -> None:
            self.asking = False
            self.refresh_bindings()
            self.predictions.record(step_index, result)
            self.index = step_index
            self.playing = was_playing

        self.app.push_screen(PredictScreen(point.question, reveal=reveal, number=number, total=total), done)

    # ------------------------------------------------------------------ running again
    @needs_trace
    def action_reroll(self) -> None:
        base = self.trace.seed if self.trace is not None and self.trace.seed is not None else self.seed
        if base is None:
            base = getattr(self.scenario, "seed", 0) or 0
        seed = base + 1

        def said(trace: Trace) -> None:
            ep = trace.endpoint
            self.notify(f"Ran again with seed {seed}" + (f": the kernel picked {ep}." if ep else "."), timeout=4)

        self.trace_flow(self.flow, seed=seed, endpoint=None, then=said)

    @needs_trace
    def action_endpoint(self) -> None:
        from kubeflow_tui.tui.screens.common import PickerScreen

        pods = [p.name for p in getattr(self.scenario, "pods", [])]
        choices: list[tuple[Any, str]] = [("__random__", "let the kernel choose (new seed)")]
        choices += [(p, f"pin endpoint {p}") for p in pods]

        def done(choice: Any) -> None:
            if choice == "__random__":
                self.action_reroll()
            elif choice is not None:
                self.trace_flow(self.flow, seed=self.seed, endpoint=choice,
                                then=lambda _t: self.notify(f"Endpoint pinned to {choice}.", timeout=3))

        self.app.push_screen(PickerScreen("Run again with which endpoint?", choices, current=self.endpoint), done)

    def flow_choices(self) -> list[tuple[str, str]]:
        desc = {f.name: f.description for f in getattr(self.scenario, "flows", [])}
        return [(f, f"{f}  {desc.get(f, '')}".rstrip()) for f in self.flows]

    def next_flow(self) -> str:
        """The flow the picker highlights first: the current one."""
        return self.flow

    @needs_trace
    def action_pick_flow(self) -> None:
        from kubeflow_tui.tui.screens.common import PickerScreen

        choices = self.flow_choices()
        if not choices:
            self.notify("This scenario has no flows.", severity="warning")
            return

        def done(choice: Any) -> None:
            if choice:
                self.trace_flow(choice, seed=self.seed, endpoint=None)

        self.app.push_screen(PickerScreen("Pick a flow", choices, current=self.next_flow()), done)

    # ------------------------------------------------------------------ kube-proxy's mode
    @needs_trace
    def action_proxy_mode(self) -> None:
        """The same flow with kube-proxy in the other mode (iptables ⇄ nftables), in a worker."""
        from kubeflow_tui.tui.engine import EngineError

        in_mode = getattr(self.kapp.engine, "in_mode", None)
        if in_mode is None or not self.proxy_mode:
            self.notify("This engine has one mode only.", severity="warning")
            return
        mode = "iptables" if self.proxy_mode == "nftables" else "nftables"
        try:
            scenario = in_mode(self.scenario, mode)
        except EngineError as exc:
            self.notify(str(exc), title="Cannot switch the mode", severity="error")
            return
        where = "the ip kube-proxy table's base chains and maps" if mode == "nftables" else "the iptables chains"
        self.stop_playing()

        def said(_trace: Trace) -> None:
            self.notify(f"kube-proxy now runs in {mode} mode: {self.flow} ran again through {where}. "
                        "m switches back; b shows both side by side.", title=f"{mode} mode", timeout=6)

        self.trace_flow(self.flow, seed=self.seed, endpoint=self.endpoint, then=said, scenario=scenario)

    @needs_trace
    def action_both_modes(self) -> None:
        """This flow in both modes side by side (its own screen, engine work in a worker)."""
        from kubeflow_tui.tui.screens.both_modes import BothModesScreen

        if getattr(self.kapp.engine, "in_mode", None) is None or not self.proxy_mode:
            self.notify("This engine has one mode only.", severity="warning")
            return
        self.stop_playing()
        self.app.push_screen(BothModesScreen(self.scenario, self.flow, seed=self.seed, endpoint=self.endpoint))

    # ------------------------------------------------------------------ the node's rules
    def current_node(self) -> str | None:
        """The node of the step shown (for a pod or client: its node; outside: the next node)."""
        nodes = [n.name for n in self.scenario.cluster.nodes] if self.scenario is not None else []
        if not nodes:
            return None
        step = self.step
        if step is None:
            return nodes[0]
        if step.host in nodes:
            return step.host
        for p in getattr(self.scenario, "pods", []):
            if p.name == step.host:
                return p.node
        for c in getattr(self.scenario, "clients", []):
            if c.name == step.host and getattr(c, "node", None):
                return c.node
        for s in self.trace.steps[self.index:]:  # type: ignore[union-attr]
            if s.host in nodes:
                return s.host
        return nodes[0]

    @needs_trace
    def action_ruleset(self) -> None:
        node = self.current_node()
        if node is None:
            self.notify("This scenario has no nodes.", severity="warning")
            return
        step = self.step
        rule = step.rule if step is not None and step.host == node else ""
        self.busy = True
        self._ruleset_worker(node, rule)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _ruleset_worker(self, node: str, rule: str) -> None:
        from kubeflow_tui.tui.engine import EngineError

        try:
            text = self.kapp.engine.ruleset_text(self.scenario, node, seed=self.seed)
        except EngineError as exc:
            self.post_message(EngineFailed(f"No ruleset for {node}", str(exc), loaded=True))
            return
        self.post_message(RulesetReady(node, text, rule))

    @on(RulesetReady)
    def _ruleset_ready(self, message: RulesetReady) -> None:
        from kubeflow_tui.tui.screens.ruleset import RulesetScreen

        message.stop()
        self.busy = False
        command = "nft list ruleset" if self.proxy_mode == "nftables" else "iptables-save"
        self.app.push_screen(RulesetScreen(message.node, message.text, focus_rule=message.focus_rule, command=command))

    # ------------------------------------------------------------------ panels and the shell pane
    def action_panel(self, i: int) -> None:
        view = self.query_one(FlowView)
        if i >= len(view.panels):
            return
        if view.panels[i] == "shell":
            self.action_shell()
            return
        was_shell = self.panel == "shell"
        self.panel = view.panels[i]
        if was_shell:
            self.after_shell()

    @on(FlowView.PanelChosen)
    def _panel_chosen(self, message: FlowView.PanelChosen) -> None:
        message.stop()
        if message.panel != self.panel:
            self.action_panel(self.query_one(FlowView).panels.index(message.panel))

    def shell_pane(self) -> ShellPane | None:
        from kubeflow_tui.tui.widgets.shell_pane import ShellPane

        found = self.query(ShellPane)
        return found.first() if found else None

    @needs_trace
    def action_shell(self) -> None:
        pane = self.shell_pane()
        if pane is None:
            return
        if self.panel == "shell" and self.has_class("-wide") and not self._typing():
            pane.focus_input()
            return
        if self.panel != "shell":
            self.panel_before_shell = self.panel
        self.stop_playing()
        self.panel = "shell"
        pane.start(self.current_node() if self.trace is not None else None)
        pane.focus_input()

    def leave_shell(self, *, rerun: bool = True) -> None:
        """Back from the shell to the panel shown before; the step shown stays.  With
        ``rerun``, a cluster the shell changed runs the flow again (and says so)."""
        if self.panel == "shell":
            back = self.panel_before_shell if self.panel_before_shell not in ("", "shell") else "chain"
            self.panel = back if back in self.query_one(FlowView).panels else "chain"
        self.set_focus(None)
        if rerun:
            self.after_shell()

    def after_shell(self) -> None:
        """If the shell changed the cluster, say so; the learner runs the flow again with r or f
        (the step shown stays where it was)."""
        fn = getattr(self.kapp.engine, "state_token", None)
        token = fn(self.scenario) if fn is not None else None
        if token is None or token == self.state_token or self.trace is None:
            return
        self.state_token = token
        if self.adhoc:
            self.notify("The cluster changed in the shell: run curl again there, or press f to run a flow "
                        "on the changed cluster.", timeout=6)
            return
        step = self.index

        def said(trace: Trace) -> None:
            self.notify(f"The cluster changed in the shell, so {self.flow} ran again on it ({trace.outcome}). "
                        "Step through it to see what differs.", title="Flow re-run", timeout=8)

        self.trace_flow(self.flow, seed=self.seed, endpoint=self.endpoint, start=step, then=said)

    def on_shell_pane_play(self, event: ShellPane.Play) -> None:
        event.stop()
        self.show_trace(event.trace, 0, adhoc=event.line)
        self.leave_shell(rerun=False)
        self.notify(f"Playing `{event.line}`: → steps, space plays; f goes back to the lesson's flows.", timeout=6)

    def on_shell_pane_leave(self, event: ShellPane.Leave) -> None:
        event.stop()
        self.leave_shell()

    # ------------------------------------------------------------------ leaving
    @needs_trace
    def action_quiz(self) -> None:
        self.stop_playing()
        name = getattr(self.scenario, "name", "")
        self.post_message(OpenQuiz(self.scenario, list(self.flows), title=f"Quiz: {name}", record_key=f"quiz:{name}"))

    def action_back(self) -> None:
        if self.panel == "shell" or self._typing():
            self.leave_shell()
            return
        self.stop_playing()
        self.post_message(GoHome())

    def on_unmount(self) -> None:
        self.stop_playing()

