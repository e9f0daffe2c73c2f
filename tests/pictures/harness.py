"""Tiny harness apps: one picture widget, a Trace and a step (``kubeflow-tui`` not needed).

Run one by hand at 80x24 to look at it::

    python tests/pictures/harness.py wire clusterip pod-other-node 26
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.reactive import reactive

sys.path.insert(0, str(Path(__file__).resolve().parent))

from picture_traces import scenario, trace_of  # noqa: E402

from kubeflow_tui.trace import Trace  # noqa: E402
from kubeflow_tui.tui.widgets.header_card import HeaderCardView  # noqa: E402
from kubeflow_tui.tui.widgets.ladder_view import LadderView  # noqa: E402
from kubeflow_tui.tui.widgets.pipeline import PipelineView  # noqa: E402
from kubeflow_tui.tui.widgets.wire import WireView  # noqa: E402

WIDGETS = {"wire": WireView, "pipeline": PipelineView, "header": HeaderCardView, "ladder": LadderView}


class PictureApp(App):
    """The picture widget bound to this app's ``trace`` and ``step`` like a flow screen would."""

    BINDINGS = [
        Binding("n", "step(1)", "Next step"),
        Binding("p", "step(-1)", "Previous step"),
    ]
    trace: reactive[Trace | None] = reactive(None)
    step: reactive[int] = reactive(0)

    def __init__(self, widget: str, name: str, flow: str, step: int = 0, progress: float | None = None):
        super().__init__()
        self.widget_kind, self.scenario_name, self.flow_name, self.start = widget, name, flow, step
        self.progress = progress  # wire only: freeze the packet this far along its link
        self.selected: list = []
        self.widget_class = WIDGETS[widget]  # a subclass may stand in (the benchmark times frames)

    def compose(self) -> ComposeResult:
        cls = self.widget_class
        w = cls(id="picture")
        if issubclass(cls, WireView):
            w.scenario = scenario(self.scenario_name)
        yield w.data_bind(trace=PictureApp.trace, step=PictureApp.step)

    def on_mount(self) -> None:
        self.trace = trace_of(self.scenario_name, self.flow_name)
        self.step = self.start
        if self.progress is not None:
            self.query_one(WireView).progress = self.progress

    def action_step(self, delta: int) -> None:
        if self.trace is not None:
            self.step = max(0, min(len(self.trace.steps) - 1, self.step + delta))

    def on_ladder_view_arrow_selected(self, event: LadderView.ArrowSelected) -> None:
        self.selected.append(event.step)
        self.step = event.step

    def on_pipeline_view_hook_selected(self, event: PipelineView.HookSelected) -> None:
        self.selected.append((event.host, event.hook))


if __name__ == "__main__":
    kind, name, flow, *rest = sys.argv[1:]
    PictureApp(kind, name, flow, int(rest[0]) if rest else 0).run()
