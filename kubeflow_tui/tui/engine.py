"""The one place where the TUI calls the engine.

The app only ever talks to an :class:`Engine`: load a scenario, run a flow (→ ``Trace``),
show a node's ruleset.  Everything it draws comes from the ``Trace`` (and the
scenario's topology); nothing here re-decides what the engine decided.

**One live cluster per opened scenario.**  :class:`RealEngine` keeps a running
``ClusterSim`` for each scenario object it loaded (``live_sim(scenario)``).  The shell
pane runs its commands on that simulator, so what the learner does there changes the
cluster the flows run on:

* ``iptables -D/-I/-A/-F``, ``kubectl scale``/``delete pod``, ``conntrack -F/-D`` change
  the live rules, pods and conntrack tables;
* a ``curl``/``nc`` in the shell runs a connection on the live cluster (its conntrack
  entries stay, as on a real node);
* the next run of a flow (``r``, ``e``, ``f``, opening the lesson again, or the flow
  screen's automatic re-run when the learner leaves a shell that changed the cluster)
  runs on the live cluster as the shell left it, and the node ruleset view (``n``) shows
  the live rules.

A flow run is reproducible: the simulator's random generator is re-seeded with the
flow's seed, and the conntrack entries and ``-m recent`` lists that the *previous flow
run* created are forgotten first (that connection is long over: as if its TIME_WAIT had
expired).  So watching ``to-web-1`` and then ``to-web-2`` (both from port 40000) gives two
fresh connections, and on an untouched cluster a run equals a run on a fresh
``ClusterSim``.  Entries made by the shell (``curl`` uses ports from 41001) are kept.
``reset_live(scenario)`` (the shell's ``reset``) starts the cluster afresh.

Quizzes are generated from *pristine* runs (a fresh simulator per flow,
:meth:`RealEngine.quiz_questions`), so a cluster broken in the shell does not change
what the lesson asks.

Tests inject a fake engine (``tests/tui/fake_trace.py``) with the same methods; the
optional ones (``live_sim``, ``reset_live``, ``state_token``, ``quiz_questions``,
``quiz_context``, ``in_mode``) are looked up with ``getattr`` by the screens.

**kube-proxy's mode.**  ``RealEngine(proxy_mode)`` (the app's ``--proxy-mode``) loads every
scenario in that mode; ``in_mode(scenario, mode)`` is the flow screen's switch (``m``).
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
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


class _Live:
    """A live simulator and what the last flow run left in it."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.flow_entries: list[tuple[str, Any]] = []  # (node, ConntrackEntry) made by the last flow run
        self.recent_before: dict[str, Any] | None = None  # -m recent lists before the last flow run


class RealEngine:
    """Calls ``kubeflow_tui.scenario`` and ``kubeflow_tui.cluster``; keeps one live cluster per scenario."""

    def __init__(self, proxy_mode: str | None = None) -> None:
        """``proxy_mode`` (``--proxy-mode`` of the app): kube-proxy's mode for every scenario
        loaded, instead of its ``cluster.proxyMode``."""
        self.proxy_mode = proxy_mode
        self._live: dict[int, _Live] = {}
        self._scenarios: dict[int, Any] = {}  # keeps the keyed objects alive (ids stay unique)
        self._modes: dict[int, dict[str, Any]] = {}  # a scenario's variants by proxy mode (in_mode)

    def in_mode(self, scenario: Any, mode: str) -> Any:
        """``scenario`` with kube-proxy in ``mode`` (iptables or nftables).  The same object
        for the same scenario and mode, so each mode keeps its own live cluster and switching
        back finds the cluster as the shell left it."""
        variants = self._modes.get(id(scenario))
        if variants is None:
            variants = {scenario.cluster.proxyMode: scenario}
            self._modes[id(scenario)] = variants
            self._scenarios[id(scenario)] = scenario
        if mode not in variants:
            from kubeflow_tui.quiz.runner import with_proxy_mode

            try:
                other = with_proxy_mode(scenario, mode)
            except Exception as exc:
                raise EngineError(_message(exc)) from None
            variants[mode] = other
            self._modes[id(other)] = variants
            self._scenarios[id(other)] = other
        return variants[mode]

    def load(self, path: str | Path) -> Any:
        p = Path(path)
        if not p.is_file():
            raise EngineError(f"{path}: no such scenario file")
        try:
            from kubeflow_tui.scenario import load_scenario
        except ImportError as exc:
            raise EngineError(f"the scenario loader is not available ({exc})") from None
        try:
            scenario = load_scenario(p)
        except Exception as exc:  # ScenarioError: file:line:col: field: message
            raise EngineError(_message(exc)) from None
        return self.in_mode(scenario, self.proxy_mode) if self.proxy_mode else scenario

    # ------------------------------------------------------------------ the live cluster
    @staticmethod
    def _new_sim(scenario: Any, seed: int | None = None) -> Any:
        try:
            from kubeflow_tui.cluster import ClusterSim
        except ImportError as exc:
            raise EngineError(f"the cluster simulator is not available ({exc})") from None
        try:
            return ClusterSim(scenario, seed=seed)
        except Exception as exc:
            raise EngineError(_message(exc)) from None

    def _live_for(self, scenario: Any) -> _Live:
        key = id(scenario)
        live = self._live.get(key)
        if live is None:
            live = _Live(self._new_sim(scenario))
            self._live[key] = live
            self._scenarios[key] = scenario
        return live

    def live_sim(self, scenario: Any) -> Any:
        """The running cluster of this scenario (created on first use)."""
        return self._live_for(scenario).sim

    def reset_live(self, scenario: Any) -> Any:
        """Forget everything done to the cluster: a fresh simulator."""
        self._live.pop(id(scenario), None)
        return self.live_sim(scenario)

    def live_scenario(self, scenario: Any) -> Any:
        """The scenario as the live cluster has it now (after kubectl scale, delete pod ...)."""
        live = self._live.get(id(scenario))
        return live.sim.scenario if live is not None else scenario

    def state_token(self, scenario: Any) -> Any:
        """Changes whenever the live rules, conntrack tables or pods change."""
        live = self._live.get(id(scenario))
        if live is None:
            return None
        sim = live.sim
        try:
            return (
                tuple((n, sim.node_ruleset_text(n), tuple(sim.conntrack(n).lines())) for n in sorted(sim.nodes)),
                tuple((p.name, p.node, p.ip) for p in sim.scenario.pods),
            )
        except Exception:
            return None

    def _forget_last_flow(self, live: _Live) -> None:
        sim = live.sim
        for node, entry in live.flow_entries:
            table = sim.conntrack(node)
            if table is not None and entry in table.entries:
                table.entries.remove(entry)
        live.flow_entries = []
        if live.recent_before is not None:
            for node, recent in live.recent_before.items():
                st = sim.nodes.get(node)
                if st is not None:
                    st.recent = recent
            live.recent_before = None

    def run_flow(
        self, scenario: Any, flow: str, *, seed: int | None = None, endpoint: str | None = None
    ) -> Trace:
        live = self._live_for(scenario)
        sim = live.sim
        try:
            self._forget_last_flow(live)
            eff = seed if seed is not None else getattr(scenario, "seed", None)
            if eff is not None:
                sim.seed = eff
                sim.rng = random.Random(eff)
            before = {n: {id(e) for e in sim.conntrack(n).entries} for n in sim.nodes}
            recent_before = {n: copy.deepcopy(st.recent) for n, st in sim.nodes.items()}
            try:
                trace = sim.run_flow(flow, endpoint=endpoint)
            finally:
                live.recent_before = recent_before
                live.flow_entries = [(n, e) for n in sim.nodes for e in sim.conntrack(n).entries
                                     if id(e) not in before.get(n, set())]
            return trace
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(_message(exc)) from None

    def ruleset_text(self, scenario: Any, node: str, *, seed: int | None = None) -> str:
        sim = self.live_sim(scenario)
        try:
            if getattr(sim, "proxy_mode", "") == "nftables":  # kube-proxy's table, as nft list ruleset prints it
                from kubeflow_tui.netfilter.nft_list import render_nft_ruleset

                return render_nft_ruleset([sim.nft_table(node)])
            if hasattr(sim, "node_ruleset_text"):
                return sim.node_ruleset_text(node)
            from kubeflow_tui.netfilter import render_save

            return render_save(sim.node_ruleset(node))
        except Exception as exc:
            raise EngineError(_message(exc)) from None

    # ------------------------------------------------------------------ quizzes
    def quiz_context(self, scenario: Any) -> Any:
        from kubeflow_tui.quiz import context_from_sim

        return context_from_sim(self._new_sim(scenario))

    def quiz_questions(self, scenario: Any, flows: list[str] | tuple[str, ...], *, seed: int | None = None) -> list:
        """Questions from each flow's Trace on a fresh cluster (what the lesson showed)."""
        from kubeflow_tui.quiz import context_from_sim, generate_questions

        out: list = []
        for f in flows:
            sim = self._new_sim(scenario, seed)
            ctx = context_from_sim(sim)
            try:
                trace = sim.run_flow(f)
            except Exception as exc:
                raise EngineError(_message(exc)) from None
            out += generate_questions(trace, seed=seed, context=ctx)
        return out

    def lesson_questions(self, scenario: Any, flows: list[str] | tuple[str, ...], *, extra: Any = (),
                         seed: int | None = None) -> list:
        """A lesson's quiz (6–10 mixed questions, reasoning families first, the authored
        ``extra`` ones first): :func:`kubeflow_tui.quiz.flow.lesson_questions`."""
        from kubeflow_tui.quiz.flow import lesson_questions

        try:
            return lesson_questions(scenario, list(flows), seed=seed, extra=list(extra))
        except Exception as exc:
            raise EngineError(_message(exc)) from None


def default_engine(proxy_mode: str | None = None) -> Engine:
    return RealEngine(proxy_mode)
