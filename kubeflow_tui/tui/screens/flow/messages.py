"""What the flow screen's engine workers send back (they run in threads; the screen
handles these on the event loop)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from textual.message import Message

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace


class Traced(Message):
    """A flow ran: its Trace (and the scenario, loaded on the first run)."""

    def __init__(self, scenario: Any, flows: list[str], flow: str, trace: Trace, *, seed: int | None,
                 endpoint: str | None, start: int, token: Any, then: Callable[[Trace], None] | None) -> None:
        super().__init__()
        self.scenario = scenario
        self.flows = flows
        self.flow = flow
        self.trace = trace
        self.seed = seed
        self.endpoint = endpoint
        self.start = start
        self.token = token
        self.then = then  # what to say once the trace shows (e.g. "Ran again with seed 4")


class EngineFailed(Message):
    """The engine refused: the scenario could not be loaded (``loaded`` False) or the flow not run."""

    def __init__(self, title: str, message: str, *, loaded: bool) -> None:
        super().__init__()
        self.title = title
        self.message = message
        self.loaded = loaded


class RulesetReady(Message):
    """A node's ruleset text, for the ruleset screen."""

    def __init__(self, node: str, text: str, focus_rule: str) -> None:
        super().__init__()
        self.node = node
        self.text = text
        self.focus_rule = focus_rule
