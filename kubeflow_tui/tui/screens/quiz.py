"""The quiz screen, and the question panel the case and interview screens reuse.

``QuizScreen(questions, *, title="Quiz", record_key=None)``: one question at a time
(prompt, options in an OptionList, the explanation after answering), then the score and
what to review.  ``enter`` picks the highlighted option, ``n`` (or ``enter`` again) goes
on, ``escape`` leaves.  The screen is dismissed with its
:class:`~kubeflow_tui.quiz.Score`; with ``record_key`` (``"quiz:<scenario>"``) the
result is also stored in the learner's progress.
"""

from __future__ import annotations

from typing import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from rich.text import Text
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from kubeflow_tui.tui import keys
from kubeflow_tui.quiz.model import Question, Result, Score, grade

QUIZ_CSS = """
QuestionPanel { height: auto; }
QuestionPanel .q-prompt { margin: 0 0 1 0; }
QuestionPanel OptionList { height: auto; max-height: 24; scrollbar-size-vertical: 0; }
QuestionPanel .q-feedback { margin: 1 0 0 0; color: $text-muted; }
QuestionPanel .q-feedback.-right { color: $success; }
QuestionPanel .q-feedback.-wrong { color: $warning; }
.quiz-head { text-style: bold; margin: 0 0 1 0; }
.quiz-body { padding: 0 1; }
"""


class QuestionPanel(Vertical):
    """A question, its options and, once answered, the explanation.

    The number keys answer: ``2`` picks option 2 (the options are labelled ``1)`` ...)."""

    HELP_TITLE = "Answering a question"
    BINDINGS = [
        Binding(str(n), f"answer_number({n})", f"Option {n}", tooltip=f"Answer option {n}",
                id=f"question.option{n}", show=False, group=keys.OPTIONS)
        for n in range(1, 10)
    ]

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
        self.call_after_refresh(ol.scroll_visible, animate=False)  # every option in view

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer_number":
            n = parameters[0] if parameters else 0
            return (self.question is not None and self.result is None
                    and isinstance(n, int) and 1 <= n <= len(self.question.options))
        return True

    def action_answer_number(self, n: int) -> None:
        self.query_one(OptionList).highlighted = n - 1
        self.answer(n - 1)

    def answer(self, choice: int) -> Result | None:
        if self.question is None or self.result is not None:
            return None
        self.result = grade(self.question, choice)
        fb = self.query_one(".q-feedback", Static)
        fb.update(self.result.feedback)
        fb.set_classes(["q-feedback", "-right" if self.result.correct else "-wrong"])
        ol = self.query_one(OptionList)
        ol.highlighted = self.result.answer_index
        self.call_after_refresh(fb.scroll_visible, animate=False)  # the verdict and its explanation
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
    """``QuizScreen(questions, *, title="Quiz", record_key=None)``; dismissed with the Score.

    The session is a :class:`~kubeflow_tui.quiz.flow.QuizRun`: a wrong answer comes back a
    few questions later ("asked again"), the score counts first answers, the end shows the
    per-topic review.  With ``record_key`` the run is saved (``QuizRun.save``) when finished,
    or as an attempt when left half-way."""

    DEFAULT_CSS = QUIZ_CSS
    HELP_TITLE = "Quizzes"
    BINDINGS = [
        Binding("n", "next", "Next", tooltip="Next question (enter too, once answered)", id="quiz.next"),
        Binding("escape", "leave", "Back", tooltip="Leave the quiz (the answers so far are kept)", id="quiz.leave"),
    ]

    def __init__(self, questions: Sequence[Question], *, title: str = "Quiz",
                 record_key: str | None = None, on_finish: Callable[[Score], None] | None = None,
                 intro: str = "") -> None:
        from kubeflow_tui.quiz.flow import QuizRun

        super().__init__()
        self.questions = list(questions)
        self.run = QuizRun(self.questions)
        self.quiz_title = title
        self.record_key = record_key
        self.on_finish = on_finish
        self.intro = intro
        self.finished = False
        self.score = Score()  # first answers only (what the score counts)
        self._saved = False
        self._answered: Result | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="quiz-body"):
            yield Static("", classes="quiz-head", id="quiz-head")
            if self.intro:
                yield Static(self.intro, id="quiz-intro")
            yield QuestionPanel(id="quiz-question")
            yield Static("", id="quiz-score")
            yield Static("↑↓ or 1-9 choose · enter answer, enter again: next question · esc leave",
                         id="quiz-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.quiz_title
        self._show()

    @property
    def number(self) -> int:
        """The number of the question shown (a question asked again keeps its number)."""
        q = self.run.current()
        if q is None:
            return len(self.questions)
        return self.questions.index(q) + 1 if q in self.questions else 1

    def _show(self) -> None:
        head = self.query_one("#quiz-head", Static)
        panel = self.query_one(QuestionPanel)
        self._answered = None
        if self.run.finished:
            head.update(f"{self.quiz_title}: done")
            panel.display = False
            self.query_one("#quiz-score", Static).update(self.review_text() + "\n\n" + self.end_text())
            self.query_one("#quiz-hint", Static).update("esc or enter: back")
            self.refresh_bindings()
            self._save()
            if not self.finished:
                self.finished = True
                if self.on_finish is not None:
                    self.on_finish(self.score)
            return
        q = self.run.current()
        assert q is not None
        again = " · asked again" if self.run.is_retry else ""
        head.update(f"{self.quiz_title} · question {self.number}/{len(self.questions)}{again} · flow {q.flow}")
        panel.show(q)
        panel.query_one(OptionList).focus()

    @on(QuestionPanel.Answered)
    def _answered_event(self, event: QuestionPanel.Answered) -> None:
        if self.run.finished or self._answered is not None:
            return
        retry = self.run.is_retry
        result = self.run.answer(event.result.choice)
        self._answered = result
        if not retry:
            self.score.add(event.question, result)
        if not result.correct and not retry:
            self.query_one(QuestionPanel).query_one(".q-feedback", Static).update(
                result.feedback + "\n\nThis question comes back later.")

    @on(QuestionPanel.Continue)
    def _continue(self) -> None:
        self.action_next()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next" and self.finished:
            return None  # the end: nothing comes next (enter and esc go back)
        return True

    def action_next(self) -> None:
        if self.run.finished and self.finished:
            self.action_leave()
        elif self._answered is not None:
            self._show()

    def review_text(self) -> str:
        """The score (first answers) and, per topic, how many were right (✗: to review)."""
        r = self.run.report()
        text = self.run.summary().split("\nTo review:")[0]
        if r["topics"]:
            text += "\n\nBy topic (✗ to review):"
            for topic, v in r["topics"].items():
                mark = "✓" if v["right"] == v["total"] else "✗"
                text += f"\n  {mark} {topic} ({v['right']}/{v['total']})"
        return text

    def end_text(self) -> str:
        from kubeflow_tui.progress import PASS_RATIO, passed

        if not self.run.total:
            return ""
        if passed(self.run.right, self.run.total):
            return "Passed."
        return f"Not passed yet: {round(PASS_RATIO * 100)}% right answers pass. Press z in the lesson to try again."

    def key_enter(self) -> None:
        if self.finished:
            self.action_leave()

    def _save(self) -> bool:
        """Save the run (once): finished as a result, half-way as an attempt."""
        if not self.record_key or self._saved or not self.run.attempts:
            return False
        self._saved = True
        try:
            self.run.save(self.record_key, progress=getattr(self.app, "progress", None))
        except Exception:  # progress must never break a quiz
            return False
        return True

    def action_leave(self) -> None:
        if not self.is_current:
            return
        if not self.run.finished and self._save():
            r = self.run.report()
            self.notify(f"Left after {r['total']} of {r['questions']} questions "
                        f"({r['right']} right): saved.", timeout=4)
        self.dismiss(self.score)


class PredictScreen(ModalScreen[Result | None]):
    """Predict mode's question before a decisive step: "what happens next?".

    Dismissed with the :class:`Result` (or None when skipped with escape).  After a
    wrong answer it shows what really happens and why (``reveal``: the step's ``why``)
    before going on.
    """

    DEFAULT_CSS = QUIZ_CSS + """
    PredictScreen { align: center middle; }
    #predict-box { width: 90%; max-width: 100; height: auto; max-height: 95%;
                   border: thick $accent; background: $surface; padding: 0 1; }
    #predict-reveal { margin: 1 0 0 0; }
    #predict-hint { color: $text-muted; }
    """
    HELP_TITLE = "Predict mode"
    BINDINGS = [
        Binding("escape", "skip", "Skip", tooltip="Skip this prediction", id="predict.skip"),
        Binding("n", "go_on", "Continue", tooltip="Continue the flow (enter too, once answered)",
                id="predict.continue", show=False),
    ]

    def __init__(self, question: Question, *, reveal: str = "", number: int = 0, total: int = 0) -> None:
        super().__init__()
        self.question = question
        self.reveal = reveal
        self.number = number
        self.total = total
        self.result: Result | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="predict-box"):
            head = "Predict: what happens next?"
            if self.total:
                head += f"  ({self.number}/{self.total})"
            yield Static(head, classes="quiz-head")
            yield QuestionPanel(self.question, id="predict-question")
            yield Static("", id="predict-reveal")
            yield Static("↑↓ choose · enter answer · esc skip", id="predict-hint")

    def on_mount(self) -> None:
        self.query_one("#predict-question OptionList").focus()

    @on(QuestionPanel.Answered)
    def _answered(self, event: QuestionPanel.Answered) -> None:
        event.stop()
        self.result = event.result
        if not event.result.correct:
            # the explanation is the deciding step's why; add the revealed step's own if it differs
            extra = self.reveal if self.reveal and self.reveal not in event.result.explanation else ""
            self.query_one("#predict-reveal", Static).update(
                "What really happens is shown above" + (f"; then: {extra}" if extra else ".")
                + " The flow continues from there.")
        self.query_one("#predict-hint", Static).update("enter or n: continue the flow")

    @on(QuestionPanel.Continue)
    def _continue(self, event: QuestionPanel.Continue) -> None:
        event.stop()
        self.action_go_on()

    def action_go_on(self) -> None:
        if self.result is not None and self.is_current:
            self.dismiss(self.result)

    def action_skip(self) -> None:
        if self.is_current:
            self.dismiss(self.result)


class CommandQuizScreen(Screen[Score]):
    """Questions answered by typing a command (``kubeflow_tui.quiz.CommandQuestion``).

    ``CommandQuizScreen(questions, make_sim, *, title, record_key, on_finish)``: the answer
    is judged by :func:`~kubeflow_tui.quiz.judge_command` on fresh simulators from
    ``make_sim``.  ``hint`` (or f3) shows the next hint; escape leaves.
    """

    DEFAULT_CSS = QUIZ_CSS + """
    #cq-log { height: 1fr; min-height: 4; border: round $panel; }
    #cq-prompt { margin: 0 0 1 0; }
    #cq-hint { color: $text-muted; }
    """
    HELP_TITLE = "Command questions"
    BINDINGS = [
        Binding("escape", "leave", "Back", tooltip="Leave the questions", id="commands.leave"),
        Binding("f3", "hint", "Hint", tooltip="Show the next hint (or type hint)", id="commands.hint"),
    ]

    def __init__(self, questions: Sequence[object], make_sim: Callable[[], object], *, title: str = "Commands",
                 record_key: str | None = None, on_finish: Callable[[Score], None] | None = None) -> None:
        super().__init__()
        self.questions = list(questions)
        self.make_sim = make_sim
        self.quiz_title = title
        self.record_key = record_key
        self.on_finish = on_finish
        self.position = 0
        self.right = 0
        self.answered = False
        self.hints = 0
        self.finished = False
        self.verdicts: list[bool] = []

    def compose(self) -> ComposeResult:
        from textual.widgets import Input, RichLog

        with Vertical(classes="quiz-body"):
            yield Static("", classes="quiz-head", id="cq-head")
            yield Static("", id="cq-prompt")
            yield RichLog(id="cq-log", wrap=True, markup=False, highlight=False, min_width=20)
            yield Input(placeholder="type the command, enter to check (hint: f3 or type hint)", id="cq-input")
            yield Static("enter check · f3 hint · after a right answer enter goes on · esc leave", id="cq-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.quiz_title
        self._show()

    def _show(self) -> None:
        from textual.widgets import Input, RichLog

        log = self.query_one(RichLog)
        if self.position >= len(self.questions):
            self._finish()
            return
        q = self.questions[self.position]
        self.answered = False
        self.hints = 0
        self.query_one("#cq-head", Static).update(
            f"{self.quiz_title} · {self.position + 1}/{len(self.questions)} · on {q.host}")
        self.query_one("#cq-prompt", Static).update(q.prompt)
        log.clear()
        self.query_one(Input).focus()

    def _finish(self) -> None:
        from textual.widgets import Input

        total = len(self.questions)
        self.query_one("#cq-head", Static).update(f"{self.quiz_title}: done")
        self.query_one("#cq-prompt", Static).update(f"Score: {self.right}/{total}\n\nesc or enter: back")
        self.query_one(Input).display = False
        if not self.finished:
            self.finished = True
            if self.record_key:
                from kubeflow_tui.quiz.record import record_result

                try:
                    record_result(self.record_key, right=self.right, total=total,
                                  progress=getattr(self.app, "progress", None))
                except Exception:
                    pass
            if self.on_finish is not None:
                sc = Score()
                self.on_finish(sc)
        self.set_focus(None)

    def key_enter(self) -> None:
        if self.position >= len(self.questions):
            self.action_leave()

    def on_input_submitted(self, event) -> None:
        from textual.widgets import RichLog

        from kubeflow_tui.quiz import judge_command

        event.stop()
        line = event.value.strip()
        event.input.value = ""
        log = self.query_one(RichLog)
        if self.position >= len(self.questions):
            return
        if self.answered and not line:
            self.position += 1
            self._show()
            return
        if line.lower() == "hint":
            self.action_hint()
            return
        if not line:
            return
        q = self.questions[self.position]
        log.write(Text(f"{q.host}$ {line}", style="bold"))
        try:
            v = judge_command(q, line, self.make_sim)
        except Exception as exc:
            log.write(Text(f"{exc.__class__.__name__}: {exc}", style="red"))
            return
        if v.output:
            log.write(Text(v.output.rstrip("\n")))
        log.write(Text(v.message, style="green" if v.correct else "yellow"))
        if v.correct and not self.answered:
            self.answered = True
            self.right += 1
            log.write(Text("enter (on an empty line) goes on", style="dim"))

    def action_hint(self) -> None:
        from textual.widgets import RichLog

        if self.position >= len(self.questions):
            return
        q = self.questions[self.position]
        self.hints += 1
        hints = q.hint(self.hints)
        self.query_one(RichLog).write(Text(f"Hint {len(hints)}: {hints[-1]}" if hints else "No hints.",
                                           style="yellow"))

    def action_leave(self) -> None:
        if self.is_current:
            self.dismiss(None)
