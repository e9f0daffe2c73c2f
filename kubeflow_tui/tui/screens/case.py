"""The troubleshooting case screen: a broken cluster, a shell, a diagnosis, a fix.

``CaseScreen(case, *, seed=None, record_key=None)`` where ``case`` is a loaded
:class:`~kubeflow_tui.quiz.Case`, a path to a case file, or a ready
:class:`~kubeflow_tui.quiz.CaseSession`.  The learner types commands in the input at
the bottom (they run in the simulated shell of the case's cluster; ``hint`` shows the
next hint, ``host NAME`` switches host, ``check`` runs the fix check, ``clear`` wipes
the log) and answers the diagnosis in the option list.  ``escape`` leaves; the screen
is dismissed with the :class:`CaseSession` (``.solved``).  ``record_key`` defaults to
``"case:<id>"``; the result goes to the learner's progress.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, RichLog, Static

from kubeflow_tui.quiz.cases import Case, CaseSession, load_case
from kubeflow_tui.tui.screens.quiz import QUIZ_CSS, QuestionPanel

CASE_CSS = QUIZ_CSS + """
#case-body { height: 1fr; }
#case-body .quiz-head { margin: 0; }
#case-symptom { height: auto; max-height: 4; }
#case-log { height: 1fr; min-height: 5; background: $boost; padding: 0 1; }
#case-input { border: none; height: 1; padding: 0 1; }
#case-input:focus { border: none; }
#case-side { height: auto; max-height: 40%; }
#case-status { color: $text-muted; }
"""


class CaseScreen(Screen[CaseSession]):
    """``CaseScreen(case | path | CaseSession, *, seed=None, record_key=None)``."""

    DEFAULT_CSS = CASE_CSS
    HELP_TITLE = "Troubleshooting case"
    BINDINGS = [
        Binding("escape", "leave", "Back", tooltip="Leave the case (the attempt so far is kept)", id="case.leave"),
        Binding("f3", "hint", "Hint", tooltip="Show the next hint (or type hint)", id="case.hint"),
        Binding("f2", "focus_answer", "Diagnose", tooltip="Go to the diagnosis question", id="case.diagnose"),
    ]

    def __init__(self, case: Case | CaseSession | str | Path, *, seed: int | None = None,
                 record_key: str | None = None) -> None:
        super().__init__()
        if isinstance(case, CaseSession):
            self.session = case
        else:
            self.session = CaseSession(case if isinstance(case, Case) else load_case(case), seed=seed)
        self.record_key = record_key or f"case:{self.session.case.id}"
        self._recorded = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        s = self.session
        m = s.case.model
        with Vertical(classes="quiz-body", id="case-body"):
            yield Static(Text(m.title, style="bold"), classes="quiz-head")
            yield Static(Text(f"Symptom: {m.symptom.text}"), id="case-symptom")
            yield RichLog(id="case-log", wrap=True, markup=False, highlight=False, min_width=20)
            yield Input(placeholder=self._placeholder(), id="case-input")
            with VerticalScroll(id="case-side"):
                yield QuestionPanel(s.question, id="case-question")
                yield Static("", id="case-status")
        yield Footer()

    def _placeholder(self) -> str:
        return f"{self.session.host}$  (a command, or: hint, host NAME, check)"

    def on_mount(self) -> None:
        self.title = f"Case: {self.session.case.title}"
        self.query_one(Input).focus()
        self.call_after_refresh(self._intro)  # (the log wraps to its width: once laid out)

    def _intro(self) -> None:
        s = self.session
        log = self.query_one(RichLog)
        log.write(Text(f"({s.symptom_trace.summary})", style="dim"))
        log.write(Text("Investigate with commands such as iptables -t nat -S, iptables-save, "
                       "conntrack -L; then answer the question below (f2).", style="dim"))

    # ------------------------------------------------------------------ commands
    @on(Input.Submitted, "#case-input")
    def _submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        event.input.value = ""
        if line:
            self.run_line(line)

    def run_line(self, line: str) -> None:
        log = self.query_one(RichLog)
        s = self.session
        low = line.lower()
        log.write(Text(f"{s.host}$ {line}", style="bold"))
        if low == "hint":
            self.action_hint()
        elif low.startswith("host "):
            s.host = line.split(None, 1)[1].strip()
            self.query_one(Input).placeholder = self._placeholder()
            log.write(Text(f"Commands now run on {s.host}.", style="dim"))
        elif low == "check":
            self.action_check()
        else:
            try:
                r = s.run(line)
            except Exception as exc:  # a shell bug must not take the screen down
                log.write(Text(f"{exc.__class__.__name__}: {exc}", style="red"))
                return
            if getattr(r, "clear", False):
                log.clear()
            if r.stdout:
                log.write(Text(r.stdout.rstrip("\n")))
            if r.stderr:
                log.write(Text(r.stderr.rstrip("\n"), style="red"))

    def action_hint(self) -> None:
        h = self.session.next_hint()
        self.query_one(RichLog).write(
            Text(f"Hint {self.session.hints_shown}: {h}" if h else "No more hints.", style="yellow"))

    def action_check(self) -> None:
        ok, trace = self.session.check_fix()
        status = self.query_one("#case-status", Static)
        if trace is None:
            status.update("This case has no fix check.")
            return
        status.update(("Fixed: " if ok else "Not yet: ") + trace.summary)
        self.query_one(RichLog).write(Text(("✓ " if ok else "✗ ") + trace.summary,
                                           style="green" if ok else "red"))
        self._maybe_done()

    def action_focus_answer(self) -> None:
        self.query_one("#case-question OptionList").focus()

    # ------------------------------------------------------------------ answers
    @on(QuestionPanel.Answered)
    def _answered(self, event: QuestionPanel.Answered) -> None:
        event.stop()
        self.session.diagnosis_result = event.result
        status = self.query_one("#case-status", Static)
        if self.session.has_fix and event.result.correct:
            status.update("Now fix it with shell commands, then type `check`.")
        self._maybe_done()
        self.call_after_refresh(status.scroll_visible, animate=False)
        self.query_one(Input).focus()

    @on(QuestionPanel.Continue)
    def _continue(self, event: QuestionPanel.Continue) -> None:
        event.stop()
        self.query_one(Input).focus()

    def _maybe_done(self) -> None:
        s = self.session
        if s.diagnosis_result is None:
            return
        if s.solved:
            self.query_one("#case-status", Static).update("Case solved. escape: back")
        if s.solved or not s.has_fix:
            self._record()

    def _record(self) -> None:
        if self._recorded:
            return
        self._recorded = True
        from kubeflow_tui.quiz.record import record_result

        s = self.session
        right, total = s.points
        try:
            record_result(self.record_key, right=right, total=total, solved=s.solved,
                          progress=getattr(self.app, "progress", None))
        except Exception:
            pass

    def action_leave(self) -> None:
        """Leave; a case left half-way keeps the attempt (diagnosis and fix so far)."""
        if not self._recorded and (self.session.diagnosis_result is not None or self.session.hints_shown):
            self._record()
        self.dismiss(self.session)
