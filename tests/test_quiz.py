"""Questions generated from Traces, predict mode, command questions, interview, runner."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.quiz import (
    CommandQuestion,
    InterviewSession,
    Question,
    context_from_sim,
    generate_questions,
    grade,
    judge_command,
    predict_points,
    random_scenario,
    run_quiz,
    scenario_state,
    standard_command_questions,
)
from kubeflow_tui.quiz.generate import KINDS
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.yaml"))


@pytest.fixture(autouse=True)
def _private_progress(tmp_path, monkeypatch):
    """Never write to the learner's real progress file."""
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path / "data"))


def _flows():
    for path in SCENARIOS:
        sc = load_scenario(path)
        for f in sc.flows:
            yield pytest.param(sc, f.name, id=f"{path.stem}/{f.name}")


def _run(sc, flow):
    # the truths below are iptables mode's (a scenario may say nftables: test_quiz_nft.py)
    sim = ClusterSim(sc, proxy_mode="iptables")
    ctx = context_from_sim(sim)
    return sim.run_flow(flow), ctx


def _truth(q: Question, trace, ctx=None) -> str:
    """The right answer recomputed from the Trace alone, as the option text."""
    s = trace.steps[q.step_index]
    if q.kind == "next-chain":
        return s.target
    if q.kind == "dnat":
        return f"{s.packet.dst}:{s.packet.dport}"
    if q.kind == "masquerade":
        if s.kind in ("masquerade", "snat"):
            return f"Yes: masqueraded to {s.packet.src}"
        return "No: the source stays"
    if q.kind == "conntrack-entry":
        return s.conntrack[s.touched].line
    if q.kind == "reply-source":
        assert s.kind == "conntrack-reverse"
        return f"{trace.client_saw}, rewritten by conntrack"
    if q.kind == "probability":
        return f"{s.probability:.11f}"
    if q.kind == "verdict":
        return s.kind.upper() + ":"
    if q.kind == "decider":
        assert s.kind in ("dnat", "reject", "drop")
        return f"{s.hook} · {s.table} · {s.chain} on {s.host}"
    if q.kind == "nat-packet":
        sent = {t.packet_no: t.packet_label for t in trace.steps if t.kind == "send"}
        natted = sorted({t.packet_no for t in trace.steps if t.host == q.host and t.table == "nat"})
        return f"Only the {sent[natted[0]]}" if len(natted) == 1 else "The "
    if q.kind == "conntrack-node":
        assert s.kind == "conntrack-confirm"
        r = s.conntrack[s.touched].reply
        return f"{s.host}: reply src={r[0]} dst={r[1]} sport={r[2]} dport={r[3]}"
    if q.kind == "server-source":
        masq = [t for t in trace.steps if t.packet_no == 0 and t.kind in ("masquerade", "snat")]
        ip = trace.server_saw.rsplit(":", 1)[0]
        return f"{ip}: {masq[0].host} masquerades" if masq else f"{ip}: its own address"
    if q.kind == "pick-chance":
        seps = {t for t in ctx.targets[s.host][s.chain] if t.startswith("KUBE-SEP-")}
        return f"1/{len(seps)} "
    raise AssertionError(q.kind)


@pytest.mark.parametrize("sc,flow", list(_flows()))
def test_generated_questions_have_one_right_option_that_agrees_with_the_trace(sc, flow):
    trace, ctx = _run(sc, flow)
    qs = generate_questions(trace, seed=3, context=ctx)
    for q in qs:
        assert q.kind in KINDS
        assert len(q.options) >= 3 and len(set(q.options)) == len(q.options), q
        assert 0 <= q.answer_index < len(q.options)
        assert q.explanation and 0 <= q.step_index < len(trace.steps)
        assert (q.scenario, q.flow) == (trace.scenario, trace.flow)
        truth = _truth(q, trace, ctx)
        agree = [i for i, o in enumerate(q.options) if o == truth or o.startswith(truth)]
        assert agree == [q.answer_index], (q.prompt, q.options, truth)
        if q.kind == "next-chain":  # distractors are chains of the same node's ruleset
            s = trace.steps[q.step_index]
            assert set(q.options) <= set(ctx.chains[s.host][s.table]), q.options
    # deterministic for a seed
    assert generate_questions(trace, seed=3, context=ctx) == qs


def test_every_kind_is_generated_somewhere():
    seen = set()
    for p in _flows():
        sc, flow = p.values
        trace, ctx = _run(sc, flow)
        seen |= {q.kind for q in generate_questions(trace, context=ctx)}
    assert seen >= {"next-chain", "dnat", "masquerade", "conntrack-entry", "reply-source", "probability", "verdict"}


def _scenario(name):
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml")


def test_probability_on_the_second_of_three_jumps():
    trace, ctx = _run(_scenario("multi-endpoint"), "to-web-2")
    qs = [q for q in generate_questions(trace, seed=1, context=ctx) if q.kind == "probability"]
    second = next(q for q in qs if "second" in q.prompt)
    assert "3 endpoints" in second.prompt
    assert second.answer == "0.50000000000"
    assert "0.33333333349" in second.options  # the other probability is a distractor
    first = next(q for q in qs if "first" in q.prompt)
    assert first.answer == "0.33333333349"


def test_reply_source_is_conntrack_not_an_snat_rule():
    trace, ctx = _run(_scenario("clusterip"), "pod-other-node")
    q = next(q for q in generate_questions(trace, context=ctx) if q.kind == "reply-source")
    assert q.answer.startswith("10.96.0.1:8080") and "conntrack" in q.answer
    assert any("SNAT rule" in o for o in q.options)
    assert "No SNAT rule" in q.explanation
    assert not grade(q, next(i for i, o in enumerate(q.options) if "SNAT rule" in o)).correct


def test_dnat_distractors_come_from_the_ruleset_and_packet():
    trace, ctx = _run(_scenario("multi-endpoint"), "to-web-1")
    q = next(q for q in generate_questions(trace, seed=2, context=ctx) if q.kind == "dnat")
    addresses = {f"{s.packet.dst}:{s.packet.dport}" for s in trace.steps} | \
        {f"{s.packet.src}:{s.packet.sport}" for s in trace.steps} | set(ctx.all_dnat_targets())
    ports = {s.packet.dport for s in trace.steps} | {s.packet.sport for s in trace.steps}
    for o in q.options:
        ip, _, port = o.rpartition(":")
        assert o in addresses or (ip in {a.rpartition(":")[0] for a in addresses} and int(port) in ports), o
    assert q.answer == "10.244.1.5:8080"


def test_masquerade_and_conntrack_entry_for_a_nodeport_through_another_node():
    trace, ctx = _run(_scenario("nodeport"), "to-other-node")
    qs = {(q.kind, q.host): q for q in generate_questions(trace, context=ctx)}
    assert qs["masquerade", "node-b"].answer == "Yes: masqueraded to 192.168.1.11"
    assert qs["masquerade", "node-a"].answer.startswith("No: the source stays 192.168.1.11")
    ct = qs["conntrack-entry", "node-b"]
    assert "dst=192.168.1.11 sport=8080" in ct.answer and all(o.startswith("tcp ") for o in ct.options)


def test_grade():
    trace, ctx = _run(_scenario("clusterip"), "pod-same-node")
    q = generate_questions(trace, context=ctx)[0]
    right = grade(q, q.answer_index)
    assert right.correct and right.step_index == q.step_index and right.explanation == q.explanation
    wrong = grade(q, (q.answer_index + 1) % len(q.options))
    assert not wrong.correct and q.answer in wrong.feedback
    with pytest.raises(ValueError):
        grade(q, len(q.options))


def test_predict_points_stop_before_decisive_steps():
    trace, ctx = _run(_scenario("clusterip"), "pod-other-node")
    points = predict_points(trace, seed=1, context=ctx)
    kinds = [p.question.kind for p in points]
    assert {"next-chain", "dnat", "conntrack-hit", "conntrack-reverse"} <= set(kinds)
    for p in points:
        assert p.question.step_index == p.step_index
        assert p.question.prompt.endswith("What happens next?") or "What happens next" in p.question.prompt
        assert len(set(p.question.options)) == len(p.question.options) >= 3
    svc = next(p for p in points if p.question.kind == "next-chain" and "KUBE-SVC-" in p.question.answer)
    assert trace.steps[svc.step_index].target in svc.question.answer
    rev = next(p for p in points if p.question.kind == "conntrack-reverse")
    assert "10.96.0.1:8080" in rev.question.answer and "Conntrack" in rev.question.answer
    masq = [p for p in predict_points(_run(_scenario("nodeport"), "to-other-node")[0])
            if p.question.kind == "masquerade"]
    assert masq and masq[0].question.answer == "Yes: masqueraded to 192.168.1.11"


# ------------------------------------------------------------------ commands


@pytest.fixture(scope="module")
def clusterip():
    return _scenario("clusterip")


def _q(reference, host="node-a"):
    return CommandQuestion("t", "?", reference, host, ("a hint",))


@pytest.mark.parametrize("answer", [
    "iptables -t nat -L KUBE-SERVICES -n",
    "iptables -nL KUBE-SERVICES -t nat",
    "iptables -L KUBE-SERVICES -n -t nat",
    "  iptables   -t nat -n -L KUBE-SERVICES ",
])
def test_equivalent_commands_are_accepted(clusterip, answer):
    v = judge_command(_q("iptables -t nat -L KUBE-SERVICES -n"), answer, scenario_state(clusterip))
    assert v.correct, (v.message, v.output)


@pytest.mark.parametrize("answer", [
    "iptables -t nat -S KUBE-SERVICES",
    "iptables -t filter -L KUBE-SERVICES -n",
    "iptables -t nat -L KUBE-SERVICES",  # resolves names: not what was asked
    "iptables -t nat -L KUBE-NODEPORTS -n",
    "conntrack -L",
    "iptables -t nat -F KUBE-SERVICES",
    "iptables -t nat -L KUBE-SERVICE -n",
    "",
])
def test_other_commands_are_refused(clusterip, answer):
    v = judge_command(_q("iptables -t nat -L KUBE-SERVICES -n"), answer, scenario_state(clusterip))
    assert not v.correct
    assert v.message


def test_command_state_must_match_too(clusterip):
    # both print nothing on stdout; only the rules they leave behind differ
    q = _q("iptables -t nat -F KUBE-NODEPORTS")
    assert judge_command(q, "iptables -F KUBE-NODEPORTS -t nat", scenario_state(clusterip)).correct
    v = judge_command(q, "iptables -t nat -F KUBE-POSTROUTING", scenario_state(clusterip))
    assert not v.correct and "differently" in v.message


def test_standard_command_questions_and_hints(clusterip):
    qs = standard_command_questions(clusterip, flow="pod-other-node")
    make = scenario_state(clusterip, flows=["pod-other-node"])
    for q in qs:
        assert judge_command(q, q.reference, make).correct, q.id
        hints = q.all_hints()
        assert q.hint(1) == list(hints[:1]) and q.hint(99) == list(hints)
        assert hints[-1].endswith(f"`{q.reference}`")
    ct = next(q for q in qs if q.id.endswith("conntrack"))
    assert ct.host == "node-b"
    assert judge_command(ct, "conntrack -L -o extended", make).correct is False


# ------------------------------------------------------------------ interview


def test_random_scenarios_are_valid_and_run():
    for seed in range(25):
        sc = random_scenario(random.Random(seed))
        assert sc.services and sc.flows
        sim = ClusterSim(sc)
        for f in sc.flows:
            trace = ClusterSim(sc).run_flow(f.name)
            assert trace.outcome in ("delivered", "refused", "timeout", "unreachable", "dropped")
        del sim


def test_interview_session_scores_and_reviews():
    now = [0.0]
    s = InterviewSession(seed=11, count=6, minutes=5, clock=lambda: now[0])
    assert len(s.items) == 6
    assert len({it.question.kind for it in s.items}) >= 4  # mixed
    wrong_topic = None
    while not s.finished:
        q = s.current().question
        if s.position % 2:
            s.answer(q.answer_index)
        else:
            wrong_topic = q.topic
            s.answer((q.answer_index + 1) % len(q.options))
        now[0] += 10
    assert s.score.total == 6 and s.score.right == 3
    assert wrong_topic in s.score.review()
    assert "Score: 3/6" in s.report() and "To review" in s.report()
    # same seed, same session
    assert [it.question for it in InterviewSession(seed=11, count=6).items] == [it.question for it in s.items]


def test_interview_times_out():
    now = [0.0]
    s = InterviewSession(seed=2, count=4, minutes=1, clock=lambda: now[0])
    s.answer(0)
    now[0] = 61
    assert s.finished and s.current() is None
    assert "unanswered" in s.report()


# ------------------------------------------------------------------ plain terminal


def test_run_quiz_on_a_scenario(tmp_path):
    path = ROOT / "scenarios" / "multi-endpoint.yaml"
    sc = load_scenario(path)
    from kubeflow_tui.quiz.runner import quiz_for_file

    _, _, key, qs = quiz_for_file(path)
    assert key == f"quiz:{sc.name}" and 6 <= len(qs) <= 10
    answers = "".join(f"{q.answer_index + 1}\n" for q in qs)
    out = io.StringIO()
    assert run_quiz(path, io.StringIO("x\n9\n" + answers), out) == 0
    text = out.getvalue()
    assert f"Score: {len(qs)}/{len(qs)}" in text and "Please type a number" in text
    from kubeflow_tui.quiz.record import recorded

    assert recorded(f"quiz:{sc.name}")["right"] == len(qs)


def test_run_quiz_stops_at_end_of_input():
    out = io.StringIO()
    assert run_quiz(ROOT / "scenarios" / "clusterip.yaml", io.StringIO("1\n"), out) == 0
    assert "Score: " in out.getvalue()


def test_run_quiz_missing_file():
    out = io.StringIO()
    assert run_quiz("no/such/file.yaml", io.StringIO(""), out) == 2
    assert out.getvalue().startswith("error:")


def test_quiz_and_interview_screens_with_pilot():
    import asyncio

    from textual.app import App
    from textual.widgets import OptionList

    from kubeflow_tui.tui.screens.interview import InterviewScreen
    from kubeflow_tui.tui.screens.quiz import QuizScreen

    trace, ctx = _run(_scenario("clusterip"), "pod-same-node")
    qs = generate_questions(trace, context=ctx)[:2]
    quiz = QuizScreen(qs, title="clusterip")
    interview = InterviewScreen(seed=4, count=2, minutes=5)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(quiz)

    async def drive() -> None:
        async with Host().run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            for q in qs:
                for _ in range(q.answer_index):
                    await pilot.press("down")
                await pilot.press("enter")  # answer
                await pilot.pause()
                await pilot.press("enter")  # go on
                await pilot.pause()
            assert quiz.score.right == 2
            assert "Score: 2/2" in str(quiz.query_one("#quiz-score").render())
            await pilot.press("escape")
            pilot.app.push_screen(interview)
            await pilot.pause()
            item = interview.session.current()
            ol = interview.query_one(OptionList)
            ol.highlighted = item.question.answer_index
            await pilot.press("enter")
            await pilot.pause()
            assert interview.session.score.right == 1

    asyncio.run(drive())
