"""A class on one server: students kept apart, and the teacher's report."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import pytest

from kubeflow_tui.classroom import (
    Classroom,
    ClassroomError,
    class_report,
    clean_name,
    format_report,
    name_key,
)
from kubeflow_tui.cli import main


def test_names_are_cleaned_and_checked():
    assert clean_name("  Ann   Lee ") == "Ann Lee"
    for bad in ("", "   ", "...", "..", "a\x00b", "x" * 41, "\u202e"):
        with pytest.raises(ClassroomError):
            clean_name(bad)


@pytest.mark.parametrize("name", ["../../etc", "a/b", "C:\\x", "~root", ".hidden", "Zoë", "李雷"])
def test_keys_never_leave_the_folder(tmp_path, name):
    key = name_key(name)
    assert "/" not in key and "\\" not in key and not key.startswith(".")
    room = Classroom("net101", root=tmp_path)
    student = room.sign_in(name, "secret")
    assert student.folder.resolve().parent == room.students_folder.resolve()
    assert student.name == clean_name(name)


def test_same_name_is_same_student_other_names_are_not():
    assert name_key("Ann") == name_key(" ann ") == name_key("ANN")
    assert name_key("Zoë") != name_key("Zoe")
    assert name_key("Ann!") != name_key("Ann?")


def test_a_name_typed_twice_resumes_with_its_passphrase_only(tmp_path):
    room = Classroom("net101", root=tmp_path)
    ann = room.sign_in("Ann", "apple pie")
    progress = ann.progress()
    progress.mark("01-one-linux-host", done=True)
    again = room.sign_in("ann", "apple pie")
    assert again.folder == ann.folder
    assert again.progress().status("01-one-linux-host") == "done"
    with pytest.raises(ClassroomError, match="another passphrase"):
        room.sign_in("Ann", "not hers")
    with pytest.raises(ClassroomError, match="at least 4"):
        room.sign_in("Bob", "abc")
    record = json.loads((ann.folder / "student.json").read_text())
    assert "apple pie" not in json.dumps(record)  # only a salted hash is kept


def test_students_are_apart_and_folders_private(tmp_path):
    room = Classroom("net101", root=tmp_path)
    ann, bob = room.sign_in("Ann", "apple"), room.sign_in("Bob", "banana")
    ann.progress().mark("02-clusterip", done=True)
    assert bob.progress().status("02-clusterip") == ""
    assert ann.folder != bob.folder
    assert stat.S_IMODE(os.stat(room.students_folder).st_mode) & 0o077 == 0
    assert [s.name for s in room.students()] == ["Ann", "Bob"]


def _class_with_two(tmp_path) -> Classroom:
    room = Classroom("Networking 101", root=tmp_path)
    ann = room.sign_in("Ann", "apple").progress()
    ann.mark("01-one-linux-host", done=True)
    ann.mark("02-clusterip")
    ann.record_quiz("lesson:01-one-linux-host", right=4, total=5, review=["conntrack"])
    ann.record_quiz("case:web-down", right=1, total=1, solved=True)
    ann.add_time(600)
    from kubeflow_tui.quiz.record import record_result

    for solved in (True, True, True):
        record_result("practice", right=1, total=1, solved=solved, progress=ann, streak=True)
    bob = room.sign_in("Bob, Jr.", "banana").progress()
    bob.mark("01-one-linux-host")
    bob.record_quiz("lesson:01-one-linux-host", right=1, total=5)
    room.sign_in("Cleo", "cherry")
    return room


def test_report_rows(tmp_path):
    rows = class_report(_class_with_two(tmp_path))
    assert [r.student for r in rows] == ["Ann", "Bob, Jr.", "Cleo"]
    ann, bob, cleo = rows
    assert (ann.lessons_done, ann.lessons_started, ann.quizzes_passed, ann.quiz_score,
            ann.cases_solved, ann.review) == (1, 1, 1, "4/5", 1, ["conntrack"])
    assert (ann.practice_streak, ann.best_practice_streak, ann.minutes) == (3, 3, 10)
    assert (bob.lessons_done, bob.lessons_started, bob.quizzes_passed, bob.quiz_score) == (0, 1, 0, "1/5")
    assert (cleo.lessons_done, cleo.quiz_score, cleo.last_active) == (0, "", "")


def test_report_formats(tmp_path):
    rows = class_report(_class_with_two(tmp_path))
    parsed = list(csv.DictReader(io.StringIO(format_report(rows, "csv"))))
    assert parsed[1]["student"] == "Bob, Jr." and parsed[0]["quiz_score"] == "4/5"
    assert json.loads(format_report(rows, "json"))["students"][0]["cases_solved"] == 1
    md = format_report(rows, "md").splitlines()
    assert md[0].startswith("| student | lessons done") and md[2].startswith("| Ann | 1 | 1 | 1 | 4/5 |")
    assert md[2].endswith(" | 1 | 3 | 10 | " + rows[0].last_active + " |")


def test_cli_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path))
    _class_with_two(tmp_path)
    assert main(["class", "report", "Networking 101", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("student,lessons_done,")
    assert main(["class", "report", "Networking 101"]) == 0  # the table on the terminal
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["student", "done", "started", "quizzes", "score", "cases", "streak",
                                "min", "last", "active"]
    assert table[2].split()[:8] == ["Ann", "1", "1", "1", "4/5", "1", "3", "10"]
    assert main(["class", "students", "Networking 101"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Ann", "Bob, Jr.", "Cleo"]
    assert main(["class", "report", "no such class"]) == 2
    assert "no class called 'no such class'" in capsys.readouterr().err


def test_serve_flags_are_checked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path))
    assert main(["serve", "--teacher-token", "x" * 20]) == 2
    assert "--teacher-token needs --class" in capsys.readouterr().err
    assert main(["serve", "--class", "c1", "--teacher-token", "short"]) == 2
    assert "at least 12" in capsys.readouterr().err
    assert main(["serve", "--class", "../.."]) == 2
    assert "--class:" in capsys.readouterr().err
