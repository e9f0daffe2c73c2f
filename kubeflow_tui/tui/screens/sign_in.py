"""Sign-in for a class served with ``serve --class``: a student name and a passphrase.

The screen dismisses with the signed-in ``Student``, or with the string ``"teacher"`` when
the name typed is the teacher token the server was started with (compared in constant
time; the token itself never appears on screen or in any file).
"""

from __future__ import annotations

import hmac
import os

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

TEACHER_TOKEN_ENV = "KUBEFLOW_TUI_TEACHER_TOKEN"


class SignInScreen(Screen):
    """Name, passphrase, Enter."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical { width: 60; max-width: 100%; height: auto; padding: 1 2; }
    SignInScreen Input { margin-bottom: 1; }
    SignInScreen #sign-in-error { color: $error; height: auto; }
    """

    def __init__(self, classroom) -> None:
        super().__init__()
        self.classroom = classroom

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Sign in to class {self.classroom.name}", id="sign-in-title")
            yield Label("Your name (the same name resumes your progress)")
            yield Input(id="name", placeholder="name", max_length=40)
            yield Label("Passphrase (4 or more characters, chosen the first time)")
            yield Input(id="passphrase", password=True, placeholder="passphrase")
            yield Button("Sign in", id="sign-in", variant="primary")
            yield Static("", id="sign-in-error")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted, "#name")
    def _to_passphrase(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        name = self.query_one("#name", Input).value
        token = os.environ.get(TEACHER_TOKEN_ENV, "")
        if token and hmac.compare_digest(name.encode(), token.encode()):
            self.dismiss("teacher")
            return
        self.query_one("#sign-in", Button).disabled = True
        self._sign_in(name, self.query_one("#passphrase", Input).value)

    @work(thread=True, exclusive=True)
    def _sign_in(self, name: str, passphrase: str) -> None:
        # scrypt takes a moment: off the event loop
        from kubeflow_tui.classroom import ClassroomError

        try:
            student = self.classroom.sign_in(name, passphrase)
        except (ClassroomError, OSError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
        else:
            self.app.call_from_thread(self.dismiss, student)

    def _failed(self, message: str) -> None:
        self.query_one("#sign-in-error", Static).update(message)
        self.query_one("#sign-in", Button).disabled = False
        self.query_one("#passphrase", Input).value = ""
        self.query_one("#passphrase", Input).focus()
