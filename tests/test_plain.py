"""Plain mode (screen readers): linear text, one line per change, typed commands; and the
class sign-in and teacher's view it shares with a served class."""

from __future__ import annotations

import asyncio
import io

import pytest

from kubeflow_tui.classroom import Classroom
from kubeflow_tui.plain import PlainSession, markdown_lines, run_plain, speakable
from kubeflow_tui.progress import Progress

BOX_DRAWING = set(chr(c) for c in range(0x2500, 0x2600))


@pytest.fixture(autouse=True)
def _hermetic(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_markdown_becomes_plain_lines():
    lines = markdown_lines("# Title\n\nSome `code` and **bold**.\n\n- one\n- two\n\n```text\n-A X\n  -j Y\n```\n")
    assert lines == ["Heading: Title", "Some code and bold.", "Item: one", "Item: two",
                     "Code block, 2 lines:", "-A X", "  -j Y", "End of code block."]


def test_speakable_words_for_symbols():
    assert speakable("10.244.2.7:40000 → 10.96.0.1:8080 …") == "10.244.2.7:40000 to 10.96.0.1:8080 ..."


def test_a_lesson_flow_step_by_step(tmp_path):
    progress = Progress.load(tmp_path / "p")
    s = PlainSession(progress)
    assert "plain mode" in s.greeting()[0]
    assert s.handle("flow 1") == ["Open a lesson first: type lesson 1."]
    opened = s.handle("lesson 2")
    assert opened[0] == "Lesson 2: A packet meets a ClusterIP."
    assert opened[-1].startswith("End of lesson text. Flows to follow: 1 pod-other-node")
    assert progress.status("02-clusterip") == "started"
    head = s.handle("flow 1")[0]
    assert head.startswith("Flow pod-other-node:") and "outcome delivered" in head
    first = s.handle("")
    assert first[0].startswith("Step 1 of ") and "client-b: send." in first[0]
    assert "SYN packet from 10.244.2.7 port 40000 to 10.96.0.1 port 8080" in first[0]
    nat = s.handle("nat")[0]
    assert "conntrack new" in nat
    dnat = s.handle("nat")
    while "dnat" not in dnat[0]:
        dnat = s.handle("nat")
    assert "Changed: dst" in dnat[0] and "to 10.244.1.5 port 8080" in dnat[0]
    where = s.handle("where")
    assert where[1].startswith("Rule: -A KUBE-SEP-") and "--to-destination 10.244.1.5:8080" in where[1]
    assert s.handle("step 0")[0].startswith("Type step and a number from 1 to ")
    n = len(s.trace)
    last = s.handle(f"step {n}")
    assert last[0].startswith(f"Step {n} of {n}.") and last[1].startswith("That was the last step.")
    assert "pod-other-node" in progress.lesson("02-clusterip").get("flows_done", [])
    summary = s.handle("summary")
    assert summary[0].startswith("Outcome: delivered.")
    assert any(line.startswith("Conntrack on node-b: tcp      6 ") for line in summary)
    every = [line for cmd in ("lessons", "help", "back") for line in s.handle(cmd)]
    assert not any(ch in BOX_DRAWING for line in every for ch in line)
    assert s.handle("frobnicate") == ["Unknown command 'frobnicate'. Type help for the list."]


def test_quiz_left_half_way_is_saved(tmp_path):
    progress = Progress.load(tmp_path / "p")
    s = PlainSession(progress)
    s.handle("lesson 2")
    out = s.handle("quiz")
    assert out[1].startswith("Question 1 of ") and out[2].startswith("Option 1: ")
    q = s.quiz.questions[0]
    feedback = s.handle(str(q.answer_index + 1))
    assert feedback[0] == "Right."
    assert s.handle("99")[0].startswith("Type a number from 1 to ")
    total = len(s.quiz.questions)
    left = s.handle("lessons")  # any other command leaves the quiz, saving the score so far
    assert left[0] == f"Quiz ended (left after 1 of {total}): 1 right out of 1. Saved."
    assert left[1].startswith("Lesson 1: ")
    saved = Progress.load(tmp_path / "p").quiz("lesson:02-clusterip")
    assert (saved["right"], saved["total"]) == (1, 1)


def test_shell_inside_plain_mode():
    s = PlainSession()
    s.handle("lesson 2")
    assert s.handle("shell")[0].startswith("Type shell and a host: node-a, node-b")
    assert s.handle("shell node-a")[0].startswith("Simulated shell on node-a.")
    out = s.handle("iptables -t nat -S KUBE-SERVICES")
    assert out[0] == "-N KUBE-SERVICES"
    assert s.handle("exit")[-1] == "Left the shell."
    assert s.prompt == "kubeflow> "


def test_run_plain_on_a_terminal_stream():
    out = io.StringIO()
    run_plain(io.StringIO("lesson 1\nquit\nlessons\n"), out)
    lines = out.getvalue().splitlines()
    assert lines[1] == "Lesson 1: One Linux host: hooks, tables, chains, verdicts."
    assert lines[-1] == "Goodbye. Your progress is saved."  # nothing after quit is read


def test_cli_plain_reads_stdin(monkeypatch, capsys):
    from kubeflow_tui.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("lessons\n"))
    assert main(["--plain"]) == 0
    assert "Lesson 13:" in capsys.readouterr().out


# --------------------------------------------------------------------------- the Textual side


async def _type(pilot, text: str) -> None:
    await pilot.press(*list(text))
    await pilot.press("enter")
    await pilot.pause()


async def _settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def _log_text(app) -> str:
    from textual.widgets import RichLog

    return "\n".join(line.text for line in app.query_one("#out", RichLog).lines)


def test_plain_app_signs_in_and_keeps_students_apart(tmp_path):
    asyncio.run(_test_plain_app_signs_in_and_keeps_students_apart(tmp_path))


async def _test_plain_app_signs_in_and_keeps_students_apart(tmp_path):
    from textual.widgets import Input

    from kubeflow_tui.tui.plain_app import PlainApp

    room = Classroom("net101", root=tmp_path / "data")
    room.sign_in("Bob", "banana").progress().mark("03-choosing-an-endpoint", done=True)
    app = PlainApp(classroom=room)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "Ann")
        await _type(pilot, "apple")
        await _settle(app, pilot)
        assert "Signed in as Ann." in _log_text(app)
        assert app.focused is app.query_one("#cmd", Input)
        await _type(pilot, "lessons")
        await _settle(app, pilot)
        text = _log_text(app)
        assert "kubeflow> lessons" in text
        assert "Lesson 3: Choosing an endpoint: the statistic match. 8 minutes." in text
        assert "Lesson 3: Choosing an endpoint: the statistic match. 8 minutes. Done." not in text
    assert room.sign_in("Ann", "apple").progress().path.parent.name.startswith("ann-")


def test_wrong_passphrase_says_so(tmp_path):
    asyncio.run(_test_wrong_passphrase_says_so(tmp_path))


async def _test_wrong_passphrase_says_so(tmp_path):
    from textual.widgets import Static

    from kubeflow_tui.tui.plain_app import PlainApp

    room = Classroom("net101", root=tmp_path / "data")
    room.sign_in("Ann", "apple")
    app = PlainApp(classroom=room)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "Ann")
        await _type(pilot, "pear")
        await _settle(app, pilot)
        error = str(app.screen.query_one("#sign-in-error", Static).render())
        assert "already in this class with another passphrase" in error
        assert app.screen.__class__.__name__ == "SignInScreen"


def test_teacher_token_opens_the_live_report(tmp_path, monkeypatch):
    asyncio.run(_test_teacher_token_opens_the_live_report(tmp_path, monkeypatch))


async def _test_teacher_token_opens_the_live_report(tmp_path, monkeypatch):
    from textual.widgets import DataTable

    from kubeflow_tui.tui.plain_app import PlainApp

    monkeypatch.setenv("KUBEFLOW_TUI_TEACHER_TOKEN", "a-long-teacher-token")
    room = Classroom("net101", root=tmp_path / "data")
    room.sign_in("Ann", "apple").progress().mark("01-one-linux-host", done=True)
    app = PlainApp(classroom=room)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "a-long-teacher-token")
        await _type(pilot, "")
        await _settle(app, pilot)
        assert app.screen.__class__.__name__ == "TeacherScreen"
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)][:3] == ["Ann", "1", "0"]
