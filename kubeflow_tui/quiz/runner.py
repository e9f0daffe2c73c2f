"""``kubeflow-tui quiz FILE`` in a plain terminal (classrooms script it through stdin).

FILE is a scenario (questions generated from each flow's Trace) or a case file (a
broken cluster: type shell commands, ``hint``, ``answer``, then a number; ``check``
runs the fix check).  Answers are read line by line; the score is printed at the end
and recorded in the learner's progress.  The exit code is 0 when the run reaches its
end (also at end of input), 2 when FILE cannot be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from .model import Question

QUIT = ("q", "quit")


def _ask(question: Question, number: int, total: int, stdin: IO[str], stdout: IO[str],
         again: bool = False) -> int | None:
    """Print a question, read a choice (0-based); None at end of input or on quit."""
    head = f"Question {number}/{total}" + ("  (again)" if again else "")
    stdout.write(f"\n{head}  [{question.flow}]\n{question.prompt}\n")
    for i, opt in enumerate(question.options, 1):
        stdout.write(f"  {i}) {opt}\n")
    while True:
        stdout.write(f"Answer [1-{len(question.options)}]: ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            return None
        text = line.strip().lower()
        if text in QUIT:
            return None
        if text.isdigit() and 1 <= int(text) <= len(question.options):
            return int(text) - 1
        stdout.write(f"Please type a number from 1 to {len(question.options)} (q quits).\n")


def questions_for_scenario(scenario: Any, *, seed: int | None = None) -> list[Question]:
    """Generated questions for every flow of a scenario (each flow on a fresh cluster)."""
    from ..cluster import ClusterSim
    from .context import context_from_sim
    from .generate import generate_questions

    out: list[Question] = []
    # a flow with a time (at) meets the cluster as the timeline has made it by then, which
    # these questions (asked about the scenario as written) do not describe: left out
    for f in (f for f in scenario.flows if f.at is None):
        sim = ClusterSim(scenario, seed=seed)
        ctx = context_from_sim(sim)
        out += generate_questions(sim.run_flow(f.name), seed=seed, context=ctx)
    return out


def with_proxy_mode(scenario: Any, mode: str | None) -> Any:
    """The scenario with ``cluster.proxyMode`` set to ``mode`` (unchanged when None or equal):
    ``--proxy-mode iptables|nftables`` of the CLI."""
    if not mode or mode == scenario.cluster.proxyMode:
        return scenario
    return scenario.model_copy(update={"cluster": scenario.cluster.model_copy(update={"proxyMode": mode})})


def quiz_for_file(path: Path, *, seed: int | None = None,
                  proxy_mode: str | None = None) -> tuple[str, str, str, list[Question]]:
    """(title, description, progress key, questions) of the quiz a scenario or lesson file gives
    (``proxy_mode``: kube-proxy's mode instead of the scenario's)."""
    from .flow import lesson_questions

    if path.suffix == ".md":
        from .. import lessons as lessons_mod
        from ..scenario import load_scenario

        lesson = lessons_mod.parse_lesson(path)
        scenario = with_proxy_mode(load_scenario(lesson.scenario), proxy_mode)
        mc, _ = lessons_mod.authored_questions(lesson, scenario)
        qs = lesson_questions(scenario, list(lesson.flows) or None, seed=seed, extra=mc)
        title = f"Lesson {lesson.number} quiz" if lesson.number else f"Quiz: {lesson.title}"
        return title, "", f"lesson:{lesson.id}", qs
    from ..scenario import load_scenario

    scenario = with_proxy_mode(load_scenario(path), proxy_mode)
    return (f"Quiz: {scenario.name}", scenario.description.strip(), f"quiz:{scenario.name}",
            lesson_questions(scenario, seed=seed))


def _run_scenario(path: Path, stdin: IO[str], stdout: IO[str], seed: int | None,
                  proxy_mode: str | None = None) -> int:
    from .flow import QuizRun

    title, description, key, questions = quiz_for_file(path, seed=seed, proxy_mode=proxy_mode)
    stdout.write(f"{title} ({len(questions)} questions; a wrong answer comes back later)\n")
    if description:
        stdout.write(description + "\n")
    run = QuizRun(questions)
    number = 0
    while not run.finished:
        q = run.current()
        again = run.is_retry
        if not again:
            number += 1
        choice = _ask(q, number, len(questions), stdin, stdout, again)
        if choice is None:
            break
        result = run.answer(choice)
        stdout.write(result.feedback + "\n")
    stdout.write("\n" + run.summary() + "\n")
    _save(run, key)
    return 0


def _save(run: Any, key: str) -> None:
    try:
        run.save(key)
    except Exception:  # progress must never break a quiz
        pass


def export_quiz(path: str | Path, fmt: str, stdout: IO[str], *, seed: int | None = None,
                proxy_mode: str | None = None) -> int:
    """``kubeflow-tui quiz FILE --export json|md``: the quiz as a worksheet with its key."""
    from .cases import CaseError, is_case_file
    from .flow import export_json, export_markdown

    if is_case_file(path):
        raise CaseError.single(str(path), "a troubleshooting case has no worksheet: export a scenario or a lesson")
    title, _, _, questions = quiz_for_file(Path(path), seed=seed, proxy_mode=proxy_mode)
    stdout.write(export_json(questions) if fmt == "json" else export_markdown(questions, title))
    return 0


CASE_HELP = ("You are on {host}. Type shell commands to investigate and to fix the cluster "
             "(kubectl get/describe/label/patch/scale/set env/rollout restart, iptables, conntrack, curl ...); "
             "`host NAME` switches host, `hint` shows a hint (-{cost} points), `answer` shows the "
             "diagnosis question and a number answers it, `check` re-runs the failing connection{check}, "
             "`give up` shows the cause, `quit` ends.\n")


def _run_case(path: Path, stdin: IO[str], stdout: IO[str], seed: int | None) -> int:
    from .cases import load_case

    case = load_case(path)
    return play_case(case, stdin, stdout, seed=seed, key=f"case:{case.id}")


def play_case(case: Any, stdin: IO[str], stdout: IO[str], *, seed: int | None = None,
              key: str | None = None) -> int:
    """An incident: the learner sees what a user reports, investigates, answers and fixes.
    The result is recorded under ``key`` (none: not recorded)."""
    from .cases import CaseSession

    session = CaseSession(case, seed=seed)
    q = session.question
    stdout.write(f"Incident: {case.title}\n")
    stdout.write(f"Reported: {case.model.symptom.text.strip()}\n")
    stdout.write(CASE_HELP.format(host=session.host, cost=session.HINT_COST, check=session.check_note))
    while True:
        stdout.write(f"{session.host}$ ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            break
        text = line.strip()
        low = " ".join(text.lower().split())
        if not text:
            continue
        if low in QUIT:
            break
        if low == "hint":
            h = session.next_hint()
            stdout.write((f"Hint {session.hints_shown} (-{session.HINT_COST} points): {h}" if h
                          else "No more hints.") + "\n")
        elif low.startswith("host "):
            name = text.split(None, 1)[1].strip()
            try:
                session.shell(name)
            except ValueError as e:
                stdout.write(f"{e}\n")
                continue
            session.host = name
            stdout.write(f"Commands now run on {session.host}.\n")
        elif low in ("answer", "diagnose"):
            stdout.write(q.prompt + "\n" + "".join(f"  {i}) {o}\n" for i, o in enumerate(q.options, 1)))
        elif low.isdigit():
            if session.revealed:
                stdout.write("The diagnosis is answered already.\n")
                continue
            k = int(low)
            if not 1 <= k <= len(q.options):
                stdout.write(f"Please type a number from 1 to {len(q.options)}.\n")
                continue
            result = session.answer(k - 1)
            stdout.write(("Right." if result.correct else "Not quite.") + "\n" + session.reveal() + "\n")
            if not session.has_fix or session.fixed:
                break
            stdout.write("Now fix the cluster with shell commands, then type `check`.\n")
        elif low in ("give up", "giveup", "reveal"):
            stdout.write(session.give_up() + "\n")
            if not session.has_fix or session.fixed:
                break
            stdout.write("You can still fix the cluster, then type `check`.\n")
        elif low in ("check", "verify"):
            if not session.has_fix:
                stdout.write("This case has no fix to make in the shell: answer the diagnosis.\n")
                continue
            ok, trace = session.check_fix()
            if session.fix_error:
                stdout.write(f"Not yet: {session.fix_error}\n")
            elif ok:
                stdout.write(f"Fixed: the connection that failed works now{session.check_note}.\n"
                             + (f"({trace.summary})\n" if session.revealed and trace else ""))
                if session.revealed:
                    break
                stdout.write("Now say what was wrong: type `answer`.\n")
            else:
                stdout.write(f"Not yet: the connection still fails the same way{session.check_note}.\n" if trace and
                             trace.outcome == case.model.symptom.outcome else
                             f"Not yet: the connection now ends '{trace.outcome if trace else '?'}'.\n")
        else:
            r = session.run(text)
            stdout.write(r.terminal)  # both streams, in the order a terminal shows them
            if getattr(r, "exit", False):
                break
    right, total = session.points
    stdout.write(f"\nScore: {session.score}/{session.POINTS} ({right}/{total} steps"
                 + (f", {session.hints_shown} hint{'s' if session.hints_shown != 1 else ''}" if session.hints_shown else "")
                 + ")" + (" — case solved." if session.solved else "") + "\n")
    if key:
        _record(key, right=right, total=total, solved=session.solved,
                extra={"score": session.score, "hints": session.hints_shown, "gave_up": session.gave_up},
                streak=key == "practice")
    if session.revealed and case.model.fault:
        stdout.write(f"(fault: {case.model.fault})\n")
    return 0


def _record(key: str, **kw: Any) -> None:
    from .record import record_result

    try:
        record_result(key, **kw)
    except Exception:  # progress must never break a quiz
        pass


CASE_MODE = ("error: --proxy-mode does not apply to a troubleshooting case: a case's symptom and fix are "
             "written for its scenario's mode ({mode})\n")


def run_quiz(path: str | Path, stdin: IO[str], stdout: IO[str], *, seed: int | None = None,
             proxy_mode: str | None = None) -> int:
    from ..scenario import ScenarioError
    from .cases import is_case_file

    p = Path(path)
    if not p.is_file():
        try:
            from ..resources import find_scenario

            p = find_scenario(str(path))
        except FileNotFoundError as e:
            stdout.write(f"error: {e}\n")
            return 2
    try:
        if is_case_file(p):
            if proxy_mode:
                from .cases import load_case

                mode = load_case(p).scenario.cluster.proxyMode
                if proxy_mode != mode:
                    stdout.write(CASE_MODE.format(mode=mode))
                    return 2
            return _run_case(p, stdin, stdout, seed)
        return _run_scenario(p, stdin, stdout, seed, proxy_mode)
    except ScenarioError as e:
        stdout.write(f"error: {e}\n")
        return 2
