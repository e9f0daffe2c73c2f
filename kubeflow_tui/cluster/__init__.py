"""Topology, routing and connections across a simulated cluster (see sim.py).

The names below load on first use (PEP 562): ``trace --iptables-save`` needs only
``trace_dump`` and so never loads the scenario models (pydantic) the rest of the package uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..netfilter.lazy import lazy_names

_WHERE = {
    "DumpSim": ".dump", "trace_dump": ".dump",
    "EventError": ".events", "apply_event": ".events",
    "ClusterSim": ".sim", "FlowError": ".sim", "run_flow": ".sim",
    "Host": ".topology", "Topology": ".topology", "build_topology": ".topology",
}

__all__ = ["DumpSim", "trace_dump", "ClusterSim", "FlowError", "run_flow", "EventError", "apply_event", "Host", "Topology", "build_topology"]

if TYPE_CHECKING:
    from .dump import DumpSim, trace_dump
    from .events import EventError, apply_event
    from .sim import ClusterSim, FlowError, run_flow
    from .topology import Host, Topology, build_topology


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
