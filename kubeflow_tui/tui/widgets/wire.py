"""The topology on the wire as a standalone widget: the packet travels along the link.

Wire it into a screen with reactive attributes (attributes down)::

    yield WireView().data_bind(trace=FlowScreen.trace, step=FlowScreen.step,
                               scenario=FlowScreen.scenario)

When ``step`` moves forward by one onto a ``link`` step, the packet is animated along the
drawn link over :attr:`WireView.FRAMES` frames (a timer at :attr:`WireView.FPS`); any other
change of step places it at once.  ``progress`` (0..1) is how far along the link it is.
With the app's animations off (``TEXTUAL_ANIMATIONS=none``) the packet jumps.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from textual.geometry import Size
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from kubeflow_tui.pictures.wire import Site, WireLayout, WirePicture
from kubeflow_tui.trace import Trace


class WireView(Widget):
    DEFAULT_CSS = """
    WireView { height: auto; width: 1fr; }
    """
    FPS = 30
    FRAMES = 12  # frames per link move (0.4 s at 30 frames/s)

    trace: reactive[Trace | None] = reactive(None)
    step: reactive[int] = reactive(0)
    scenario: reactive[Any] = reactive(None)
    progress: reactive[float] = reactive(1.0)

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self._frame = 0
        self._timer: Timer | None = None
        self._layout: WireLayout | None = None
        self._layout_key: tuple = ()
        self.frames_drawn = 0  # frames rendered so far (the benchmark and tests read it)

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
            self._timer = self.set_interval(1 / self.FPS, self._tick)
        else:
            self.progress = 1.0

    def watch_trace(self) -> None:
        self._stop()
        self.progress = 1.0
        self._layout_key = ()

    def watch_scenario(self) -> None:
        self._layout_key = ()

    def _tick(self) -> None:
        self._frame += 1
        self.progress = min(1.0, self._frame / self.FRAMES)
        if self.progress >= 1.0:
            self._stop()

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

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

    def render(self) -> RenderableType:
        self.frames_drawn += 1
        return self.picture().canvas().text()
