"""cases/22, a rollout without preStop, in the real kernel.

After the case's rollout, node-b's kube-proxy has not applied the EndpointSlice change
(``syncLag``): its rules still DNAT web's ClusterIP to the old pods, whose containers
exited at SIGTERM.  The referee builds the cluster as it is now (the old pods' network
namespaces still exist, with nothing listening in them) and loads each node's rules as
the simulator holds them: node-b's stale ones, node-a's current ones.  The kernel must
answer checkout's SYN with a RST from the old pod (connection refused), deliver
frontend's connection on node-a to a new pod, and agree with the simulator packet by
packet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.quiz.cases import CaseSession, load_case

from .compare import compare_flow
from .netns import KernelCluster

pytestmark = pytest.mark.kernel

CASE = Path(__file__).resolve().parents[2] / "cases" / "22-refused-during-deploys.yaml"


def _best(session: CaseSession, flow: str, res, pins: list[str | None]) -> list[str]:
    """The mismatches against the simulator's run pinned to the endpoint the kernel chose
    (a refused connection names no server: each candidate is tried)."""
    sc = session.sim.scenario
    tried = [(compare_flow(sc, flow, res, t, record=False), t)
             for t in (session.fresh_sim().run_flow(flow, endpoint=pin) for pin in pins)]
    _, trace = min(tried, key=lambda x: len(x[0]))
    return compare_flow(sc, flow, res, trace)  # counted once, in the run's agreement line


def test_a_lagging_node_sends_to_the_exited_pods_and_the_kernel_answers_rst():
    require_kernel()
    session = CaseSession(load_case(CASE))
    sim = session.sim
    sc = sim.scenario
    old = [p.name for p in sc.pods if p.deployment == "web" and p.exited]
    new = [p.name for p in sc.pods if p.deployment == "web" and not p.terminating]
    assert len(old) == 2 and len(new) == 2
    rules = {n.name: sim.restore_text(n.name) for n in sc.cluster.nodes}
    old_ips = {p.ip for p in sc.pods if p.name in old}
    assert all(f"--to-destination {ip}:8080" in rules["node-b"] for ip in old_ips)
    assert not any(f"--to-destination {ip}:8080" in rules["node-a"] for ip in old_ips)
    with KernelCluster(sc, rules, timeout=1.0) as kc:
        refused = kc.run_chain(["checkout-to-web"])[-1]
        delivered = kc.run_chain(["frontend-to-web"])[-1]
    assert refused.outcome == "refused", refused.summary()
    assert delivered.outcome == "delivered" and delivered.server in new, delivered.summary()
    assert _best(session, "checkout-to-web", refused, old) == []
    assert _best(session, "frontend-to-web", delivered, [delivered.server]) == []
