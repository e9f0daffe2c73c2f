"""A served class in the full app: sign in first, then only the student's own progress."""

from __future__ import annotations

from pathlib import Path

from conftest import ENGINE

from kubeflow_tui.classroom import Classroom
from kubeflow_tui.tui.app import KubeflowApp


async def _type(pilot, text: str) -> None:
    await pilot.press(*list(text))
    await pilot.press("enter")
    await pilot.pause()


def _app(room: Classroom, lessons_dir: Path) -> KubeflowApp:
    return KubeflowApp(engine=ENGINE(), lessons_dir=lessons_dir, classroom=room, start="home")


async def test_a_student_signs_in_and_gets_their_own_progress(lessons_dir, data_dir):
    room = Classroom("net101", root=data_dir)
    room.sign_in("Bob", "banana").progress().mark("01-clusterip", done=True)
    app = _app(room, lessons_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.__class__.__name__ == "SignInScreen"
        await _type(pilot, "Ann")
        await _type(pilot, "apple")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HomeScreen"
        assert app.progress.path.parent.parent == room.students_folder
        assert app.progress.status("01-clusterip") == ""  # not Bob's
        app.progress.mark("02-endpoint")
    assert room.sign_in("Ann", "apple").progress().status("02-endpoint") == "started"
    assert room.sign_in("Bob", "banana").progress().status("02-endpoint") == ""
    assert not (data_dir / "progress.json").exists()  # the server user's file is untouched


async def test_the_teacher_token_opens_the_class_view(lessons_dir, data_dir, monkeypatch):
    from textual.widgets import DataTable

    monkeypatch.setenv("KUBEFLOW_TUI_TEACHER_TOKEN", "token-for-the-teacher")
    room = Classroom("net101", root=data_dir)
    room.sign_in("Ann", "apple")
    app = _app(room, lessons_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "token-for-the-teacher")
        await _type(pilot, "")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.__class__.__name__ == "TeacherScreen"
        assert app.screen.query_one(DataTable).row_count == 1


async def test_high_contrast_theme(lessons_dir, data_dir):
    app = KubeflowApp(engine=ENGINE(), lessons_dir=lessons_dir, start="home", high_contrast=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "kubeflow-high-contrast"
        assert app.current_theme.background == "#000000"
