"""Topology, routing and connections across a simulated cluster (see sim.py)."""

from .events import EventError, apply_event
from .sim import ClusterSim, FlowError, run_flow
from .topology import Host, Topology, build_topology

__all__ = ["ClusterSim", "FlowError", "run_flow", "EventError", "apply_event", "Host", "Topology", "build_topology"]
