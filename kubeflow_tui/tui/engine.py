"""The one place where the TUI calls the engine.

The app only ever talks to an :class:`Engine`: load a scenario, run a flow (→ ``Trace``),
show a node's ruleset.  Everything it draws comes from the ``Trace`` (and the
scenario's topology); nothing here re-decides what the engine decided.

Tests inject a fake engine (``tests/tui/fake_trace.py``) with the same three methods.
Using the real engine in the tests is one line in ``tests/tui/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from kubeflow_tui.trace import Trace


class EngineError(Exception):
    """Anything the engine refused: the message is shown to the learner as is."""


class Engine(Protocol):
    def load(self, path: str | Path) -> Any: ...

    def run_flow(
        self, scenario: Any, flow: str, *, seed: int | None = None, endpoint: str | None = None
    ) -> Trace: ...

    def ruleset_text(self, scenario: Any, node: str, *, seed: int | None = None) -> str: ...


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or exc.__class__.__name__


class RealEngine:
    """Calls ``kubeflow_tui.scenario`` and ``kubeflow_tui.cluster``."""

    def __init__(self) -> None:
        self._sims: dict[tuple[int, int | None], Any] = {}

    def load(self, path: str | Path) -> Any:
        p = Path(path)
        if not p.is_file():
            raise EngineError(f"{path}: no such scenario file")
        try:
            from kubeflow_tui.scenario import load_scenario
        except ImportError as exc:
            raise EngineError(f"the scenario loader is not available ({exc})") from None
        try:
            return load_scenario(p)
        except Exception as exc:  # ScenarioError: file:line:col: field: message
            raise EngineError(_message(exc)) from None

    def _sim(self, scenario: Any, seed: int | None) -> Any:
        key = (id(scenario), seed)
        sim = self._sims.get(key)
        if sim is None:
            try:
                from kubeflow_tui.cluster import ClusterSim
            except ImportError as exc:
                raise EngineError(f"the cluster simulator is not available ({exc})") from None
            try:
                sim = ClusterSim(scenario, seed=seed)
            except Exception as exc:
                raise EngineError(_message(exc)) from None
            self._sims[key] = sim
        return sim

    def run_flow(
        self, scenario: Any, flow: str, *, seed: int | None = None, endpoint: str | None = None
    ) -> Trace:
        try:
            from kubeflow_tui.cluster import ClusterSim
        except ImportError as exc:
            raise EngineError(f"the cluster simulator is not available ({exc})") from None
        try:
            # A fresh simulator per run: a run leaves conntrack state behind.
            return ClusterSim(scenario, seed=seed).run_flow(flow, endpoint=endpoint)
        except Exception as exc:
            raise EngineError(_message(exc)) from None

    def ruleset_text(self, scenario: Any, node: str, *, seed: int | None = None) -> str:
        sim = self._sim(scenario, seed)
        try:
            if hasattr(sim, "node_ruleset_text"):
                return sim.node_ruleset_text(node)
            from kubeflow_tui.netfilter import render_save

            return render_save(sim.node_ruleset(node))
        except Exception as exc:
            raise EngineError(_message(exc)) from None


def default_engine() -> Engine:
    return RealEngine()
