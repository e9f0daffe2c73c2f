"""A class on one server: each student's progress kept apart, and the teacher's report.

Layout, under the data directory (``progress.data_dir()``)::

    classes/<class key>/class.json                  {"name": "Networking 101"}
    classes/<class key>/students/<student key>/student.json
    classes/<class key>/students/<student key>/progress.json

* A key is made from the name the person typed (``name_key``): letters and digits folded
  to lower-case ASCII, everything else a hyphen, and a short hash of the whole name, so
  ``Ann`` and ``ann`` are the same student, ``Zoë`` and ``Zoe`` are not, and no name can
  point outside its folder (a key never holds ``/``, ``.`` or ``..``).
* A student chooses a passphrase on first sign-in; its salted scrypt hash is kept in
  ``student.json``.  Typing the same name again resumes that student's progress only with
  the same passphrase, so one student can neither read nor change another's data.
* Folders are created private to the serving user (mode 0700) and files written
  atomically (temporary file, ``os.replace``), like progress itself.

No textual here: the app's sign-in screen and ``kubeflow-tui class report`` both use it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kubeflow_tui.progress import Progress, data_dir, passed

NAME_MAX = 40
PASSPHRASE_MIN = 4
STUDENT_FILE = "student.json"
CLASS_FILE = "class.json"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class ClassroomError(Exception):
    """A name, passphrase or class that cannot be used: the message says why."""


# --------------------------------------------------------------------------- names


def clean_name(name: str) -> str:
    """The name as it is kept and shown: trimmed, inner spaces collapsed, NFC."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if not text:
        raise ClassroomError("the name is empty")
    if len(text) > NAME_MAX:
        raise ClassroomError(f"the name is longer than {NAME_MAX} characters")
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise ClassroomError("the name has control characters")
    if not any(ch.isalnum() for ch in text):
        raise ClassroomError("the name needs at least one letter or digit")
    return text


def name_key(name: str) -> str:
    """The folder name for ``name``: readable ASCII, a hyphen, 8 hex digits of its hash."""
    text = clean_name(name)
    folded = unicodedata.normalize("NFKC", text).casefold()
    ascii_part = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_part).strip("-")[:32] or "x"
    digest = hashlib.sha256(folded.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


# --------------------------------------------------------------------------- files


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ClassroomError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ClassroomError(f"{path}: not a JSON object")
    return data


def _hash_passphrase(passphrase: str, salt: bytes) -> str:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, **_SCRYPT).hex()


# --------------------------------------------------------------------------- the class


@dataclass(frozen=True)
class Student:
    """A signed-in student: where their progress lives."""

    name: str
    key: str
    folder: Path

    def progress(self) -> Progress:
        return Progress.load(self.folder)


class Classroom:
    """One class's folder under the data directory."""

    def __init__(self, name: str, root: str | Path | None = None) -> None:
        self.name = clean_name(name)
        self.key = name_key(self.name)
        base = Path(root) if root is not None else data_dir()
        self.folder = base / "classes" / self.key
        self.students_folder = self.folder / "students"

    def ensure(self) -> None:
        """Create the class folder (private to this user) and record its name."""
        self.students_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker = self.folder / CLASS_FILE
        if not marker.exists():
            _write_json(marker, {"name": self.name})

    def exists(self) -> bool:
        return (self.folder / CLASS_FILE).is_file()

    def sign_in(self, name: str, passphrase: str) -> Student:
        """The student called ``name``: created with this passphrase the first time,
        resumed with the same passphrase afterwards; ClassroomError otherwise."""
        display = clean_name(name)
        if len(passphrase) < PASSPHRASE_MIN:
            raise ClassroomError(f"the passphrase needs at least {PASSPHRASE_MIN} characters")
        self.ensure()
        key = name_key(display)
        folder = self.students_folder / key
        record = folder / STUDENT_FILE
        if record.exists():
            data = _read_json(record)
            try:
                salt = bytes.fromhex(str(data["salt"]))
                want = str(data["passphrase"])
            except (KeyError, ValueError):
                raise ClassroomError(f"{record}: not a student record") from None
            if not hmac.compare_digest(_hash_passphrase(passphrase, salt), want):
                raise ClassroomError(
                    f"{data.get('name', display)!s} is already in this class with another "
                    "passphrase; type yours, or choose another name"
                )
            return Student(str(data.get("name", display)), key, folder)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        salt = secrets.token_bytes(16)
        _write_json(record, {
            "name": display,
            "salt": salt.hex(),
            "passphrase": _hash_passphrase(passphrase, salt),
        })
        return Student(display, key, folder)

    def students(self) -> list[Student]:
        """Every student of the class, by name."""
        out: list[Student] = []
        if not self.students_folder.is_dir():
            return out
        for folder in sorted(self.students_folder.iterdir()):
            record = folder / STUDENT_FILE
            if not record.is_file():
                continue
            try:
                name = str(_read_json(record).get("name") or folder.name)
            except ClassroomError:
                name = folder.name
            out.append(Student(name, folder.name, folder))
        return sorted(out, key=lambda s: s.name.casefold())


# --------------------------------------------------------------------------- the report


@dataclass
class StudentReport:
    """One row of the teacher's report."""

    student: str
    lessons_done: int = 0
    lessons_started: int = 0
    quizzes_passed: int = 0
    quiz_score: str = ""  # right/total summed over the latest attempt of every quiz
    best_quiz_ratio: float = 0.0  # mean of the best ratio per quiz
    cases_solved: int = 0
    practice_streak: int = 0  # practice incidents solved in a row, ending with the latest
    best_practice_streak: int = 0
    minutes: int = 0  # time spent in the app
    last_active: str = ""
    review: list[str] = field(default_factory=list)


REPORT_FIELDS = [
    "student", "lessons_done", "lessons_started", "quizzes_passed", "quiz_score",
    "best_quiz_ratio", "cases_solved", "practice_streak", "best_practice_streak", "minutes",
    "last_active", "review",
]


#: the short columns of the report on a screen (``kubeflow-tui class report``, the teacher's view)
SCREEN_COLUMNS = ("student", "done", "started", "quizzes", "score", "cases", "streak", "min",
                  "last active")


def screen_cells(r: StudentReport) -> tuple[str, ...]:
    """One student's row under :data:`SCREEN_COLUMNS`."""
    return (r.student, str(r.lessons_done), str(r.lessons_started), str(r.quizzes_passed),
            r.quiz_score or "-", str(r.cases_solved), str(r.practice_streak), str(r.minutes),
            r.last_active.replace("T", " ") or "-")


def student_report(student: Student) -> StudentReport:
    progress = student.progress()
    row = StudentReport(student.name)
    stamps: list[str] = []
    for entry in progress.data.get("lessons", {}).values():
        if not isinstance(entry, dict):
            continue
        if entry.get("status") == "done":
            row.lessons_done += 1
        elif entry.get("status") == "started":
            row.lessons_started += 1
        if entry.get("updated"):
            stamps.append(str(entry["updated"]))
    quizzes = progress.data.get("quizzes", {})
    right = total = 0
    ratios: list[float] = []
    review: list[str] = []
    if isinstance(quizzes, dict):
        for key, entry in sorted(quizzes.items()):
            if not isinstance(entry, dict):
                continue
            if entry.get("updated"):
                stamps.append(str(entry["updated"]))
            if key.startswith("case:"):
                row.cases_solved += bool(entry.get("solved"))
                continue
            if key == "practice":
                row.practice_streak = int(entry.get("streak", 0))
                row.best_practice_streak = int(entry.get("best_streak", 0))
                continue
            r, t = int(entry.get("right", 0)), int(entry.get("total", 0))
            right, total = right + r, total + t
            if t:
                ratios.append(float(entry.get("best", r / t)))
            row.quizzes_passed += bool(entry.get("passed")) or passed(r, t)
            review.extend(str(x) for x in entry.get("review", []) or [])
    row.quiz_score = f"{right}/{total}" if total else ""
    row.best_quiz_ratio = round(sum(ratios) / len(ratios), 3) if ratios else 0.0
    row.minutes = round(int(progress.data.get("seconds", 0) or 0) / 60)
    row.last_active = max(stamps) if stamps else ""
    row.review = sorted(set(review))
    return row


def class_report(classroom: Classroom) -> list[StudentReport]:
    if not classroom.exists():
        raise ClassroomError(f"no class called {classroom.name!r} under {classroom.folder.parent}")
    return [student_report(s) for s in classroom.students()]


def format_report(rows: list[StudentReport], fmt: str) -> str:
    """The report as ``csv`` (one row per student, for a learning platform), ``json`` or
    ``md`` (a Markdown table for the teacher's notes)."""
    dicts = [asdict(r) for r in rows]
    if fmt == "json":
        return json.dumps({"students": dicts}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=REPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for d in dicts:
            writer.writerow({**d, "review": "; ".join(d["review"])})
        return buf.getvalue()
    if fmt == "md":
        head = ["student", "lessons done", "started", "quizzes passed", "score",
                "best ratio", "cases solved", "practice streak", "minutes", "last active"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            cells = [r.student.replace("|", "\\|"), str(r.lessons_done), str(r.lessons_started),
                     str(r.quizzes_passed), r.quiz_score or "-", f"{r.best_quiz_ratio:.0%}",
                     str(r.cases_solved), str(r.practice_streak), str(r.minutes),
                     r.last_active or "-"]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
    raise ClassroomError(f"unknown report format {fmt!r} (csv, json or md)")
