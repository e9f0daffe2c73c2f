"""Recording quiz, case and interview results in the learner's progress file.

A thin adapter over :mod:`kubeflow_tui.progress`: if ``Progress`` grows a
``record_quiz(key, right, total, ...)`` method it is used; until then results go under
``progress.data["quizzes"][key]`` (the progress loader keeps unknown top-level keys),
written with ``Progress.save()`` (atomic).  Errors never reach the learner as
exceptions: they end up in ``Progress.notice``.
"""

from __future__ import annotations

import time
from typing import Any


def record_result(key: str, *, right: int, total: int, solved: bool | None = None,
                  review: list[str] | None = None, progress: Any = None,
                  topics: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Any:
    """Store the latest and best score for ``key`` (e.g. ``quiz:clusterip``, ``case:wrong-target-port``).

    ``topics`` (per topic ``{"right": n, "total": m}``) and ``extra`` (plain values, e.g. a
    case's hints used) are kept beside the score of the latest attempt."""
    try:
        from ..progress import Progress
    except ImportError:  # pragma: no cover - progress is part of the app
        return None
    prog = progress if progress is not None else Progress.load()
    if hasattr(prog, "record_quiz"):
        prog.record_quiz(key, right=right, total=total, solved=solved, review=review or [])
        if topics is not None or extra:
            entry = prog.data.get("quizzes", {}).get(key)
            if isinstance(entry, dict):
                if topics is not None:
                    entry["topics"] = topics
                entry.update(extra or {})
                prog.save()
        return prog
    quizzes = prog.data.setdefault("quizzes", {})
    if not isinstance(quizzes, dict):
        quizzes = prog.data["quizzes"] = {}
    entry = quizzes.setdefault(key, {})
    entry.update({"right": right, "total": total, "updated": time.strftime("%Y-%m-%dT%H:%M:%S")})
    entry["attempts"] = int(entry.get("attempts", 0)) + 1
    if total and right / total >= entry.get("best", 0):
        entry["best"] = right / total
    if solved is not None:
        entry["solved"] = bool(solved) or bool(entry.get("solved"))
    if review is not None:
        entry["review"] = list(review)
    if topics is not None:
        entry["topics"] = topics
    entry.update(extra or {})
    prog.save()
    return prog


def recorded(key: str, progress: Any = None) -> dict[str, Any]:
    from ..progress import Progress

    prog = progress if progress is not None else Progress.load()
    return dict(prog.data.get("quizzes", {}).get(key, {}))
