"""The Textual app: ``KubeflowApp`` and ``run_app``.

``python -m kubeflow_tui.tui.app [scenario.yaml | lesson.md]`` runs it directly.

Start-up is kept short: the screen the learner asked for (a lesson, a scenario, or where
they left off) is the app's first screen (the lesson list is made only when they go
there), the lesson list is read when it is first needed, and the engine (pydantic
scenario loading, kube-proxy's rules, the flow's Trace) runs after the first frame (see
``FlowScreen``: its engine workers).  Screens and the engine's modules are imported where they are used.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding

from kubeflow_tui.progress import Progress
from kubeflow_tui.tui import messages

if TYPE_CHECKING:
    from textual.screen import Screen

    from kubeflow_tui.lessons import Lesson
    from kubeflow_tui.tui.engine import Engine

DARK, LIGHT = "textual-dark", "textual-light"


def _commands_provider() -> type:
    """The command palette's provider, imported when the palette first opens."""
    from kubeflow_tui.tui.commands import KubeflowCommands

    return KubeflowCommands


class KubeflowApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "kubeflow-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny-w"), (60, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-tiny-h"), (20, "-tall")]
    COMMANDS = App.COMMANDS | {_commands_provider}
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", tooltip="Every key, where you are and elsewhere",
                id="app.help"),
        Binding("q", "quit", "Quit", tooltip="Quit (your progress is saved)", id="app.quit"),
        Binding("t", "toggle_theme", "Theme", tooltip="Light / dark theme", id="app.theme", show=False),
        Binding("o", "open_scenario", "Open", tooltip="Open a scenario file", id="app.open", show=False),
    ]
    #: where the help screen looks for the keys of the places the learner is not in now
    #: (module, class): each class's own BINDINGS, titled by its HELP_TITLE
    HELP_PLACES = [
        ("kubeflow_tui.tui.screens.home", "HomeScreen"),
        ("kubeflow_tui.tui.screens.flow", "FlowScreen"),
        ("kubeflow_tui.tui.screens.lesson", "LessonScreen"),
        ("kubeflow_tui.tui.widgets.shell_pane", "ShellInput"),
        ("kubeflow_tui.tui.screens.ruleset", "RulesetScreen"),
        ("kubeflow_tui.tui.screens.both_modes", "BothModesScreen"),
        ("kubeflow_tui.tui.screens.quiz", "QuestionPanel"),
        ("kubeflow_tui.tui.screens.quiz", "QuizScreen"),
        ("kubeflow_tui.tui.screens.case", "CaseScreen"),
    ]

    def __init__(
        self,
        path: str | None = None,
        *,
        engine: Engine | None = None,
        lessons_dir: str | Path | None = None,
        progress: Progress | None = None,
        start: str = "auto",  # "auto": the path, else where the learner left off; "home": the list
        classroom: Any = None,  # a served class (kubeflow_tui.classroom.Classroom): sign in first
        high_contrast: bool = False,
        proxy_mode: str | None = None,  # --proxy-mode: kube-proxy's mode for every scenario opened
    ) -> None:
        super().__init__()
        self.proxy_mode = proxy_mode
        self.classroom = classroom
        self.high_contrast = high_contrast
        self._session_started: float | None = None  # when the learner's session began
        self.path = path
        self._engine = engine  # None: the real engine, made when first used (after the first frame)
        self.lessons_dir = lessons_dir
        self._lessons: list[Lesson] | None = None  # read when first needed (``lessons``)
        self._lesson_errors: list[str] = []
        if progress is None and classroom is not None:
            # a served class: nobody's progress until a student signs in (never the server
            # user's own file, which every student would share)
            progress = Progress.at(classroom.folder / "before-sign-in.json")
        self.progress = progress if progress is not None else Progress.load()
        self.start = start
        self.announced_done: set[str] = set()
        self.quiz_offered: set[str] = set()
        self._start_error: tuple[str, str] | None = None
        self._gc_paused = False  # (see run_async)
        theme = self.progress.data.get("theme")
        if theme in (DARK, LIGHT):
            self.theme = theme

    # ------------------------------------------------------------------ startup
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from kubeflow_tui.tui.engine import default_engine

            self._engine = default_engine(self.proxy_mode)
        return self._engine

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

    def first_screen(self) -> Screen:
        """The first screen: the lesson or scenario asked for, else where the learner left
        off, else the lesson list (the list is not made when the app opens elsewhere).

        It is pushed over the app's default (empty) screen, so that every screen the
        learner meets was pushed and can be switched or popped."""
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

    async def run_async(self, *args: Any, **kwargs: Any) -> int | None:
        # Start-up makes thousands of objects that live as long as the app (widgets, styles,
        # CSS rules), and the cyclic GC walked them again and again: a full collection cost
        # ~16 ms just before the first frame.  It is paused until that frame is out.
        paused = gc.isenabled()
        gc.disable()
        self._gc_paused = paused
        try:
            return await super().run_async(*args, **kwargs)
        finally:
            self._resume_gc()

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    async def on_mount(self) -> None:
        from kubeflow_tui import session_limits

        if session_limits.active():  # served: tell the session's watchdog the loop is alive
            self.set_interval(1.0, session_limits.beat)
        if self.high_contrast:
            from kubeflow_tui.tui.themes import high_contrast_theme

            theme = high_contrast_theme()
            self.register_theme(theme)
            self.theme = theme.name
        if self.classroom is not None:
            from kubeflow_tui.tui.screens.sign_in import SignInScreen

            # no key is handled before the form is there to take it (see sign_in.py)
            await self.push_screen(SignInScreen(self.classroom), self._signed_in)
            return
        self._begin()

    def _signed_in(self, who: Any) -> None:
        """A served class: the student's own progress from now on (or the teacher's view)."""
        if who == "teacher":
            from kubeflow_tui.tui.screens.teacher import TeacherScreen

            self.push_screen(TeacherScreen(self.classroom))
            return
        self.progress = who.progress()
        self._begin()
        self.notify(f"Signed in as {who.name}; your progress is saved as you go.", timeout=4)

    def on_unmount(self) -> None:
        if self._session_started is not None:  # time spent counts for the class report
            import time

            self.progress.add_time(time.monotonic() - self._session_started)

    def _begin(self) -> None:
        import time

        self._session_started = time.monotonic()
        self.push_screen(self.first_screen())
        self.call_after_refresh(self._resume_gc)  # after the first frame (see run_async)
        if self.progress.notice:
            self.notify(self.progress.notice, title="Progress", severity="warning", timeout=15)
            self.progress.notice = ""  # told once (save_progress tells of later problems)
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
        from kubeflow_tui.tui import quiz_runner

        if quiz_runner.looks_like_case(path):  # a troubleshooting case: the incident screen
            try:
                return quiz_runner.case_screen(path)
            except Exception as exc:  # a broken case file: its error, file:line:col
                self._start_error = ("Cannot open this case", str(exc))
                return None
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

        while len(self.screen_stack) > 2 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()
        if not isinstance(self.screen, HomeScreen):
            self.switch_screen(HomeScreen())

    def go_home(self) -> None:
        self.clear_notifications()  # (they were about the screen left)
        self._leave_flow()

    def on_screen_failed(self, message: messages.ScreenFailed) -> None:
        """A flow or lesson screen could not load its scenario: back to the list, and say why."""
        self._leave_flow()
        self.show_error(message.title, message.message)

    def on_go_home(self, _message: messages.GoHome) -> None:
        self.go_home()

    def on_open_lesson(self, message: messages.OpenLesson) -> None:
        if message.delta:
            self.open_lesson_relative(message.lesson, message.delta)
        else:
            self.open_lesson(message.lesson)

    # the lesson list's other entries (the home screen posts these)
    def on_open_cases(self, _message: messages.OpenCases) -> None:
        self.open_case_list()

    def on_open_practice(self, _message: messages.OpenPractice) -> None:
        from kubeflow_tui.tui import quiz_runner

        quiz_runner.open_practice(self)

    def on_open_interview(self, _message: messages.OpenInterview) -> None:
        self.open_interview()

    def on_open_scenario_file(self, _message: messages.OpenScenarioFile) -> None:
        self.action_open_scenario()

    def on_save_position(self, message: messages.SavePosition) -> None:
        self.save_position(message.lesson, message.flow, message.step)

    def on_lesson_flow_done(self, message: messages.LessonFlowDone) -> None:
        self.lesson_flow_done(message.lesson, message.flow)

    def on_open_quiz(self, message: messages.OpenQuiz) -> None:
        self.open_quiz(message.scenario, message.flows, title=message.title, record_key=message.record_key)

    def on_open_lesson_quiz(self, message: messages.OpenLessonQuiz) -> None:
        self.open_lesson_quiz(message.lesson, message.scenario)

    def lesson_screen(self, lesson: Lesson, *, flow: str | None = None, step: int = 0) -> Screen:
        """The lesson's screen (it loads the lesson's scenario after its first frame)."""
        from kubeflow_tui.tui.screens.lesson import LessonScreen

        # saved by the screen after its first frame (a save waits for the disk: fsync)
        self.progress.mark(lesson.id, save=False)
        seen = set(self.progress.lesson(lesson.id).get("flows_done", []))
        return LessonScreen(lesson, flow=flow, start_step=step, seen=seen)

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
        self.progress.mark(lesson.id, flow=flow, step=step, save=False)
        self.save_progress()

    def save_progress(self) -> None:
        self.progress.save()
        if self.progress.notice and "save" in self.progress.notice:
            self.notify(self.progress.notice, severity="warning", timeout=8)
            self.progress.notice = ""

    # ------------------------------------------------------------------ quizzes, cases, interview
    # (in ``quiz_runner``: imported when first needed, not at start-up)
    def lesson_flow_done(self, lesson: Lesson, flow: str) -> None:
        from kubeflow_tui.tui import quiz_runner

        quiz_runner.lesson_flow_done(self, lesson, flow)

    def lesson_done(self, lesson: Lesson) -> None:
        from kubeflow_tui.tui import quiz_runner

        quiz_runner.lesson_done(self, lesson)

    def open_quiz(self, scenario: Any, flows: list[str], *, title: str, record_key: str,
                  on_finish: Any = None, extra: list[Any] | None = None, then: Any = None) -> bool:
        from kubeflow_tui.tui import quiz_runner

        return quiz_runner.open_quiz(self, scenario, flows, title=title, record_key=record_key, on_finish=on_finish,
                                 extra=extra, then=then)

    def open_lesson_quiz(self, lesson: Lesson, scenario: Any) -> None:
        from kubeflow_tui.tui import quiz_runner

        quiz_runner.open_lesson_quiz(self, lesson, scenario)

    def open_case_list(self, paths: list[Path] | None = None, *, title: str = "Troubleshooting cases") -> None:
        from kubeflow_tui.tui import quiz_runner

        quiz_runner.open_case_list(self, paths, title=title)

    def open_case(self, path: str | Path) -> None:
        from kubeflow_tui.tui import quiz_runner

        quiz_runner.open_case(self, path)

    def open_interview(self) -> None:
        from kubeflow_tui.tui import quiz_runner

        quiz_runner.open_interview(self)

    # ------------------------------------------------------------------ actions
    def help_text(self, screen: Screen) -> str:
        """The help screen's text: the keys that work on ``screen`` now, then the keys of
        the other places (all read from the bindings)."""
        from importlib import import_module

        from kubeflow_tui.tui import keys
        from kubeflow_tui.tui.widgets.shell_pane import HELP_EXTRA

        sections = keys.active_sections(screen)
        here = {title for title, _ in sections}
        for module, name in self.HELP_PLACES:
            cls = getattr(import_module(module), name)
            title = keys.title_of(cls)
            rows = keys.class_rows(self, cls)
            if title not in here and rows:
                here.add(title)
                sections.append((title, rows))
        text = keys.help_text(sections, notes={"Shell pane (s)": HELP_EXTRA})
        return text + ("\nctrl+p opens the command palette: every action here, the lessons and the scenarios.\n"
                       "The packet, the rules and conntrack come from the engine's trace; the app only shows them.")

    def action_help(self) -> None:
        from kubeflow_tui.tui.screens.common import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_text(self.screen)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette's actions: every binding active on ``screen`` (by its
        tooltip, with its keys), then Textual's own commands."""
        from functools import partial

        from kubeflow_tui.tui import keys

        for _title, rows in keys.active_sections(screen):
            for row in rows:
                if row.enabled:
                    yield SystemCommand(row.what, f"key: {row.keys}", partial(self.run_action, row.action, row.node))
        for command in super().get_system_commands(screen):
            if command.title != "Quit":  # (q is one of the bindings above)
                yield command

    def action_toggle_theme(self) -> None:
        # dark -> light -> dark; the high-contrast theme (--high-contrast) goes to light first
        self.theme = DARK if "light" in (self.theme or "") else LIGHT
        self.progress.data["theme"] = self.theme
        self.progress.save()  # (the widgets that draw with the theme's colours follow theme_changed_signal)

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
        if len(self.screen_stack) <= 2:  # (the default screen, and the first screen pushed on it)
            from textual.await_complete import AwaitComplete

            return AwaitComplete()
        return super().pop_screen()

    def action_command_palette(self) -> None:
        try:
            super().action_command_palette()
        except Exception:  # pressed again while the previous palette is still closing
            pass

    async def action_quit(self) -> None:
        from kubeflow_tui.tui.screens.lesson import LessonScreen

        for scr in self.screen_stack:
            if isinstance(scr, LessonScreen):
                self.save_position(scr.lesson, scr.flow, scr.position)
        self.exit(0)


def run_app(path: str | None = None, *, classroom: Any = None, high_contrast: bool = False,
            proxy_mode: str | None = None) -> int:
    """Run the app; returns the process exit code."""
    if path is not None and not Path(path).exists():
        print(f"kubeflow-tui: {path}: no such file", file=sys.stderr)
        return 2
    app = KubeflowApp(path, classroom=classroom, high_contrast=high_contrast, proxy_mode=proxy_mode)
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
