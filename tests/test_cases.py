"""Troubleshooting cases: every shipped case is solvable by a scripted learner, fails with
a wrong answer, and reports file errors with file:line:col; one case screen is driven
through Textual's pilot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubeflow_tui.quiz import CaseError, CaseSession, list_cases, load_case, load_case_text, run_quiz

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "cases").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path / "data"))


def test_at_least_ten_cases_are_shipped():
    assert len(CASES) >= 10
    assert [p.name for p in list_cases()] == [p.name for p in CASES]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_scripted_learner_solves_the_case(path):
    case = load_case(path)
    session = CaseSession(case)  # runs the symptom flow and checks its outcome
    assert session.symptom_outcome == case.model.symptom.outcome
    assert case.model.investigate, "a case needs investigation commands"
    for cmd in case.model.investigate:
        r = session.run(cmd.command, cmd.host)
        assert r.exit_code == 0, (cmd.command, r.stderr)
        assert cmd.expect in r.stdout + r.stderr, (cmd.command, r.stdout)
    assert session.next_hint() == (case.model.hints[0] if case.model.hints else None)
    if session.has_fix:
        ok, trace = session.check_fix()
        assert not ok, f"the fix check passes before any fix: {trace.summary}"
    result = session.answer(case.model.diagnosis.answer)
    assert result.correct
    if session.has_fix:
        assert not session.solved
        for cmd in case.model.fix.commands:
            r = session.run(cmd.command, cmd.host)
            assert r.exit_code == 0, (cmd.command, r.stderr)
        ok, trace = session.check_fix()
        assert ok, trace.summary
    assert session.solved


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_a_wrong_diagnosis_does_not_solve_the_case(path):
    case = load_case(path)
    for wrong in range(len(case.model.diagnosis.options)):
        if wrong == case.model.diagnosis.answer:
            continue
        session = CaseSession(case)
        assert not session.answer(wrong).correct
        if session.has_fix:
            for cmd in case.model.fix.commands:
                session.run(cmd.command, cmd.host)
            session.check_fix()
        assert not session.solved


GOOD = """\
title: t
scenario: clusterip
symptom: {flow: pod-same-node, outcome: delivered, text: works}
investigate: [{host: node-a, command: conntrack -L}]
diagnosis:
  question: q?
  options: [a, b]
  answer: 0
  explanation: e
"""


def _err(text: str) -> CaseError:
    with pytest.raises(CaseError) as ei:
        load_case_text(text, "bad.yaml", base=ROOT / "cases")
    return ei.value


def test_case_errors_point_at_file_line_col():
    assert load_case_text(GOOD, "good.yaml", base=ROOT / "cases").title == "t"
    e = _err(GOOD.replace("  answer: 0", "  answer: 5"))
    assert str(e).startswith("bad.yaml:8:11: diagnosis.answer: ") and "answer 5" in str(e)
    e = _err(GOOD.replace("title: t", "title: t\ntitel: x"))
    assert str(e).startswith("bad.yaml:2:8: titel: unknown key")
    e = _err(GOOD.replace("flow: pod-same-node", "flow: nope"))
    assert str(e).startswith("bad.yaml:3:") and "symptom.flow" in str(e) and "nope" in str(e)
    e = _err(GOOD.replace("outcome: delivered", "outcome: fine"))
    assert "symptom.outcome" in str(e) and str(e).startswith("bad.yaml:3:")
    e = _err(GOOD.replace("scenario: clusterip", "scenario: nowhere"))
    assert str(e).startswith("bad.yaml:2:11: scenario: ")
    e = _err(GOOD + "setup:\n  - {run: pod-same-node, shell: x}\n")
    assert str(e).startswith("bad.yaml:11:5: setup[0]: ") and "exactly one" in str(e)
    e = _err("title: [\n")
    assert str(e).startswith("bad.yaml:2:") and "invalid YAML" in str(e)


def test_symptom_is_verified_by_running_the_flow():
    case = load_case_text(GOOD.replace("outcome: delivered", "outcome: timeout"), "x.yaml",
                          base=ROOT / "cases")
    with pytest.raises(CaseError, match="ended 'delivered', not 'timeout'"):
        CaseSession(case)


def test_run_quiz_on_a_case_file():
    path = ROOT / "cases" / "09-one-client-hangs.yaml"
    case = load_case(path)
    script = "hint\niptables -t nat -L KUBE-SERVICES -n\nanswer\n" \
        f"{case.model.diagnosis.answer + 1}\n{case.model.fix.commands[0].command}\ncheck\n"
    out = io.StringIO()
    assert run_quiz(path, io.StringIO(script), out) == 0
    text = out.getvalue()
    assert "Hint 1 (-10 points):" in text and "KUBE-NODEPORTS" in text and "Right." in text
    assert "Fixed:" in text and "Score: 90/100 (2/2 steps, 1 hint)" in text and "case solved" in text
    from kubeflow_tui.quiz.record import recorded

    assert recorded("case:09-one-client-hangs")["solved"] is True


def test_case_screen_with_pilot():
    import asyncio

    asyncio.run(_drive_case_screen())


async def _drive_case_screen():
    from textual.app import App
    from textual.widgets import Input, OptionList, RichLog

    from kubeflow_tui.tui.screens.case import CaseScreen

    case = load_case(ROOT / "cases" / "01-web-refuses.yaml")
    screen = CaseScreen(case)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Host().run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert screen.query_one(Input).has_focus
        await pilot.press(*"hint", "enter")  # typed key by key
        screen.query_one(Input).value = "iptables -t filter -S KUBE-SERVICES"
        await pilot.press("enter")
        await pilot.pause()
        log = screen.query_one(RichLog)
        text = " ".join(" ".join(line.text for line in log.lines).split())  # undo the wrapping
        assert f"Hint 1 (-{CaseSession.HINT_COST} points): {case.model.hints[0]}" in text  # its cost shown
        assert "has no endpoints" in text and "node-b$ iptables -t filter -S KUBE-SERVICES" in text
        assert screen.query_one(Input).value == ""
        await pilot.press("f2")  # an incident asks for the diagnosis when the learner is ready
        await pilot.pause()
        ol = screen.query_one("#case-question OptionList", OptionList)
        assert ol.has_focus
        for _ in range(case.model.diagnosis.answer):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.session.diagnosis_result is not None
        assert screen.session.diagnosis_result.correct and screen.session.solved
        assert "Right." in str(screen.query_one(".q-feedback").render())


# ------------------------------------------------------------------ incidents


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_an_incident_starts_with_what_a_user_reports_only(path):
    case = load_case(path)
    fault_words = set((case.model.fault or "").split("-")) - {"", "to", "no", "one"}
    assert case.model.fault, "a shipped case records its fault kind"
    for word in fault_words:
        assert word not in path.stem and word not in case.title.lower(), (word, path.stem, case.title)
    out = io.StringIO()
    assert run_quiz(path, io.StringIO(""), out) == 0
    before = out.getvalue().split("Score:")[0]
    assert case.title in before and case.model.symptom.text.strip() in before
    summary = case.model.summary.strip()
    assert not summary or summary not in before
    assert case.model.diagnosis.explanation.strip()[:40] not in before
    session = CaseSession(case)
    assert session.symptom_trace.summary not in before


def test_giving_up_reveals_the_cause_and_scores_no_diagnosis():
    path = ROOT / "cases" / "02-refused-since-rollout.yaml"
    case = load_case(path)
    out = io.StringIO()
    run_quiz(path, io.StringIO("hint\ngive up\nkubectl label pod web-1 app=web --overwrite\ncheck\n"), out)
    text = out.getvalue()
    after = text.split("give up")[-1] if "give up" in text else text
    assert case.model.summary.strip()[:40] in text and "Diagnosis:" in text
    assert "Fixed:" in text and "Score: 50/100" in text and "case solved" not in after


@pytest.mark.parametrize("name,commands", [
    # every real fix counts: the check re-runs the failing connection on the learner's cluster
    ("02-refused-since-rollout", ["kubectl patch svc web -p '{\"spec\":{\"selector\":{\"app\":\"web-v2\"}}}'"]),
    ("02-refused-since-rollout", ["kubectl label pods -l app=web-v2 app=web --overwrite"]),
    ("02-refused-since-rollout", ["kubectl patch pod web-1 --type merge -p '{\"metadata\":{\"labels\":{\"app\":\"web\"}}}'"]),
    ("03-refused-endpoint-listed", ["kubectl patch svc web --type json -p "
                                    "'[{\"op\":\"replace\",\"path\":\"/spec/ports/0/targetPort\",\"value\":8080}]'"]),
    ("04-refused-pod-ready", ["kubectl patch svc web -p '{\"spec\":{\"ports\":[{\"port\":8080,\"targetPort\":8080}]}}'"]),
    ("07-dns-lookups-fail", ["conntrack -F"]),
    ("10-new-connections-hang", ["conntrack -D -p tcp --orig-src 10.244.2.10"]),
])
def test_other_real_fixes_count(name, commands):
    case = load_case(ROOT / "cases" / f"{name}.yaml")
    session = CaseSession(case)
    for c in commands:
        r = session.run(c)
        assert r.exit_code == 0, (c, r.stdout, r.stderr)
    ok, trace = session.check_fix()
    assert ok, (trace.summary if trace else session.fix_error)


@pytest.mark.parametrize("name,commands", [
    ("02-refused-since-rollout", ["kubectl rollout restart deployment/web"]),  # the new pods keep app=web-v2
    ("01-web-refuses", ["kubectl rollout restart deployment web"]),
    ("05-nodeport-one-node", ["kubectl label pod web-1 zone=b"]),
    ("09-one-client-hangs", ["conntrack -F"]),
])
def test_a_command_that_fixes_nothing_does_not_solve(name, commands):
    case = load_case(ROOT / "cases" / f"{name}.yaml")
    session = CaseSession(case)
    for c in commands:
        assert session.run(c).exit_code == 0, c
    if session.has_fix:
        ok, _ = session.check_fix()
        assert not ok
    assert not session.solved


def test_hints_cost_points():
    case = load_case(ROOT / "cases" / "09-one-client-hangs.yaml")
    scores = []
    for hints in (0, 2):
        s = CaseSession(case)
        for _ in range(hints):
            s.next_hint()
        s.answer(case.model.diagnosis.answer)
        s.run(case.model.fix.commands[0].command, case.model.fix.commands[0].host)
        s.check_fix()
        scores.append(s.score)
    assert scores == [100, 100 - 2 * CaseSession.HINT_COST]
