"""The netfilter pipeline of the current host as a standalone widget.

::

    yield PipelineView().data_bind(trace=FlowScreen.trace, step=FlowScreen.step)

    def on_pipeline_view_hook_selected(self, event: PipelineView.HookSelected) -> None:
        ...  # e.g. show event.hook's chain walk on event.host in the rule panel

Clicking a hook (or setting ``selected_hook``) shows that hook's chain walk for this
packet under the picture; ``escape`` goes back to following the current hook.
"""

from __future__ import annotations

from rich.console import RenderableType
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from kubeflow_tui.pictures.pipeline import HOOK_TABLES, NODES, PipelinePicture
from kubeflow_tui.trace import Trace
from kubeflow_tui.tui.keys import HOOK_KEYS

HOOKS = tuple(HOOK_TABLES)


class PipelineView(Widget, can_focus=True):
    DEFAULT_CSS = """
    PipelineView { height: auto; min-height: 11; width: 1fr; }
    """
    BINDINGS = [
        # (up/down: left/right step the packet on the flow screen)
        # (one footer item, "↑↓ Hook": the footer keeps room for help and quit at 80 columns)
        Binding("up", "cycle_hook(-1)", "Prev hook", tooltip="Show the previous hook's chain walk",
                id="hooks.prev", group=HOOK_KEYS),
        Binding("down", "cycle_hook(1)", "Next hook", tooltip="Show the next hook's chain walk", id="hooks.next",
                group=HOOK_KEYS),
        Binding("escape", "select_hook('')", "Follow packet", tooltip="Show the hook the packet is at",
                id="hooks.follow"),
    ]
    HELP_TITLE = "The netfilter pipeline (hooks panel)"

    trace: reactive[Trace | None] = reactive(None)
    step: reactive[int] = reactive(0)
    selected_hook: reactive[str] = reactive("")

    class HookSelected(Message):
        """A hook was picked: the screen may show its chain walk on ``host``."""

        def __init__(self, host: str, hook: str) -> None:
            super().__init__()
            self.host, self.hook = host, hook

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "select_hook" and parameters == ("",) and not self.selected_hook:
            return False  # nothing picked: escape is the screen's (back)
        return True

    def action_select_hook(self, hook: str) -> None:
        self.selected_hook = hook if hook in HOOK_TABLES else ""
        if self.selected_hook and self.trace is not None and self.trace.steps:
            host = self.trace.steps[max(0, min(self.step, len(self.trace.steps) - 1))].host
            self.post_message(self.HookSelected(host, self.selected_hook))

    def action_cycle_hook(self, delta: int) -> None:
        i = HOOKS.index(self.selected_hook) if self.selected_hook in HOOKS else (-1 if delta > 0 else 0)
        self.action_select_hook(HOOKS[(i + delta) % len(HOOKS)])

    def on_click(self, event: events.Click) -> None:
        """A click on a hook's name (the picture starts one line below the title)."""
        for hook in HOOKS:
            x, y = NODES[hook]
            if event.y == y + 1 and x <= event.x < x + len(hook):
                self.action_select_hook(hook)
                return

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(11, min(container.height or viewport.height, 16))

    def render(self) -> RenderableType:
        return PipelinePicture(self.trace, self.step, selected=self.selected_hook)
