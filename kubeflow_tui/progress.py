"""The learner's progress: one JSON file in the user data directory.

* Location: ``platformdirs.user_data_dir("kubeflow-tui")/progress.json``; the
  environment variable ``KUBEFLOW_TUI_DATA_DIR`` overrides the directory (tests).
* Writes are atomic: a temporary file in the same directory, ``fsync``, then
  ``os.replace``.
* A file that cannot be read as progress is moved aside to
  ``progress.json.corrupt-<timestamp>`` and :attr:`Progress.notice` says so, so the
  app can tell the learner; the learner starts afresh rather than crashing.

No textual here.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

ENV_VAR = "KUBEFLOW_TUI_DATA_DIR"
FILENAME = "progress.json"
VERSION = 1


def data_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("kubeflow-tui", appauthor=False))


#: a quiz counts as passed from this share of right answers
PASS_RATIO = 0.7


def passed(right: int, total: int) -> bool:
    return total > 0 and right / total >= PASS_RATIO - 1e-9


def _empty() -> dict[str, Any]:
    return {"version": VERSION, "last": None, "lessons": {}}


class Progress:
    """Progress of every lesson: ``status`` (started/done), last flow and step."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None, notice: str = "") -> None:
        self.path = path
        self.data = data if data is not None else _empty()
        self.notice = notice  # something the learner should be told (corrupt file moved ...)

    # ------------------------------------------------------------------ load/save
    @classmethod
    def load(cls, directory: str | Path | None = None) -> "Progress":
        d = Path(directory) if directory is not None else data_dir()
        path = d / FILENAME
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("lessons", {}), dict):
                raise ValueError("not a progress file")
            data.setdefault("version", VERSION)
            data.setdefault("last", None)
            data.setdefault("lessons", {})
            for k, v in list(data["lessons"].items()):
                if not isinstance(v, dict):
                    raise ValueError(f"lesson {k!r} is not a mapping")
            return cls(path, data)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            aside = path.with_name(f"{FILENAME}.corrupt-{stamp}")
            n = 1
            while aside.exists():
                aside = path.with_name(f"{FILENAME}.corrupt-{stamp}-{n}")
                n += 1
            try:
                os.replace(path, aside)
                notice = (
                    f"Your progress file could not be read ({exc.__class__.__name__}); "
                    f"it was moved to {aside} and progress starts afresh."
                )
            except OSError as exc2:
                notice = f"Your progress file {path} could not be read or moved aside ({exc2}); progress is not saved."
            return cls(path, notice=notice)

    def save(self) -> None:
        """Write atomically; errors become :attr:`notice` instead of exceptions."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(self.data, fh, indent=2, sort_keys=True)
                    fh.write("\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            try:  # make the rename durable
                dfd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
            except OSError:
                pass
        except OSError as exc:
            self.notice = f"Could not save progress to {self.path}: {exc}"

    # ------------------------------------------------------------------ queries
    @property
    def last(self) -> str | None:
        return self.data.get("last")

    def lesson(self, lesson_id: str) -> dict[str, Any]:
        return dict(self.data["lessons"].get(lesson_id, {}))

    def status(self, lesson_id: str) -> str:
        """``""`` (not started), ``"started"`` or ``"done"``."""
        return self.data["lessons"].get(lesson_id, {}).get("status", "")

    # ------------------------------------------------------------------ updates
    def mark(
        self,
        lesson_id: str,
        *,
        flow: str | None = None,
        step: int | None = None,
        done: bool = False,
        flow_done: str | None = None,
        save: bool = True,
    ) -> None:
        entry = self.data["lessons"].setdefault(lesson_id, {})
        if entry.get("status") != "done":
            entry["status"] = "done" if done else "started"
        if flow is not None:
            entry["flow"] = flow
        if step is not None:
            entry["step"] = int(step)
        if flow_done:
            seen = entry.setdefault("flows_done", [])
            if flow_done not in seen:
                seen.append(flow_done)
        entry["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.data["last"] = lesson_id
        if save:
            self.save()

    def record_quiz(
        self,
        key: str,
        *,
        right: int,
        total: int,
        solved: bool | None = None,
        review: list[str] | None = None,
        save: bool = True,
    ) -> dict[str, Any]:
        """Store a quiz, case or interview result under ``data["quizzes"][key]``.

        Keys: ``lesson:<lesson id>`` (a lesson's quiz), ``commands:<lesson id>``,
        ``case:<case id>``, ``interview``, ``quiz:<scenario>`` (the CLI).  Keeps the
        latest score, the best ratio, the number of attempts, ``passed`` (ever reached
        :data:`PASS_RATIO`), ``solved`` (cases: ever solved) and what to review.
        """
        quizzes = self.data.setdefault("quizzes", {})
        if not isinstance(quizzes, dict):
            quizzes = self.data["quizzes"] = {}
        entry = quizzes.setdefault(key, {})
        entry.update({"right": int(right), "total": int(total), "updated": time.strftime("%Y-%m-%dT%H:%M:%S")})
        entry["attempts"] = int(entry.get("attempts", 0)) + 1
        ratio = right / total if total else 0.0
        if total and ratio >= float(entry.get("best", 0)):
            entry["best"] = ratio
        entry["passed"] = bool(entry.get("passed")) or passed(right, total)
        if solved is not None:
            entry["solved"] = bool(solved) or bool(entry.get("solved"))
        if review is not None:
            entry["review"] = list(review)
        if save:
            self.save()
        return dict(entry)

    def quiz(self, key: str) -> dict[str, Any]:
        q = self.data.get("quizzes", {})
        return dict(q.get(key, {})) if isinstance(q, dict) else {}

    def reset(self, lesson_id: str | None = None) -> None:
        if lesson_id is None:
            self.data = _empty()
        else:
            self.data["lessons"].pop(lesson_id, None)
        self.save()
