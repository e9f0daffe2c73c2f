"""Runs the quizzes, troubleshooting cases and the interview for the app: when a lesson's
quiz is offered, which questions a quiz asks, which screen opens.

The app's methods of the same names call these (``KubeflowApp.open_quiz`` ...): the code
is imported when a quiz is near, not when the app starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeflow_tui.lessons import Lesson
    from kubeflow_tui.tui.app import KubeflowApp


def lesson_flow_done(app: KubeflowApp, lesson: Lesson, flow: str) -> None:
    """The learner reached the end of one of the lesson's flows.

    When every flow has been seen the lesson's quiz is offered; the lesson is done
    when the quiz is passed (or at once if the lesson has no questions).
    """
    entry = app.progress.lesson(lesson.id)
    seen = set(entry.get("flows_done", [])) | {flow}
    if flow in entry.get("flows_done", []) and (entry.get("status") == "done" or lesson.id in app.quiz_offered):
        return
    all_done = all(f in seen for f in lesson.flows)
    app.progress.mark(lesson.id, flow=flow, flow_done=flow)
    if not all_done:
        rest = [f for f in lesson.flows if f not in seen]
        app.notify(f"Flow {flow} done. Next: press f for {rest[0]}.", timeout=5)
        return
    if app.progress.status(lesson.id) == "done" or lesson.id in app.quiz_offered:
        return
    if app.progress.quiz(f"lesson:{lesson.id}").get("passed"):
        lesson_done(app, lesson)
        return
    from kubeflow_tui.tui.screens.common import ConfirmScreen
    from kubeflow_tui.tui.screens.lesson import LessonScreen

    app.quiz_offered.add(lesson.id)
    screen = app.screen

    def answer(yes: Any) -> None:
        if yes and isinstance(app.screen, LessonScreen) and app.screen.lesson.id == lesson.id:
            open_lesson_quiz(app, lesson, app.screen.scenario)
        elif not yes:
            app.notify("Press z when you are ready for the quiz.", timeout=4)

    if isinstance(screen, LessonScreen):
        app.push_screen(ConfirmScreen(
            "All flows of this lesson seen",
            "Answer a few questions about what you watched? The lesson is done when the quiz is "
            "passed. (You can also press z at any time.)", yes="Take the quiz", no="Later"), answer)


def lesson_done(app: KubeflowApp, lesson: Lesson) -> None:
    app.progress.mark(lesson.id, done=True)
    if lesson.id not in app.announced_done:
        app.announced_done.add(lesson.id)
        last = app.lessons[-1].id if app.lessons else lesson.id
        nxt = "  ] opens the next lesson." if lesson.id != last else "  That was the last lesson."
        app.notify(f"Lesson {lesson.number} done.{nxt}", title="✓", timeout=5)


def quiz_questions(app: KubeflowApp, scenario: Any, flows: list[str], extra: list[Any] | None = None) -> list[Any]:
    """The quiz: the engine's lesson quiz (6–10 mixed questions, reasoning families first,
    authored ``extra`` ones first); an engine without one gives its traces' questions,
    selected the same way."""
    fn = getattr(app.engine, "lesson_questions", None)
    if fn is not None:
        return list(fn(scenario, flows, extra=list(extra or [])))
    from kubeflow_tui.quiz import generate_questions
    from kubeflow_tui.quiz.flow import MAX_QUESTIONS, PREFERRED, select_questions

    qs: list[Any] = []
    for f in flows:
        qs += generate_questions(app.engine.run_flow(scenario, f))
    rank = {k: i for i, k in enumerate(PREFERRED)}
    qs.sort(key=lambda q: rank.get(q.kind, len(rank)))
    extra = list(extra or [])
    room = max(0, MAX_QUESTIONS - 2 - len(extra))
    return extra + (select_questions(qs, count=room, minimum=0) if room else [])


def open_quiz(app: KubeflowApp, scenario: Any, flows: list[str], *, title: str, record_key: str,
              on_finish: Any = None, extra: list[Any] | None = None, then: Any = None) -> bool:
    from kubeflow_tui.tui.screens.quiz import QuizScreen

    try:
        questions = quiz_questions(app, scenario, flows, extra)
    except Exception as exc:
        app.show_error("Cannot make the quiz", f"{exc.__class__.__name__}: {exc}")
        return False
    if not questions:
        app.notify("These flows give no questions to ask.", timeout=4)
        return False
    app.push_screen(QuizScreen(questions, title=title, record_key=record_key, on_finish=on_finish),
                    (lambda _score: then()) if then is not None else None)
    return True


def open_lesson_quiz(app: KubeflowApp, lesson: Lesson, scenario: Any) -> None:
    """The lesson's quiz: questions from its flows (+ authored ones), then commands, then cases."""
    from kubeflow_tui import lessons as lessons_mod

    try:
        mc, cmds = lessons_mod.authored_questions(lesson, scenario)
        cases = lessons_mod.case_paths(lesson)
    except lessons_mod.LessonError as exc:
        app.notify(str(exc), title="The lesson's own questions cannot be used", severity="warning",
                   timeout=8)
        mc, cmds, cases = [], [], []

    def finished(score: Any) -> None:
        from kubeflow_tui.progress import passed

        if passed(score.right, score.total):
            lesson_done(app, lesson)

    def after_commands() -> None:
        if cases:
            open_case_list(app, cases, title=f"Lesson {lesson.number}: troubleshooting cases")

    def after_quiz() -> None:
        if cmds:
            from kubeflow_tui.quiz import scenario_state
            from kubeflow_tui.tui.screens.quiz import CommandQuizScreen

            make = scenario_state(scenario, flows=lesson.flows)
            app.push_screen(CommandQuizScreen(cmds, make, title=f"Lesson {lesson.number}: commands",
                                              record_key=f"commands:{lesson.id}"),
                            lambda _r: after_commands())
        else:
            after_commands()

    title = f"Lesson {lesson.number} quiz" if lesson.number else f"Quiz: {lesson.title}"
    if not open_quiz(app, scenario, list(lesson.flows), title=title, record_key=f"lesson:{lesson.id}",
                     on_finish=finished, extra=mc, then=after_quiz):
        if app.progress.status(lesson.id) != "done" and all(
                f in app.progress.lesson(lesson.id).get("flows_done", []) for f in lesson.flows):
            lesson_done(app, lesson)
        after_quiz()


def open_case_list(app: KubeflowApp, paths: list[Path] | None = None, *,
                   title: str = "Troubleshooting cases") -> None:
    from kubeflow_tui.quiz import list_cases
    from kubeflow_tui.tui.screens.common import PickerScreen

    paths = list(paths) if paths is not None else list_cases()
    if not paths:
        app.notify("No troubleshooting cases found.", severity="warning")
        return
    choices = []
    for p in paths:
        mark = "✓" if app.progress.quiz(f"case:{p.stem}").get("solved") else "·"
        choices.append((p, f"{mark} {p.stem.split('-', 1)[0]}  {_case_title(p)}"))

    def chosen(path: Any) -> None:
        if path:
            open_case(app, path)

    app.push_screen(PickerScreen(title + "  (✓ solved)", choices), chosen)


def open_case(app: KubeflowApp, path: str | Path) -> None:
    from kubeflow_tui.tui.screens.case import CaseScreen

    try:
        screen = CaseScreen(Path(path))
    except Exception as exc:
        app.show_error("Cannot open this case", f"{exc}")
        return
    app.push_screen(screen)


def looks_like_case(path: str | Path) -> bool:
    """A case file (top-level ``symptom:`` and ``diagnosis:``), told apart from a scenario
    without parsing the YAML (the app opens either from its command line)."""
    import re

    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")[:100_000]
    except OSError:
        return False
    return all(re.search(rf"^{key}:", text, re.M) for key in ("symptom", "diagnosis"))


def case_screen(path: str | Path) -> Any:
    """The case screen for ``path`` (raises the case's own error when it cannot be loaded)."""
    from kubeflow_tui.tui.screens.case import CaseScreen

    return CaseScreen(Path(path))


def open_practice(app: KubeflowApp, seed: int | None = None, fault: str | None = None) -> None:
    """Endless practice: a generated incident (a random cluster and fault from ``seed``, a
    new random seed by default, shown so it can be replayed) on the case screen, recorded
    under ``practice`` with a streak of incidents solved in a row."""
    import random

    from kubeflow_tui.quiz.practice import practice_case
    from kubeflow_tui.tui.screens.case import CaseScreen

    if seed is None:
        seed = random.SystemRandom().randint(0, 99999)
    try:
        screen = CaseScreen(practice_case(seed, fault), record_key="practice",
                            label=f"Practice incident {seed} (replay it: kubeflow-tui practice --seed {seed})")
    except Exception as exc:
        app.show_error("Cannot make a practice incident", f"{exc.__class__.__name__}: {exc}")
        return
    app.push_screen(screen)


def open_interview(app: KubeflowApp, *, seed: int | None = None, minutes: float = 10.0, count: int = 10) -> None:
    """The timed interview: ``count`` questions drawn from ``seed`` (a new random seed by
    default; the summary names it, so the same set can be replayed)."""
    from kubeflow_tui.tui.screens.interview import InterviewScreen

    try:
        screen = InterviewScreen(seed=seed, count=count, minutes=minutes)
    except Exception as exc:
        app.show_error("Cannot start the interview", f"{exc.__class__.__name__}: {exc}")
        return
    app.push_screen(screen)


def _case_title(path: Path) -> str:
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return str(data.get("title", "")) if isinstance(data, dict) else ""
    except Exception:
        return ""


def interview_app(*, seed: int, minutes: float = 10.0, count: int = 10, **kw: Any) -> KubeflowApp:
    """The app, opened on the interview over the set drawn from ``seed`` (``kw`` go to
    :class:`~kubeflow_tui.tui.app.KubeflowApp`); leaving the interview's summary lands on
    the lesson list."""
    from kubeflow_tui.tui.app import KubeflowApp
    from kubeflow_tui.tui.screens.home import HomeScreen

    class InterviewApp(KubeflowApp):
        def first_screen(self) -> Any:
            self.call_later(open_interview, self, seed=seed, minutes=minutes, count=count)
            return HomeScreen()

    kw.setdefault("start", "home")
    return InterviewApp(**kw)


def run_interview_app(*, seed: int, minutes: float = 10.0, count: int = 10) -> int:
    """``kubeflow-tui interview``: run :func:`interview_app`; returns the exit code."""
    app = interview_app(seed=seed, minutes=minutes, count=count)
    result = app.run()
    return int(result or 0) if app.return_code is None else int(app.return_code)
