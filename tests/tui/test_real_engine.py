"""Key tests on the real engine (scenarios/clusterip.yaml): flow, shell pane, predict mode, quiz."""

from __future__ import annotations

from helpers import press, screen_text, settle, step_until

from kubeflow_tui.progress import Progress
from kubeflow_tui.tui.screens.flow import FlowScreen
from kubeflow_tui.tui.screens.quiz import PredictScreen, QuizScreen
from kubeflow_tui.tui.widgets import PacketHeader
from kubeflow_tui.tui.widgets.shell_pane import ShellPane

from conftest import REPO

CLUSTERIP = str(REPO / "scenarios" / "clusterip.yaml")


async def _open_flow(pilot, flow: str) -> FlowScreen:
    screen = pilot.app.screen
    assert isinstance(screen, FlowScreen)
    if screen.flow != flow:
        await press(pilot, "f")
        await settle(pilot)
        picker = pilot.app.screen
        values = [v for v, _ in picker.choices]
        for _ in range(values.index(flow)):
            await press(pilot, "down")
        await press(pilot, "enter")
        await settle(pilot)
    assert screen.flow == flow
    return screen


async def _type(pilot, line: str) -> None:
    """Put a line in the focused shell input and press enter (typing every key is slow)."""
    pilot.app.focused.value = line
    await press(pilot, "enter")
    await settle(pilot)


async def test_keys_to_the_dnat_of_pod_other_node(make_real_app):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open_flow(pilot, "pod-other-node")
        screen = await step_until(pilot, lambda s: s.kind == "dnat")
        assert screen.step.host == "node-b"
        header = screen.query_one(PacketHeader)
        assert "dst 10.244.1.5*:8080" in header.text.plain
        assert "10.244.1.5" in header.changed_values()
        assert "dst 10.244.1.5*" in screen_text(app)


async def test_shell_pane_lists_rules_and_curl_plays(make_real_app):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open_flow(pilot, "pod-other-node")
        await press(pilot, "s")
        await settle(pilot)
        pane = screen.query_one(ShellPane)
        assert pane.host == "node-b"  # the node of the current step (client-b's node)
        # typed key by key once: the flow keys (l, h, g, space ...) go to the input
        await press(pilot, *["space" if c == " " else c for c in "iptables -t nat -L KUBE-SERVICES -n"], "enter")
        await settle(pilot)
        out = pane.output_text()
        assert "Chain KUBE-SERVICES (2 references)" in out
        assert "target     prot opt source               destination" in out
        assert "KUBE-SVC-CDGGSHYLG3RE2FKL  6    --  0.0.0.0/0            10.96.0.1" in out
        assert "/* default/web:http cluster IP */ tcp dpt:8080" in out
        assert "KUBE-SERVICES" in screen_text(app)
        # the flow keys type into the shell while it has the focus
        assert screen.index == 0
        # history and completion
        await press(pilot, "up")
        assert pane.query_one("#shell-input").value == "iptables -t nat -L KUBE-SERVICES -n"
        pane.query_one("#shell-input").value = ""
        await press(pilot, *"iptables-sa", "tab")
        assert pane.query_one("#shell-input").value == "iptables-save "
        pane.query_one("#shell-input").value = ""
        # stderr is kept apart
        await _type(pilot, "iptables -t nat -L NOPE")
        assert pane.lines[-1][0] == "err"
        # curl from a pod: the server's answer, then p plays the connection
        await _type(pilot, "host client-b")
        await _type(pilot, "curl 10.96.0.1:8080")
        assert any(k == "out" and "from web-1" in t for k, t in pane.lines), pane.lines[-4:]
        assert pane.pending is not None
        await press(pilot, "p")
        await settle(pilot)
        assert screen.trace is pane.pending and screen.adhoc == "curl 10.96.0.1:8080"
        assert "$ curl 10.96.0.1:8080" in screen_text(app)
        await step_until(pilot, lambda s: s.kind == "dnat")
        # clear works
        await press(pilot, "s")
        await _type(pilot, "clear")
        assert pane.lines == []


async def test_shell_changes_the_cluster_the_flow_runs_on(make_real_app):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open_flow(pilot, "pod-other-node")
        assert screen.trace.outcome == "delivered"
        await press(pilot, "s")
        await _type(pilot, "iptables -t nat -D KUBE-SERVICES 1")
        await press(pilot, "escape")  # leave the shell: the flow runs again on the changed cluster
        await settle(pilot)
        assert screen.trace.outcome != "delivered"
        assert not any(s.kind == "dnat" for s in screen.trace.steps)
        await press(pilot, "s")
        await _type(pilot, "reset")
        await press(pilot, "escape")
        await settle(pilot)
        assert screen.trace.outcome == "delivered"


async def test_predict_mode_wrong_answer_explains(make_real_app):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open_flow(pilot, "pod-other-node")
        await press(pilot, "y")
        assert screen.predictions.on and screen.predictions.points
        first = min(screen.predictions.points)
        await press(pilot, "end")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PredictScreen)
        assert screen.index == first - 1  # stopped before the decisive step
        q = modal.question
        wrong = (q.answer_index + 1) % len(q.options)
        for _ in range(wrong):
            await press(pilot, "down")
        await press(pilot, "enter")
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert "Not quite. The answer is:" in text
        panel_text = " ".join(str(modal.query_one(".q-feedback").render()).split())
        assert " ".join(screen.trace.steps[first].why.split()) in panel_text  # the step's why
        assert "The flow continues" in str(modal.query_one("#predict-reveal").render())
        await press(pilot, "enter")  # continue
        await settle(pilot)
        assert app.screen is screen and screen.index == first
        assert screen.predictions.total == 1 and screen.predictions.right == 0


async def test_quiz_answered_through_the_pilot_records_progress(make_real_app, data_dir):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "z")
        await settle(pilot)
        quiz = app.screen
        assert isinstance(quiz, QuizScreen) and quiz.questions
        for q in quiz.questions:
            for _ in range(q.answer_index):
                await press(pilot, "down")
            await press(pilot, "enter")  # answer
            await press(pilot, "enter")  # next
        await settle(pilot)
        assert quiz.finished and quiz.score.right == quiz.score.total == len(quiz.questions)
    entry = Progress.load(data_dir).quiz("quiz:clusterip")
    assert entry["right"] == entry["total"] == len(quiz.questions) and entry["passed"]


async def test_shell_commands_run_in_a_worker_and_keep_the_terminal_order(make_real_app):
    """curl moves packets through the cluster: it runs in a worker (the input waits,
    disabled), and curl -v's lines come out as a terminal shows them: the verbose lines,
    the body, then "left intact"."""
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_flow(pilot, "pod-other-node")
        await press(pilot, "s")
        await settle(pilot)
        pane = screen.query_one(ShellPane)
        pane.set_host("client-b")
        box = pane.query_one("#shell-input")
        pane.run_line("curl -v 10.96.0.1:8080")
        assert box.disabled  # until the worker is back
        await settle(pilot)
        assert not box.disabled and app.focused is box
        out = pane.output_text()
        lines = [ln for ln in out.splitlines() if ln.strip()]
        body = next(i for i, ln in enumerate(lines) if ln.startswith("saw 10.244.2.7:"))
        assert lines[body - 1].startswith("< ") and lines[body + 1].startswith("* Connection #0")
