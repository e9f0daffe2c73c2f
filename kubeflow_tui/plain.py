"""Plain mode: the tutorial as linear text, one line per change, for screen readers.

No boxes, no colours that carry meaning, no animation and nothing redrawn: every answer
is appended as plain sentences ("to" rather than arrows), so a screen reader reads each
change once, in order.  ``PlainSession`` holds the state and turns one typed line into
the lines to print; ``run_plain`` drives it on a terminal (``kubeflow-tui --plain``), and
``kubeflow_tui.tui.plain`` puts the same session in a Textual app for browsers
(``kubeflow-tui serve --plain``).

Every action is a typed command (``help`` lists them), so everything is reachable from
the keyboard with nothing but Enter.  No textual here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable

from markdown_it import MarkdownIt

from kubeflow_tui.trace import Step, Trace

HELP = """\
Commands (type one and press Enter):
  lessons            list the lessons, with what you have done
  lesson N           open lesson N and read its text
  flow N             follow flow N of the open lesson (flow NAME works too)
  next, or Enter     the next step of the flow; back: the one before
  step N             go to step N; packet: the next packet; nat: the next NAT or conntrack event
  where              the current step again, with its rule
  summary            what happened to the connection, and the conntrack entries
  quiz               questions about this lesson's flows; answer with the option's number
  answer             the answer to the lesson's Check yourself question
  shell HOST         a simulated shell on a node, pod or client; exit leaves it
  help               this list
  quit               leave (your progress is saved as you go)"""

NAT_KINDS = {"dnat", "snat", "masquerade", "conntrack-new", "conntrack-hit", "conntrack-reverse",
             "conntrack-confirm"}


# --------------------------------------------------------------------------- text


def markdown_lines(text: str) -> list[str]:
    """A lesson's Markdown as plain lines: headings and paragraphs as sentences, lists as
    "Item:" lines, code blocks announced and kept line by line, no markup characters."""
    out: list[str] = []
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    heading = False
    for tok in tokens:
        if tok.type == "heading_open":
            heading = True
        elif tok.type == "heading_close":
            heading = False
        elif tok.type == "inline":
            words = "".join(
                child.content if child.type in ("text", "code_inline") else
                " " if child.type in ("softbreak", "hardbreak") else ""
                for child in tok.children or []
            ).strip()
            if words:
                out.append(f"Heading: {words}" if heading else words)
        elif tok.type == "list_item_open":
            out.append("Item:")
        elif tok.type in ("fence", "code_block"):
            lines = tok.content.rstrip("\n").splitlines()
            out.append(f"Code block, {len(lines)} lines:")
            out.extend(lines)
            out.append("End of code block.")
    # "Item:" followed by its paragraph reads better as one line
    merged: list[str] = []
    for line in out:
        if merged and merged[-1] == "Item:":
            merged[-1] = f"Item: {line}"
        else:
            merged.append(line)
    return merged


_SPOKEN = str.maketrans({"→": "to", "←": "from", "…": "...", "·": ","})


def speakable(text: str) -> str:
    """Arrows and ellipses as words a screen reader says plainly."""
    return text.translate(_SPOKEN)


def _addr(ip: str, port: int) -> str:
    return f"{ip} port {port}" if port else ip


def packet_sentence(step: Step) -> str:
    p = step.packet
    flags = " ".join(p.flags)
    what = step.packet_label or p.proto.upper()
    return (f"{what} packet from {_addr(p.src, p.sport)} to {_addr(p.dst, p.dport)}, "
            f"{p.proto}{(' flags ' + flags) if flags else ''}"
            f"{f', mark {p.mark:#x}' if p.mark else ''}.")


def step_sentence(trace: Trace, index: int) -> str:
    """Step ``index`` (0-based) as one line: where, what happened, the packet after it."""
    step = trace.steps[index]
    where = [step.host]
    if step.hook:
        where.append(f"hook {step.hook}")
    if step.chain:
        where.append(f"table {step.table} chain {step.chain}"
                     + (f" rule {step.rule_index}" if step.rule_index else ""))
    what = step.kind.replace("-", " ")
    if step.kind == "link" and len(step.link) == 2:
        what = f"link from {step.link[0]} to {step.link[1]}"
    elif step.target and step.kind in ("jump", "goto"):
        what = f"{step.kind} to {step.target}"
    changed = f" Changed: {', '.join(step.changed)}." if step.changed else ""
    why = step.why.strip()
    if why and why[-1] not in ".!?:":
        why += "."
    why = f" {why}" if why else ""
    return (f"Step {index + 1} of {len(trace)}. {', '.join(where)}: {what}.{changed}{why} "
            f"Now: {packet_sentence(step)}")


# --------------------------------------------------------------------------- session


@dataclass
class _Quiz:
    questions: list[Any]
    key: str
    at: int = 0
    right: int = 0
    review: list[str] = field(default_factory=list)


class PlainSession:
    """The state of one learner's plain-mode session; ``handle(line)`` returns the lines
    to print.  ``progress`` is the learner's Progress (or None: nothing is saved)."""

    def __init__(self, progress: Any = None, lessons_dir: str | Path | None = None) -> None:
        self.progress = progress
        self.lessons_dir = lessons_dir
        self._lessons: list[Any] | None = None
        self.lesson: Any = None
        self.scenario: Any = None
        self.trace: Trace | None = None
        self.step = -1
        self.quiz: _Quiz | None = None
        self.shell: Any = None
        self.done = False

    # ------------------------------------------------------------------ helpers
    @property
    def prompt(self) -> str:
        if self.shell is not None:
            return self.shell.prompt
        if self.quiz is not None:
            return "answer> "
        return "kubeflow> "

    def lessons(self) -> list[Any]:
        if self._lessons is None:
            from kubeflow_tui.lessons import discover

            self._lessons, _errors = discover(self.lessons_dir)
        return self._lessons

    def greeting(self) -> list[str]:
        n = len(self.lessons())
        return [f"kubeflow-tui, plain mode. {n} lessons. Type lessons to list them, lesson 1 to "
                "begin, help for every command."]

    # ------------------------------------------------------------------ dispatch
    def handle(self, line: str) -> list[str]:
        """The lines to print for one typed line (never raises for bad input)."""
        return [speakable(out) for out in self._handle(line)]

    def _handle(self, line: str) -> list[str]:
        text = line.strip()
        if self.shell is not None:
            return self._shell_line(line)
        if self.quiz is not None and (text.isdigit() or text in ("skip", "stop")):
            return self._answer(text)
        word, _, rest = text.partition(" ")
        word, rest = word.lower(), rest.strip()
        if self.quiz is not None:
            out = self._leave_quiz()
        else:
            out = []
        handler: Callable[[str], list[str]] | None = {
            "": self._next, "next": self._next, "n": self._next,
            "back": self._back, "b": self._back, "previous": self._back,
            "help": lambda _r: HELP.splitlines(), "?": lambda _r: HELP.splitlines(),
            "lessons": self._list, "lesson": self._open, "open": self._open,
            "flow": self._flow, "step": self._goto, "packet": self._next_packet,
            "nat": self._next_nat, "where": self._where, "summary": self._summary,
            "quiz": self._start_quiz, "shell": self._open_shell, "quit": self._quit,
            "answer": self._check_answer,
            "exit": self._quit,
        }.get(word)
        if handler is None:
            return out + [f"Unknown command {word!r}. Type help for the list."]
        try:
            return out + handler(rest)
        except Exception as exc:  # an engine or input error becomes one line, never a trace
            return out + [f"Error: {exc}"]

    # ------------------------------------------------------------------ lessons
    def _list(self, _rest: str) -> list[str]:
        out = []
        for i, lesson in enumerate(self.lessons(), 1):
            status = self.progress.status(lesson.id) if self.progress is not None else ""
            state = {"done": " Done.", "started": " Started."}.get(status, "")
            out.append(f"Lesson {i}: {lesson.title}. {lesson.minutes} minutes.{state}")
        return out

    def _open(self, rest: str) -> list[str]:
        lessons = self.lessons()
        if not rest.isdigit() or not 1 <= int(rest) <= len(lessons):
            return [f"Type lesson and a number from 1 to {len(lessons)}."]
        from kubeflow_tui.scenario import load_scenario

        self.lesson = lessons[int(rest) - 1]
        self.scenario = load_scenario(self.lesson.scenario)
        self.trace, self.step, self.shell = None, -1, None
        if self.progress is not None:
            self.progress.mark(self.lesson.id)
        flows = ", ".join(f"{i} {name}" for i, name in enumerate(self.lesson.flows, 1))
        asks = (["Type answer for the answer to the Check yourself question, once you have yours."]
                if self.lesson.answers else [])
        return ([f"Lesson {rest}: {self.lesson.title}."] + markdown_lines(self.lesson.body) + asks
                + [f"End of lesson text. Flows to follow: {flows}. Type flow 1 to follow the first."])

    def _check_answer(self, _rest: str) -> list[str]:
        """The answer keys of the open lesson's Check yourself questions (hidden in its text)."""
        if self.lesson is None:
            return ["Open a lesson first: type lesson 1."]
        if not self.lesson.answers:
            return ["This lesson asks no Check yourself question."]
        out: list[str] = []
        for a in self.lesson.answers:
            out += ["Question:"] + markdown_lines(a.prompt) + ["Answer:"] + markdown_lines(a.answer)
        return out

    # ------------------------------------------------------------------ flows
    def _flow(self, rest: str) -> list[str]:
        if self.lesson is None:
            return ["Open a lesson first: type lesson 1."]
        names = list(self.lesson.flows)
        name = names[int(rest) - 1] if rest.isdigit() and 1 <= int(rest) <= len(names) else rest
        if name not in names:
            return [f"This lesson's flows: {', '.join(names)}. Type flow and a number."]
        from kubeflow_tui.cluster import ClusterSim

        self.trace = ClusterSim(self.scenario).run_flow(name)
        self.step = -1
        if self.progress is not None:
            self.progress.mark(self.lesson.id, flow=name)
        return [f"Flow {name}: {len(self.trace)} steps, outcome {self.trace.outcome}. "
                "Press Enter for the first step."]

    def _need_trace(self) -> list[str] | None:
        if self.trace is None:
            return ["No flow yet: type flow 1."]
        return None

    def _show(self, index: int) -> list[str]:
        assert self.trace is not None
        self.step = index
        out = [step_sentence(self.trace, index)]
        if index == len(self.trace) - 1:
            out.append(f"That was the last step. {self.trace.summary}")
            if self.progress is not None and self.lesson is not None:
                self.progress.mark(self.lesson.id, flow_done=self.trace.flow, step=index)
        return out

    def _next(self, _rest: str) -> list[str]:
        if (missing := self._need_trace()) is not None:
            return missing
        assert self.trace is not None
        if self.step + 1 >= len(self.trace):
            return ["No more steps. Type summary, quiz, or flow and another number."]
        return self._show(self.step + 1)

    def _back(self, _rest: str) -> list[str]:
        if (missing := self._need_trace()) is not None:
            return missing
        if self.step <= 0:
            return ["This is the first step."]
        return self._show(self.step - 1)

    def _goto(self, rest: str) -> list[str]:
        if (missing := self._need_trace()) is not None:
            return missing
        assert self.trace is not None
        if not rest.isdigit() or not 1 <= int(rest) <= len(self.trace):
            return [f"Type step and a number from 1 to {len(self.trace)}."]
        return self._show(int(rest) - 1)

    def _seek(self, found: Callable[[Step], bool], what: str) -> list[str]:
        if (missing := self._need_trace()) is not None:
            return missing
        assert self.trace is not None
        for i in range(self.step + 1, len(self.trace)):
            if found(self.trace.steps[i]):
                return self._show(i)
        return [f"No {what} after this step."]

    def _next_packet(self, _rest: str) -> list[str]:
        current = self.trace.steps[self.step].packet_no if self.trace and self.step >= 0 else -1
        return self._seek(lambda s: s.packet_no != current, "further packet")

    def _next_nat(self, _rest: str) -> list[str]:
        return self._seek(lambda s: s.kind in NAT_KINDS, "NAT or conntrack event")

    def _where(self, _rest: str) -> list[str]:
        if (missing := self._need_trace()) is not None:
            return missing
        assert self.trace is not None
        if self.step < 0:
            return ["Before the first step. Press Enter."]
        step = self.trace.steps[self.step]
        out = [step_sentence(self.trace, self.step)]
        if step.rule:
            out.append(f"Rule: {step.rule}")
        return out

    def _summary(self, _rest: str) -> list[str]:
        if (missing := self._need_trace()) is not None:
            return missing
        assert self.trace is not None
        t = self.trace
        out = [f"Outcome: {t.outcome}. {t.summary}"]
        if t.meta.get("timeline"):  # a flow played at a time of its timeline
            out.append(t.meta["timeline"])
        if t.server_saw:
            out.append(f"The server saw the client as {t.server_saw}.")
        if t.client_saw:
            out.append(f"The client saw the reply come from {t.client_saw}.")
        last: dict[str, Step] = {}
        for s in t.steps:
            if s.conntrack:
                last[s.host] = s
        for host, s in last.items():
            for entry in s.conntrack:
                out.append(f"Conntrack on {host}: {entry.line}")
        return out

    # ------------------------------------------------------------------ quiz
    def _start_quiz(self, _rest: str) -> list[str]:
        if self.lesson is None:
            return ["Open a lesson first: type lesson 1."]
        from kubeflow_tui.cluster import ClusterSim
        from kubeflow_tui.quiz import context_from_sim, generate_questions

        questions: list[Any] = []
        for name in self.lesson.flows:
            sim = ClusterSim(self.scenario)
            questions += generate_questions(sim.run_flow(name), context=context_from_sim(sim))
        if not questions:
            return ["This lesson has no questions."]
        self.quiz = _Quiz(questions[:10], key=f"lesson:{self.lesson.id}")
        return [f"Quiz: {len(self.quiz.questions)} questions. Type the number of your answer, "
                "skip to pass, stop to end the quiz."] + self._ask()

    def _ask(self) -> list[str]:
        assert self.quiz is not None
        q = self.quiz.questions[self.quiz.at]
        out = [f"Question {self.quiz.at + 1} of {len(self.quiz.questions)}. {q.prompt}"]
        out += [f"Option {i}: {opt}" for i, opt in enumerate(q.options, 1)]
        return out

    def _answer(self, text: str) -> list[str]:
        from kubeflow_tui.quiz import grade

        quiz = self.quiz
        assert quiz is not None
        if text == "stop":
            return self._leave_quiz()
        q = quiz.questions[quiz.at]
        if text == "skip":
            out = [f"Skipped. The answer is: {q.answer}"]
            quiz.review.append(q.topic)
        else:
            choice = int(text) - 1
            if not 0 <= choice < len(q.options):
                return [f"Type a number from 1 to {len(q.options)}."]
            result = grade(q, choice)
            quiz.right += result.correct
            if not result.correct:
                quiz.review.append(q.topic)
            out = result.feedback.splitlines()
        quiz.at += 1
        if quiz.at < len(quiz.questions):
            return out + self._ask()
        return out + self._leave_quiz()

    def _leave_quiz(self) -> list[str]:
        """End the quiz (finished or left half-way) and save the score so far."""
        quiz, self.quiz = self.quiz, None
        if quiz is None:
            return []
        answered = quiz.at
        if self.progress is not None and answered:
            self.progress.record_quiz(quiz.key, right=quiz.right, total=answered,
                                      review=sorted(set(quiz.review)))
        whole = "" if answered == len(quiz.questions) else f" (left after {answered} of {len(quiz.questions)})"
        return [f"Quiz ended{whole}: {quiz.right} right out of {answered}. Saved."
                if answered else "Quiz ended before any answer; nothing saved."]

    # ------------------------------------------------------------------ shell
    def _open_shell(self, rest: str) -> list[str]:
        if self.scenario is None:
            return ["Open a lesson first: type lesson 1."]
        from kubeflow_tui.cluster import ClusterSim
        from kubeflow_tui.shell import Shell

        hosts = [n.name for n in self.scenario.cluster.nodes] + [p.name for p in self.scenario.pods]
        if not rest:
            return [f"Type shell and a host: {', '.join(hosts)}."]
        sim = ClusterSim(self.scenario)
        for f in self.scenario.flows:
            if self.trace is not None and f.name == self.trace.flow:
                sim.run_flow(f.name)
        self.shell = Shell(sim, rest)
        return [f"Simulated shell on {rest}. Type commands as on the host; help lists them; "
                "exit leaves the shell."]

    def _shell_line(self, line: str) -> list[str]:
        result = self.shell.run(line)
        out = (result.stdout + result.stderr).rstrip("\n").splitlines()
        if result.exit:
            self.shell = None
            out.append("Left the shell.")
        return out

    def _quit(self, _rest: str) -> list[str]:
        self.done = True
        return ["Goodbye. Your progress is saved."]


def run_plain(stdin: IO[str] | None = None, stdout: IO[str] | None = None,
              progress: Any = None) -> int:
    """Plain mode on a terminal: read a line, print the answer, until quit or end of input."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    session = PlainSession(progress)
    interactive = stdin is sys.stdin and stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401 - line editing and history for input()
        except ImportError:
            pass
    for line in session.greeting():
        stdout.write(line + "\n")
    while not session.done:
        try:
            line = input(session.prompt) if interactive else stdin.readline()
        except EOFError:
            break
        if not interactive and line == "":
            break
        for out in session.handle(line.rstrip("\n")):
            stdout.write(out + "\n")
        stdout.flush()
    return 0
