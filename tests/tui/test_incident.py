"""Cases played as incidents, practice incidents, on the case screen (pilot tests)."""

from __future__ import annotations

import yaml
from helpers import enter_line, flat, press, screen_text, settle

from conftest import REPO
from kubeflow_tui.progress import Progress
from kubeflow_tui.tui.screens.case import CaseScreen
from kubeflow_tui.tui.screens.quiz import QuestionPanel

CASE_09 = REPO / "cases" / "09-one-client-hangs.yaml"


async def _open(pilot, path=CASE_09) -> CaseScreen:
    screen = CaseScreen(path)
    pilot.app.push_screen(screen)
    await settle(pilot)
    return screen


async def test_first_only_the_report_then_hints_cost_points(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open(pilot)
        m = screen.session.case.model
        text = flat(screen_text(app))
        assert m.title in text and flat(m.symptom.text)[:40] in text
        assert flat(m.summary)[:30] not in text  # not revealed yet
        assert flat(m.diagnosis.explanation)[:30] not in text and m.fault not in text
        assert "Hint -10" in text  # the cost, in the footer
        await press(pilot, "f3")
        assert screen.session.hints_shown == 1
        assert flat(m.hints[0])[:30] in flat(screen_text(app))


async def test_give_up_reveals_the_cause(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open(pilot)
        await press(pilot, "f4")
        s = screen.session
        assert s.gave_up and s.revealed
        text = flat(screen_text(app))
        assert "You gave up" in text and flat(s.case.model.diagnosis.options[0])[:30] in text
        await press(pilot, "escape")
    saved = Progress.load(data_dir).quiz(f"case:{s.case.id}")
    assert saved["right"] == 0 and not saved["solved"] and saved["gave_up"]


async def test_diagnose_fix_in_the_shell_and_check_solves(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open(pilot)
        s = screen.session
        await press(pilot, "f5")  # not fixed yet
        assert not s.fixed and "Not yet" in flat(screen_text(app))
        await press(pilot, "f2", str(s.question.answer_index + 1))
        panel = screen.query_one(QuestionPanel)
        assert panel.result is not None and panel.result.correct and s.revealed
        assert "Right." in screen_text(app)  # the verdict is in view
        assert "Now fix the cluster" in screen.query_one("#case-status").render().plain
        fix = yaml.safe_load(CASE_09.read_text())["fix"]["commands"][0]
        if fix["host"] != s.host:
            await enter_line(pilot, screen, f"host {fix['host']}")
        await enter_line(pilot, screen, fix["command"])
        await enter_line(pilot, screen, "check")
        assert s.fixed and s.solved
        assert "case solved" in flat(screen_text(app))
        await press(pilot, "escape")
    saved = Progress.load(data_dir).quiz(f"case:{s.case.id}")
    assert saved["solved"] and saved["right"] == 2 and saved["score"] == s.score == 100


async def test_left_half_way_keeps_the_hints(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open(pilot)
        await press(pilot, "f3", "escape")
    saved = Progress.load(data_dir).quiz(f"case:{screen.session.case.id}")
    assert saved["attempts"] == 1 and saved["hints"] == 1 and not saved["solved"]


async def test_case_list_shows_neutral_titles(make_app):
    from kubeflow_tui.quiz import list_cases
    from kubeflow_tui.quiz.practice import FAULTS

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_case_list()
        await settle(pilot)
        text = screen_text(app)
        assert "can't reach web" in text
        for fault in FAULTS:
            assert fault not in text
        assert len(list_cases()) >= 10


async def test_practice_entry_opens_a_generated_incident_with_a_streak(make_app, data_dir, monkeypatch):
    import random
    import re

    monkeypatch.setattr(random.SystemRandom, "randint", lambda self, a, b: 2)  # scaled to zero: a fix to make

    from kubeflow_tui.tui.screens.home import HomeScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen) and "p Practice" in screen_text(app)
        await press(pilot, "p")
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.record_key == "practice"
        seed = int(re.search(r"practice --seed (\d+)", flat(screen_text(app))).group(1))
        assert screen.session.case.id == f"practice-{seed}"  # shown, so it can be replayed
        fix = screen.session.case.model.fix
        for c in fix.commands:
            await enter_line(pilot, screen, f"host {c.host}")
            await enter_line(pilot, screen, c.command)
        await press(pilot, "f5")
        assert screen.session.fixed and "Now say what was wrong" in flat(screen_text(app))
        await press(pilot, "f2", str(screen.session.question.answer_index + 1))
        assert screen.session.solved and "case solved" in flat(screen_text(app))
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
    saved = Progress.load(data_dir).quiz("practice")
    assert saved["solved"] and saved["streak"] == 1 and saved["best_streak"] == 1


async def test_practice_replays_a_seed(make_app, data_dir):
    from kubeflow_tui.tui import quiz_runner

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        quiz_runner.open_practice(app, seed=12)
        await settle(pilot)
        assert app.screen.session.case.id == "practice-12"
        assert "practice --seed 12" in flat(screen_text(app))
        await press(pilot, "f4", "escape")
    saved = Progress.load(data_dir).quiz("practice")
    assert not saved["solved"] and saved["streak"] == 0
