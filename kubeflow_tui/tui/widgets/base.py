"""Shared base: a widget that renders a Rich ``Text`` for one step of a Trace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace


class StepView:
    """Mixin: ``show(trace, index, scenario)`` stores the state and re-renders.

    ``text`` is the last rendered ``rich.text.Text`` (tests read ``text.plain`` and
    ``text.spans``); ``highlighted()`` returns the plain text of highlighted spans.
    """

    HIGHLIGHT_CLASSES: tuple[str, ...] = ()
    #: shown instead of the step while the engine has not produced the Trace yet
    PENDING_TEXT = "tracing…"
    trace: Trace | None = None
    pending: bool = False
    index: int = 0
    scenario: Any = None
    text: Text = Text()

    def on_mount(self) -> None:
        # the text is drawn with the theme's component styles: draw it again in a new theme
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)  # type: ignore[attr-defined]

    def _theme_changed(self, _theme: Any) -> None:
        self.redraw()

    def show(self, trace: Trace | None, index: int, scenario: Any = None) -> None:
        self.trace, self.index, self.scenario = trace, index, scenario
        self.redraw()

    def redraw(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def cstyle(self, name: str) -> Style:
        try:
            return self.get_component_rich_style(name)  # type: ignore[attr-defined]
        except Exception:
            return Style()

    def highlighted(self) -> list[str]:
        """Plain text of every span drawn with a highlight component style."""
        out: list[str] = []
        marks = {str(self.cstyle(c)) for c in self.HIGHLIGHT_CLASSES}
        for span in self.text.spans:
            if str(span.style) in marks:
                out.append(self.text.plain[span.start : span.end])
        return out


class StepStatic(StepView, Static):
    def redraw(self) -> None:
        self.text = self.build()
        self.update(self.text)

    def build(self) -> Text:  # pragma: no cover - overridden
        return Text()

    def on_resize(self) -> None:
        if self.trace is not None:
            self.redraw()


class StepScroll(StepView, VerticalScroll):
    """A focusable scrolling panel around a Static body."""

    can_focus = True

    def compose(self):
        yield Static(id=f"{self.id or 'panel'}-body", classes="panel-body")

    def redraw(self) -> None:
        self.text = self.build()
        try:
            self.query_one(".panel-body", Static).update(self.text)
        except Exception:
            return
        self.call_after_refresh(self.after_redraw)

    def after_redraw(self) -> None:
        pass

    def build(self) -> Text:  # pragma: no cover - overridden
        return Text()
