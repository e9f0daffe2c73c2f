"""The curriculum walk: every lesson in lessons/, headless at 80x24, on the real engine.

For each lesson file (globbed when the tests are collected, so a new lesson is walked
too): open it from the lesson list, play every flow to its end, take the quiz the app
offers, answer every question right through the pilot, and check the lesson is marked
done.  So no lesson can rot: a renamed flow, a scenario that stopped loading, a quiz
that cannot be generated or answered all fail here.
"""

from __future__ import annotations

import pytest
from textual.widgets import OptionList
from conftest import REPO
from helpers import fast_press, press, settle

from kubeflow_tui import lessons as lessons_mod
from kubeflow_tui.progress import Progress
from kubeflow_tui.tui.screens.common import ConfirmScreen, PickerScreen
from kubeflow_tui.tui.screens.lesson import LessonScreen
from kubeflow_tui.tui.screens.quiz import CommandQuizScreen, QuizScreen

LESSON_FILES = lessons_mod.lesson_files(REPO / "lessons")


def test_there_are_lessons():
    assert LESSON_FILES


@pytest.mark.parametrize("path", LESSON_FILES, ids=[p.stem for p in LESSON_FILES])
async def test_lesson_walk(make_real_app, data_dir, path):
    lesson = lessons_mod.parse_lesson(path)
    app = make_real_app(start="home")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        ids = [l.id for l in app.lessons]
        assert lesson.id in ids, app.lesson_errors
        await press(pilot, *["down"] * ids.index(lesson.id), "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson.id
        for n, flow in enumerate(lesson.flows):
            if screen.flow != flow:
                await press(pilot, "f")
                await settle(pilot)
                picker = app.screen
                assert isinstance(picker, PickerScreen)
                values = [v for v, _ in picker.choices]
                delta = values.index(flow) - (picker.query_one(OptionList).highlighted or 0)
                await press(pilot, *(["down"] * delta if delta > 0 else ["up"] * -delta), "enter")
                await settle(pilot)
            assert screen.flow == flow and screen.trace is not None, f"flow {flow} did not run"
            assert screen.trace.steps, f"flow {flow} has no steps"
            await press(pilot, "end")
            await settle(pilot)
            assert screen.index == len(screen.trace.steps) - 1
            if n < len(lesson.flows) - 1:
                assert app.screen is screen
        # the last flow's end offers the quiz
        if Progress.load(data_dir).status(lesson.id) != "done":
            assert isinstance(app.screen, ConfirmScreen), type(app.screen)
            await press(pilot, "enter")
            await settle(pilot)
        quiz = app.screen
        if isinstance(quiz, QuizScreen):
            assert quiz.questions
            for q in quiz.questions:
                # the keys of one question in a burst, then wait for the next question
                await fast_press(pilot, ["down"] * q.answer_index + ["enter"], every=10)
                assert quiz.query_one("#quiz-question").result.correct, q.prompt
                await fast_press(pilot, ["enter"])
            await settle(pilot)
            assert quiz.finished, f"quiz stopped at question {quiz.position + 1}"
            assert quiz.score.right == quiz.score.total == len(quiz.questions)
            await press(pilot, "escape")
            await settle(pilot)
            entry = Progress.load(data_dir).quiz(f"lesson:{lesson.id}")
            assert entry["passed"] and entry["right"] == entry["total"]
        assert Progress.load(data_dir).status(lesson.id) == "done"
        # what comes after the quiz (command questions, the lesson's cases) opens and closes
        for _ in range(3):
            if isinstance(app.screen, (CommandQuizScreen, PickerScreen)):
                await press(pilot, "escape")
                await settle(pilot)
        assert app.is_running
