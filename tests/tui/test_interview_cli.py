"""``kubeflow-tui interview --seed S``: the app opens on the interview over the set drawn
from S; the summary names the seed and is saved with it; escape lands on the lesson list."""

from __future__ import annotations

from helpers import press, screen_text, settle

from kubeflow_tui.cli import main
from kubeflow_tui.progress import Progress
from kubeflow_tui.quiz.interview import InterviewSession
from kubeflow_tui.tui.quiz_runner import interview_app
from kubeflow_tui.tui.screens.home import HomeScreen
from kubeflow_tui.tui.screens.interview import InterviewScreen


async def test_the_interview_opens_on_the_seeds_set_and_saves_the_seed(lessons_dir, data_dir):
    app = interview_app(seed=9, minutes=5, count=3, lessons_dir=lessons_dir, progress=Progress.load(data_dir))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        expected = [it.question.prompt for it in InterviewSession(seed=9, count=3).items]
        assert [it.question.prompt for it in screen.session.items] == expected  # same seed, same set
        for _ in expected:
            q = screen.session.current().question
            await press(pilot, str(q.answer_index + 1), "n")
        await settle(pilot)
        shown = screen_text(app)
        assert "3/3" in shown and "kubeflow-tui interview --seed 9 --count 3" in shown
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
    saved = Progress.load(data_dir).interviews
    assert [(s.seed, s.right, s.total, s.finished) for s in saved] == [(9, 3, 3, True)]


def test_bad_interview_options_are_one_line_errors(capsys):
    assert main(["interview", "--minutes", "0"]) == 2
    assert main(["interview", "--count", "0"]) == 2
    err = capsys.readouterr().err
    assert "interview: --minutes must be more than 0" in err and "--count must be at least 1" in err
    assert "Traceback" not in err
