"""Recording quiz, case and interview results in the learner's progress file.

A thin layer over :class:`kubeflow_tui.progress.Progress`: a finished quiz or case is a
result (``Progress.record_quiz``) with its per-topic counts and anything else the front
end keeps beside it (a case's hints used); one left half-way is an attempt
(``Progress.save_attempt``: the answers so far, so the score so far).  Errors never
reach the learner as exceptions: they end up in ``Progress.notice``.
"""

from __future__ import annotations

from typing import Any


def _progress(progress: Any) -> Any:
    from ..progress import Progress

    return progress if progress is not None else Progress.load()


def record_result(key: str, *, right: int, total: int, solved: bool | None = None,
                  review: list[str] | None = None, progress: Any = None,
                  topics: dict[str, Any] | None = None, extra: dict[str, Any] | None = None,
                  streak: bool = False) -> Any:
    """Store the latest and best score for ``key`` (e.g. ``quiz:clusterip``, ``case:01-web-refuses``).

    ``topics`` (per topic ``{"right": n, "total": m}``) and ``extra`` (plain values, e.g. a
    case's hints used) are kept beside the score of the latest attempt.  With ``streak``
    (practice incidents) ``streak`` counts the incidents solved in a row, ending at this
    one (0 after one not solved), and ``best_streak`` the longest run so far."""
    prog = _progress(progress)
    before = prog.quiz(key)
    prog.record_quiz(key, right=right, total=total, solved=solved, review=review or [],
                     save=False)
    entry = prog.quizzes[key]
    if topics is not None:
        entry.topics = topics
    for name, value in (extra or {}).items():
        setattr(entry, name, value)
    if streak:
        run = int(before.get("streak", 0)) + 1 if solved else 0
        entry.streak = run
        entry.best_streak = max(run, int(before.get("best_streak", 0)))
    prog.save()
    return prog


def record_attempt(key: str, answers: list[dict[str, Any]], *, questions: int,
                   topics: dict[str, Any] | None = None, progress: Any = None) -> Any:
    """Keep a quiz left half-way: ``answers`` as ``{"question", "choice", "correct",
    "topic"}`` dicts, ``questions`` the quiz's length."""
    prog = _progress(progress)
    attempt = prog.save_attempt(key, answers, total=questions, save=False)
    if topics is not None:
        attempt.topics = topics
    prog.save()
    return prog


def recorded(key: str, progress: Any = None) -> dict[str, Any]:
    """The finished result under ``key`` ({} if none)."""
    return _progress(progress).quiz(key)


def recorded_attempt(key: str, progress: Any = None) -> dict[str, Any]:
    """The attempt left half-way under ``key`` ({} if none), with its score so far."""
    attempt = _progress(progress).attempt(key)
    if attempt is None:
        return {}
    return {**attempt.as_dict(), "right": attempt.right, "answered": attempt.answered}
