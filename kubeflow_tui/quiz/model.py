"""Questions, results and the helpers every generator shares.  No textual here."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..trace import PacketView

#: What a learner should review after a wrong answer, by question kind.
TOPICS: dict[str, str] = {
    "next-chain": "how KUBE-SERVICES dispatches to KUBE-SVC/KUBE-EXT/KUBE-FW and KUBE-SEP chains",
    "dnat": "DNAT in the KUBE-SEP chains (--to-destination)",
    "masquerade": "KUBE-MARK-MASQ, the 0x4000 mark and MASQUERADE in KUBE-POSTROUTING",
    "conntrack-entry": "conntrack entries: original and reply tuples after NAT",
    "reply-source": "reply un-NAT by conntrack (not an SNAT rule)",
    "probability": "endpoint choice with -m statistic --probability 1/(n-i)",
    "verdict": "REJECT vs DROP: refused at once vs a timeout",
    "conntrack-hit": "later packets skip the nat table: conntrack applies the NAT",
    "conntrack-reverse": "reply un-NAT by conntrack (not an SNAT rule)",
    "command": "debugging commands: iptables -t nat -L/-S, iptables-save, conntrack -L",
    "diagnosis": "troubleshooting a broken Service",
    "conntrack-node": "which node's conntrack holds a connection's NAT, and its reply tuple",
    "server-source": "what source the server sees: masquerade (KUBE-MARK-MASQ + KUBE-POSTROUTING) or none",
    "decider": "the hook, table and chain where a packet's fate is decided",
    "nat-packet": "the nat table sees only a connection's first packet; conntrack does the rest",
    "counterfactual": "predicting the cluster's behaviour after a change (rules, traffic policy, placement)",
    "compare": "why one flow is masqueraded and another is not (which chain jumps to KUBE-MARK-MASQ)",
    "pick-chance": "endpoint choice: overall chances from -m statistic, and sessionAffinity's recent match",
}


@dataclass(frozen=True)
class Question:
    """One multiple-choice question.

    ``options`` are whole answers; exactly one (``answer_index``, 0-based) is right.
    ``explanation`` comes from the Trace step(s) that decide the answer, and
    ``step_index`` is the step a viewer should replay to see it happen.
    """

    id: str
    kind: str
    prompt: str
    options: tuple[str, ...]
    answer_index: int
    explanation: str
    step_index: int
    scenario: str
    flow: str
    host: str = ""
    #: what the question is about (a chain, a host, a change ...): a quiz never asks two
    #: questions of the same family about the same target (:func:`~kubeflow_tui.quiz.flow.select_questions`)
    target: str = ""

    @property
    def answer(self) -> str:
        return self.options[self.answer_index]

    @property
    def family(self) -> str:
        """The question family (the same as ``kind``)."""
        return self.kind

    @property
    def topic(self) -> str:
        return TOPICS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Result:
    question_id: str
    correct: bool
    choice: int
    answer_index: int
    answer: str
    explanation: str
    step_index: int

    @property
    def feedback(self) -> str:
        head = "Right." if self.correct else f"Not quite. The answer is: {self.answer}"
        return f"{head}\n{self.explanation}"


def grade(question: Question, choice: int) -> Result:
    """Grade a 0-based ``choice``; ``ValueError`` if it is not one of the options."""
    if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < len(question.options):
        raise ValueError(f"choice must be 0..{len(question.options) - 1}, got {choice!r}")
    return Result(
        question_id=question.id,
        correct=choice == question.answer_index,
        choice=choice,
        answer_index=question.answer_index,
        answer=question.answer,
        explanation=question.explanation,
        step_index=question.step_index,
    )


@dataclass
class Score:
    """Running score of a quiz or an interview session."""

    results: list[tuple[Question, Result]] = field(default_factory=list)

    def add(self, question: Question, result: Result) -> None:
        self.results.append((question, result))

    @property
    def right(self) -> int:
        return sum(1 for _, r in self.results if r.correct)

    @property
    def total(self) -> int:
        return len(self.results)

    def review(self) -> list[str]:
        """Topics of the wrong answers, most frequent first (ties in order of appearance)."""
        counts: dict[str, int] = {}
        for q, r in self.results:
            if not r.correct:
                counts[q.topic] = counts.get(q.topic, 0) + 1
        return sorted(counts, key=lambda t: -counts[t])

    def summary(self) -> str:
        text = f"Score: {self.right}/{self.total}"
        if self.total:
            text += f" ({round(100 * self.right / self.total)}%)"
        rev = self.review()
        if rev:
            text += "\nTo review:\n" + "\n".join(f"  - {t}" for t in rev)
        return text


# ------------------------------------------------------------------ helpers


def rng_for(seed: int | None, key: str) -> random.Random:
    """A generator that depends only on ``seed`` and ``key`` (str seeds are hashed with
    SHA-512 by ``random``, so this does not depend on PYTHONHASHSEED)."""
    return random.Random(f"{seed if seed is not None else 0}:{key}")


def assemble(
    answer: str,
    tiers: Sequence[Iterable[str]],
    rng: random.Random,
    *,
    distractors: int = 3,
    minimum: int = 2,
) -> tuple[tuple[str, ...], int] | None:
    """Options from the right answer and tiers of distractor candidates (best first).

    Candidates equal to the answer or to each other are dropped; each tier is
    shuffled before it is used.  ``None`` when fewer than ``minimum`` remain.
    """
    seen = {answer}
    picked: list[str] = []
    for tier in tiers:
        cands = []
        for c in tier:
            if c and c not in seen:
                seen.add(c)
                cands.append(c)
        rng.shuffle(cands)
        picked.extend(cands[: distractors - len(picked)])
        if len(picked) >= distractors:
            break
    if len(picked) < minimum:
        return None
    options = picked + [answer]
    rng.shuffle(options)
    return tuple(options), options.index(answer)


def cite(step: Any) -> str:
    """The step that proves an answer, as an explanation's last line:
    ``(step 8 on node-b: PREROUTING nat KUBE-SEP-…)``."""
    where = " ".join(x for x in (step.hook, step.table, step.chain) if x)
    return f"(step {step.index} on {step.host}" + (f": {where}" if where else "") + ")"


def endpoint(ip: str, port: int) -> str:
    return f"{ip}:{port}" if port else ip


def packet_text(p: PacketView) -> str:
    return f"{endpoint(p.src, p.sport)} → {endpoint(p.dst, p.dport)} ({p.proto})"
