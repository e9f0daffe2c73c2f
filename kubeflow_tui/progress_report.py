"""``kubeflow-tui progress``: the learner's progress as a table, JSON or CSV.

The table is laid out for an 80-column terminal first: each lesson is one line (its
whole id, status, flows run, last change) with its title on the line below, indented,
so neither wraps; a terminal of 110 columns or more gets the title as a column.  Quizzes,
cases, attempts left half-way and interview sessions follow, when there are any.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .progress import Progress

STATUS_STYLE = {"done": "green", "started": "yellow"}
#: from this width the title gets a column of its own
WIDE = 110


def lesson_rows(progress: Progress, lessons: list[Any]) -> list[dict[str, Any]]:
    """One row per lesson (and per lesson id in the progress file that no longer exists)."""
    ids = [lesson.id for lesson in lessons]
    titles = {lesson.id: lesson.title for lesson in lessons}
    flows = {lesson.id: len(getattr(lesson, "flows", ()) or ()) for lesson in lessons}
    ids += [i for i in progress.lessons if i not in titles]
    rows = []
    for lesson_id in ids:
        entry = progress.lesson(lesson_id)
        rows.append(
            {
                "lesson": lesson_id,
                "title": titles.get(lesson_id, ""),
                "status": entry.get("status", "") or "not started",
                "flows_done": len(entry.get("flows_done", [])),
                "flows": flows.get(lesson_id, 0),
                "flow": entry.get("flow", ""),
                "step": entry.get("step", ""),
                "updated": entry.get("updated", ""),
            }
        )
    return rows


def to_json(progress: Progress, rows: list[dict[str, Any]]) -> str:
    data = {
        "lessons": rows,
        "quizzes": {k: v.as_dict() for k, v in progress.quizzes.items()},
        "attempts": {k: {**v.as_dict(), "right": v.right, "answered": v.answered}
                     for k, v in progress.attempts.items()},
        "interviews": [s.as_dict() for s in progress.interviews],
    }
    return json.dumps(data, indent=2) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["lesson"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _when(stamp: str) -> str:
    """``2026-12-03T14:05:09`` -> ``2026-12-03 14:05``."""
    return stamp[:16].replace("T", " ") if stamp else "-"


def _flows(row: dict[str, Any]) -> str:
    return f"{row['flows_done']}/{row['flows']}" if row["flows"] else str(row["flows_done"])


def lessons_table(rows: list[dict[str, Any]], width: int) -> RenderableType:
    """Lessons, one line each, whole ids; the title below (narrow) or in a column (wide)."""
    if width >= WIDE:
        table = Table(box=None, pad_edge=False)
        for name in ("lesson", "title", "status", "flows", "updated"):
            table.add_column(name, no_wrap=name != "title", justify="right" if name == "flows" else "left")
        for r in rows:
            table.add_row(r["lesson"], r["title"], Text(r["status"], style=STATUS_STYLE.get(r["status"], "dim")),
                          _flows(r), _when(r["updated"]))
        return table
    wid = max([len("lesson")] + [len(r["lesson"]) for r in rows])
    lines = [Text(f"{'lesson':<{wid}}  {'status':<11}  {'flows':>5}  updated", style="bold")]
    for r in rows:
        line = Text(f"{r['lesson']:<{wid}}  ")
        line.append(f"{r['status']:<11}", style=STATUS_STYLE.get(r["status"], "dim"))
        line.append(f"  {_flows(r):>5}  {_when(r['updated'])}")
        lines.append(line)
        if r["title"]:
            title = Text("  " + r["title"], style="dim", no_wrap=True, overflow="ellipsis")
            lines.append(title)
    return Group(*lines)


def _percent(right: int, total: int) -> str:
    return f"{right}/{total} ({round(100 * right / total)}%)" if total else f"{right}/{total}"


def others(progress: Progress) -> list[RenderableType]:
    out: list[RenderableType] = []
    if progress.quizzes:
        t = Table("quiz, case", "latest", "best", "tries", "updated", box=None, pad_edge=False, title=None)
        for key, q in sorted(progress.quizzes.items()):
            best = f"{round(100 * q.best)}%" + (" solved" if q.solved else "")
            t.add_row(Text(key, overflow="fold"), _percent(q.right, q.total), best, str(q.attempts), _when(q.updated))
        out += [Text(""), Text("Quizzes and cases", style="bold"), t]
    if progress.attempts:
        t = Table("left half-way", "answered", "right so far", "updated", box=None, pad_edge=False)
        for key, a in sorted(progress.attempts.items()):
            of = f"{a.answered}/{a.total}" if a.total else str(a.answered)
            t.add_row(Text(key, overflow="fold"), of, str(a.right), _when(a.updated))
        out += [Text(""), Text("Attempts left half-way", style="bold"), t]
    if progress.interviews:
        t = Table("interview", "score", "time", "to review", box=None, pad_edge=False)
        for s in progress.interviews[-10:]:
            m, sec = divmod(s.seconds, 60)
            t.add_row(_when(s.ended) + ("" if s.finished else " (left)")
                      + (f" seed {s.seed}" if s.seed is not None else ""), _percent(s.right, s.total),
                      f"{m}:{sec:02d}", Text(", ".join(s.review[:3]) or "-", overflow="fold"))
        out += [Text(""), Text("Interview sessions (latest last)", style="bold"), t]
    return out


def render(progress: Progress, rows: list[dict[str, Any]], console: Console) -> None:
    if not rows and not progress.quizzes and not progress.interviews:
        console.print("no lessons found")
        return
    console.print(Group(lessons_table(rows, console.width), *others(progress)))
