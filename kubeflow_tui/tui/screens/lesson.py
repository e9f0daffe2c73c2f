"""The lesson screen: a lesson's Markdown beside (wide) or in a tab (narrow) of its flows.

A lesson's "Check yourself" answer keys (``Lesson.answers``) are not in its text: where
each one was, the text says to press ``a``, which opens :class:`~kubeflow_tui.tui.screens.answer.AnswerScreen`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from kubeflow_tui.tui.messages import LessonFlowDone, OpenLesson, OpenLessonQuiz, SavePosition
from kubeflow_tui.tui.screens.flow import FlowScreen
from kubeflow_tui.tui.screens.flow.screen import needs_trace

if TYPE_CHECKING:
    from kubeflow_tui.lessons import Lesson


class LessonScreen(FlowScreen):
    """A lesson: its Markdown beside (wide) or in a tab (narrow) of the live flow."""

    HELP_TITLE = "A lesson and its flows"
    BINDINGS = [
        Binding("right_square_bracket", "lesson(1)", "Next lesson", tooltip="Open the next lesson",
                id="lesson.next", show=False),
        Binding("left_square_bracket", "lesson(-1)", "Prev lesson", tooltip="Open the previous lesson",
                id="lesson.prev", show=False),
        Binding("a", "answer", "Answer", tooltip="The answer to the lesson's Check yourself question",
                id="lesson.answer", show=False),
    ]
    #: where an answer key was, the lesson text says how to see it
    ANSWER_NOTE = "> *Answer: press* **a** *once you have yours.*"

    def __init__(self, lesson: Lesson, scenario: Any = None, *, flow: str | None = None, start_step: int = 0,
                 seed: int | None = None, seen: set[str] | None = None) -> None:
        """``scenario`` ``None``: the lesson's scenario is loaded after the first frame;
        ``seen``: the flows the learner has watched to the end (from their progress)."""
        flows = list(lesson.flows)
        super().__init__(scenario, flow if flow in flows else flows[0], source=str(lesson.scenario), flows=flows,
                         seed=seed, start_step=start_step)
        self.lesson = lesson
        self.seen: set[str] = set(seen or ())
        self._shown_flow = False

    @needs_trace
    def action_quiz(self) -> None:
        self.stop_playing()
        self.post_message(OpenLessonQuiz(self.lesson, self.scenario))

    def flow_choices(self) -> list[tuple[str, str]]:
        return [(f, ("✓ " if f in self.seen else "· ") + label) for f, label in super().flow_choices()]

    def next_flow(self) -> str:
        """The first flow not seen yet after the current one (else the current one)."""
        flows = list(self.flows)
        i = flows.index(self.flow) if self.flow in flows else -1
        for f in flows[i + 1:] + flows[: i + 1]:
            if f not in self.seen:
                return f
        return self.flow

    def lesson_markdown(self) -> str | None:
        if self.lesson.answers:
            return self.lesson.body_with_answer_note(self.ANSWER_NOTE)
        return self.lesson.body

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and not self.lesson.answers:
            return False  # this lesson asks no Check yourself question
        return super().check_action(action, parameters)

    def action_answer(self) -> None:
        from kubeflow_tui.tui.screens.answer import AnswerScreen

        self.stop_playing()
        self.app.push_screen(AnswerScreen(self.lesson))

    def load_error(self, exc: BaseException) -> tuple[str, str]:
        return (f"Lesson {self.lesson.number} cannot start",
                f"{exc}\n\n(scenario: {self.lesson.scenario_ref})")

    def title_text(self) -> str:
        n = self.lesson.number
        head = f"Lesson {n}: " if n else ""
        base = super().title_text().split(" › ", 1)[-1]
        return f"{head}{self.lesson.title} › {base}"

    def on_flow_end(self) -> None:
        if self.flow in self.lesson.flows:
            self.seen.add(self.flow)
            self.post_message(LessonFlowDone(self.lesson, self.flow))

    def _show_flow_once(self) -> None:
        # On a small screen the lesson text hides the flow: the first step shows the
        # chain walk (once), and says how to get the text back.
        if not self._shown_flow and self.has_class("-narrow") and not self._typing() and self.panel == "lesson":
            self.panel = "chain"
            self.notify("Showing the chain walk. Press 1 to read the lesson again.", timeout=4)
        self._shown_flow = True

    @needs_trace
    def action_step(self, delta: int) -> None:
        self._show_flow_once()
        super().action_step(delta)

    @needs_trace
    def action_jump(self, where: str) -> None:
        self._show_flow_once()
        super().action_jump(where)

    def save_position(self) -> None:
        self.app.post_message(SavePosition(self.lesson, self.flow, self.position))

    def on_unmount(self) -> None:
        # (FlowScreen.on_unmount runs too: Textual calls each class's handler)
        self.save_position()

    def action_lesson(self, delta: int) -> None:
        self.save_position()
        self.post_message(OpenLesson(self.lesson, delta))

