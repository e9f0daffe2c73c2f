"""Options that do not give the answer away by their length.

A learner who cannot tell the causes apart soon learns that the right diagnosis is the
one written with the most care: the longest, with the mechanism spelt out, beside terse
distractors.  :func:`length_giveaway` measures that on a multiple-choice question:

* the answer is not the *only* longest option (so "pick the longest" does not work),
* nor the only shortest one (so its mirror does not work either),
* and the longest option is at most :data:`MAX_LENGTH_RATIO` times the shortest: every
  option carries about as much detail (a cause and what it does to the packet).

The shipped cases (``tests/test_cases.py``) and the practice generator
(:mod:`kubeflow_tui.quiz.practice`, which picks its distractors so that the rule holds)
are held to it; generated quiz questions pick their distractors with
:func:`fair_assemble` so that the answer is neither the only longest nor the only shortest
option whenever the candidates allow it.
"""

from __future__ import annotations

import random
from typing import Iterable, Sequence

#: the longest option may be at most this many times as long as the shortest
MAX_LENGTH_RATIO = 1.5


def length_giveaway(options: Sequence[str], answer: int) -> str | None:
    """Why the options' lengths point at ``options[answer]``, or ``None`` when they don't.

    The message names the options by their 1-based number, as the learner sees them."""
    if len(options) < 3:
        return None  # two options: one is always the longer
    lengths = [len(o.strip()) for o in options]
    mine = lengths[answer]
    others = [n for i, n in enumerate(lengths) if i != answer]
    if mine > max(others):
        i = lengths.index(max(others))
        return (f"the answer (option {answer + 1}, {mine} characters) is the only longest option; "
                f"the next longest is option {i + 1} ({max(others)} characters)")
    if mine < min(others):
        i = lengths.index(min(others))
        return (f"the answer (option {answer + 1}, {mine} characters) is the only shortest option; "
                f"the next shortest is option {i + 1} ({min(others)} characters)")
    longest, shortest = max(lengths), min(lengths)
    if longest > MAX_LENGTH_RATIO * shortest:
        return (f"option {lengths.index(longest) + 1} has {longest} characters and option "
                f"{lengths.index(shortest) + 1} only {shortest}: more than {MAX_LENGTH_RATIO}x, so the "
                "options do not carry the same detail")
    return None


def _extreme(options: Sequence[str], answer: int) -> bool:
    """The answer is the only longest or the only shortest option."""
    lengths = [len(o) for o in options]
    others = lengths[:answer] + lengths[answer + 1:]
    return bool(others) and (lengths[answer] > max(others) or lengths[answer] < min(others))


def fair_assemble(answer: str, tiers: Sequence[Iterable[str]], rng: random.Random, *,
                  distractors: int = 3, minimum: int = 2) -> tuple[tuple[str, ...], int] | None:
    """:func:`~kubeflow_tui.quiz.model.assemble`, then, when the answer came out the only
    longest or only shortest option, the first other choice of as many distractors (the
    best tiers first) that leaves it neither; when none does, the first choice stands.
    (For generated questions the length ratio is not held: a chain name beside a longer
    one of another family is fine.)"""
    from itertools import combinations

    from .model import assemble

    first = assemble(answer, tiers, rng, distractors=distractors, minimum=minimum)
    if first is None or not _extreme(*first):
        return first
    k = len(first[0]) - 1
    cands: list[str] = []
    for tier in tiers:
        for c in tier:
            if c and c != answer and c not in cands:
                cands.append(c)
    for n, pick in enumerate(combinations(cands, k)):
        if n >= 2000:  # enough tries: keep the first choice
            break
        if not _extreme([answer, *pick], 0):
            options = [*pick, answer]
            rng.shuffle(options)
            return tuple(options), options.index(answer)
    return first
