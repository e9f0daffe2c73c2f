"""The referee on flows that carry a time (``flow.at``): the kernel gets the cluster as it is
then -- the API server's pods (a deleted one's namespace is gone) and each node's rules as
kube-proxy last synced them (cluster/timeline.py) -- and the simulator runs the flow at that
time of the timeline.  test_scenarios.py leaves these flows out: its cluster is the one at
the start.  Globbed like it, so a new timed scenario is covered."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.netfilter import render_save
from kubeflow_tui.scenario import load_scenario

from .compare import compare_flow
from .netns import KernelCluster

pytestmark = pytest.mark.kernel

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def _params() -> list:
    out = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        sc = load_scenario(path)
        for f in sc.flows:
            if f.at is not None and not f.after:
                out.append(pytest.param(path, f.name, id=f"{path.stem}/{f.name}"))
    return out


@pytest.mark.parametrize("path, flow", _params())
def test_a_timed_flow_agrees_with_the_kernel(path: Path, flow: str):
    require_kernel()
    sc = load_scenario(path)
    at = sc.flow(flow).at
    then = ClusterSim(sc, proxy_mode="iptables")
    then.advance_to(at)
    rules = {n.name: render_save(then.node_ruleset(n.name)) for n in sc.cluster.nodes}
    with KernelCluster(then.scenario, rules, timeout=1.0) as kc:
        res = kc.run_flow(flow)
    assert "did not choose" not in res.error, res.error
    assert res.outcome != "error", f"the kernel run failed: {res.summary()}"
    pin = sc.flow(flow).endpoint or (res.server if res.outcome == "delivered" else None)
    trace = ClusterSim(sc, proxy_mode="iptables").run_flow(flow, endpoint=pin)
    mismatches = compare_flow(then.scenario, flow, res, trace)
    assert mismatches == [], (
        f"{sc.name}/{flow} at t={at:g}: the simulator disagrees with the kernel\n"
        f"  kernel:    {res.summary()}\n  simulator: {trace.outcome}: {trace.summary}\n"
        + "\n".join(mismatches))
