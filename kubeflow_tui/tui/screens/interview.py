"""Interview practice: timed, mixed questions over random clusters.

``InterviewScreen(session=None, *, seed=None, count=10, minutes=10.0)``: builds an
:class:`~kubeflow_tui.quiz.InterviewSession` unless one is given, shows the cluster of
each question, the question and a countdown; at the end (all answered or time up) the
score and what to review.  ``n``/``enter`` goes on after an answer, ``escape`` leaves;
the screen is dismissed with the session.  The result is stored in the learner's
progress as ``interview``.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static

from kubeflow_tui.quiz.interview import InterviewSession
from kubeflow_tui.tui.screens.quiz import QUIZ_CSS, QuestionPanel


class InterviewScreen(Screen[InterviewSession]):
    """``InterviewScreen(session=None, *, seed=None, count=10, minutes=10.0)``."""

    DEFAULT_CSS = QUIZ_CSS + "#iv-brief { color: $text-muted; margin: 0 0 1 0; }"
    HELP_TITLE = "Interview practice"
    BINDINGS = [
        Binding("n", "next", "Next", tooltip="Next question (enter too, once answered)", id="interview.next"),
        Binding("escape", "leave", "Back", tooltip="Leave the interview", id="interview.leave"),
    ]

    def __init__(self, session: InterviewSession | None = None, *, seed: int | None = None,
                 count: int = 10, minutes: float = 10.0) -> None:
        super().__init__()
        self.session = session or InterviewSession(seed=seed, count=count, minutes=minutes)
        self._answered = False
        self._over = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="quiz-body"):
            yield Static("", classes="quiz-head", id="iv-head")
            yield Static("", id="iv-brief")
            yield QuestionPanel(id="iv-question")
            yield Static("", id="iv-report")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Interview practice"
        self._show()
        self.set_interval(1.0, self._tick)

    def _head(self) -> str:
        s = self.session
        m, sec = divmod(int(s.time_left), 60)
        return f"Interview · question {min(s.position + 1, len(s.items))}/{len(s.items)} · {m}:{sec:02d} left"

    def _tick(self) -> None:
        if self._over:
            return
        try:
            if self.session.finished and not self._answered:
                self._finish()
            else:
                self.query_one("#iv-head", Static).update(self._head())
        except NoMatches:  # the screen is closing
            pass

    def _show(self) -> None:
        try:
            self._show_current()
        except NoMatches:  # closed (escape) before it finished mounting: keys faster than the UI
            pass

    def _show_current(self) -> None:
        item = self.session.current()
        if item is None:
            self._finish()
            return
        self._answered = False
        self.query_one("#iv-head", Static).update(self._head())
        self.query_one("#iv-brief", Static).update(item.brief)
        panel = self.query_one(QuestionPanel)
        panel.show(item.question)
        panel.query_one(OptionList).focus()

    def _finish(self) -> None:
        """The summary: the score, the time, what to review; saved in the progress."""
        if self._over:
            return
        self._over = True
        self.query_one(QuestionPanel).display = False
        self.query_one("#iv-brief", Static).display = False
        self.query_one("#iv-head", Static).update("Interview: summary")
        s = self.session
        left = (f"You left after {s.position} of {len(s.items)} questions.\n\n"
                if s.position < len(s.items) and s.time_left > 0 else "")
        data = self.summary()
        text = left + s.report()
        parts: list = []
        if data.get("topics"):  # the per-topic list says what to review
            text = "\n".join(line for line in text.split("\n")
                             if not line.startswith(("To review", "  - ", "  ")))
            # one row per topic; a long topic wraps under itself, not under the marks
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(no_wrap=True, justify="right")
            grid.add_column(ratio=1)
            for topic, v in data["topics"].items():
                grid.add_row(f"  {'✓' if v['right'] == v['total'] else '✗'}", f"{v['right']}/{v['total']}", topic)
            parts = [Text(text + "\n\nBy topic (✗ to review):"), grid]
            text = ""
        tail = ""
        seed = data.get("seed")
        if seed is not None:  # a set drawn from a seed can be taken again
            again = f"kubeflow-tui interview --seed {seed}" + (f" --count {len(s.items)}" if len(s.items) != 10 else "")
            tail = f"\nThis set's seed is {seed}: `{again}` asks it again.\n"
        tail += "\nSaved in your progress. escape: back"
        if parts:
            self.query_one("#iv-report", Static).update(Group(*parts, Text(tail)))
        else:
            self.query_one("#iv-report", Static).update(Text(text + "\n" + tail))
        self.refresh_bindings()
        self._save()

    def summary(self) -> dict:
        """The session as the progress file keeps it (``InterviewSession.summary_data()``
        when the session has it), with ``finished`` (False: left before the end) and, per
        question kind, ``[right, asked]``."""
        s = self.session
        data_fn = getattr(s, "summary_data", None)
        if data_fn is not None:
            data = dict(data_fn())
        else:
            sc = s.score
            data = {"right": sc.right, "total": sc.total, "seconds": int(s.elapsed), "review": sc.review()}
        kinds: dict[str, list[int]] = {}
        for q, r in s.score.results:
            k = kinds.setdefault(q.kind, [0, 0])
            k[0] += int(r.correct)
            k[1] += 1
        data.setdefault("kinds", kinds)
        data["finished"] = bool(s.finished)
        return data

    def _save(self) -> None:
        """Keep the summary in the learner's progress (``Progress.record_interview``)."""
        progress = getattr(self.app, "progress", None)
        if progress is None:
            return
        try:
            progress.record_interview(self.summary())
        except Exception:  # progress must never break the interview
            pass

    @on(QuestionPanel.Answered)
    def _on_answer(self, event: QuestionPanel.Answered) -> None:
        if self._over or self.session.current() is None:
            return
        self.session.answer(event.result.choice)
        self._answered = True

    @on(QuestionPanel.Continue)
    def _continue(self) -> None:
        self.action_next()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next" and self._over:
            return False  # the summary: nothing comes next
        return True

    def action_next(self) -> None:
        if not self._over and self._answered:
            self._show()

    def action_leave(self) -> None:
        """Before the end: the summary first (and saved); from the summary: back."""
        if not self._over:
            self._finish()
            return
        self.dismiss(self.session)
