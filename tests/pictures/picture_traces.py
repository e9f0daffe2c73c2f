"""Traces of the shipped scenarios for the picture tests, built once per session."""

from __future__ import annotations

import functools

from kubeflow_tui.trace import Trace

#: (scenario, flow) pairs the pictures are tested on: clusterip, nodeport, both
#: load-balancer styles and hairpin (plus a refused and a timed-out flow for endings).
FLOWS = {
    "clusterip": ("clusterip", "pod-other-node"),
    "nodeport": ("nodeport", "to-other-node"),
    "lb-direct": ("loadbalancer", "via-other-node"),
    "lb-proxy": ("loadbalancer-proxy", "via-other-node"),
    "hairpin": ("hairpin", "back-to-itself"),
}


@functools.lru_cache(maxsize=None)
def scenario(name: str):
    from kubeflow_tui.resources import find_scenario
    from kubeflow_tui.scenario import load_scenario

    return load_scenario(find_scenario(name))


@functools.lru_cache(maxsize=None)
def trace_of(name: str, flow: str) -> Trace:
    from kubeflow_tui.cluster import run_flow

    return run_flow(scenario(name), flow, seed=None, endpoint=None)
