"""The troubleshooting case screen, played as an incident.

``CaseScreen(case, *, seed=None, record_key=None, label="")`` where ``case`` is a loaded
:class:`~kubeflow_tui.quiz.Case`, a path to a case file, or a ready
:class:`~kubeflow_tui.quiz.CaseSession`.  The learner first sees only what a user would
report (the case's title and symptom text) and a shell on the broken cluster (the input at
the bottom: commands run in the simulated shell; ``hint``, ``host NAME``, ``check``,
``give up`` and ``clear`` are typed there too).  Hints cost points (f3).  The diagnosis
(f2) is a question; answering it or giving up (f4) reveals the cause, the explanation and
the summary.  ``check`` (f5) re-runs the failing connection on the learner's changed
cluster, so any real fix counts, as ``kubeflow-tui quiz CASE`` does.  ``escape`` leaves;
the screen is dismissed with the :class:`CaseSession`.  ``record_key`` defaults to
``"case:<id>"``; the score is saved when the case ends and when it is left half-way
(``"practice"`` counts a streak of solved incidents).
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
#case-label { color: $text-muted; height: auto; }
#case-symptom { height: auto; max-height: 4; }
#case-log { height: 1fr; min-height: 5; background: $boost; padding: 0 1; }
#case-input { border: none; height: 1; padding: 0 1; }
#case-input:focus { border: none; }
#case-side { height: auto; max-height: 40%; }
CaseScreen.-asking #case-side, CaseScreen.-revealed #case-side { max-height: 55%; }
#case-reveal { margin: 1 0 0 0; }
#case-status { color: $text-muted; }
#case-status.-solved { color: $success; }
"""


class CaseScreen(Screen[CaseSession]):
    """``CaseScreen(case | path | CaseSession, *, seed=None, record_key=None, label="")``."""

    DEFAULT_CSS = CASE_CSS
    HELP_TITLE = "Troubleshooting incident"
    BINDINGS = [
        Binding("escape", "leave", "Back", tooltip="Leave the incident (the score so far is kept)", id="case.leave"),
        Binding("f2", "diagnose", "Diagnose", tooltip="Say what is wrong (the diagnosis question)",
                id="case.diagnose"),
        Binding("f3", "hint", f"Hint -{CaseSession.HINT_COST}",
                tooltip=f"Show the next hint (costs {CaseSession.HINT_COST} points; or type hint)", id="case.hint"),
        Binding("f4", "give_up", "Give up", tooltip="Give up: show the cause and its explanation", id="case.give_up"),
        Binding("f5", "check", "Check", tooltip="Re-run the failing connection on your cluster: fixed yet?",
                id="case.check"),
    ]

    def __init__(self, case: Case | CaseSession | str | Path, *, seed: int | None = None,
                 record_key: str | None = None, label: str = "") -> None:
        super().__init__()
        if isinstance(case, CaseSession):
            self.session = case
        else:
            self.session = CaseSession(case if isinstance(case, Case) else load_case(case), seed=seed)
        self.record_key = record_key or f"case:{self.session.case.id}"
        self.label = label
        self._recorded = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        m = self.session.case.model
        with Vertical(classes="quiz-body", id="case-body"):
            yield Static(Text(m.title, style="bold"), classes="quiz-head")
            if self.label:
                yield Static(self.label, id="case-label")
            yield Static(Text(f"Reported: {m.symptom.text.strip()}"), id="case-symptom")
            yield RichLog(id="case-log", wrap=True, markup=False, highlight=False, min_width=20)
            yield Input(placeholder=self._placeholder(), id="case-input")
            with VerticalScroll(id="case-side"):
                yield QuestionPanel(id="case-question")
                yield Static("", id="case-reveal")
                yield Static(self._status_hint(), id="case-status")
        yield Footer()

    def _placeholder(self) -> str:
        return f"{self.session.host}$  (a command, or: hint, host NAME, check, give up)"

    def _status_hint(self) -> str:
        s = self.session
        fix = "fix it in the shell, f5 (check) re-runs the failing connection · " if s.has_fix else ""
        return f"f2 diagnose · {fix}f3 hint (-{s.HINT_COST} points) · f4 give up"

    def on_mount(self) -> None:
        self.title = f"Incident: {self.session.case.title}"
        self.query_one(QuestionPanel).display = False
        self.query_one("#case-reveal", Static).display = False
        self.query_one(Input).focus()
        self.call_after_refresh(self._intro)  # (the log wraps to its width: once laid out)

    def _intro(self) -> None:
        self.query_one(RichLog).write(Text(
            f"You are on {self.session.host}. Investigate with commands such as kubectl get "
            "endpointslices, iptables -t nat -S, iptables-save, conntrack -L, ip route get ..."
            + (f" Here f5 (check) re-runs the failing connection{self.session.check_note}."
               if self.session.check_note else ""),
            style="dim"))

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
        low = " ".join(line.lower().split())
        log.write(Text(f"{s.host}$ {line}", style="bold"))
        if low == "hint":
            self.action_hint()
        elif low.startswith("host "):
            name = line.split(None, 1)[1].strip()
            try:
                s.shell(name)
            except ValueError as exc:
                log.write(Text(str(exc), style="red"))
                return
            s.host = name
            self.query_one(Input).placeholder = self._placeholder()
            log.write(Text(f"Commands now run on {s.host}.", style="dim"))
        elif low in ("check", "verify"):
            self.action_check()
        elif low in ("give up", "giveup", "reveal"):
            self.action_give_up()
        elif low in ("answer", "diagnose"):
            self.action_diagnose()
        else:
            try:
                r = s.run(line)
            except Exception as exc:  # a shell bug must not take the screen down
                log.write(Text(f"{exc.__class__.__name__}: {exc}", style="red"))
                return
            if getattr(r, "clear", False):
                log.clear()
            for stream, text in r.chunks:  # in the order a terminal shows them (warnings first)
                log.write(Text(text.rstrip("\n"), style="red" if stream == "err" else ""))

    def action_hint(self) -> None:
        s = self.session
        h = s.next_hint()
        self.query_one(RichLog).write(Text(
            f"Hint {s.hints_shown} (-{s.HINT_COST} points): {h}" if h else "No more hints.", style="yellow"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        s = self.session
        if action in ("diagnose", "give_up") and s.revealed:
            return None  # answered already: shown, dimmed
        if action == "check" and not s.has_fix:
            return None
        if action == "hint" and s.hints_shown >= len(s.case.model.hints):
            return None
        return True

    def _status(self, text: str, solved: bool = False, *, scroll: bool = True) -> None:
        status = self.query_one("#case-status", Static)
        status.update(text)
        status.set_class(solved, "-solved")
        if scroll:
            self.call_after_refresh(status.scroll_visible, animate=False)

    def action_check(self) -> None:
        """Re-run the failing connection on the learner's cluster (as play_case's check)."""
        s = self.session
        log = self.query_one(RichLog)
        if not s.has_fix:
            self._status("This case has no fix to make in the shell: answer the diagnosis (f2).")
            return
        ok, trace = s.check_fix()
        if s.fix_error:
            msg = f"Not yet: {s.fix_error}"
        elif ok:
            msg = f"Fixed: the connection that failed works now{s.check_note}."
            if s.revealed and trace is not None:
                msg += f" ({trace.summary})"
            if not s.revealed:
                msg += " Now say what was wrong: f2."
        elif trace is not None and trace.outcome == s.case.model.symptom.outcome:
            msg = f"Not yet: the connection still fails the same way{s.check_note}."
        else:
            msg = f"Not yet: the connection now ends '{trace.outcome if trace else '?'}'."
        log.write(Text(("✓ " if ok else "✗ ") + msg, style="green" if ok else "red"))
        self._status(msg, ok)
        self._maybe_done()

    def action_diagnose(self) -> None:
        if self.session.revealed:
            return
        panel = self.query_one(QuestionPanel)
        if panel.question is None:
            panel.show(self.session.question)
        panel.display = True
        self.add_class("-asking")
        self.query_one("#case-question OptionList").focus()
        self.call_after_refresh(panel.scroll_visible, animate=False)

    def action_give_up(self) -> None:
        if self.session.revealed:
            return
        self.session.give_up()
        self.query_one(QuestionPanel).display = False
        self._reveal("You gave up.")

    # ------------------------------------------------------------------ answers
    @on(QuestionPanel.Answered)
    def _answered(self, event: QuestionPanel.Answered) -> None:
        event.stop()
        if self.session.revealed:
            return
        self.session.answer(event.result.choice)
        self._reveal("")

    def _reveal(self, head: str) -> None:
        s = self.session
        self.remove_class("-asking")
        self.add_class("-revealed")
        text = s.reveal()
        answered = not s.gave_up  # the panel shows the verdict and the explanation already
        if answered:
            text = "\n".join(line for line in text.split("\n")
                             if line.startswith(("What happened:", "The failing connection:")))
        if head:
            text = f"{head}\n{text}"
        if s.case.model.fault:
            text += f"\n(fault: {s.case.model.fault})"
        reveal = self.query_one("#case-reveal", Static)
        reveal.update(text)
        reveal.display = True
        if s.has_fix and not s.fixed:
            self._status("Now fix the cluster with shell commands, then type check (f5).", scroll=False)
        self._maybe_done(scroll=False)
        self.refresh_bindings()
        if not answered:
            self.call_after_refresh(reveal.scroll_visible, animate=False)
        self.query_one(Input).focus()

    @on(QuestionPanel.Continue)
    def _continue(self, event: QuestionPanel.Continue) -> None:
        event.stop()
        self.query_one(Input).focus()

    def _maybe_done(self, *, scroll: bool = True) -> None:
        s = self.session
        if not s.revealed or (s.has_fix and not s.fixed):
            return
        if self._recorded:
            return
        right, total = s.points
        line = (f"Score: {s.score}/{s.POINTS} ({right}/{total} steps"
                + (f", {s.hints_shown} hint{'s' if s.hints_shown != 1 else ''}" if s.hints_shown else "")
                + ")" + (" — case solved." if s.solved else "."))
        self._status(line + " escape: back", s.solved, scroll=scroll)
        self.query_one(RichLog).write(Text(("✓ " if s.solved else "") + line, style="green" if s.solved else "yellow"))
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
                          extra={"score": s.score, "hints": s.hints_shown, "gave_up": s.gave_up},
                          streak=self.record_key == "practice", progress=getattr(self.app, "progress", None))
        except Exception:  # progress must never break a case
            pass

    def action_leave(self) -> None:
        """Leave; a case left half-way keeps its score so far (diagnosis, fix, hints)."""
        s = self.session
        if not self._recorded and (s.revealed or s.hints_shown or s.fixed or s.log):
            self._record()
        if not self.is_current:
            return  # leaving already (escape typed twice)
        if len(self.app.screen_stack) <= 2:
            # opened from the command line (kubeflow-tui CASE.yaml): nothing under it to go
            # back to; the lesson list replaces it
            from kubeflow_tui.tui.messages import GoHome

            self.post_message(GoHome())
            return
        self.dismiss(self.session)
