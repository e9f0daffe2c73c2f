"""Paths that cross one node twice: a node calling its own address (routed via ``lo`` back
into PREROUTING and INPUT) and a pod calling another node's NodePort whose endpoint is back
on the pod's node (issue 13 (e)).

kube-proxy's TestTracePackets case "ACCEPT (NodePortHealthCheck)" (192.168.0.2 ->
192.168.0.2:30000 from the node) expects filter ``KUBE-NODEPORTS ... ACCEPT``; the kernel
in network namespaces and the simulator must agree packet by packet on that flow and on
the same node calling its own NodePort (DNATed in OUTPUT, re-routed to the pod).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.scenario import load_scenario

from .compare import compare_flow
from .netns import KernelCluster

pytestmark = pytest.mark.kernel

SCENARIO = load_scenario(Path(__file__).parent / "fixtures" / "own-address.yaml")


@pytest.fixture(scope="module")
def own_cluster():
    require_kernel()
    with KernelCluster(SCENARIO, generate_restore, timeout=1.0) as kc:
        yield kc


TWICE = load_scenario(Path(__file__).parent / "fixtures" / "node-crossed-twice.yaml")


def test_a_node_crossed_twice_agrees_with_the_kernel():
    require_kernel()
    flow = TWICE.flows[0].name
    with KernelCluster(TWICE, generate_restore, timeout=1.0) as kc:
        res = kc.run_chain([flow])[-1]
    assert res.outcome == "delivered", res.summary()
    trace = ClusterSim(TWICE).run(TWICE.flow(flow), endpoint=res.server)
    mismatches = compare_flow(TWICE, flow, res, trace)
    assert mismatches == [], "\n".join(mismatches)
    # node-a's SYN: once towards node-b, once back to web-1
    syn_links = [s.link for s in trace.steps if s.packet_no == 0 and s.kind == "link"]
    assert syn_links == [("client", "node-a"), ("node-a", "node-b"), ("node-b", "node-a"), ("node-a", "web-1")]


@pytest.mark.parametrize("flow", [f.name for f in SCENARIO.flows])
def test_own_address_agrees_with_the_kernel(own_cluster: KernelCluster, flow: str):
    res = own_cluster.run_chain([flow])[-1]
    assert res.outcome != "error", res.summary()
    endpoint = res.server if res.outcome == "delivered" and res.server in {p.name for p in SCENARIO.pods} else None
    trace = ClusterSim(SCENARIO).run(SCENARIO.flow(flow), endpoint=endpoint)
    mismatches = compare_flow(SCENARIO, flow, res, trace)
    assert mismatches == [], f"{flow}: kernel {res.summary()}\nsimulator {trace.outcome}\n" + "\n".join(mismatches)


def test_health_check_port_reaches_kube_nodeports_accept():
    trace = ClusterSim(SCENARIO).run_flow("node-to-own-health-check-port")
    first = [s for s in trace.steps if s.packet_no == 0]
    assert any(s.kind == "link" and s.link == ("node-a", "node-a") for s in first)
    hit = [s for s in first if s.table == "filter" and s.chain == "KUBE-NODEPORTS" and s.kind == "accept"]
    assert hit and "health check node port" in hit[0].rule and "--dport 30000 -j ACCEPT" in hit[0].rule
    assert not any(s.table == "nat" and s.hook == "PREROUTING" for s in first)  # not walked twice
