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
are held to it.  Stdlib only.
"""

from __future__ import annotations

from typing import Sequence

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
