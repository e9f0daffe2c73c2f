"""A seeded random-scenario differential: the kernel and the simulator on scenarios nobody wrote.

A few seeds run in every kernel run (``SEEDS``); more on demand::

    KFT_RANDOM_SEEDS=100-119 .venv/bin/python -m pytest -m kernel tests/kernel/test_random_scenarios.py

Each seed's scenario (``randomized.py``) is built once in network namespaces with
kube-proxy's rules; every flow runs for real and in the simulator (pinned to the endpoint
the kernel picked) and ``compare_flow`` must find nothing.  A failure names the seed: the
scenario is ``randomized.random_scenario(seed)``.
"""

from __future__ import annotations

import os

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore

from .compare import compare_flow
from .netns import KernelCluster
from .randomized import random_scenario

pytestmark = pytest.mark.kernel

SEEDS = [7, 23, 37, 42]  # 37: issue 13 (c), UDP through a vip balancer to no ready endpoint


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
        kc.restart_servers()
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
            if res is None:
                problems.append(f"{flow.name}: the kernel run failed: {trace}")
                continue
            if out:
                problems.append(f"{flow.name}: kernel {res.summary()}; simulator {trace.outcome}\n" + "\n".join(out))
    assert not problems, f"seed {seed} ({len(problems)} of {len(sc.flows)} flows disagree):\n" + "\n\n".join(problems)


def test_a_reply_opens_a_new_entry_on_a_node_that_never_saw_the_request():
    """Seed 42's ``pod-np-svc1``: the client pod on node-a calls node-c's NodePort (UDP,
    ``externalTrafficPolicy: Local``, pod traffic short-circuited to the Service's chain, no
    masquerade).  When the kernel picks app1-1 on node-b, the reply goes from node-b straight
    to node-a, which never saw the DNATed request: conntrack there opens a new entry, in its
    original direction, and the client's socket (connected to node-c) drops the reply.  The
    referee once compared that packet as a conntrack reply and found none: a disagreement
    whenever the kernel's random choice fell on app1-1 (one flow in three), which looked like
    a lost reply.  Here the choice is pinned: the flow runs until the kernel picks app1-1."""
    require_kernel()
    sc = random_scenario(42)
    flow = sc.flow("pod-np-svc1")
    with KernelCluster(sc, generate_restore, timeout=1.0) as kc:
        for _ in range(30):
            kc.reset()
            res = kc.run_chain([flow.name])[-1]
            if _dnat_target(sc, res) == "app1-1":
                break
        else:
            pytest.fail("the kernel did not pick app1-1 in 30 attempts")
    assert res.outcome == "timeout", res.summary()
    new_on_a = [ct for ct in res.hosts["node-a"].conntrack if ct.orig[0] == "10.244.2.5"]
    assert new_on_a and new_on_a[0].orig == ("10.244.2.5", "10.244.1.7", 8080, 40000), res.hosts["node-a"].conntrack_text
    trace = ClusterSim(sc).run(flow, endpoint="app1-1")
    assert trace.outcome == "timeout"
    assert compare_flow(sc, flow.name, res, trace) == []
