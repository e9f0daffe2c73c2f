"""A served class in the full app: sign in first, then only the student's own progress."""

from __future__ import annotations

import sys
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


# --------------------------------------------------------------------------- typed early
# A student on a crowded server types before the form has drawn, and types the name, the
# key to the next field and the passphrase in one go (the browser sends them in one
# message).  Every key must still land in its own field, in order.


def _keys(text: str) -> list:
    from textual import events

    named = {"\t": ("tab", None), "\r": ("enter", "\r")}
    out = []
    for ch in text:
        key, char = named.get(ch, (ch, ch))
        if ch == "-":
            key = "minus"
        out.append(events.Key(key, char))
    return out


class _EarlyKeysApp(KubeflowApp):
    """Keys queued on the app as it loads: before its screens are composed or mounted,
    the way a browser's keys reach a served app that is still starting."""

    CSS_PATH = str(Path(sys.modules[KubeflowApp.__module__].__file__).with_name("app.tcss"))

    def __init__(self, *args, early: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.early = early

    def on_load(self) -> None:
        for key in _keys(self.early):
            self.post_message(key)


async def _signed_in_as(app: KubeflowApp, pilot) -> str:
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.screen.__class__.__name__ != "SignInScreen":
            break
    assert app.screen.__class__.__name__ == "HomeScreen", app.screen.__class__.__name__
    return app.progress.path.parent.name


async def test_keys_typed_before_the_form_is_drawn_land_in_their_fields(lessons_dir, data_dir):
    room = Classroom("net101", root=data_dir)
    room.sign_in("Bob", "banana")  # a returning student: a wrong passphrase would be refused
    for between in ("\t", "\r"):  # Tab or Enter after the name
        app = _EarlyKeysApp(engine=ENGINE(), lessons_dir=lessons_dir, classroom=room, start="home",
                            early=f"Bob{between}banana\r")
        async with app.run_test(size=(80, 24)) as pilot:
            folder = await _signed_in_as(app, pilot)
        assert folder == room.sign_in("Bob", "banana").folder.name


async def test_name_tab_passphrase_in_one_burst_once_the_form_is_up(lessons_dir, data_dir):
    room = Classroom("net101", root=data_dir)
    app = _app(room, lessons_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in _keys("student-007\tload-test-passphrase\r"):
            app.post_message(key)  # all queued before the app handles the first
        await _signed_in_as(app, pilot)
    (student,) = room.students()
    assert student.name == "student-007"
    assert room.sign_in("student-007", "load-test-passphrase").folder == student.folder


async def test_shift_tab_goes_back_and_a_wrong_passphrase_keeps_the_name(lessons_dir, data_dir):
    from textual.widgets import Input, Static

    room = Classroom("net101", root=data_dir)
    room.sign_in("Bob", "banana")
    app = _app(room, lessons_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        # (a field focused again has its text selected: "end" goes past it)
        await pilot.press(*"Bo", "tab", "shift+tab", "end", "b", "tab", *"cherry", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.__class__.__name__ == "SignInScreen"
        assert screen.query_one("#name", Input).value == "Bob"
        assert "passphrase" in str(screen.query_one("#sign-in-error", Static).render()).lower()
        assert screen.focused is screen.query_one("#passphrase", Input)
        assert screen.query_one("#passphrase", Input).value == ""
