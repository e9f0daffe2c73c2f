"""The harness's topology (CONVENTIONS.md) on two nodes: routing between nodes' pod CIDRs,
the node network bridge, and both load balancer styles.  Minimal hand rules (plain DNAT),
so only the plumbing is under test here."""

from __future__ import annotations

import pytest

from conftest import require_kernel
from kubeflow_tui.scenario.models import Scenario

from .compare import kernel_path
from .netns import KernelCluster

pytestmark = pytest.mark.kernel

DNAT = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 203.0.113.5/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.2.5:8080
-A PREROUTING -p tcp -m tcp --dport 30080 -j DNAT --to-destination 10.244.2.5:8080
-A POSTROUTING -s 192.168.1.0/24 -d 10.244.0.0/16 -j MASQUERADE
COMMIT
"""


def scenario(style: str) -> Scenario:
    return Scenario.model_validate({
        "name": f"two-nodes-{style}",
        "cluster": {"systemServices": False, "nodes": [
            {"name": "node-a", "ip": "192.168.1.10", "podCIDR": "10.244.1.0/24"},
            {"name": "node-b", "ip": "192.168.1.11", "podCIDR": "10.244.2.0/24"},
        ]},
        "pods": [
            {"name": "client-1", "node": "node-a", "ip": "10.244.1.7"},
            {"name": "web-2", "node": "node-b", "ip": "10.244.2.5", "labels": {"app": "web"},
             "ports": [{"containerPort": 8080}, {"containerPort": 8053, "protocol": "UDP"}]},
        ],
        "services": [{"name": "web", "type": "LoadBalancer", "clusterIP": "10.96.0.1",
                      "loadBalancerIP": "203.0.113.5", "selector": {"app": "web"},
                      "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]}],
        "clients": [{"name": "laptop", "ip": "192.168.1.2"}],
        "loadBalancer": {"name": "lb", "ip": "192.168.1.100", "style": style},
        "flows": [
            {"name": "pod-to-remote-pod", "from": "client-1", "to": "10.244.2.5:8080"},
            {"name": "node-to-remote-pod-udp", "from": "node-a", "to": "10.244.2.5:8053", "protocol": "UDP"},
            {"name": "laptop-via-lb", "from": "laptop", "to": "203.0.113.5:80", "via": "node-a"},
            # a port the Service lacks: nothing DNATs it, so it goes to the router
            {"name": "undnated-clusterip", "from": "node-b", "to": "10.96.0.1:81"},
        ],
    })


@pytest.fixture(scope="module", params=["vip", "proxy"])
def two_nodes(request):
    require_kernel()
    with KernelCluster(scenario(request.param), {"node-a": DNAT}) as kc:
        yield kc


def test_pod_to_pod_across_nodes(two_nodes):
    res = two_nodes.run_flow("pod-to-remote-pod")
    assert res.outcome == "delivered", res.error
    assert res.server_saw == "10.244.1.7:40000"
    # forwarded by both nodes: node-a from the pod's veth out of eth0, node-b in on eth0
    a, b = res.hosts["node-a"].packets[0], res.hosts["node-b"].packets[0]
    assert (a.first.iif, a.last.oif) == ("veth-client-1", "eth0")
    assert a.hooks() == ["PREROUTING", "POSTROUTING"]  # node-a has nat (no filter table)
    assert (b.first.iif, b.first.dst_text) == ("eth0", "10.244.2.5:8080")
    # node-b has no table but the referee's raw: nf_tables only traces tables that exist
    assert b.base_chains == [("raw", "PREROUTING")] and kernel_path(b, res.hosts["node-b"]) == []


def test_node_to_remote_pod_udp(two_nodes):
    res = two_nodes.run_flow("node-to-remote-pod-udp")
    assert res.outcome == "delivered", res.error
    assert res.server_saw == "192.168.1.10:40000"
    assert res.hosts["node-a"].packets[0].hooks() == ["OUTPUT", "POSTROUTING"]


def test_through_the_load_balancer(two_nodes):
    res = two_nodes.run_flow("laptop-via-lb")
    assert res.outcome == "delivered", res.error
    assert res.client_saw == "203.0.113.5:80"
    syn = res.hosts["node-a"].packets[0]
    assert [e.label for e in kernel_path(syn)][0] == "nat:PREROUTING:ACCEPT"  # the DNAT
    if two_nodes.scenario.loadBalancer.style == "vip":
        assert syn.first.dst_text == "203.0.113.5:80" and syn.first.src == "192.168.1.2"
    else:  # the proxy opened its own connection to the NodePort
        assert syn.first.dst_text == "192.168.1.10:30080" and syn.first.src == "192.168.1.100"
    assert res.server_saw.startswith("192.168.1.10:")  # masqueraded by node-a


@pytest.mark.parametrize("flow", ["undnated-clusterip"])
def test_the_default_router_exists_and_discards(two_nodes, flow):
    """The node network's first host answers ARP and discards what it cannot deliver, so a
    packet nobody DNATs times out: no "No route to host"."""
    from kubeflow_tui.cluster import ClusterSim

    res = two_nodes.run_flow(flow)
    assert res.outcome == "timeout", (res.outcome, res.error)
    sim = ClusterSim(two_nodes.scenario).run_flow(flow)
    assert sim.outcome == "timeout"
    assert [s.kind for s in sim.steps if s.host == "router"] == ["link", "drop"]
    assert sim.meta["fails_after_ms"] == 0  # no ARP failure: the router answers
