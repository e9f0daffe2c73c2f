"""Issue 13 (a): UDP from a node's own process to a Service with no ready endpoint.

kube-proxy's ``filter KUBE-SERVICES`` rule ``... has no endpoints -j REJECT`` catches the
datagram in the node's OUTPUT hook.  REJECT sends its ICMP port unreachable and drops the
packet, and a drop in ``ip_local_out`` fails the sending call: the kernel's ``send()``
returns EPERM, which the simulator must say too (a ``socket-error`` step with EPERM), while
the same datagram from a pod is rejected in FORWARD and its socket gets ECONNREFUSED.
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

SCENARIO = load_scenario(Path(__file__).parent / "fixtures" / "udp-no-endpoints.yaml")


@pytest.mark.parametrize("flow,errno_name", [("from-node", "EPERM"), ("from-pod", "ECONNREFUSED")])
def test_udp_to_a_service_without_endpoints_agrees_with_the_kernel(flow: str, errno_name: str):
    require_kernel()
    with KernelCluster(SCENARIO, generate_restore, timeout=1.0) as kc:
        res = kc.run_flow(flow)
    trace = ClusterSim(SCENARIO).run_flow(flow)
    assert trace.error == errno_name
    assert res.outcome == ("eperm" if errno_name == "EPERM" else "refused"), res.summary()
    mismatches = compare_flow(SCENARIO, flow, res, trace)
    assert mismatches == [], "\n".join(mismatches)
    end = trace.steps[-1]
    assert (end.kind, end.error) == ("socket-error", errno_name)
