"""A seeded random-scenario differential: the kernel and the simulator on scenarios nobody wrote.

A few seeds run in every kernel run (``SEEDS``); more on demand::

    KFT_RANDOM_SEEDS=100-119 .venv/bin/python -m pytest -m kernel tests/kernel/test_random_scenarios.py

Each seed's scenario (``randomized.py``) is built once in network namespaces with
kube-proxy's rules; every flow runs for real and in the simulator (pinned to the endpoint
the kernel picked) and ``compare_flow`` must find nothing.  A failure names the seed: the
scenario is ``randomized.random_scenario(seed)``.
"""

from __future__ import annotations

import warnings

import os

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore

from .compare import compare_flow
from .netns import KernelCluster
from .randomized import random_scenario

pytestmark = pytest.mark.kernel

SEEDS = [7, 23, 42]


def _seeds() -> list[int]:
    text = os.environ.get("KFT_RANDOM_SEEDS", "")
    if not text:
        return SEEDS
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def _dnat_target(sc, res) -> str | None:
    """The endpoint the kernel's DNAT picked when the connection got no answer: the pod
    whose address is a reply source in a node's conntrack entry of this flow."""
    by_ip = {p.ip: p.name for p in sc.pods}
    for cap in res.hosts.values():
        for ct in list(cap.conntrack_open) + list(cap.conntrack) + list(cap.events):
            if ct.reply[0] in by_ip and ct.reply[0] != ct.orig[1]:
                return by_ip[ct.reply[0]]
    return None


def _judge(kc, sc, flow, pods):
    """One flow in the kernel and in the simulator: (kernel result, trace, differences), or
    (None, the kernel's failure, []) when the kernel run itself failed."""
    kc.reset()
    res = kc.run_chain([flow.name])[-1]
    if res.outcome == "error":
        return None, res.summary(), []
    endpoint = res.server if res.outcome == "delivered" and res.server in pods else _dnat_target(sc, res)
    trace = ClusterSim(sc).run(flow, endpoint=endpoint)
    out = compare_flow(sc, flow.name, res, trace)
    if res.outcome != "delivered":
        # a server left half-open (its SYN-ACK went astray or was dropped) keeps
        # retransmitting into the next flow's capture: restart the servers
        for proc in kc._servers:
            proc.stop()
        kc._servers.clear()
        kc._start_servers()
    return res, trace, out


@pytest.mark.parametrize("seed", _seeds())
def test_random_scenario_agrees_with_the_kernel(seed: int):
    require_kernel()
    sc = random_scenario(seed)
    pods = {p.name for p in sc.pods}
    problems = []
    with KernelCluster(sc, generate_restore, timeout=1.0) as kc:
        for flow in sc.flows:
            res, trace, out = _judge(kc, sc, flow, pods)
            if res is not None and out:
                # Once in a few CI runs a flow of a long random chain lost a UDP reply within
                # the 1 s window in the kernel (seed 42, pod-np-svc1) and not when run alone: a
                # flow is run again once, and only a disagreement that repeats counts; the
                # first one is reported as a warning, so it stays visible in the log.
                first = f"{flow.name}: kernel {res.summary()}; simulator {trace.outcome}: " + "; ".join(out)
                res, trace, out = _judge(kc, sc, flow, pods)
                if res is not None and not out:
                    warnings.warn(f"seed {seed}: agreed when run again; the first run: {first}", stacklevel=1)
            if res is None:
                problems.append(f"{flow.name}: the kernel run failed: {trace}")
                continue
            if out:
                problems.append(f"{flow.name}: kernel {res.summary()}; simulator {trace.outcome}\n" + "\n".join(out))
    assert not problems, f"seed {seed} ({len(problems)} of {len(sc.flows)} flows disagree):\n" + "\n\n".join(problems)
