"""Sign-in for a class served with ``serve --class``: a student name and a passphrase.

The screen dismisses with the signed-in ``Student``, or with the string ``"teacher"`` when
the name typed is the teacher token the server was started with (compared in constant
time; the token itself never appears on screen or in any file).

Keys typed early land where they were meant to go.  On a crowded server a student often
types before the form has drawn, and types the name, Tab (or Enter) and the passphrase in
one go.  Three things keep every key in its field, in order:

* the app waits for this screen to be mounted before it handles any key (``await
  push_screen``), and the name field takes the focus while the screen mounts
  (``Screen.set_focus``, at once, not after the keys already queued);
* Tab, shift+Tab and Enter are priority bindings of this screen, so the app moves the
  focus itself, before it hands the next key to a field (a field's own Enter, or Tab
  bubbling up from a field, would move it only after the keys that follow were already
  given to the old field);
* signing in waits until both fields have taken every key given to them before it reads
  them (a callback queued behind those keys in each field).
"""

from __future__ import annotations

import hmac
import os

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

TEACHER_TOKEN_ENV = "KUBEFLOW_TUI_TEACHER_TOKEN"
FIELDS = ("name", "passphrase", "sign-in")


class SignInScreen(Screen):
    """Name, passphrase, Enter."""

    HELP_TITLE = "Sign in"
    BINDINGS = [
        Binding("tab", "next_field", "Next field", priority=True, show=False, id="sign-in.next",
                tooltip="Go to the next field (name, passphrase, the Sign in button)"),
        Binding("shift+tab", "previous_field", "Previous field", priority=True, show=False,
                id="sign-in.previous", tooltip="Go back to the previous field"),
        Binding("enter", "enter", "Next / sign in", priority=True, id="sign-in.enter",
                tooltip="After the name: go to the passphrase; after the passphrase: sign in"),
    ]

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
        # now, not queued: keys the app hands on from here go to the name field
        self.set_focus(self.query_one("#name", Input))

    # ------------------------------------------------------------------ moving between fields
    def _field_index(self) -> int:
        focused = self.focused
        return FIELDS.index(focused.id) if focused is not None and focused.id in FIELDS else -1

    def _focus_field(self, index: int) -> None:
        self.set_focus(self.query_one(f"#{FIELDS[index % len(FIELDS)]}"))

    def action_next_field(self) -> None:
        self._focus_field(self._field_index() + 1)

    def action_previous_field(self) -> None:
        index = self._field_index()
        self._focus_field(index - 1 if index >= 0 else 0)

    def action_enter(self) -> None:
        if self._field_index() <= 0:  # the name (or nothing focused yet): on to the passphrase
            self._focus_field(1)
        else:
            self._submit_when_typed()

    @on(Button.Pressed, "#sign-in")
    def _submit_when_typed(self) -> None:
        """Sign in once each field has taken the keys the app already gave it."""
        name = self.query_one("#name", Input)
        passphrase = self.query_one("#passphrase", Input)
        name.call_later(passphrase.call_later, self._submit)

    def _submit(self) -> None:
        button = self.query_one("#sign-in", Button)
        if button.disabled:  # already signing in
            return
        name = self.query_one("#name", Input).value
        token = os.environ.get(TEACHER_TOKEN_ENV, "")
        if token and hmac.compare_digest(name.encode(), token.encode()):
            self.dismiss("teacher")
            return
        button.disabled = True
        self._blink(False)  # nothing is typed while signing in (a blink is a frame to send)
        self._sign_in(name, self.query_one("#passphrase", Input).value)

    def _blink(self, on: bool) -> None:
        for field in self.query(Input):
            field.cursor_blink = on

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
        self._blink(True)
        passphrase = self.query_one("#passphrase", Input)
        passphrase.value = ""
        self.set_focus(passphrase)
