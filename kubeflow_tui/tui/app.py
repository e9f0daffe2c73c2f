"""The Textual app: ``KubeflowApp`` and ``run_app``.

``python -m kubeflow_tui.tui.app [scenario.yaml | lesson.md]`` runs it directly.

Start-up is kept short: the screen the learner asked for (a lesson, a scenario, or where
they left off) is the app's first screen (the lesson list is made only when they go
there), the lesson list is read when it is first needed, and the engine (pydantic
scenario loading, kube-proxy's rules, the flow's Trace) runs after the first frame (see
``FlowScreen._start``).  Screens and the engine's modules are imported where they are used.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding

from kubeflow_tui.progress import Progress
from kubeflow_tui.tui import _compat
from kubeflow_tui.tui.commands import KubeflowCommands

if TYPE_CHECKING:
    from textual.screen import Screen

    from kubeflow_tui.lessons import Lesson
    from kubeflow_tui.tui.engine import Engine
    from kubeflow_tui.tui.screens.flow import FlowScreen

DARK, LIGHT = "textual-dark", "textual-light"

_compat.apply()


class KubeflowApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "kubeflow-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny-w"), (60, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-tiny-h"), (20, "-tall")]
    COMMANDS = App.COMMANDS | {KubeflowCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("t", "toggle_theme", "Theme"),
        Binding("q", "quit", "Quit"),
        Binding("o", "open_scenario", "Open", show=False),
    ]

    def __init__(
        self,
        path: str | None = None,
        *,
        engine: Engine | None = None,
        lessons_dir: str | Path | None = None,
        progress: Progress | None = None,
        start: str = "auto",  # "auto": the path, else where the learner left off; "home": the list
    ) -> None:
        super().__init__()
        self.path = path
        if engine is None:
            from kubeflow_tui.tui.engine import default_engine

            engine = default_engine()
        self.engine: Engine = engine
        self.lessons_dir = lessons_dir
        self._lessons: list[Lesson] | None = None  # read when first needed (``lessons``)
        self._lesson_errors: list[str] = []
        self.progress = progress if progress is not None else Progress.load()
        self.start = start
        self._announced_done: set[str] = set()
        self._quiz_offered: set[str] = set()
        self._start_error: tuple[str, str] | None = None
        theme = self.progress.data.get("theme")
        if theme in (DARK, LIGHT):
            self.theme = theme

    # ------------------------------------------------------------------ startup
    @property
    def lessons(self) -> list[Lesson]:
        """The lessons of the lessons folder, in order (read on first use)."""
        if self._lessons is None:
            self.reload_lessons()
        return self._lessons  # type: ignore[return-value]

    @property
    def lesson_errors(self) -> list[str]:
        if self._lessons is None:
            self.reload_lessons()
        return self._lesson_errors

    def reload_lessons(self) -> None:
        from kubeflow_tui import lessons as lessons_mod

        first = self._lessons is None
        try:
            self._lessons, self._lesson_errors = lessons_mod.discover(self.lessons_dir)
        except Exception as exc:  # a broken lessons dir must not stop the app
            self._lessons, self._lesson_errors = [], [str(exc)]
        if first and self._lesson_errors and self.is_running:
            self._notify_lesson_errors()

    def _notify_lesson_errors(self) -> None:
        self.notify("\n".join(self._lesson_errors)[:500], title="Some lessons could not be read",
                    severity="warning", timeout=10)

    def get_default_screen(self) -> Screen:
        """The first screen: the lesson or scenario asked for, else where the learner left
        off, else the lesson list (the list is not made when the app opens elsewhere)."""
        screen: Screen | None = None
        try:
            if self.path:
                screen = self.path_screen(self.path)
            elif self.start == "auto":
                screen = self.resume_screen()
        except Exception as exc:  # never fail to open: show the lesson list and the error
            self._start_error = ("Cannot open this", f"{exc.__class__.__name__}: {exc}")
            screen = None
        if screen is None:
            from kubeflow_tui.tui.screens.home import HomeScreen

            screen = HomeScreen()
        return screen

    def on_mount(self) -> None:
        if self.progress.notice:
            self.notify(self.progress.notice, title="Progress", severity="warning", timeout=15)
        if self._lessons is not None and self._lesson_errors:
            self._notify_lesson_errors()
        if self._start_error is not None:
            self.show_error(*self._start_error)
            self._start_error = None

    def resume_screen(self) -> Screen | None:
        """The lesson the learner was on (or the first lesson), at the step they left."""
        from kubeflow_tui import lessons as lessons_mod

        last = self.progress.last
        if self._lessons is not None:
            candidates: list[Any] = list(self._lessons)
        else:  # read only the lesson to open, not the whole folder
            files = lessons_mod.lesson_files(self.lessons_dir)
            candidates = [p for p in files if p.stem == last] + files
        for item in candidates:
            if isinstance(item, Path):
                try:
                    lesson = lessons_mod.parse_lesson(item)
                except lessons_mod.LessonError:
                    continue
            else:
                lesson = item
            if lesson.id == last:
                entry = self.progress.lesson(lesson.id)
                return self.lesson_screen(lesson, flow=entry.get("flow"), step=int(entry.get("step", 0) or 0))
            return self.lesson_screen(lesson)
        return None

    def resume(self) -> None:
        screen = self.resume_screen()
        if screen is not None:
            self._leave_flow()
            self.push_screen(screen)

    def path_screen(self, path: str) -> Screen | None:
        """The screen for a lesson (.md) or scenario path; ``None`` (and the error shown) if
        the lesson file cannot be read.  A scenario is loaded by its screen, after its first frame."""
        if path.endswith(".md"):
            from kubeflow_tui import lessons as lessons_mod

            try:
                lesson = lessons_mod.parse_lesson(path)
            except lessons_mod.LessonError as exc:
                self._start_error = ("Cannot open this lesson", str(exc))
                return None
            return self.lesson_screen(lesson)
        from kubeflow_tui.tui.screens.flow import FlowScreen

        return FlowScreen(None, source=path)

    def open_path(self, path: str) -> None:
        screen = self.path_screen(path)
        if screen is None:
            if self._start_error is not None:
                self.show_error(*self._start_error)
                self._start_error = None
            return
        self._leave_flow()
        self.push_screen(screen)

    # ------------------------------------------------------------------ navigation
    def show_error(self, title: str, message: str) -> None:
        from kubeflow_tui.tui.screens.common import ErrorScreen

        self.push_screen(ErrorScreen(title, message))

    def _leave_flow(self) -> None:
        """Back to the lesson list (made now if the app opened on a lesson or scenario)."""
        from kubeflow_tui.tui.screens.home import HomeScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()
        if not isinstance(self.screen, HomeScreen):
            first = self.screen
            if not getattr(first, "_result_callbacks", True):
                # The app's first screen was not pushed, so it has no result callback, and
                # switch_screen pops one (IndexError in Textual 8.2.8): give it an empty one.
                first._push_result_callback(self, None)
            self.switch_screen(HomeScreen())

    def go_home(self) -> None:
        self._leave_flow()

    def screen_failed(self, screen: FlowScreen, title: str, message: str) -> None:
        """A flow or lesson screen could not load its scenario: back to the list, and say why."""
        if screen in self.screen_stack:
            self._leave_flow()
        self.show_error(title, message)

    def lesson_screen(self, lesson: Lesson, *, flow: str | None = None, step: int = 0) -> Screen:
        """The lesson's screen (it loads the lesson's scenario after its first frame)."""
        from kubeflow_tui.tui.screens.flow import LessonScreen

        self.progress.mark(lesson.id, save=True)
        return LessonScreen(lesson, flow=flow, start_step=step)

    def open_lesson(self, lesson: Lesson, *, flow: str | None = None, step: int = 0) -> None:
        self._leave_flow()
        self.push_screen(self.lesson_screen(lesson, flow=flow, step=step))

    def open_lesson_relative(self, lesson: Lesson, delta: int) -> None:
        ids = [l.id for l in self.lessons]
        if lesson.id not in ids:
            return
        i = ids.index(lesson.id) + delta
        if 0 <= i < len(self.lessons):
            self.open_lesson(self.lessons[i])
        else:
            self.notify("No more lessons that way.", timeout=3)

    def open_scenario_path(self, path: str) -> None:
        from kubeflow_tui.tui.screens.flow import FlowScreen

        self._leave_flow()
        self.push_screen(FlowScreen(None, source=path))

    # ------------------------------------------------------------------ progress
    def save_position(self, lesson: Lesson, flow: str, step: int) -> None:
        self.progress.mark(lesson.id, flow=flow, step=step)
        if self.progress.notice and "save" in self.progress.notice:
            self.notify(self.progress.notice, severity="warning", timeout=8)
            self.progress.notice = ""

    def lesson_flow_done(self, lesson: Lesson, flow: str) -> None:
        """The learner reached the end of one of the lesson's flows.

        When every flow has been seen the lesson's quiz is offered; the lesson is done
        when the quiz is passed (or at once if the lesson has no questions).
        """
        entry = self.progress.lesson(lesson.id)
        seen = set(entry.get("flows_done", [])) | {flow}
        if flow in entry.get("flows_done", []) and (entry.get("status") == "done" or lesson.id in self._quiz_offered):
            return
        all_done = all(f in seen for f in lesson.flows)
        self.progress.mark(lesson.id, flow=flow, flow_done=flow)
        if not all_done:
            rest = [f for f in lesson.flows if f not in seen]
            self.notify(f"Flow {flow} done. Next: press f for {rest[0]}.", timeout=5)
            return
        if self.progress.status(lesson.id) == "done" or lesson.id in self._quiz_offered:
            return
        if self.progress.quiz(f"lesson:{lesson.id}").get("passed"):
            self.lesson_done(lesson)
            return
        from kubeflow_tui.tui.screens.common import ConfirmScreen
        from kubeflow_tui.tui.screens.flow import LessonScreen

        self._quiz_offered.add(lesson.id)
        screen = self.screen

        def answer(yes: Any) -> None:
            if yes and isinstance(self.screen, LessonScreen) and self.screen.lesson.id == lesson.id:
                self.open_lesson_quiz(lesson, self.screen.scenario)
            elif not yes:
                self.notify("Press z when you are ready for the quiz.", timeout=4)

        if isinstance(screen, LessonScreen):
            self.push_screen(ConfirmScreen(
                "All flows of this lesson seen",
                "Answer a few questions about what you watched? The lesson is done when the quiz is "
                "passed. (You can also press z at any time.)", yes="Take the quiz", no="Later"), answer)

    def lesson_done(self, lesson: Lesson) -> None:
        self.progress.mark(lesson.id, done=True)
        if lesson.id not in self._announced_done:
            self._announced_done.add(lesson.id)
            last = self.lessons[-1].id if self.lessons else lesson.id
            nxt = "  ] opens the next lesson." if lesson.id != last else "  That was the last lesson."
            self.notify(f"Lesson {lesson.number} done.{nxt}", title="✓", timeout=5)

    # ------------------------------------------------------------------ quizzes
    def _generated_questions(self, scenario: Any, flows: list[str]) -> list[Any]:
        fn = getattr(self.engine, "quiz_questions", None)
        if fn is not None:
            qs = fn(scenario, flows)
        else:
            from kubeflow_tui.quiz import generate_questions

            qs = []
            for f in flows:
                qs += generate_questions(self.engine.run_flow(scenario, f))
        return pick_questions(qs, flows)

    def open_quiz(self, scenario: Any, flows: list[str], *, title: str, record_key: str,
                  on_finish: Any = None, extra: list[Any] | None = None, then: Any = None) -> bool:
        from kubeflow_tui.tui.screens.quiz import QuizScreen

        try:
            questions = self._generated_questions(scenario, flows) + list(extra or [])
        except Exception as exc:
            self.show_error("Cannot make the quiz", f"{exc.__class__.__name__}: {exc}")
            return False
        if not questions:
            self.notify("These flows give no questions to ask.", timeout=4)
            return False
        self.push_screen(QuizScreen(questions, title=title, record_key=record_key, on_finish=on_finish),
                         (lambda _score: then()) if then is not None else None)
        return True

    def open_lesson_quiz(self, lesson: Lesson, scenario: Any) -> None:
        """The lesson's quiz: questions from its flows (+ authored ones), then commands, then cases."""
        from kubeflow_tui import lessons as lessons_mod

        try:
            mc, cmds = lessons_mod.authored_questions(lesson, scenario)
            cases = lessons_mod.case_paths(lesson)
        except lessons_mod.LessonError as exc:
            self.notify(str(exc), title="The lesson's own questions cannot be used", severity="warning",
                        timeout=8)
            mc, cmds, cases = [], [], []

        def finished(score: Any) -> None:
            from kubeflow_tui.progress import passed

            if passed(score.right, score.total):
                self.lesson_done(lesson)

        def after_commands() -> None:
            if cases:
                self.open_case_list(cases, title=f"Lesson {lesson.number}: troubleshooting cases")

        def after_quiz() -> None:
            if cmds:
                from kubeflow_tui.quiz import scenario_state
                from kubeflow_tui.tui.screens.quiz import CommandQuizScreen

                make = scenario_state(scenario, flows=lesson.flows)
                self.push_screen(CommandQuizScreen(cmds, make, title=f"Lesson {lesson.number}: commands",
                                                   record_key=f"commands:{lesson.id}"),
                                 lambda _r: after_commands())
            else:
                after_commands()

        title = f"Lesson {lesson.number} quiz" if lesson.number else f"Quiz: {lesson.title}"
        if not self.open_quiz(scenario, list(lesson.flows), title=title, record_key=f"lesson:{lesson.id}",
                              on_finish=finished, extra=mc, then=after_quiz):
            if self.progress.status(lesson.id) != "done" and all(
                    f in self.progress.lesson(lesson.id).get("flows_done", []) for f in lesson.flows):
                self.lesson_done(lesson)
            after_quiz()

    def open_case_list(self, paths: list[Path] | None = None, *, title: str = "Troubleshooting cases") -> None:
        from kubeflow_tui.quiz import list_cases
        from kubeflow_tui.tui.screens.common import PickerScreen

        paths = list(paths) if paths is not None else list_cases()
        if not paths:
            self.notify("No troubleshooting cases found.", severity="warning")
            return
        choices = []
        for p in paths:
            mark = "✓" if self.progress.quiz(f"case:{p.stem}").get("solved") else "·"
            choices.append((p, f"{mark} {p.stem}  {_case_title(p)}"))

        def chosen(path: Any) -> None:
            if path:
                self.open_case(path)

        self.push_screen(PickerScreen(title + "  (✓ solved)", choices), chosen)

    def open_case(self, path: str | Path) -> None:
        from kubeflow_tui.tui.screens.case import CaseScreen

        try:
            screen = CaseScreen(Path(path))
        except Exception as exc:
            self.show_error("Cannot open this case", f"{exc}")
            return
        self.push_screen(screen)

    def open_interview(self) -> None:
        from kubeflow_tui.tui.screens.interview import InterviewScreen

        try:
            screen = InterviewScreen()
        except Exception as exc:
            self.show_error("Cannot start the interview", f"{exc.__class__.__name__}: {exc}")
            return
        self.push_screen(screen)

    # ------------------------------------------------------------------ actions
    def action_help(self) -> None:
        from kubeflow_tui.tui.screens.common import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = DARK if "light" in (self.theme or "") else LIGHT
        self.progress.data["theme"] = self.theme
        self.progress.save()
        # the widgets bake component styles into their text: redraw them
        from kubeflow_tui.tui.screens.flow import FlowScreen

        for screen in self.screen_stack:
            if isinstance(screen, FlowScreen):
                self.call_after_refresh(screen.redraw)

    def action_open_scenario(self) -> None:
        from kubeflow_tui import lessons as lessons_mod
        from kubeflow_tui.tui.screens.common import OpenScenarioScreen

        if isinstance(self.screen, OpenScenarioScreen):
            return
        d = lessons_mod.scenarios_dir()
        bundled = sorted(d.glob("*.y*ml")) if d.is_dir() else []

        def done(path: Any) -> None:
            if path:
                self.open_scenario_path(str(path))

        self.push_screen(OpenScenarioScreen(bundled), done)

    def pop_screen(self):  # type: ignore[override]
        # A modal dismissed twice by keys typed faster than the UI (enter, enter in the
        # command palette) must not take the app down.
        if len(self.screen_stack) <= 1:
            from textual.await_complete import AwaitComplete

            return AwaitComplete()
        return super().pop_screen()

    def action_command_palette(self) -> None:
        try:
            super().action_command_palette()
        except Exception:  # pressed again while the previous palette is still closing
            pass

    async def action_quit(self) -> None:
        from kubeflow_tui.tui.screens.flow import LessonScreen

        scr = self.screen
        if isinstance(scr, LessonScreen):
            self.save_position(scr.lesson, scr.flow, scr.position)
        self.exit(0)


#: at most this many generated questions per quiz (a lesson can generate 30+)
QUIZ_LIMIT = 10


def pick_questions(questions: list[Any], flows: list[str], limit: int = QUIZ_LIMIT) -> list[Any]:
    """A varied subset: round-robin over (kind, flow) groups, then in lesson order.

    Same questions in, same subset out (no randomness), so a quiz is reproducible.
    """
    if len(questions) <= limit:
        return list(questions)
    groups: dict[tuple[str, str], list[Any]] = {}
    for q in questions:
        groups.setdefault((q.kind, q.flow), []).append(q)
    order = list(groups)
    picked: list[Any] = []
    rnd = 0
    while len(picked) < limit:
        took = False
        for key in order:
            g = groups[key]
            if rnd < len(g) and len(picked) < limit:
                picked.append(g[rnd])
                took = True
        if not took:
            break
        rnd += 1
    rank = {f: i for i, f in enumerate(flows)}
    return sorted(picked, key=lambda q: (rank.get(q.flow, len(rank)), q.step_index))


def _case_title(path: Path) -> str:
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return str(data.get("title", "")) if isinstance(data, dict) else ""
    except Exception:
        return ""


def run_app(path: str | None = None) -> int:
    """Run the app; returns the process exit code."""
    if path is not None and not Path(path).exists():
        print(f"kubeflow-tui: {path}: no such file", file=sys.stderr)
        return 2
    app = KubeflowApp(path)
    result = app.run()
    return int(result or 0) if app.return_code is None else int(app.return_code)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print("usage: python -m kubeflow_tui.tui.app [scenario.yaml | lesson.md]")
        return 0
    return run_app(args[0] if args else None)


if __name__ == "__main__":
    sys.exit(main())
