"""The progress file (a pydantic model): lessons, quizzes, attempts left half-way,
interview summaries; atomic writes; damaged or foreign files kept as .bak; the
``progress`` command at 80 columns and its exports."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from kubeflow_tui import cli
from kubeflow_tui.lessons import discover
from kubeflow_tui.progress import INTERVIEWS_KEPT, Progress

#: what the previous (dict-based) version wrote, with a key this version does not know
OLD_FILE = {
    "last": "02-clusterip",
    "lessons": {"02-clusterip": {"status": "started", "flow": "pod-other-node", "step": 7,
                                 "flows_done": ["pod-same-node"], "updated": "2026-12-01T10:00:00"}},
    "quizzes": {"quiz:clusterip": {"attempts": 2, "best": 0.5, "passed": False, "review": ["dnat"],
                                   "right": 1, "total": 2, "topics": {"dnat": 1},
                                   "updated": "2026-12-01T10:05:00"}},
    "theme": "textual-light",
    "version": 1,
}


def test_a_file_of_the_previous_version_loads_and_keeps_what_it_does_not_know(tmp_path):
    (tmp_path / "progress.json").write_text(json.dumps(OLD_FILE))
    p = Progress.load(tmp_path)
    assert p.notice == "" and p.last == "02-clusterip" and p.status("02-clusterip") == "started"
    assert p.lesson("02-clusterip")["step"] == 7 and p.quiz("quiz:clusterip")["best"] == 0.5
    assert p.data.get("theme") == "textual-light"
    p.mark("02-clusterip", flow_done="pod-other-node")
    saved = json.loads((tmp_path / "progress.json").read_text())
    assert saved["quizzes"]["quiz:clusterip"]["topics"] == {"dnat": 1}  # unknown keys survive
    assert saved["lessons"]["02-clusterip"]["flows_done"] == ["pod-same-node", "pod-other-node"]


def test_the_data_mapping_of_earlier_versions_still_reads_and_writes(tmp_path):
    p = Progress.load(tmp_path)
    p.data["theme"] = "nord"
    p.save()
    assert Progress.load(tmp_path).theme == "nord"
    p.mark("01")
    assert list(Progress.load(tmp_path).data.get("lessons", {})) == ["01"]
    with pytest.raises(Exception):
        p.data["lessons"] = "not a mapping"  # validated like any field


def test_a_quiz_left_half_way_is_kept_with_its_score_so_far(tmp_path):
    p = Progress.load(tmp_path)
    p.save_attempt("lesson:02-clusterip", [
        {"question": "q1", "choice": 0, "correct": True, "topic": "dnat"},
        {"question": "q2", "choice": 2, "correct": False, "topic": "conntrack"},
    ], total=10)
    a = Progress.load(tmp_path).attempt("lesson:02-clusterip")
    assert (a.answered, a.right, a.total) == (2, 1, 10)
    assert [x.question for x in a.answers] == ["q1", "q2"]
    # finishing the quiz records the result and the half-way attempt is done with
    p.record_quiz("lesson:02-clusterip", right=8, total=10)
    q = Progress.load(tmp_path)
    assert q.attempt("lesson:02-clusterip") is None and q.quiz("lesson:02-clusterip")["passed"] is True


def test_an_interview_session_is_summarised_and_counts_as_a_result(tmp_path):
    p = Progress.load(tmp_path)
    p.record_interview({"right": 6, "total": 8, "seconds": 312, "review": ["masquerade"],
                        "kinds": {"dnat": [2, 2], "masquerade": [0, 2]}})
    p.record_interview({"right": 1, "total": 2, "seconds": 40, "finished": False})
    q = Progress.load(tmp_path)
    assert [(s.right, s.total, s.finished) for s in q.interviews] == [(6, 8, True), (1, 2, False)]
    assert q.interviews[0].ended  # stamped
    # only the finished session is a result; the one left early is a summary only
    assert q.quiz("interview")["right"] == 6 and q.quiz("interview")["attempts"] == 1
    for _ in range(INTERVIEWS_KEPT + 5):
        q.record_interview({"right": 1, "total": 1}, save=False)
    assert len(q.interviews) == INTERVIEWS_KEPT


@pytest.mark.parametrize("text, why", [
    ("{not json", "not JSON"),
    ('["wrong"]', "a JSON list"),
    ('{"name": "someone else\'s settings"}', "neither 'version' nor 'lessons'"),
    ('{"version": 7, "lessons": {}}', "newer kubeflow-tui"),
    ('{"version": 1, "lessons": {"01": "done"}}', "lessons.01"),
])
def test_a_damaged_or_foreign_file_is_kept_as_bak_and_progress_starts_afresh(tmp_path, text, why):
    (tmp_path / "progress.json").write_text(text)
    p = Progress.load(tmp_path)
    assert why in p.notice and "moved to" in p.notice
    (bak,) = tmp_path.glob("progress.json.corrupt-*.bak")
    assert bak.read_text() == text
    assert p.last is None and p.lessons == {}
    p.mark("01")
    assert Progress.load(tmp_path).last == "01" and bak.read_text() == text


def test_a_file_that_cannot_be_moved_aside_is_never_overwritten(tmp_path, monkeypatch):
    (tmp_path / "progress.json").write_text("{not json")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(PermissionError("read-only")))
    p = Progress.load(tmp_path)
    assert "progress is not saved" in p.notice
    p.mark("01")
    assert (tmp_path / "progress.json").read_text() == "{not json"


def test_a_failed_write_leaves_the_old_file_whole_and_no_temp_file(tmp_path, monkeypatch):
    p = Progress.load(tmp_path)
    p.mark("01")
    before = (tmp_path / "progress.json").read_text()
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    p.mark("02")
    assert "Could not save progress" in p.notice and "No space left" in p.notice
    assert (tmp_path / "progress.json").read_text() == before
    assert [x.name for x in tmp_path.iterdir()] == ["progress.json"]


# ------------------------------------------------------------------ the progress command


@pytest.fixture
def some_progress(tmp_path, monkeypatch) -> Progress:
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path))
    p = Progress.load()
    lessons, _ = discover()
    p.mark(lessons[0].id, flow=lessons[0].flows[0], step=3, flow_done=lessons[0].flows[0], save=False)
    p.mark(lessons[2].id, done=True, save=False)
    p.record_quiz("case:wrong-target-port", right=1, total=1, solved=True, save=False)
    p.save_attempt("lesson:02-clusterip", [{"question": "q1", "choice": 1, "correct": True}], total=5,
                   save=False)
    p.record_interview({"right": 3, "total": 4, "seconds": 95, "review": ["conntrack"]})
    return p


def test_progress_fits_80_columns_with_whole_ids_and_one_line_titles(some_progress, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(["progress"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    lessons, _ = discover()
    for lesson in lessons:
        row = next(i for i, line in enumerate(lines) if line.split() and line.split()[0] == lesson.id)
        assert lines[row + 1].strip() == lesson.title  # the title whole, on the next line
    assert any(line.split()[:2] == [lessons[2].id, "done"] for line in lines if line.split())
    assert "case:wrong-target-port" in out and "solved" in out
    assert "lesson:02-clusterip" in out  # the attempt left half-way
    assert "3/4 (75%)" in out  # the interview


def test_progress_export_json_and_csv(some_progress, capsys):
    assert cli.main(["progress", "--export", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    lessons, _ = discover()
    assert [r["lesson"] for r in data["lessons"]] == [lesson.id for lesson in lessons]
    assert data["lessons"][0]["flows_done"] == 1 and data["lessons"][0]["step"] == 3
    assert data["attempts"]["lesson:02-clusterip"]["right"] == 1
    assert data["interviews"][0]["right"] == 3
    assert cli.main(["progress", "--export", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[2]["status"] == "done" and rows[2]["title"] == lessons[2].title


def test_progress_with_a_damaged_file_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path))
    (tmp_path / "progress.json").write_text("{not json")
    assert cli.main(["progress"]) == 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "moved to" in err and "Traceback" not in err
    assert Path(next(tmp_path.glob("*.bak"))).read_text() == "{not json"


def test_reset_one_lesson_or_everything(tmp_path):
    p = Progress.load(tmp_path)
    p.mark("01")
    p.mark("02", done=True)
    p.record_quiz("lesson:01", right=1, total=1)
    p.reset("01")
    q = Progress.load(tmp_path)
    assert q.status("01") == "" and q.status("02") == "done" and q.quiz("lesson:01")["right"] == 1
    q.reset()
    r = Progress.load(tmp_path)
    assert (r.lessons, r.quizzes, r.last) == ({}, {}, None)


def test_time_spent_adds_up_and_survives_a_reload(tmp_path):
    from kubeflow_tui.progress import Progress

    p = Progress.load(tmp_path)
    p.add_time(61.4)
    p.add_time(-5)  # a clock that went backwards adds nothing
    p.add_time(30)
    assert Progress.load(tmp_path).seconds == 91
