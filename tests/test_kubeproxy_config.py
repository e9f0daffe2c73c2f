"""The scenario's ``kubeProxy`` block: the rules kube-proxy writes under each setting.

Upstream (pkg/proxy/iptables/proxier.go, syncProxyRules, "Set up internal traffic
handling"): with ``masqueradeAll`` the ClusterIP rule of KUBE-SVC-… jumps to
KUBE-MARK-MASQ for every source; otherwise only if ``localDetector.IsImplemented()``,
with ``IfNotLocal()`` = ``! -s <cidr>`` (the cluster CIDR, or the node's podCIDR in mode
NodeCIDR).  Without a detector no ClusterIP traffic is masqueraded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.netfilter import render_rules_S
from kubeflow_tui.scenario import ScenarioError, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent
BASE = (ROOT / "scenarios" / "lesson-masquerade.yaml").read_text()
SVC = "KUBE-SVC-CDGGSHYLG3RE2FKL"


def with_kube_proxy(block: str):
    return load_scenario_text(BASE.replace("flows:\n", f"kubeProxy: {block}\nflows:\n", 1), "x.yaml")


def svc_rules(sc, node: str) -> list[str]:
    return render_rules_S(ClusterSim(sc).node_ruleset(node), "nat", SVC).splitlines()


def masq_rules(sc, node):
    return [r for r in svc_rules(sc, node) if r.endswith("-j KUBE-MARK-MASQ")]


def test_default_is_the_cluster_cidr_detector():
    sc = load_scenario(ROOT / "scenarios" / "lesson-masquerade.yaml")
    assert sc.kubeProxy.detectLocalMode == "ClusterCIDR" and not sc.kubeProxy.masqueradeAll
    assert masq_rules(sc, "node-a") == [
        f'-A {SVC} ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment '
        '"default/web:http cluster IP" -m tcp --dport 8080 -j KUBE-MARK-MASQ']


def test_node_cidr_detector_uses_each_nodes_pod_cidr():
    sc = with_kube_proxy("{detectLocalMode: NodeCIDR}")
    assert masq_rules(sc, "node-a")[0].startswith(f"-A {SVC} ! -s 10.244.1.0/24 -d 10.96.0.1/32")
    assert masq_rules(sc, "node-b")[0].startswith(f"-A {SVC} ! -s 10.244.2.0/24 -d 10.96.0.1/32")


def test_no_detector_no_clusterip_masquerade():
    sc = load_scenario(ROOT / "scenarios" / "no-local-detector.yaml")
    assert masq_rules(sc, "node-b") == []
    t = ClusterSim(sc).run_flow("node-to-service")
    assert t.outcome == "delivered" and t.server_saw == "192.168.1.11:40000"
    assert not any(s.kind == "masquerade" for s in t.steps)


def test_masquerade_all_marks_pod_traffic_too():
    sc = load_scenario(ROOT / "scenarios" / "masquerade-all.yaml")
    assert masq_rules(sc, "node-b") == [
        f'-A {SVC} -d 10.96.0.1/32 -p tcp -m comment --comment '
        '"default/web:http cluster IP" -m tcp --dport 8080 -j KUBE-MARK-MASQ']
    t = ClusterSim(sc).run_flow("pod-to-service")
    assert t.server_saw.startswith("192.168.1.11:")  # node-b's address, not 10.244.2.7
    assert [s.host for s in t.steps if s.kind == "masquerade"] == ["node-b"]


def test_a_wrong_mode_is_a_clear_error():
    with pytest.raises(ScenarioError, match=r"x\.yaml:\d+:\d+: kubeProxy.detectLocalMode"):
        with_kube_proxy("{detectLocalMode: Bridge}")


def test_cni_style_without_host_veth_address():
    """cluster.hostVethAddress false (Calico-like): no address on the node's end of a pod's
    veth, so MASQUERADE out of it takes the node IP (inet_select_addr), and a process on
    the node that talks to a local pod uses the node IP as its source."""
    sc = load_scenario(ROOT / "scenarios" / "cni-no-veth-address.yaml")
    assert sc.cluster.hostVethAddress is False
    sim = ClusterSim(sc)
    node = sim.topology.hosts["node-a"]
    veth = node.iface("veth-web-1")
    assert veth.address == "" and "10.244.1.1" not in node.addresses
    assert node.source_for(node.route("10.244.1.5")) == "192.168.1.10"
    t = sim.run_flow("hairpin")
    masq = next(s for s in t.steps if s.kind == "masquerade")
    assert masq.host == "node-a" and masq.packet.src == "192.168.1.10"
    # the default keeps the gateway on the veth
    base = load_scenario(ROOT / "scenarios" / "lesson-masquerade.yaml")
    assert base.cluster.hostVethAddress is True
    assert ClusterSim(base).topology.hosts["node-a"].iface("veth-web-1").address == "10.244.1.1"
