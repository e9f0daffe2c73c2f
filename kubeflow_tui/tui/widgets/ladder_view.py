"""The ladder diagram as a standalone widget: the current packet's row highlighted (▶ and
reverse video), a cursor to pick another arrow; ``enter`` or a click posts
:class:`LadderView.ArrowSelected` with the Trace step to jump to.

::

    yield LadderView().data_bind(trace=FlowScreen.trace, step=FlowScreen.step)

    def on_ladder_view_arrow_selected(self, event: LadderView.ArrowSelected) -> None:
        self.step = event.step
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from kubeflow_tui.ladder import Ladder, build_ladder
from kubeflow_tui.render_ladder import LadderPicture
from kubeflow_tui.trace import Trace
from kubeflow_tui.tui.keys import ARROW_KEYS


class _LadderBody(Static):
    def on_click(self, event: events.Click) -> None:
        view = self.parent
        if isinstance(view, LadderView):
            row = view.row_at_line(event.y)
            if row >= 0:
                view.cursor = row
                view.select_row(row)


class LadderView(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    LadderView { height: 1fr; width: 1fr; }
    LadderView > _LadderBody { width: auto; }
    """
    BINDINGS = [
        # (one footer item, "↑↓ Arrow": the footer keeps room for help and quit at 80 columns;
        # selecting an arrow jumps there, so enter is only a habit kept)
        Binding("up", "move_cursor(-1)", "Prev arrow", tooltip="Select the previous arrow and jump to its step",
                id="ladder.prev", group=ARROW_KEYS),
        Binding("down", "move_cursor(1)", "Next arrow", tooltip="Select the next arrow and jump to its step",
                id="ladder.next", group=ARROW_KEYS),
        Binding("enter", "jump", "Jump", tooltip="Go to the step of the arrow under the cursor",
                id="ladder.jump", show=False),
    ]
    HELP_TITLE = "The ladder diagram (ladder panel)"

    trace: reactive[Trace | None] = reactive(None)
    step: reactive[int] = reactive(0)
    cursor: reactive[int] = reactive(-1)

    class ArrowSelected(Message):
        """An arrow (or NAT point) was picked: ``step`` is its Trace step index."""

        def __init__(self, step: int, row: int) -> None:
            super().__init__()
            self.step, self.row = step, row

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.ladder: Ladder | None = None
        self._picture: LadderPicture | None = None

    def compose(self):
        yield _LadderBody()

    def watch_trace(self, trace: Trace | None) -> None:
        self.ladder = build_ladder(trace) if trace is not None else None
        self.cursor = -1
        self._redraw()

    def watch_step(self) -> None:
        self.cursor = -1
        self._redraw()

    def watch_cursor(self) -> None:
        self._redraw()

    @property
    def current_row(self) -> int:
        return self.ladder.row_for_step(self.step) if self.ladder is not None else -1

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        found = self.query(_LadderBody)
        if not found:  # (its body is not mounted yet, or already gone with its screen: on_resize redraws)
            return
        body = found.first()
        if self.ladder is None:
            body.update(Text("No trace yet.", style="dim"))
            return
        width = max(40, self.scrollable_content_region.width or 80)
        pic = LadderPicture(self.ladder, current=self.current_row, cursor=self.cursor)
        lines = pic.lines(width)
        body.update(Text("\n").join(lines))
        self._picture = pic
        focus_row = self.cursor if self.cursor >= 0 else self.current_row
        line = pic.row_line.get(focus_row)
        if line is not None:
            height = self.scrollable_content_region.height or 10
            self.call_after_refresh(self.scroll_to, y=max(0, line - height // 2), animate=False)

    def line_of_row(self, row: int) -> int | None:
        """The first line of the picture that ``row`` is drawn on."""
        return None if self._picture is None else self._picture.row_line.get(row)

    def row_at_line(self, line: int) -> int:
        """The row drawn on ``line`` of the picture (a wrapped row's lines all count), or -1."""
        if self._picture is None:
            return -1
        best = -1
        for row, first in sorted(self._picture.row_line.items(), key=lambda kv: kv[1]):
            if first <= line:
                best = row
            else:
                break
        return best if line < self._picture.rows_end else -1

    def action_move_cursor(self, delta: int) -> None:
        if self.ladder is None or not self.ladder.rows:
            return
        start = self.cursor if self.cursor >= 0 else max(0, self.current_row)
        self.cursor = max(0, min(len(self.ladder.rows) - 1, start + delta))
        self.select_row(self.cursor)  # selecting an arrow jumps there

    def action_jump(self) -> None:
        if self.cursor >= 0:
            self.select_row(self.cursor)

    def select_row(self, row: int) -> None:
        if self.ladder is None or not 0 <= row < len(self.ladder.rows):
            return
        self.post_message(self.ArrowSelected(self.ladder.rows[row].step, row))
