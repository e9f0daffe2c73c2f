"""The DNS cases' scenarios (cases 20 and 21, under scenarios/cases/) against the real
kernel: the app's connection to each Service, the shadowing Service's refusal, and one
DNS query as the resolver sends it (UDP to kube-dns through the node's rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.scenario import load_scenario

from .compare import compare_flow
from .netns import KernelCluster
from .recorded import prerequisites
from .test_scenarios import simulate

pytestmark = pytest.mark.kernel

CASES = Path(__file__).resolve().parents[2] / "scenarios" / "cases"


@pytest.mark.parametrize("scenario,flows", [
    ("shop-billing.yaml", ["checkout-payments", "dns-query"]),
    ("shop-cache.yaml", ["checkout-cache", "checkout-shop-redis"]),
])
def test_dns_case_flows_agree_with_the_kernel(scenario, flows):
    require_kernel()
    sc = load_scenario(CASES / scenario)
    with KernelCluster(sc, generate_restore, timeout=1.0) as kc:
        for flow in flows:
            names = prerequisites(sc, flow) + [flow]
            results = kc.run_chain(names)
            res = results[-1]
            assert res.outcome != "error", f"the kernel run failed: {res.summary()}"
            trace = simulate(sc, names, results)
            assert compare_flow(sc, flow, res, trace) == [], (
                f"{sc.name}/{flow}: kernel {res.summary()}; simulator {trace.outcome}: {trace.summary}")
