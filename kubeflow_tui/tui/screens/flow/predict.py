"""Predict mode: the flow stops before each decisive step and asks what happens next.

``Predictions`` is the mode's state (which steps ask, which were asked, the score); the
flow screen owns one and asks it where to stop.  The questions come from
``kubeflow_tui.quiz.predict_points`` over the engine's Trace (never re-derived here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace


@dataclass
class Predictions:
    on: bool = False
    points: dict[int, Any] = field(default_factory=dict)  # step index -> PredictPoint
    asked: set[int] = field(default_factory=set)
    right: int = 0
    total: int = 0

    def load(self, trace: Trace | None, context: Any = None) -> str:
        """The decisive steps of ``trace``; returns a problem to tell the learner, or ""."""
        self.points, self.asked = {}, set()
        if trace is None:
            return ""
        from kubeflow_tui.quiz import predict_points

        try:
            points = predict_points(trace, seed=trace.seed, context=context)
        except Exception as exc:  # a quiz bug must not stop the flow
            return f"No predictions for this flow ({exc.__class__.__name__}: {exc})"
        self.points = {p.step_index: p for p in points if p.step_index > 0}
        return ""

    def next_stop(self, current: int, target: int) -> int | None:
        """The first decisive step after ``current`` up to ``target`` not asked yet."""
        if not self.on or target <= current:
            return None
        for i in sorted(self.points):
            if current < i <= target and i not in self.asked:
                return i
        return None

    def ahead(self, current: int) -> int:
        return len([i for i in self.points if i > current])

    def number(self, step_index: int) -> tuple[int, int]:
        order = sorted(self.points)
        return order.index(step_index) + 1, len(order)

    def record(self, step_index: int, result: Any) -> None:
        self.asked.add(step_index)
        if result is not None:
            self.total += 1
            self.right += int(result.correct)
