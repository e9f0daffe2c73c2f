"""The topology on the wire as a standalone widget: the packet travels along the link.

Wire it into a screen with reactive attributes (attributes down)::

    yield WireView().data_bind(trace=FlowScreen.trace, step=FlowScreen.step,
                               scenario=FlowScreen.scenario)

When ``step`` moves forward by one onto a ``link`` step, the packet is animated along the
drawn link over :attr:`WireView.FRAMES` frames (a timer at :attr:`WireView.FPS`); any other
change of step places it at once.  ``progress`` (0..1) is how far along the link it is.
With the app's animations off (``TEXTUAL_ANIMATIONS=none``) the packet jumps.  Python's
cyclic garbage collector is held off during a move (0.4 s) and let go right after.
"""

from __future__ import annotations

import gc
from typing import Any

from rich.console import RenderableType
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from kubeflow_tui.pictures.wire import Site, WireLayout, WirePicture
from kubeflow_tui.trace import Trace


class WireView(Widget):
    DEFAULT_CSS = """
    WireView { height: auto; width: 1fr; }
    """
    FPS = 60
    FRAMES = 24  # frames per link move (0.4 s at 60 frames/s)

    trace: reactive[Trace | None] = reactive(None)
    step: reactive[int] = reactive(0)
    scenario: reactive[Any] = reactive(None)
    #: how far along its link the packet is: a change repaints only the lines it alters
    progress: reactive[float] = reactive(1.0, repaint=False)

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self._frame = 0
        self._timer: Timer | None = None
        self._gc_paused = False
        self._layout: WireLayout | None = None
        self._layout_key: tuple = ()
        self.frames_drawn = 0  # frames built so far (the benchmark reads it)
        self._rows_key: tuple = ()
        self._strips: list[Strip] = []

    # -- state ------------------------------------------------------------------------
    def watch_step(self, old: int, new: int) -> None:
        t = self.trace
        moving = (
            t is not None
            and new == old + 1
            and 0 <= new < len(t.steps)
            and t.steps[new].kind == "link"
            and self.app.animation_level != "none"
        )
        self._stop()
        if moving:
            self._frame = 0
            self.progress = 0.0
            # Python's cyclic garbage collector can stall a frame for 100 ms on the heap of a
            # loaded trace: it waits the 0.4 s of the move (the benchmark shows the stalls).
            if gc.isenabled():
                gc.disable()
                self._gc_paused = True
            self._timer = self.set_interval(1 / self.FPS, self._tick)
        else:
            self.progress = 1.0

    def watch_trace(self) -> None:
        self._stop()
        self.progress = 1.0
        self._layout_key = ()
        self.refresh(layout=True)  # its height follows the hosts drawn

    def watch_scenario(self) -> None:
        self._layout_key = ()
        self.refresh(layout=True)

    def watch_progress(self) -> None:
        """Repaint only the lines of the picture this frame changes (the packet's cell, the
        path behind it, its tag, the status), not the whole widget: a frame of a move then
        costs Textual a few lines instead of the whole panel."""
        if not self.is_mounted or not self._strips:
            self.refresh()
            return
        before, key = self._strips, self._rows_key
        after = self._rows()
        same_picture = key[0] == self._rows_key[0] and key[1] == self._rows_key[1] and key[3:] == self._rows_key[3:]
        if not same_picture or len(before) != len(after):
            self.refresh()
            return
        width = self.size.width
        dirty = [Region(0, y, width, 1) for y, (a, b) in enumerate(zip(before, after)) if a != b]
        if dirty:
            self.refresh(*dirty)

    def _tick(self) -> None:
        self._frame += 1
        self.progress = min(1.0, self._frame / self.FRAMES)
        if self.progress >= 1.0:
            self._stop()

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def on_unmount(self) -> None:
        self._stop()

    @property
    def moving(self) -> bool:
        return self._timer is not None

    # -- drawing ----------------------------------------------------------------------
    def layout_for(self, width: int, height: int) -> WireLayout:
        key = (id(self.trace), id(self.scenario), width, height)
        if self._layout is None or key != self._layout_key:
            site = Site.from_scenario(self.scenario) if self.scenario is not None else Site(())
            self._layout = WireLayout(site.with_trace_hosts(self.trace), width, height)
            self._layout_key = key
        return self._layout

    def picture(self) -> WirePicture:
        size = self.content_size if self.content_size.width else Size(80, 24)
        height = self.parent.content_size.height if self.parent is not None else size.height
        return WirePicture(self.layout_for(size.width, height or 24), self.trace, self.step, self.progress)

    @property
    def packet_cell(self) -> tuple[int, int] | None:
        pos = self.picture().position()
        return None if pos is None else pos.cell

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.layout_for(width, container.height or viewport.height).height

    def _rows(self) -> list[Strip]:
        """The picture as one Strip per line, built once per frame (Line API)."""
        size = self.size
        key = (id(self.trace), self.step, self.progress, size, id(self._layout))
        if key != self._rows_key:
            base = self.rich_style
            rows = self.picture().canvas().segment_rows(base)
            self._strips = [Strip(segs, size.width).crop_extend(0, size.width, base) for segs in rows]
            self._rows_key = (id(self.trace), self.step, self.progress, size, id(self._layout))
            self.frames_drawn += 1
        return self._strips

    def render_line(self, y: int) -> Strip:
        rows = self._rows()
        if 0 <= y < len(rows):
            return rows[y]
        return Strip.blank(self.size.width, self.rich_style)

    def render(self) -> RenderableType:
        """The same picture as a rich renderable (for anything that asks for one)."""
        return self.picture().canvas().text()
