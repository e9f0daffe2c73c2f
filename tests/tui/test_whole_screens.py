"""Every screen whole at 80x24, and the progress of work left half-way (pilot tests).

Each test is one item of issue 12 as a learner meets it: what they must read next is on
the screen, the keys they read about work, what they leave half-way is kept.
"""

from __future__ import annotations

from pathlib import Path

from helpers import flat, press, screen_text, settle, step_until

from conftest import REPO
from kubeflow_tui.progress import Progress
from kubeflow_tui.quiz.record import recorded_attempt
from kubeflow_tui.tui.screens.case import CaseScreen
from kubeflow_tui.tui.screens.flow import FlowScreen
from kubeflow_tui.tui.screens.home import HomeScreen
from kubeflow_tui.tui.screens.interview import InterviewScreen
from kubeflow_tui.tui.screens.lesson import LessonScreen
from kubeflow_tui.tui.screens.quiz import QuestionPanel, QuizScreen

CLUSTERIP = str(REPO / "scenarios" / "clusterip.yaml")


def _visible(app, text: str, n: int = 24) -> bool:
    """The first words of ``text`` are on the screen (wrapping undone)."""
    words = flat(text)[:n].rsplit(" ", 1)[0] if len(flat(text)) > n else flat(text)
    return words in flat(screen_text(app))


async def test_footer_shows_quit_at_80_columns(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FlowScreen)
        footer = screen_text(app).splitlines()[-1]
        assert "q Quit" in footer and "? Help" in footer and "Next" in footer
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
        assert "q Quit" in screen_text(app).splitlines()[-1]


async def test_number_keys_answer_and_every_verdict_is_in_view(make_app, data_dir):
    app = make_app(start="auto")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        await press(pilot, "z")
        quiz = app.screen
        assert isinstance(quiz, QuizScreen) and len(quiz.questions) >= 2
        panel = quiz.query_one(QuestionPanel)
        for n, q in enumerate(quiz.questions):
            assert _visible(app, q.options[-1], 16), f"question {n + 1}: the last option is cut"
            await press(pilot, str(q.answer_index + 1))  # the options are labelled 1) 2) ...
            assert panel.result is not None and panel.result.choice == q.answer_index and panel.result.correct
            assert _visible(app, panel.result.feedback, 30), f"question {n + 1}: the verdict is below the fold"
            await press(pilot, "n")
        assert quiz.finished and quiz.score.right == len(quiz.questions)


async def test_quiz_left_half_way_is_saved(make_app, data_dir):
    app = make_app(start="auto")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "z")
        quiz = app.screen
        assert isinstance(quiz, QuizScreen)
        q = quiz.questions[0]
        await press(pilot, str(q.answer_index + 1), "n")
        wrong = next(i for i in range(len(quiz.questions[1].options)) if i != quiz.questions[1].answer_index)
        await press(pilot, str(wrong + 1))
        await press(pilot, "escape")
        assert not isinstance(app.screen, QuizScreen)
    progress = Progress.load(data_dir)
    assert progress.quiz("lesson:01-clusterip") == {}  # not finished: no result, so not passed
    saved = recorded_attempt("lesson:01-clusterip", progress)  # the attempt: its answers so far
    assert saved["right"] == 1 and saved["answered"] == 2 and saved["total"] == len(quiz.questions)
    assert saved["topics"] and sum(t["total"] for t in saved["topics"].values()) == 2


async def test_quiz_wrong_answer_is_asked_again_and_the_score_counts_first_answers(make_app, data_dir):
    app = make_app(start="auto")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "z")
        quiz = app.screen
        assert isinstance(quiz, QuizScreen)
        first = quiz.questions[0]
        wrong = (first.answer_index + 1) % len(first.options)
        await press(pilot, str(wrong + 1))
        assert "comes back later" in flat(screen_text(app))
        await press(pilot, "n")
        seen_again = False
        while not quiz.finished:
            q = quiz.run.current()
            if quiz.run.is_retry:
                assert q is first and "asked again" in screen_text(app)
                seen_again = True
            await press(pilot, str(q.answer_index + 1), "n")
        assert seen_again
        assert quiz.run.right == len(quiz.questions) - 1 and quiz.run.total == len(quiz.questions)
        text = flat(screen_text(app))
        assert f"Score: {len(quiz.questions) - 1}/{len(quiz.questions)}" in text
        assert "1 right on the second try" in text and "✗ to review" in text
    saved = Progress.load(data_dir).quiz("lesson:01-clusterip")
    assert saved["right"] == len(quiz.questions) - 1 and saved["total"] == len(quiz.questions)
    assert saved["review"] == [first.topic]


async def test_interview_left_shows_a_summary_and_is_saved(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = InterviewScreen(seed=4, count=3, minutes=5)
        app.push_screen(screen)
        await settle(pilot)
        item = screen.session.current()
        await press(pilot, str(item.question.answer_index + 1))
        await press(pilot, "escape")  # half-way: the summary, not the lesson list
        assert app.screen is screen
        text = screen_text(app)
        assert "Interview: summary" in text and "Saved in your progress" in text
        await press(pilot, "escape")
        assert app.screen is not screen
    progress = Progress.load(data_dir)
    kept = progress.interviews[-1]  # the summary, left before the end
    assert kept.right == 1 and kept.total == 1 and not kept.finished and kept.ended
    assert progress.quiz("interview") == {}  # a session left half-way is no result


async def test_interview_finished_is_saved_with_its_summary(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = InterviewScreen(seed=4, count=3, minutes=5)
        app.push_screen(screen)
        await settle(pilot)
        for n in range(3):
            item = screen.session.current()
            choice = item.question.answer_index if n else (item.question.answer_index + 1) % len(item.question.options)
            await press(pilot, str(choice + 1), "n")
        text = " ".join(screen_text(app).split())
        assert "Interview: summary" in text and "By topic" in text and "✗" in text
        await press(pilot, "escape")
    progress = Progress.load(data_dir)
    kept = progress.interviews[-1]
    assert kept.finished and kept.right == 2 and kept.total == 3 and kept.review
    assert sum(v[1] for v in kept.kinds.values()) == 3
    saved = progress.quiz("interview")
    assert saved["right"] == 2 and saved["total"] == 3


async def test_case_verdict_in_view_and_left_half_way_is_saved(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = CaseScreen(REPO / "cases" / "01-web-refuses.yaml")
        app.push_screen(screen)
        await settle(pilot)
        log_lines = screen.query_one("#case-log").size.height
        assert log_lines >= 5  # the output box shows more than a line or two
        await press(pilot, "f2")
        q = screen.session.question
        await press(pilot, str(q.answer_index + 1))
        panel = screen.query_one(QuestionPanel)
        assert panel.result is not None and panel.result.correct
        assert _visible(app, panel.result.feedback, 30)  # "Right. web-1 is not Ready ..." is on the screen
        await press(pilot, "escape")
    saved = Progress.load(data_dir).quiz(f"case:{screen.session.case.id}")
    assert saved["attempts"] == 1
    assert saved["right"] == 1 and saved["total"] == screen.session.points[1]
    assert saved.get("solved") is (not screen.session.has_fix)


async def test_notifications_stay_off_the_options(make_app):
    app = make_app(start="auto")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "z")
        quiz = app.screen
        app.notify("A notification with some words in it, long enough to take two lines.", timeout=30)
        await settle(pilot)
        options = quiz.query_one(QuestionPanel).query_one("OptionList")
        toasts = list(quiz.query("Toast"))
        assert toasts and all(t.region.height for t in toasts)
        assert all(not t.region.overlaps(options.region) for t in toasts)


async def test_header_keeps_its_height_while_playing(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        heights = set()
        for _ in range(len(screen.trace.steps) - 1):
            heights.add((screen.query_one("#narration").size.height, screen.query_one("#packet").size.height))
            await press(pilot, "right")
        heights.add((screen.query_one("#narration").size.height, screen.query_one("#packet").size.height))
        assert len(heights) == 1, heights


async def test_lesson_list_titles_use_the_width(make_real_app):
    app = make_real_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        first = app.lessons[0].title
        assert first in text, first


async def test_lesson_text_scrolls_on_first_open(make_real_app):
    app = make_real_app(start="auto")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(50):
            if app.screen.query("MarkdownBlock"):
                break
            await settle(pilot, 0.05)
        panel = app.screen.query_one("#lesson")
        await settle(pilot)
        assert panel.has_focus
        await press(pilot, "pagedown")
        assert panel.scroll_y > 0


async def test_leaving_the_shell_keeps_the_step(make_real_app):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await step_until(pilot, lambda s: s.kind == "dnat")
        where = screen.index
        await press(pilot, "s")
        screen.focused.value = "conntrack -F"  # changes the cluster: the flow runs again on it
        await press(pilot, "enter")
        before = screen.trace
        await press(pilot, "escape")
        await settle(pilot)
        assert screen.trace is not before  # it ran again
        assert screen.index == where  # and the learner is where they were
        assert screen.panel != "shell"


def test_no_private_textual_names():
    import re

    pattern = re.compile(r"textual\.[a-z_.]*\._|_build_from_source|_move_page|_push_result_callback"
                         r"|_initial_markdown|_last_parsed_line|_get_breakpoint_classes|_compositor")
    root = Path(__file__).resolve().parents[2] / "kubeflow_tui"
    hits = [f"{p}:{n}" for p in root.rglob("*.py") for n, line in enumerate(p.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert hits == []
