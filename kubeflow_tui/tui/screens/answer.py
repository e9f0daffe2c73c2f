"""A lesson's "Check yourself" answer keys, shown on request (``a`` on the lesson screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from kubeflow_tui.tui.screens.common import Modal

if TYPE_CHECKING:
    from kubeflow_tui.lessons import Lesson


class AnswerScreen(Modal):
    """A lesson's "Check yourself" questions with their answer keys."""

    HELP_TITLE = "A lesson's answer key"
    BINDINGS = [
        Binding("escape,a,enter,q", "close", "Close", tooltip="Back to the lesson", id="answer.close"),
    ]
    DEFAULT_CSS = """
    AnswerScreen .dialog { width: 100%; max-width: 100; height: auto; max-height: 90%; }
    AnswerScreen #answer-body { height: auto; max-height: 80vh; }
    AnswerScreen #answer-md { margin: 0; }
    """

    def __init__(self, lesson: Lesson) -> None:
        super().__init__()
        self.lesson = lesson

    def markdown(self) -> str:
        parts = []
        for item in self.lesson.answers:
            prompt = "\n".join(f"> {line}" if line else ">" for line in item.prompt.splitlines())
            parts.append(f"{prompt}\n\n{item.answer}")
        return "\n\n---\n\n".join(parts)

    def compose(self) -> ComposeResult:
        from kubeflow_tui.tui.widgets.lesson_markdown import LessonMarkdown

        with Vertical(classes="dialog"):
            yield Static("Check yourself: the answer  (esc closes)", classes="dialog-title")
            with VerticalScroll(id="answer-body"):
                yield LessonMarkdown(self.markdown(), id="answer-md")

    def on_mount(self) -> None:
        self.query_one("#answer-body").focus()

    def action_close(self) -> None:
        self.close(None)
