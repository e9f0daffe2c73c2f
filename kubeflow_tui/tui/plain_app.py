"""Plain mode in a Textual app, so a browser can have it too (``serve --plain``).

One log of plain lines and one command line; nothing moves and nothing is redrawn but
the new lines, no box drawing, and every action is a typed command.  The session itself
is ``kubeflow_tui.plain.PlainSession`` (the same as ``kubeflow-tui --plain`` on a
terminal); engine work runs in a worker so typing never waits on it.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from rich.text import Text
from textual.widgets import Input, RichLog

from kubeflow_tui.plain import PlainSession
from kubeflow_tui.tui.themes import HIGH_CONTRAST, high_contrast_theme

class PlainApp(App[int]):
    TITLE = "kubeflow-tui (plain)"
    CSS = """
    Screen { layout: vertical; }
    #out { height: 1fr; border: none; scrollbar-size-vertical: 1; }
    #cmd { border: none; height: 1; padding: 0 0; }
    """
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", tooltip="Leave; progress is saved as you go"),
    ]

    def __init__(self, *, progress: Any = None, classroom: Any = None,
                 high_contrast: bool = False) -> None:
        super().__init__()
        self.session = PlainSession(progress)
        self.classroom = classroom
        self.high_contrast = high_contrast
        self._started: float | None = None  # when the learner's session began

    def compose(self) -> ComposeResult:
        yield RichLog(id="out", wrap=True, markup=False, highlight=False, auto_scroll=True)
        yield Input(id="cmd", placeholder="type a command and press Enter (help lists them)")

    def on_mount(self) -> None:
        from kubeflow_tui import session_limits

        if session_limits.active():  # served: tell the watchdog the loop is alive
            self.set_interval(1.0, session_limits.beat)
        if self.high_contrast:
            self.register_theme(high_contrast_theme())
            self.theme = HIGH_CONTRAST
        if self.classroom is not None:
            from kubeflow_tui.tui.screens.sign_in import SignInScreen

            self.push_screen(SignInScreen(self.classroom), self._signed_in)
        else:
            self._start()

    def _signed_in(self, who: Any) -> None:
        if who == "teacher":
            from kubeflow_tui.tui.screens.teacher import TeacherScreen

            self.push_screen(TeacherScreen(self.classroom))
            return
        self.session.progress = who.progress()
        self.write_lines([f"Signed in as {who.name}."])
        self._start()

    def on_unmount(self) -> None:
        # time spent counts for the class report
        if self.session.progress is not None and self._started is not None:
            import time

            self.session.progress.add_time(time.monotonic() - self._started)

    def _start(self) -> None:
        import time

        self._started = time.monotonic()
        self.write_lines(self.session.greeting())
        cmd = self.query_one("#cmd", Input)
        cmd.cursor_blink = False  # nothing on screen moves by itself in plain mode
        cmd.focus()

    def write_lines(self, lines: list[str]) -> None:
        log = self.query_one("#out", RichLog)
        for line in lines:
            log.write(Text(line))

    @on(Input.Submitted, "#cmd")
    def _command(self, event: Input.Submitted) -> None:
        event.input.value = ""
        self.write_lines([f"{self.session.prompt}{event.value}"])
        event.input.disabled = True
        self._run(event.value)

    @work(thread=True, exclusive=True)
    def _run(self, line: str) -> None:
        lines = self.session.handle(line)
        self.call_from_thread(self._answered, lines)

    def _answered(self, lines: list[str]) -> None:
        self.write_lines(lines)
        cmd = self.query_one("#cmd", Input)
        cmd.disabled = False
        cmd.focus()
        if self.session.done:
            self.exit(0)
