"""Small shared screens: help, errors, pickers, opening a scenario file.

(``TooSmall`` and ``apply_breakpoints``, which every screen needs from the start, are in
``breakpoints``: this module is imported when a dialog first opens.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from kubeflow_tui.tui.screens.breakpoints import MIN_HEIGHT, MIN_WIDTH, TooSmall, apply_breakpoints

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "TooSmall", "apply_breakpoints", "Modal", "HelpScreen", "ConfirmScreen",
           "ErrorScreen", "PickerScreen", "OpenScenarioScreen"]

class Modal(ModalScreen):
    """A modal that closes once: fast double keys (enter enter) must not dismiss twice."""

    DEFAULT_CSS = """
    .dialog {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    .dialog.error { border: thick $error; }
    .dialog-title { text-style: bold; color: $accent; margin-bottom: 1; }
    .dialog-hint { color: $text-muted; }
    .dialog.help { height: 90%; }
    #help-body { height: 1fr; }
    .dialog.error VerticalScroll { height: auto; max-height: 16; }
    #picker, #bundled { height: auto; max-height: 12; }
    .dialog.picker.tall { height: 90%; }
    .dialog.picker.tall #picker { height: 1fr; max-height: 100%; }
    #confirm-message { margin-bottom: 1; }
    """

    def close(self, value: Any = None) -> None:
        if self.is_current:
            self.dismiss(value)


class HelpScreen(Modal):
    """The keys, built from the bindings (``kubeflow_tui.tui.keys``): ``text`` is the help
    text (Rich markup) the app made from the screen the learner was on."""

    HELP_TITLE = "This help"
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close", tooltip="Close the help", id="help.close"),
        Binding("end", "scroll('end')", "Last line", tooltip="Scroll to the last line", id="help.end",
                show=False),
        Binding("home", "scroll('home')", "First line", tooltip="Scroll to the first line", id="help.home",
                show=False),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield TooSmall()
        with Vertical(id="dialog", classes="dialog help"):
            yield Static("Keys  (esc closes · ↑↓ pgup pgdn home end scroll)", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                from kubeflow_tui.tui.keys import help_renderable

                yield Static(help_renderable(self.text), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        if where == "end":
            body.scroll_end(animate=False)
        else:
            body.scroll_home(animate=False)

    def action_close(self) -> None:
        self.close(None)


class ConfirmScreen(Modal):
    """A yes/no question; dismissed with True (enter / y) or False (esc / n)."""

    BINDINGS = [
        Binding("enter,y", "answer(True)", "Yes"),
        Binding("escape,n", "answer(False)", "No"),
    ]

    def __init__(self, title: str, message: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        yield TooSmall()
        with Vertical(id="dialog", classes="dialog confirm"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.message, id="confirm-message")
            yield Static(f"enter: {self.yes} · esc: {self.no}", classes="dialog-hint")

    def action_answer(self, value: bool) -> None:
        self.close(value)


class ErrorScreen(Modal):
    """A clear message instead of a traceback."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        yield TooSmall()
        with Vertical(id="dialog", classes="dialog error"):
            yield Static(self.title_text, classes="dialog-title")
            with VerticalScroll():
                yield Static(self.message, id="error-message", markup=False)
            yield Static("enter or esc: close", classes="dialog-hint")

    def action_close(self) -> None:
        self.close(None)


class PickerScreen(Modal):
    """Pick one of a list; dismisses with the chosen value, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: Iterable[tuple[Any, str]], *, current: Any = None,
                 classes: str = "") -> None:
        """``classes="tall"``: a long list (the event list) takes the height it has."""
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.dialog_classes = classes

    def compose(self) -> ComposeResult:
        yield TooSmall()
        with Vertical(id="dialog", classes=f"dialog picker {self.dialog_classes}".rstrip()):
            yield Static(self.title_text, classes="dialog-title")
            yield OptionList(*[Option(label, id=str(i)) for i, (_, label) in enumerate(self.choices)], id="picker")
            yield Static("↑↓ choose · enter select · esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        for i, (v, _) in enumerate(self.choices):
            if v == self.current:
                ol.highlighted = i
                break
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.close(self.choices[int(event.option.id or 0)][0])

    def action_cancel(self) -> None:
        self.close(None)


class OpenScenarioScreen(Modal):
    """Type a path, or choose one of the bundled scenarios."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, bundled: list[Path]) -> None:
        super().__init__()
        self.bundled = bundled

    def compose(self) -> ComposeResult:
        yield TooSmall()
        with Vertical(id="dialog", classes="dialog open"):
            yield Static("Open a scenario file", classes="dialog-title")
            yield Input(placeholder="path/to/scenario.yaml, then enter", id="path")
            if self.bundled:
                yield Static("or one of the bundled scenarios:", classes="dialog-hint")
                yield OptionList(*[Option(p.name, id=str(i)) for i, p in enumerate(self.bundled)], id="bundled")
            yield Static("enter open · tab switch · esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if value:
            self.close(value)
        else:
            self.notify("Type a path to a scenario file first.", severity="warning")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.close(str(self.bundled[int(event.option.id or 0)]))

    def action_cancel(self) -> None:
        self.close(None)
