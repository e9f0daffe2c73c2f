"""The referee in kube-proxy's nftables mode: every shipped flow, kernel against simulator.

Each scenario's cluster is built in network namespaces as in ``test_scenarios.py``, but the
nodes get kube-proxy's nftables transaction (``nft -f``) instead of iptables rules, and the
kernel's path is read from ``nft monitor trace`` (the referee's ``ip kt-trace`` table sets
``meta nftrace set 1`` first thing at prerouting and output).  ``compare_flow`` then holds
``ClusterSim(…, proxy_mode="nftables")`` against it: per packet and node the base chains and
rules that acted with their verdicts (rule text included), the headers each base chain saw,
where the packet leaves the node, every conntrack entry and its states, and the outcome.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy.nftables import generate_nft
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.scenario.models import Scenario
from kubeflow_tui.trace import Trace

from .compare import compare_flow
from .netns import KernelCluster, KernelResult, nsexec
from .nft_capture import TRACE_TABLE, parse_nft_trace
from .recorded import egress_policy_drops, prerequisites

pytestmark = pytest.mark.kernel

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))


class NftKernelCluster(KernelCluster):
    """A KernelCluster whose nodes run kube-proxy in nftables mode."""

    trace_argv = ("nft", "monitor", "trace")

    @staticmethod
    def parse_trace_text(text: str):
        return parse_nft_trace(text)

    def load_rules(self, node: str, text: str) -> None:
        nsexec(self.node_ns(node), "nft", "-f", "-", input=text + TRACE_TABLE)
        self.tables[node] = ()
        self.affinity_sets = sorted({line.split()[4] for line in text.splitlines()
                                     if line.startswith("add set ip kube-proxy affinity-")})

    def reset(self) -> None:
        """Also forget the session-affinity sets (nftables' counterpart of ``-m recent``)."""
        super().reset()
        for node in self.nodes:
            for name in self.affinity_sets:
                nsexec(self.node_ns(node), "nft", "flush", "set", "ip", "kube-proxy", name, check=False)


def _flow_params() -> list:
    out = []
    for path in SCENARIOS:
        sc = load_scenario(path)
        for f in sc.flows:
            if egress_policy_drops(sc, f.name):
                continue  # no CNI for egress in the referee (test_scenarios._flow_params says why)
            out.append(pytest.param(path, f.name, id=f"{path.stem}/{f.name}"))
    return out


@pytest.fixture(scope="module")
def nft_cluster(request):
    require_kernel()
    import shutil

    if shutil.which("nft") is None:
        pytest.fail("nftables mode kernel tests need nft (apt-get install nftables)", pytrace=False)
    sc = load_scenario(request.param)
    with NftKernelCluster(sc, generate_nft, timeout=1.0) as kc:
        yield kc


def simulate(sc: Scenario, names: list[str], results: list[KernelResult]) -> Trace:
    """The simulator in nftables mode on the same chain of flows, pinned to the kernel's endpoints."""
    pods = {p.name for p in sc.pods}
    sim = ClusterSim(sc, proxy_mode="nftables")
    trace = None
    for name, res in zip(names, results):
        flow = sc.flow(name)
        pin = flow.endpoint or (res.server if res.outcome == "delivered" and res.server in pods else None)
        trace = sim.run(flow, endpoint=pin)
    return trace


@pytest.mark.parametrize("nft_cluster, flow", _flow_params(), indirect=["nft_cluster"])
def test_flow_agrees_with_the_kernel_in_nftables_mode(nft_cluster: NftKernelCluster, flow: str):
    kc = nft_cluster
    sc = kc.scenario
    names = prerequisites(sc, flow) + [flow]
    results = kc.run_chain(names)
    res = results[-1]
    assert "did not choose" not in res.error, res.error
    assert res.outcome != "error", f"the kernel run failed: {res.summary()}"
    trace = simulate(sc, names, results)
    mismatches = compare_flow(sc, flow, res, trace)
    assert mismatches == [], (
        f"{sc.name}/{flow} (nftables mode): the simulator disagrees with the kernel\n"
        f"  kernel:    {res.summary()}\n  simulator: {trace.outcome}: {trace.summary}\n"
        + "\n".join(mismatches)
    )
