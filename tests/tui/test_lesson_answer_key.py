"""The lesson screen keeps a Check yourself answer hidden until the learner presses ``a``."""

from __future__ import annotations

from conftest import REPO
from helpers import press, screen_text, settle

from kubeflow_tui.tui.screens.answer import AnswerScreen
from kubeflow_tui.tui.screens.lesson import LessonScreen


async def test_a_shows_the_answer_and_escape_returns(make_real_app):
    app = make_real_app(str(REPO / "lessons" / "17-dns-for-services.md"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lesson_screen = app.screen
        assert isinstance(lesson_screen, LessonScreen)
        text = lesson_screen.lesson_markdown() or ""
        assert LessonScreen.ANSWER_NOTE in text.split("## Check yourself")[1]
        assert lesson_screen.lesson.answers[0].answer not in text
        await press(pilot, "a")
        assert isinstance(app.screen, AnswerScreen)
        shown = screen_text(app)
        assert "CoreDNS is scaled to zero" in shown and "REJECT" in shown
        await press(pilot, "escape")
        assert app.screen is lesson_screen


async def test_a_lesson_without_a_question_has_no_answer_key(make_real_app):
    app = make_real_app(str(REPO / "lessons" / "02-clusterip.md"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LessonScreen) and not screen.lesson.answers
        assert screen.check_action("answer", ()) is False
        await press(pilot, "a")
        assert app.screen is screen
