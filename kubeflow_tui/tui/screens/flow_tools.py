"""The flow screen's less used tools: predict mode, running again (new seed, pinned
endpoint, another flow), the node's ruleset, and the shell pane.

``FlowScreen``'s actions call these; the module is imported on first use, so its code is
not part of the app's start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches

from kubeflow_tui.tui.screens.flow_view import FlowView

if TYPE_CHECKING:
    from kubeflow_tui.tui.screens.flow import FlowScreen


def load_predict_points(screen: FlowScreen) -> None:
    if screen.trace is None:
        return
    from kubeflow_tui.quiz import predict_points

    ctx_fn = getattr(screen.kapp.engine, "quiz_context", None)
    try:
        ctx = ctx_fn(screen.scenario) if ctx_fn is not None else None
    except Exception:
        ctx = None
    try:
        points = predict_points(screen.trace, seed=screen.trace.seed, context=ctx)
    except Exception as exc:  # a quiz bug must not stop the flow
        screen.notify(f"No predictions for this flow ({exc.__class__.__name__}: {exc})", severity="warning")
        points = []
    screen.predict_points = {p.step_index: p for p in points if p.step_index > 0}


def toggle_predict(screen: FlowScreen) -> None:
    screen.predict = not screen.predict
    if screen.predict:
        screen._load_predict_points()
        screen.predict_asked = {i for i in screen.predict_points if i <= screen.index}
        n = len([i for i in screen.predict_points if i > screen.index])
        screen.notify(f"Predict mode on: the flow stops before {n} decisive step(s) and asks what happens "
                      "next. y turns it off.", title="Predict", timeout=6)
    else:
        screen.notify(f"Predict mode off. You predicted {screen.predict_right} of {screen.predict_total} right.",
                      timeout=4)
    screen.redraw()


def ask(screen: FlowScreen, step_index: int) -> None:
    from kubeflow_tui.tui.screens.quiz import PredictScreen

    point = screen.predict_points[step_index]
    was_playing = screen.playing
    screen.stop_playing()
    screen._asking = True
    assert screen.trace is not None
    reveal = screen.trace.steps[step_index].why
    order = sorted(screen.predict_points)

    def done(result: Any) -> None:
        screen._asking = False
        screen.predict_asked.add(step_index)
        if result is not None:
            screen.predict_total += 1
            screen.predict_right += int(result.correct)
        screen.index = step_index
        screen.redraw()
        if was_playing:
            screen.playing = True
            screen._start_timer()
            screen.redraw()

    screen.app.push_screen(PredictScreen(point.question, reveal=reveal, number=order.index(step_index) + 1,
                                         total=len(order)), done)


def reroll(screen: FlowScreen) -> None:
    base = screen.trace.seed if screen.trace is not None and screen.trace.seed is not None else screen.seed
    if base is None:
        base = getattr(screen.scenario, "seed", 0) or 0
    seed = base + 1
    if screen.run_flow(screen.flow, seed=seed, endpoint=None):
        ep = screen.trace.endpoint if screen.trace is not None else ""
        screen.notify(f"Ran again with seed {seed}" + (f": the kernel picked {ep}." if ep else "."), timeout=4)


def pick_endpoint(screen: FlowScreen) -> None:
    pods = [p.name for p in getattr(screen.scenario, "pods", [])]
    choices: list[tuple[Any, str]] = [("__random__", "let the kernel choose (new seed)")]
    choices += [(p, f"pin endpoint {p}") for p in pods]

    def done(choice: Any) -> None:
        if choice is None:
            return
        if choice == "__random__":
            screen.action_reroll()
        elif screen.run_flow(screen.flow, seed=screen.seed, endpoint=choice):
            screen.notify(f"Endpoint pinned to {choice}.", timeout=3)

    from kubeflow_tui.tui.screens.common import PickerScreen

    screen.app.push_screen(PickerScreen("Run again with which endpoint?", choices, current=screen.endpoint), done)


def pick_flow(screen: FlowScreen) -> None:
    choices = screen.flow_choices()
    if not choices:
        screen.notify("This scenario has no flows.", severity="warning")
        return

    def done(choice: Any) -> None:
        if choice:
            screen.run_flow(choice, seed=screen.seed, endpoint=None)

    from kubeflow_tui.tui.screens.common import PickerScreen

    screen.app.push_screen(PickerScreen("Pick a flow", choices, current=screen.next_flow()), done)


def current_node(screen: FlowScreen) -> str | None:
    nodes = [n.name for n in screen.scenario.cluster.nodes] if screen.scenario is not None else []
    if not nodes:
        return None
    if screen.trace is None:
        return nodes[0]
    host = screen.trace.steps[screen.index].host
    if host in nodes:
        return host
    for p in getattr(screen.scenario, "pods", []):
        if p.name == host:
            return p.node
    for c in getattr(screen.scenario, "clients", []):
        if c.name == host and getattr(c, "node", None):
            return c.node
    # an outside host: the next node the packet reaches
    for s in screen.trace.steps[screen.index:]:
        if s.host in nodes:
            return s.host
    return nodes[0]


def show_ruleset(screen: FlowScreen) -> None:
    from kubeflow_tui.tui.screens.ruleset import RulesetScreen

    node = screen.current_node()
    if node is None:
        screen.notify("This scenario has no nodes.", severity="warning")
        return
    from kubeflow_tui.tui.engine import EngineError

    try:
        text = screen.kapp.engine.ruleset_text(screen.scenario, node, seed=screen.seed)
    except EngineError as exc:
        screen.notify(str(exc), title=f"No ruleset for {node}", severity="error", timeout=8)
        return
    rule = ""
    if screen.trace is not None and screen.trace.steps[screen.index].host == node:
        rule = screen.trace.steps[screen.index].rule
    screen.app.push_screen(RulesetScreen(node, text, focus_rule=rule))


def open_shell(screen: FlowScreen) -> None:
    pane = screen.shell_pane()
    if pane is None:
        return
    view = screen.query_one(FlowView)
    if view.active_panel == "shell" and screen.has_class("-wide") and not screen._typing():
        pane.focus_input()
        return
    if view.active_panel != "shell":
        screen._panel_before_shell = view.active_panel
    screen.stop_playing()
    view.select_panel("shell")
    pane.start(screen.current_node() if screen.trace is not None else None)
    pane.focus_input()


def leave_shell(screen: FlowScreen, *, rerun: bool = True) -> None:
    try:
        view = screen.query_one(FlowView)
    except NoMatches:
        return
    if view.active_panel == "shell":
        back = screen._panel_before_shell if screen._panel_before_shell not in ("", "shell") else "chain"
        view.select_panel(back if back in view.panels else "chain")
    screen.set_focus(None)
    if rerun:
        screen._after_shell()


def after_shell(screen: FlowScreen) -> None:
    """The shell changed the cluster: run the current flow again on it."""
    token = screen._token()
    if token is None or token == screen._state_token or screen.trace is None:
        return
    if screen.adhoc:
        screen._state_token = token
        screen.notify("The cluster changed in the shell: run curl again there, or press f to run a flow "
                      "on the changed cluster.", timeout=6)
        return
    if screen.run_flow(screen.flow, seed=screen.seed, endpoint=screen.endpoint, start=0):
        screen.notify(f"The cluster changed in the shell, so {screen.flow} ran again on it "
                      f"({screen.trace.outcome if screen.trace else ''}). Step through it to see what differs.",
                      title="Flow re-run", timeout=8)
