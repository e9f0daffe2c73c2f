"""Topology, routing and connections across a simulated cluster (see sim.py)."""

from .dump import DumpSim, trace_dump
from .events import EventError, apply_event
from .sim import ClusterSim, FlowError, run_flow
from .topology import Host, Topology, build_topology

__all__ = ["DumpSim", "trace_dump", "ClusterSim", "FlowError", "run_flow", "EventError", "apply_event", "Host", "Topology", "build_topology"]
