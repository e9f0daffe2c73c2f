"""The quiz screen, and the question panel the case and interview screens reuse.

``QuizScreen(questions, *, title="Quiz", record_key=None)``: one question at a time
(prompt, options in an OptionList, the explanation after answering), then the score and
what to review.  ``enter`` picks the highlighted option, ``n`` (or ``enter`` again) goes
on, ``escape`` leaves.  The screen is dismissed with its
:class:`~kubeflow_tui.quiz.Score`; with ``record_key`` (``"quiz:<scenario>"``) the
result is also stored in the learner's progress.
"""

from __future__ import annotations

from typing import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from kubeflow_tui.quiz.model import Question, Result, Score, grade

QUIZ_CSS = """
QuestionPanel { height: auto; }
QuestionPanel .q-prompt { margin: 0 0 1 0; }
QuestionPanel OptionList { height: auto; max-height: 12; }
QuestionPanel .q-feedback { margin: 1 0 0 0; color: $text-muted; }
QuestionPanel .q-feedback.-right { color: $success; }
QuestionPanel .q-feedback.-wrong { color: $warning; }
.quiz-head { text-style: bold; margin: 0 0 1 0; }
.quiz-body { padding: 0 1; }
"""


class QuestionPanel(Vertical):
    """A question, its options and, once answered, the explanation."""

    class Answered(Message):
        def __init__(self, panel: "QuestionPanel", question: Question, result: Result) -> None:
            super().__init__()
            self.panel = panel
            self.question = question
            self.result = result

    def __init__(self, question: Question | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.question = question
        self.result: Result | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="q-prompt")
        yield OptionList(classes="q-options")
        yield Static("", classes="q-feedback")

    def on_mount(self) -> None:
        if self.question is not None:
            self.show(self.question)

    def show(self, question: Question) -> None:
        self.question = question
        self.result = None
        self.query_one(".q-prompt", Static).update(question.prompt)
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options([Option(f"{i}) {o}", id=str(i - 1)) for i, o in enumerate(question.options, 1)])
        ol.disabled = False
        ol.highlighted = 0
        fb = self.query_one(".q-feedback", Static)
        fb.update("")
        fb.set_classes("q-feedback")

    def answer(self, choice: int) -> Result | None:
        if self.question is None or self.result is not None:
            return None
        self.result = grade(self.question, choice)
        fb = self.query_one(".q-feedback", Static)
        fb.update(self.result.feedback)
        fb.set_classes(["q-feedback", "-right" if self.result.correct else "-wrong"])
        ol = self.query_one(OptionList)
        ol.highlighted = self.result.answer_index
        self.post_message(self.Answered(self, self.question, self.result))
        return self.result

    class Continue(Message):
        """The learner picked an option of an already answered question: go on."""

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.result is not None:
            self.post_message(self.Continue())
        elif event.option.id is not None:
            self.answer(int(event.option.id))


class QuizScreen(Screen[Score]):
    """``QuizScreen(questions, *, title="Quiz", record_key=None)``; dismissed with the Score."""

    DEFAULT_CSS = QUIZ_CSS
    BINDINGS = [
        Binding("n", "next", "Next"),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(self, questions: Sequence[Question], *, title: str = "Quiz",
                 record_key: str | None = None) -> None:
        super().__init__()
        self.questions = list(questions)
        self.quiz_title = title
        self.record_key = record_key
        self.position = 0
        self.score = Score()
        self._recorded = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="quiz-body"):
            yield Static("", classes="quiz-head", id="quiz-head")
            yield QuestionPanel(id="quiz-question")
            yield Static("", id="quiz-score")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.quiz_title
        self._show()

    def _show(self) -> None:
        head = self.query_one("#quiz-head", Static)
        panel = self.query_one(QuestionPanel)
        if self.position >= len(self.questions):
            head.update(f"{self.quiz_title}: done")
            panel.display = False
            self.query_one("#quiz-score", Static).update(self.score.summary() + "\n\nescape: back")
            self._record()
            return
        q = self.questions[self.position]
        head.update(f"{self.quiz_title} · question {self.position + 1}/{len(self.questions)} · flow {q.flow}")
        panel.show(q)
        panel.query_one(OptionList).focus()

    @on(QuestionPanel.Answered)
    def _answered(self, event: QuestionPanel.Answered) -> None:
        self.score.add(event.question, event.result)

    @on(QuestionPanel.Continue)
    def _continue(self) -> None:
        self.action_next()

    def action_next(self) -> None:
        if self.position < len(self.questions) and self.query_one(QuestionPanel).result is not None:
            self.position += 1
            self._show()

    def _record(self) -> None:
        if self.record_key and not self._recorded:
            self._recorded = True
            from kubeflow_tui.quiz.record import record_result

            progress = getattr(self.app, "progress", None)
            try:
                record_result(self.record_key, right=self.score.right, total=self.score.total,
                              review=self.score.review(), progress=progress)
            except Exception:
                pass

    def action_leave(self) -> None:
        self.dismiss(self.score)
