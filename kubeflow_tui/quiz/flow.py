"""A quiz as a learner takes it: 6–10 mixed questions, wrong answers asked again later,
a score and a per-topic review as plain data, and worksheets for teachers.

* :func:`select_questions` — no two questions of the same family and target, families mixed;
* :func:`lesson_questions` — a scenario's (or lesson's) flows → the selected quiz;
* :class:`QuizRun` — the session: ``current()``, ``answer(choice)``, ``report()`` (a dict
  that can be saved at any time, also half-way);
* :func:`export_json` / :func:`export_markdown` — the worksheet with its answer key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from .model import TOPICS, Question, Result, grade

MIN_QUESTIONS = 6
MAX_QUESTIONS = 10
#: a wrongly answered question comes back after this many other questions
RETRY_GAP = 3


def question_key(q: Question) -> tuple[str, str]:
    """What makes two questions the same question: their family and what they ask about."""
    return (q.kind, q.target or q.prompt)


def select_questions(questions: Iterable[Question], *, count: int = 8, minimum: int = MIN_QUESTIONS,
                     maximum: int = MAX_QUESTIONS) -> list[Question]:
    """A mixed subset: one question per (family, target), the families taken in turns
    (in the order they first appear), ``count`` clamped to ``minimum..maximum`` (fewer when
    fewer exist).  Same questions in, same quiz out."""
    count = max(minimum, min(maximum, count))
    if count <= 0:
        return []
    unique: list[Question] = []
    seen: set[tuple[str, str]] = set()
    prompts: set[str] = set()
    for q in questions:
        k = question_key(q)
        if k in seen or q.prompt in prompts:
            continue
        seen.add(k)
        prompts.add(q.prompt)
        unique.append(q)
    groups: dict[str, list[Question]] = {}
    for q in unique:
        groups.setdefault(q.kind, []).append(q)
    picked: list[Question] = []
    while len(picked) < count and any(groups.values()):
        for fam in list(groups):
            if groups[fam] and len(picked) < count:
                picked.append(groups[fam].pop(0))
    return picked


def scenario_questions(scenario: Any, flows: Iterable[str] | None = None, *,
                       seed: int | None = None) -> list[Question]:
    """Every question the flows support: each flow's trace, then the scenario-level
    families (counterfactuals, compare, affinity)."""
    from ..cluster import ClusterSim
    from .context import context_from_sim
    from .generate import generate_questions
    from .reasoning import scenario_reasoning_questions

    names = list(flows) if flows is not None else [f.name for f in scenario.flows]
    out: list[Question] = []
    for name in names:
        sim = ClusterSim(scenario, seed=seed)
        ctx = context_from_sim(sim)
        out += generate_questions(sim.run_flow(name), seed=seed, context=ctx)
    out += scenario_reasoning_questions(scenario, names, seed=seed)
    return out


#: families a quiz should start with: the ones that need reasoning first
PREFERRED = ("decider", "nft-vmap", "server-source", "counterfactual", "nft-wrong-port", "conntrack-node",
             "compare", "nat-packet",
             "pick-chance", "masquerade", "reply-source", "next-chain", "verdict", "dnat",
             "conntrack-entry", "probability")


def lesson_questions(scenario: Any, flows: Iterable[str] | None = None, *, seed: int | None = None,
                     count: int = 8, extra: Iterable[Question] = ()) -> list[Question]:
    """The quiz for a lesson or a scenario: authored ``extra`` questions first, then the
    generated ones, reasoning families first, selected by :func:`select_questions`."""
    qs = scenario_questions(scenario, flows, seed=seed)
    rank = {k: i for i, k in enumerate(PREFERRED)}
    qs.sort(key=lambda q: rank.get(q.kind, len(rank)))
    extra = list(extra)
    total = max(MIN_QUESTIONS, min(MAX_QUESTIONS, count))
    room = max(0, total - len(extra))
    return extra + (select_questions(qs, count=room, minimum=0) if room else [])


@dataclass
class Attempt:
    question: Question
    result: Result
    retry: bool  # True for the second time a question is asked


@dataclass
class QuizRun:
    """One learner taking one quiz.  A wrong answer puts the question back
    ``RETRY_GAP`` questions later (once); the score counts first answers only."""

    questions: list[Question]
    retry_gap: int = RETRY_GAP
    attempts: list[Attempt] = field(default_factory=list)
    queue: list[tuple[Question, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.queue:
            self.queue = [(q, False) for q in self.questions]

    # -- asking
    @property
    def finished(self) -> bool:
        return not self.queue

    def current(self) -> Question | None:
        return self.queue[0][0] if self.queue else None

    @property
    def is_retry(self) -> bool:
        return bool(self.queue) and self.queue[0][1]

    def answer(self, choice: int) -> Result:
        if not self.queue:
            raise RuntimeError("the quiz is over")
        q, retry = self.queue[0]
        result = grade(q, choice)  # ValueError on a bad choice: the question stays
        self.queue.pop(0)
        self.attempts.append(Attempt(q, result, retry))
        if not result.correct and not retry:
            self.queue.insert(min(self.retry_gap, len(self.queue)), (q, True))
        return result

    # -- results
    def first_attempts(self) -> list[Attempt]:
        return [a for a in self.attempts if not a.retry]

    @property
    def right(self) -> int:
        return sum(1 for a in self.first_attempts() if a.result.correct)

    @property
    def total(self) -> int:
        return len(self.first_attempts())

    def report(self) -> dict[str, Any]:
        """Plain data for the progress file: the score (first answers), what came right on
        the second try, and per topic how many were right, with the topics to review."""
        topics: dict[str, dict[str, int]] = {}
        for a in self.first_attempts():
            t = topics.setdefault(a.question.topic, {"right": 0, "total": 0})
            t["total"] += 1
            t["right"] += int(a.result.correct)
        review = sorted((t for t, v in topics.items() if v["right"] < v["total"]),
                        key=lambda t: (topics[t]["right"] - topics[t]["total"], list(topics).index(t)))
        return {
            "right": self.right,
            "total": self.total,
            "questions": len(self.questions),
            "finished": self.finished,
            "recovered": sum(1 for a in self.attempts if a.retry and a.result.correct),
            "topics": topics,
            "review": review,
            "answers": [{"id": a.question.id, "family": a.question.kind, "correct": a.result.correct,
                         "retry": a.retry} for a in self.attempts],
        }

    def summary(self) -> str:
        r = self.report()
        text = f"Score: {r['right']}/{r['total']}"
        if r["total"]:
            text += f" ({round(100 * r['right'] / r['total'])}%)"
        if r["total"] < r["questions"]:
            text += f", {r['questions'] - r['total']} not answered"
        if r["recovered"]:
            text += f"; {r['recovered']} right on the second try"
        if r["review"]:
            text += "\nTo review:\n" + "\n".join(
                f"  - {t} ({r['topics'][t]['right']}/{r['topics'][t]['total']})" for t in r["review"])
        return text

    def save(self, key: str, progress: Any = None) -> Any:
        """Record the run in the learner's progress under ``key``: a finished quiz as a
        result, one left half-way as an attempt (its answers, so its score so far)."""
        from .record import record_attempt, record_result

        r = self.report()
        if not r["finished"]:
            answers = [{"question": a.question.id, "choice": a.result.choice,
                        "correct": a.result.correct, "topic": a.question.topic}
                       for a in self.first_attempts()]
            return record_attempt(key, answers, questions=r["questions"], topics=r["topics"],
                                  progress=progress)
        return record_result(key, right=r["right"], total=r["total"], review=r["review"],
                             topics=r["topics"], progress=progress)


# ------------------------------------------------------------------ worksheets


def worksheet(questions: Iterable[Question]) -> list[dict[str, Any]]:
    """The quiz as plain data: prompt, options, answer (text and 0-based index),
    explanation, family, topic, scenario, flow and the step that proves it."""
    return [{
        "id": q.id, "family": q.kind, "topic": TOPICS.get(q.kind, q.kind), "prompt": q.prompt,
        "options": list(q.options), "answer": q.answer, "answer_index": q.answer_index,
        "explanation": q.explanation, "scenario": q.scenario, "flow": q.flow, "step": q.step_index,
    } for q in questions]


def export_json(questions: Iterable[Question]) -> str:
    return json.dumps(worksheet(questions), indent=2, ensure_ascii=False) + "\n"


def export_markdown(questions: Iterable[Question], title: str = "Quiz") -> str:
    """Questions first (a worksheet to hand out), then the answer key with explanations."""
    items = worksheet(questions)
    letters = "ABCDEFGHIJ"
    out = [f"# {title}", ""]
    for n, it in enumerate(items, 1):
        out.append(f"## {n}. ({it['family']})")
        out.append("")
        out += [line if line.strip() else "" for line in it["prompt"].splitlines()]
        out.append("")
        out += [f"- {letters[i]}) {o}" for i, o in enumerate(it["options"])]
        out.append("")
    out += ["---", "", "# Answer key", ""]
    for n, it in enumerate(items, 1):
        out.append(f"{n}. **{letters[it['answer_index']]}** — {it['answer']}")
        out.append("")
        out += [f"   {line}" for line in it["explanation"].splitlines()]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
