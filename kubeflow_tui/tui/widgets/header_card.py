"""The header card as a standalone widget: before/after of each rewrite (changed fields
marked ✱), the rewrites of this packet so far, the conntrack entry's original and reply
tuples side by side when the step creates or matches one.

::

    yield HeaderCardView().data_bind(trace=FlowScreen.trace, step=FlowScreen.step)
"""

from __future__ import annotations

from rich.console import RenderableType
from textual.reactive import reactive
from textual.widget import Widget

from kubeflow_tui.ladder import build_ladder
from kubeflow_tui.pictures.header import HeaderCard
from kubeflow_tui.trace import Trace


class HeaderCardView(Widget):
    DEFAULT_CSS = """
    HeaderCardView { height: auto; width: 1fr; }
    """

    # (its height follows the card: a new trace or step lays it out again)
    trace: reactive[Trace | None] = reactive(None, layout=True)
    step: reactive[int] = reactive(0, layout=True)

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self._rows: tuple = ()

    def watch_trace(self, trace: Trace | None) -> None:
        self._rows = build_ladder(trace).rows if trace is not None else ()

    def card(self) -> HeaderCard:
        return HeaderCard(self.trace, self.step, ladder_rows=self._rows)

    def render(self) -> RenderableType:
        return self.card()
