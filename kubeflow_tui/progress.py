"""The learner's progress: one JSON file in the user data directory, as a pydantic model.

* Location: ``platformdirs.user_data_dir("kubeflow-tui")/progress.json``; the
  environment variable ``KUBEFLOW_TUI_DATA_DIR`` overrides the directory (tests).
* Writes are atomic: a temporary file in the same directory, ``fsync``, then
  ``os.replace``.
* A file that cannot be read as progress (not JSON, not this program's, a newer
  version) is kept: it is moved aside to ``progress.json.corrupt-<timestamp>.bak`` and
  :attr:`Progress.notice` says so, so the app can tell the learner; the learner starts
  afresh rather than crashing.
* Besides each lesson's state and each quiz's best result, it keeps a quiz or case
  left half-way (:meth:`Progress.save_attempt`: the answers so far and the score so far)
  and a summary of each interview session (:meth:`Progress.record_interview`).

No textual here.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

ENV_VAR = "KUBEFLOW_TUI_DATA_DIR"
FILENAME = "progress.json"
VERSION = 1
#: how many interview summaries are kept (the oldest go first)
INTERVIEWS_KEPT = 50


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


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


class _Entry(BaseModel):
    # unknown keys (written by a later version of this program) are kept, not lost
    model_config = ConfigDict(extra="allow", validate_assignment=True)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class LessonProgress(_Entry):
    """One lesson: ``status`` (started/done), the last flow and step, the flows run."""

    status: Literal["", "started", "done"] = ""
    flow: str | None = None
    step: int | None = None
    flows_done: list[str] = Field(default_factory=list)
    updated: str = ""


class QuizResult(_Entry):
    """The latest and best result of a finished quiz, case or interview."""

    right: int = 0
    total: int = 0
    attempts: int = 0
    best: float = 0.0
    passed: bool = False
    solved: bool | None = None  # cases: ever solved
    review: list[str] | None = None  # topics to review after the latest attempt
    updated: str = ""


class Answer(_Entry):
    """One answered question of an attempt."""

    question: str  # the question's id (or its text when it has none)
    choice: int  # the option chosen, 0-based
    correct: bool
    topic: str = ""


class Attempt(_Entry):
    """A quiz or case left half-way: the answers so far and the score so far."""

    answers: list[Answer] = Field(default_factory=list)
    total: int = 0  # questions in the quiz (0: unknown)
    updated: str = ""

    @property
    def right(self) -> int:
        return sum(1 for a in self.answers if a.correct)

    @property
    def answered(self) -> int:
        return len(self.answers)


class InterviewSummary(_Entry):
    """One interview session, as its summary screen shows it."""

    right: int
    total: int  # questions answered
    seconds: int = 0  # time taken
    review: list[str] = Field(default_factory=list)  # topics of the wrong answers, most often first
    kinds: dict[str, list[int]] = Field(default_factory=dict)  # question kind -> [right, asked]
    finished: bool = True  # False: left before the end
    ended: str = ""
    seed: int | None = None  # the set's seed: `kubeflow-tui interview --seed S` asks it again


class ProgressError(ValueError):
    """A progress file that is not this program's progress (the message says why)."""


class _DataView(MutableMapping):
    """``Progress.data``: the progress as the mapping earlier versions exposed.

    Reading gives plain values (copies); assigning a top-level key sets the field,
    validated.  New code uses the model's fields and methods."""

    def __init__(self, progress: "Progress"):
        self._p = progress

    def _keys(self) -> list[str]:
        return list(type(self._p).model_fields) + list(self._p.model_extra or {})

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return self._p.model_dump(mode="json", include={key})[key] if key in type(self._p).model_fields \
            else (self._p.model_extra or {})[key]

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self._p, key, value)

    def __delitem__(self, key: str) -> None:
        if key in type(self._p).model_fields:
            raise KeyError(f"{key} is part of the progress; it cannot be removed")
        del self._p.model_extra[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


class Progress(BaseModel):
    """Progress of every lesson, quiz, case and interview; :meth:`load` and :meth:`save`
    read and write the file (``path``); :attr:`notice` is what the learner should be told
    (a damaged file moved aside, a failed save)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    version: int = VERSION
    last: str | None = None  # the lesson opened last
    theme: str | None = None  # the app's theme
    lessons: dict[str, LessonProgress] = Field(default_factory=dict)
    quizzes: dict[str, QuizResult] = Field(default_factory=dict)
    attempts: dict[str, Attempt] = Field(default_factory=dict)  # unfinished, by quiz key
    interviews: list[InterviewSummary] = Field(default_factory=list)  # oldest first
    seconds: int = 0  # time spent in the app, summed over sessions

    _path: Path = PrivateAttr(default_factory=lambda: data_dir() / FILENAME)
    _notice: str = PrivateAttr(default="")
    _unsaved: bool = PrivateAttr(default=False)  # the file could not be read nor moved aside

    # ------------------------------------------------------------------ file
    @property
    def path(self) -> Path:
        return self._path

    @property
    def notice(self) -> str:
        return self._notice

    @notice.setter
    def notice(self, value: str) -> None:
        self._notice = value

    @property
    def data(self) -> _DataView:
        """The progress as a mapping (the interface of earlier versions)."""
        return _DataView(self)

    @classmethod
    def at(cls, path: Path, notice: str = "") -> "Progress":
        """Fresh progress that will be saved to ``path``."""
        p = cls()
        p._path, p._notice = Path(path), notice
        return p

    @classmethod
    def parse(cls, text: str, path: Path) -> "Progress":
        """Progress from a file's text; :class:`ProgressError` if it is not progress."""
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ProgressError(f"not JSON (line {getattr(exc, 'lineno', '?')}: {getattr(exc, 'msg', exc)})") from None
        if not isinstance(raw, dict):
            raise ProgressError(f"not a progress file (a JSON {type(raw).__name__}, not an object)")
        if "version" not in raw and "lessons" not in raw:
            raise ProgressError("not a progress file (it has neither 'version' nor 'lessons')")
        version = raw.get("version", VERSION)
        if not isinstance(version, int) or version > VERSION:
            raise ProgressError(f"written by a newer kubeflow-tui (version {version!r}; this one reads {VERSION})")
        try:
            p = cls.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "top level"
            raise ProgressError(f"not a progress file ({where}: {err['msg']})") from None
        p._path = Path(path)
        return p

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "Progress":
        d = Path(directory) if directory is not None else data_dir()
        path = d / FILENAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls.at(path)
        except (OSError, UnicodeDecodeError) as exc:
            return cls._start_afresh(path, f"{exc.__class__.__name__}: {exc}")
        try:
            return cls.parse(text, path)
        except ProgressError as exc:
            return cls._start_afresh(path, str(exc))

    @classmethod
    def _start_afresh(cls, path: Path, why: str) -> "Progress":
        """Keep the unreadable file as ``.bak`` beside it and start with empty progress."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{FILENAME}.corrupt-{stamp}.bak")
        n = 1
        while aside.exists():
            aside = path.with_name(f"{FILENAME}.corrupt-{stamp}-{n}.bak")
            n += 1
        try:
            os.replace(path, aside)
        except OSError as exc:
            p = cls.at(path, f"Your progress file {path} could not be read ({why}) or moved aside ({exc}); "
                             "progress is not saved.")
            p._unsaved = True  # never overwrite the file we could not read
            return p
        return cls.at(path, f"Your progress file could not be read ({why}); it was moved to {aside} "
                            "and progress starts afresh.")

    def save(self) -> None:
        """Write atomically; errors become :attr:`notice` instead of exceptions."""
        if self._unsaved:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2, sort_keys=True))
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

    # ------------------------------------------------------------------ lessons
    def lesson(self, lesson_id: str) -> dict[str, Any]:
        entry = self.lessons.get(lesson_id)
        return entry.as_dict() if entry is not None else {}

    def status(self, lesson_id: str) -> str:
        """``""`` (not started), ``"started"`` or ``"done"``."""
        entry = self.lessons.get(lesson_id)
        return entry.status if entry is not None else ""

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
        entry = self.lessons.setdefault(lesson_id, LessonProgress())
        if entry.status != "done":
            entry.status = "done" if done else "started"
        if flow is not None:
            entry.flow = flow
        if step is not None:
            entry.step = int(step)
        if flow_done and flow_done not in entry.flows_done:
            entry.flows_done.append(flow_done)
        entry.updated = _now()
        self.last = lesson_id
        if save:
            self.save()

    # ------------------------------------------------------------------ quizzes
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
        """Store a finished quiz, case or interview result under ``quizzes[key]``.

        Keys: ``lesson:<lesson id>`` (a lesson's quiz), ``commands:<lesson id>``,
        ``case:<case id>``, ``interview``, ``quiz:<scenario>`` (the CLI).  Keeps the
        latest score, the best ratio, the number of attempts, ``passed`` (ever reached
        :data:`PASS_RATIO`), ``solved`` (cases: ever solved) and what to review.  A
        half-way attempt saved under the same key is done with and dropped.
        """
        entry = self.quizzes.setdefault(key, QuizResult())
        entry.right, entry.total, entry.updated = int(right), int(total), _now()
        entry.attempts += 1
        ratio = right / total if total else 0.0
        if total and ratio >= entry.best:
            entry.best = ratio
        entry.passed = entry.passed or passed(right, total)
        if solved is not None:
            entry.solved = bool(solved) or bool(entry.solved)
        if review is not None:
            entry.review = list(review)
        self.attempts.pop(key, None)
        if save:
            self.save()
        return entry.as_dict()

    def quiz(self, key: str) -> dict[str, Any]:
        entry = self.quizzes.get(key)
        return entry.as_dict() if entry is not None else {}

    def save_attempt(self, key: str, answers: list[Answer | dict[str, Any]], *, total: int = 0,
                     save: bool = True) -> Attempt:
        """Keep a quiz or case left half-way (``key`` as for :meth:`record_quiz`): the
        answers so far (question id, choice, right or not) and so the score so far."""
        attempt = Attempt(answers=[a if isinstance(a, Answer) else Answer.model_validate(a) for a in answers],
                          total=int(total), updated=_now())
        self.attempts[key] = attempt
        if save:
            self.save()
        return attempt

    def attempt(self, key: str) -> Attempt | None:
        """The attempt left half-way under ``key``, if any."""
        return self.attempts.get(key)

    def drop_attempt(self, key: str, *, save: bool = True) -> None:
        if self.attempts.pop(key, None) is not None and save:
            self.save()

    def add_time(self, seconds: float, *, save: bool = True) -> None:
        """Count ``seconds`` more of time spent in the app (a session's length, at its end)."""
        if seconds > 0:
            self.seconds += int(round(seconds))
            if save:
                self.save()

    # ------------------------------------------------------------------ interviews
    def record_interview(self, summary: InterviewSummary | dict[str, Any], *, save: bool = True) -> InterviewSummary:
        """Keep an interview session's summary (the last :data:`INTERVIEWS_KEPT`); a
        finished session with answers also counts as a result under ``interview``."""
        s = summary if isinstance(summary, InterviewSummary) else InterviewSummary.model_validate(summary)
        if not s.ended:
            s.ended = _now()
        self.interviews.append(s)
        del self.interviews[:-INTERVIEWS_KEPT]
        if s.finished and s.total:
            self.record_quiz("interview", right=s.right, total=s.total, review=s.review, save=False)
        if save:
            self.save()
        return s

    # ------------------------------------------------------------------ reset
    def reset(self, lesson_id: str | None = None) -> None:
        if lesson_id is None:
            fresh = type(self)()
            for name in type(self).model_fields:
                setattr(self, name, getattr(fresh, name))
        else:
            self.lessons.pop(lesson_id, None)
        self.save()
