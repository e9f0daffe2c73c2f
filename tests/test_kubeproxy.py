"""kubeproxy: chain names, endpoint derivation and the exact rules kube-proxy writes.

Scenarios are built directly with the pydantic models. The ``kernel`` test loads every
generated ruleset into a real kernel in a throwaway network namespace.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import secrets
import shutil
import subprocess
import textwrap

import pytest

from kubeflow_tui.kubeproxy import (
    ProxyConfig,
    ServicePortName,
    builtin_jump_rules,
    categorize_endpoints,
    endpoint_chain_name,
    endpoint_slices,
    ensure_nfacct_counters,
    generate_restore,
    kube_proxy_restore,
    probability,
    service_chain_name,
    service_port_endpoints,
    service_ports,
)
from kubeflow_tui.scenario.models import (
    Cluster,
    ContainerPort,
    Node,
    Pod,
    Scenario,
    Service,
    ServicePort,
)

NODES = [
    Node(name="node-a", ip="192.168.1.10", podCIDR="10.244.1.0/24"),
    Node(name="node-b", ip="192.168.1.11", podCIDR="10.244.2.0/24"),
]


def _pod(name, node, ip, ns="default", labels=None, ports=(), ready=True, terminating=False):
    return Pod(name=name, namespace=ns, node=node, ip=ip, labels=labels or {"app": "web"},
               ports=list(ports), ready=ready, terminating=terminating)


def clusterip_scenario() -> Scenario:
    http = [ContainerPort(name="http", containerPort=8080)]
    return Scenario(
        name="clusterip",
        cluster=Cluster(nodes=NODES, systemServices=False),
        pods=[
            _pod("web-1", "node-a", "10.244.1.5", ns="ns1", ports=http),
            _pod("web-2", "node-a", "10.244.1.6", ns="ns1", ports=http),
            _pod("web-3", "node-b", "10.244.2.5", ns="ns1", ports=http),
        ],
        services=[Service(name="svc1", namespace="ns1", clusterIP="10.96.0.1", selector={"app": "web"},
                          ports=[ServicePort(name="p80", port=80, targetPort="http")])],
    )


def nodeport_local_scenario() -> Scenario:
    return Scenario(
        name="np-local",
        cluster=Cluster(nodes=NODES, systemServices=False),
        pods=[_pod("web-1", "node-a", "10.244.1.5"), _pod("web-2", "node-a", "10.244.1.6")],
        services=[Service(name="web", type="NodePort", clusterIP="10.96.0.1", selector={"app": "web"},
                          externalTrafficPolicy="Local",
                          ports=[ServicePort(port=8080, nodePort=30080)])],
    )


# --------------------------------------------------------------------------- names


def test_known_chain_names():
    assert service_chain_name("KUBE-SVC-", "ns1/svc1:p80", "tcp") == "KUBE-SVC-XPGD46QRK7WJZT7O"
    assert service_chain_name("SVC", "ns1/svc1:p80", "TCP") == "KUBE-SVC-XPGD46QRK7WJZT7O"
    assert endpoint_chain_name("ns1/svc1:p80", "tcp", "10.180.0.1:80") == "KUBE-SEP-SXIVWICOYRO3J4NJ"
    # More values from upstream's proxier_test.go.
    assert service_chain_name("KUBE-EXT-", "ns2/svc2:p80", "tcp") == "KUBE-EXT-GNZBNJ2PO5MGZ6GT"
    assert service_chain_name("KUBE-FW-", "ns5/svc5:p80", "tcp") == "KUBE-FW-NUKIZ6OKUXPJNT4C"
    assert service_chain_name("KUBE-SVL-", "ns2/svc2:p80", "tcp") == "KUBE-SVL-GNZBNJ2PO5MGZ6GT"
    assert endpoint_chain_name("ns5/svc5:p80", "tcp", "10.180.0.3:80") == "KUBE-SEP-I77PXRDZVX7PMWMN"
    with pytest.raises(ValueError):
        service_chain_name("KUBE-XYZ-", "a/b", "tcp")


def test_service_port_name_string():
    assert str(ServicePortName("ns1", "svc1", "p80", "TCP")) == "ns1/svc1:p80"
    assert str(ServicePortName("default", "web", "", "TCP")) == "default/web"


def test_probability_text():
    assert [probability(n) for n in (4, 3, 2)] == ["0.2500000000", "0.3333333333", "0.5000000000"]
    assert probability(7) == "0.1428571429"


# ----------------------------------------------------------------------- endpoints


def test_endpoint_slices_named_port_protocol_and_conditions():
    pods = [
        _pod("a", "node-a", "10.244.1.5", ports=[ContainerPort(name="http", containerPort=8080)]),
        # same name but UDP: does not resolve a TCP named targetPort
        _pod("b", "node-a", "10.244.1.6", ports=[ContainerPort(name="http", containerPort=9090, protocol="UDP")]),
        _pod("c", "node-b", "10.244.2.5", ports=[ContainerPort(name="http", containerPort=8081)],
             ready=True, terminating=True),
        _pod("d", "node-b", "10.244.2.6", ports=[ContainerPort(name="http", containerPort=8080)], ready=False),
        _pod("other-ns", "node-b", "10.244.2.7", ns="other"),
        _pod("other-label", "node-b", "10.244.2.8", labels={"app": "db"}),
    ]
    svc = Service(name="web", clusterIP="10.96.0.1", selector={"app": "web"},
                  ports=[ServicePort(name="http", port=80, targetPort="http"),
                         ServicePort(name="metrics", port=9100, targetPort=9100)])
    sc = Scenario(name="s", cluster=Cluster(nodes=NODES, systemServices=False), pods=pods, services=[svc])
    slices = endpoint_slices(sc)["default/web"]
    by_ports = {tuple((p.name, p.port) for p in s.ports): s for s in slices}
    assert set(by_ports) == {
        (("http", 8080), ("metrics", 9100)),
        (("metrics", 9100),),
        (("http", 8081), ("metrics", 9100)),
    }
    assert [e.pod for e in by_ports[(("http", 8080), ("metrics", 9100))].endpoints] == ["a", "d"]
    c = by_ports[(("http", 8081), ("metrics", 9100))].endpoints[0]
    assert (c.ready, c.serving, c.terminating, c.node) == (False, True, True, "node-b")
    d = by_ports[(("http", 8080), ("metrics", 9100))].endpoints[1]
    assert (d.ready, d.serving, d.terminating) == (False, False, False)
    assert all(s.name.startswith("web-") and len(s.name) == 9 for s in slices)

    eps = service_port_endpoints(sc)
    http = eps[ServicePortName("default", "web", "http", "TCP")]
    assert [e.address for e in http] == ["10.244.1.5:8080", "10.244.2.5:8081", "10.244.2.6:8080"]
    metrics = eps[ServicePortName("default", "web", "metrics", "TCP")]
    assert [e.address for e in metrics] == ["10.244.1.5:9100", "10.244.1.6:9100", "10.244.2.5:9100", "10.244.2.6:9100"]


def test_endpoints_sorted_as_strings_like_upstream():
    pods = [_pod(f"w{i}", "node-a", f"10.244.1.{i}") for i in (9, 10, 2)]
    sc = Scenario(name="s", cluster=Cluster(nodes=NODES, systemServices=False), pods=pods,
                  services=[Service(name="web", clusterIP="10.96.0.1", selector={"app": "web"},
                                    ports=[ServicePort(port=80)])])
    eps = service_port_endpoints(sc)[ServicePortName("default", "web", "", "TCP")]
    assert [e.ip for e in eps] == ["10.244.1.10", "10.244.1.2", "10.244.1.9"]


def test_no_selector_no_slices():
    sc = Scenario(name="s", cluster=Cluster(nodes=NODES, systemServices=False), pods=[_pod("a", "node-a", "10.244.1.5")],
                  services=[Service(name="web", clusterIP="10.96.0.1", ports=[ServicePort(port=80)])])
    assert endpoint_slices(sc) == {"default/web": []}


def test_terminating_endpoints_only_as_fallback():
    def scen(ready_b: bool):
        return Scenario(
            name="t", cluster=Cluster(nodes=NODES, systemServices=False),
            pods=[_pod("a", "node-a", "10.244.1.5", ready=True, terminating=True),
                  _pod("b", "node-b", "10.244.2.5", ready=ready_b)],
            services=[Service(name="web", clusterIP="10.96.0.1", selector={"app": "web"},
                              ports=[ServicePort(port=80)])])
    # A ready endpoint exists: the terminating one is not used.
    out = kube_proxy_restore(scen(True), "node-a")
    assert "10.244.2.5:80" in out and "10.244.1.5:80" not in out
    # No ready endpoint anywhere: fall back to serving+terminating ones.
    out = kube_proxy_restore(scen(False), "node-a")
    assert "DNAT --to-destination 10.244.1.5:80" in out and "10.244.2.5" not in out


def test_categorize_local_fallback():
    sc = Scenario(
        name="t", cluster=Cluster(nodes=NODES, systemServices=False),
        pods=[_pod("a", "node-a", "10.244.1.5", terminating=True), _pod("b", "node-b", "10.244.2.5")],
        services=[Service(name="web", type="NodePort", clusterIP="10.96.0.1", selector={"app": "web"},
                          externalTrafficPolicy="Local", ports=[ServicePort(port=80, nodePort=30080)])])
    info = service_ports(sc)[0]
    eps = service_port_endpoints(sc)[info.name]
    cat = categorize_endpoints(eps, info, "node-a")
    assert [e.address for e in cat.cluster] == ["10.244.2.5:80"]
    assert [e.address for e in cat.local] == ["10.244.1.5:80"]
    assert [e.address for e in cat.all_reachable] == ["10.244.1.5:80", "10.244.2.5:80"]
    assert cat.has_any


# ---------------------------------------------------------------- full-text outputs

CLUSTERIP_NODE_A = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A OUTPUT -j KUBE-FIREWALL
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
:KUBE-SEP-4DLQR6XP64U3IHTN - [0:0]
:KUBE-SEP-DTJWGOTMDVX5HUTF - [0:0]
:KUBE-SEP-FTQDUIX2Y5S6ID6R - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.1.5:8080" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-4DLQR6XP64U3IHTN
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.1.6:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-DTJWGOTMDVX5HUTF
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.2.5:8080" -j KUBE-SEP-FTQDUIX2Y5S6ID6R
-A KUBE-SEP-4DLQR6XP64U3IHTN -m comment --comment ns1/svc1:p80 -s 10.244.1.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-4DLQR6XP64U3IHTN -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-DTJWGOTMDVX5HUTF -m comment --comment ns1/svc1:p80 -s 10.244.1.6 -j KUBE-MARK-MASQ
-A KUBE-SEP-DTJWGOTMDVX5HUTF -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.244.1.6:8080
-A KUBE-SEP-FTQDUIX2Y5S6ID6R -m comment --comment ns1/svc1:p80 -s 10.244.2.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-FTQDUIX2Y5S6ID6R -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.244.2.5:8080
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
"""


def test_clusterip_full_text():
    sc = clusterip_scenario()
    assert generate_restore(sc, "node-a") == CLUSTERIP_NODE_A
    # Nothing in a ClusterIP-only ruleset depends on the node.
    assert generate_restore(sc, "node-b") == CLUSTERIP_NODE_A


def test_kube_proxy_restore_is_the_full_text_minus_builtins():
    sc = clusterip_scenario()
    full = generate_restore(sc, "node-a").splitlines()
    data = kube_proxy_restore(sc, "node-a").splitlines()
    builtin = re.compile(r"^(:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) |-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) )")
    assert [ln for ln in full if not builtin.match(ln)] == data


_NP_COMMON_FILTER_HEAD = """\
*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-FIREWALL - [0:0]
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
"""
_NP_FORWARD = """\
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
"""
_NP_NAT_HEAD = """\
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-EXT-LOLE4ISW44XBNF3G - [0:0]
:KUBE-SVC-LOLE4ISW44XBNF3G - [0:0]
"""
_NP_NAT_TOP = """\
:KUBE-SEP-XQWD6PXGZUTOOIVQ - [0:0]
:KUBE-SEP-XIQG3E4ATGAKTZVT - [0:0]
-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
-A KUBE-SERVICES -m comment --comment "default/web cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 8080 -j KUBE-SVC-LOLE4ISW44XBNF3G
-A KUBE-NODEPORTS -m comment --comment default/web -m tcp -p tcp -d 127.0.0.0/8 --dport 30080 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-LOLE4ISW44XBNF3G
-A KUBE-NODEPORTS -m comment --comment default/web -m tcp -p tcp --dport 30080 -j KUBE-EXT-LOLE4ISW44XBNF3G
-A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment "default/web cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 8080 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A KUBE-EXT-LOLE4ISW44XBNF3G -m comment --comment "pod traffic for default/web external destinations" -s 10.244.0.0/16 -j KUBE-SVC-LOLE4ISW44XBNF3G
-A KUBE-EXT-LOLE4ISW44XBNF3G -m comment --comment "masquerade LOCAL traffic for default/web external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-LOLE4ISW44XBNF3G -m comment --comment "route LOCAL traffic for default/web external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-LOLE4ISW44XBNF3G
"""
_NP_NAT_TAIL = """\
-A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment "default/web -> 10.244.1.5:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-XQWD6PXGZUTOOIVQ
-A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment "default/web -> 10.244.1.6:8080" -j KUBE-SEP-XIQG3E4ATGAKTZVT
"""
_NP_SEPS = """\
-A KUBE-SEP-XQWD6PXGZUTOOIVQ -m comment --comment default/web -s 10.244.1.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-XQWD6PXGZUTOOIVQ -m comment --comment default/web -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-XIQG3E4ATGAKTZVT -m comment --comment default/web -s 10.244.1.6 -j KUBE-MARK-MASQ
-A KUBE-SEP-XIQG3E4ATGAKTZVT -m comment --comment default/web -m tcp -p tcp -j DNAT --to-destination 10.244.1.6:8080
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
"""

NODEPORT_LOCAL_NODE_A = (
    _NP_COMMON_FILTER_HEAD + _NP_FORWARD + _NP_NAT_HEAD
    + ":KUBE-SVL-LOLE4ISW44XBNF3G - [0:0]\n" + _NP_NAT_TOP
    + "-A KUBE-EXT-LOLE4ISW44XBNF3G -j KUBE-SVL-LOLE4ISW44XBNF3G\n"
    + _NP_NAT_TAIL + _NP_NAT_TAIL.replace("KUBE-SVC-", "KUBE-SVL-") + _NP_SEPS
)
NODEPORT_LOCAL_NODE_B = (
    _NP_COMMON_FILTER_HEAD
    + '-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/web has no local endpoints" '
      "-m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP\n"
    + _NP_FORWARD + _NP_NAT_HEAD + _NP_NAT_TOP + _NP_NAT_TAIL + _NP_SEPS
)


def test_nodeport_etp_local_full_text():
    sc = nodeport_local_scenario()
    assert service_chain_name("SVC", "default/web", "tcp") == "KUBE-SVC-LOLE4ISW44XBNF3G"
    # node-a has both endpoints: KUBE-EXT falls through to KUBE-SVL (local endpoints only).
    assert kube_proxy_restore(sc, "node-a") == NODEPORT_LOCAL_NODE_A
    # node-b has none: no KUBE-SVL, KUBE-EXT only short-circuits pod/host traffic, and the
    # filter table drops what is left ("has no local endpoints").
    assert kube_proxy_restore(sc, "node-b") == NODEPORT_LOCAL_NODE_B


# ------------------------------------------------------------------ feature tests


def _lines(text, prefix):
    return [ln for ln in text.splitlines() if ln.startswith(prefix)]


def test_session_affinity_text():
    sc = clusterip_scenario()
    svc = sc.services[0].model_copy(update={"sessionAffinity": "ClientIP", "sessionAffinityTimeoutSeconds": 600})
    sc = sc.model_copy(update={"services": [svc]})
    out = kube_proxy_restore(sc, "node-a")
    svc_chain = _lines(out, "-A KUBE-SVC-XPGD46QRK7WJZT7O ")
    assert svc_chain == [
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.1.5:8080" -m recent --name KUBE-SEP-4DLQR6XP64U3IHTN --rcheck --seconds 600 --reap -j KUBE-SEP-4DLQR6XP64U3IHTN',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.1.6:8080" -m recent --name KUBE-SEP-DTJWGOTMDVX5HUTF --rcheck --seconds 600 --reap -j KUBE-SEP-DTJWGOTMDVX5HUTF',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.2.5:8080" -m recent --name KUBE-SEP-FTQDUIX2Y5S6ID6R --rcheck --seconds 600 --reap -j KUBE-SEP-FTQDUIX2Y5S6ID6R',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.1.5:8080" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-4DLQR6XP64U3IHTN',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.1.6:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-DTJWGOTMDVX5HUTF',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.244.2.5:8080" -j KUBE-SEP-FTQDUIX2Y5S6ID6R',
    ]
    assert _lines(out, "-A KUBE-SEP-4DLQR6XP64U3IHTN ") == [
        "-A KUBE-SEP-4DLQR6XP64U3IHTN -m comment --comment ns1/svc1:p80 -s 10.244.1.5 -j KUBE-MARK-MASQ",
        "-A KUBE-SEP-4DLQR6XP64U3IHTN -m comment --comment ns1/svc1:p80 -m recent --name KUBE-SEP-4DLQR6XP64U3IHTN --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080",
    ]


def test_no_endpoints_reject():
    sc = Scenario(
        name="empty", cluster=Cluster(nodes=NODES, systemServices=False),
        services=[Service(name="svc1", namespace="ns1", type="LoadBalancer", clusterIP="10.96.0.41",
                          externalIPs=["192.168.1.99"], loadBalancerIP="203.0.113.5",
                          loadBalancerSourceRanges=["198.51.100.0/24"],
                          ports=[ServicePort(name="p80", port=80, nodePort=30080)])])
    out = kube_proxy_restore(sc, "node-a")
    c = '-m comment --comment "ns1/svc1:p80 has no endpoints"'
    assert _lines(out, "-A KUBE-SERVICES ") == [
        f"-A KUBE-SERVICES {c} -m tcp -p tcp -d 10.96.0.41 --dport 80 -j REJECT",
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]
    assert _lines(out, "-A KUBE-EXTERNAL-SERVICES ") == [
        f"-A KUBE-EXTERNAL-SERVICES {c} -m tcp -p tcp -d 192.168.1.99 --dport 80 -j REJECT",
        f"-A KUBE-EXTERNAL-SERVICES {c} -m tcp -p tcp -d 203.0.113.5 --dport 80 -j REJECT",
        f"-A KUBE-EXTERNAL-SERVICES {c} -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT",
    ]
    # No nat chains at all for the service, and no firewall chain without endpoints.
    assert "KUBE-SVC-" not in out and "KUBE-EXT-" not in out and "KUBE-FW-" not in out
    assert "-A KUBE-PROXY-FIREWALL" not in out


def lb_scenario(node_ip_in_range=False) -> Scenario:
    ranges = ["203.0.113.0/25"] + (["192.168.1.0/24"] if node_ip_in_range else [])
    return Scenario(
        name="lb", cluster=Cluster(nodes=NODES, systemServices=False),
        pods=[_pod("web-1", "node-b", "10.244.2.5", ns="ns5", ports=[ContainerPort(containerPort=8080)])],
        services=[Service(name="svc5", namespace="ns5", type="LoadBalancer", clusterIP="10.96.0.45",
                          selector={"app": "web"}, loadBalancerIP="203.0.113.5",
                          loadBalancerSourceRanges=ranges,
                          ports=[ServicePort(name="p80", port=80, targetPort=8080, nodePort=30080)])])


def test_loadbalancer_source_ranges():
    out = kube_proxy_restore(lb_scenario(), "node-a")
    fw = service_chain_name("FW", "ns5/svc5:p80", "tcp")
    ext = service_chain_name("EXT", "ns5/svc5:p80", "tcp")
    assert fw == "KUBE-FW-NUKIZ6OKUXPJNT4C"
    assert f'-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 203.0.113.5 --dport 80 -j {fw}' in out
    assert _lines(out, f"-A {fw} ") == [
        f'-A {fw} -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j {ext}',
        f'-A {fw} -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
    ]
    assert _lines(out, "-A KUBE-PROXY-FIREWALL ") == [
        f'-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by {fw}" -m tcp -p tcp -d 203.0.113.5 --dport 80 -j DROP',
    ]
    # NodePorts bypass the source ranges.
    assert f"-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 30080 -j {ext}" in out
    # When the node's own IP is in a range, the LB IP itself is allowed as a source.
    out2 = kube_proxy_restore(lb_scenario(node_ip_in_range=True), "node-a")
    assert _lines(out2, f"-A {fw} ") == [
        f'-A {fw} -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j {ext}',
        f'-A {fw} -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 192.168.1.0/24 -j {ext}',
        f'-A {fw} -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.5 -j {ext}',
        f'-A {fw} -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
    ]


def test_internal_traffic_policy_local():
    sc = clusterip_scenario()
    svc = sc.services[0].model_copy(update={"internalTrafficPolicy": "Local"})
    sc = sc.model_copy(update={"services": [svc]})
    svl = service_chain_name("SVL", "ns1/svc1:p80", "tcp")
    a = kube_proxy_restore(sc, "node-a")
    assert f'-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j {svl}' in a
    assert "KUBE-SVC-" not in a
    assert [ln.split(" -j ")[-1] for ln in _lines(a, f"-A {svl} ")][1:] == [
        "KUBE-SEP-4DLQR6XP64U3IHTN", "KUBE-SEP-DTJWGOTMDVX5HUTF"]
    b = kube_proxy_restore(sc, "node-b")
    assert "KUBE-SEP-FTQDUIX2Y5S6ID6R" in b and "10.244.1.5" not in b
    # A node with no local endpoint drops cluster IP traffic in filter.
    sc3 = sc.model_copy(update={"pods": sc.pods[:2]})
    b3 = kube_proxy_restore(sc3, "node-b")
    assert _lines(b3, "-A KUBE-SERVICES ")[0] == (
        '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j DROP')


def test_udp_and_external_ips_cluster_policy():
    sc = Scenario(
        name="dns", cluster=Cluster(nodes=NODES, systemServices=False),
        pods=[_pod("dns-1", "node-a", "10.244.1.53", ns="kube-system", labels={"k8s-app": "dns"},
                   ports=[ContainerPort(name="dns", containerPort=53, protocol="UDP"),
                          ContainerPort(name="dns-tcp", containerPort=53)])],
        services=[Service(name="kube-dns", namespace="kube-system", clusterIP="10.96.0.10",
                          selector={"k8s-app": "dns"}, externalIPs=["192.168.1.53"],
                          ports=[ServicePort(name="dns", port=53, protocol="UDP", targetPort="dns"),
                                 ServicePort(name="dns-tcp", port=53, targetPort="dns-tcp")])])
    out = kube_proxy_restore(sc, "node-b")
    udp_svc = service_chain_name("SVC", "kube-system/kube-dns:dns", "udp")
    udp_ext = service_chain_name("EXT", "kube-system/kube-dns:dns", "udp")
    sep = endpoint_chain_name("kube-system/kube-dns:dns", "udp", "10.244.1.53:53")
    assert f'-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j {udp_svc}' in out
    assert f'-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns external IP" -m udp -p udp -d 192.168.1.53 --dport 53 -j {udp_ext}' in out
    assert _lines(out, f"-A {udp_ext} ") == [
        f'-A {udp_ext} -m comment --comment "masquerade traffic for kube-system/kube-dns:dns external destinations" -j KUBE-MARK-MASQ',
        f"-A {udp_ext} -j {udp_svc}",
    ]
    assert f"-A {sep} -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.244.1.53:53" in out
    # dns-tcp sorts after dns: the TCP port's rules come second.
    assert out.index('"kube-system/kube-dns:dns cluster IP"') < out.index('"kube-system/kube-dns:dns-tcp cluster IP"')


def test_health_check_node_port_and_options():
    sc = lb_scenario()
    svc = sc.services[0].model_copy(update={"externalTrafficPolicy": "Local", "healthCheckNodePort": 32000})
    sc = sc.model_copy(update={"services": [svc]})
    out = kube_proxy_restore(sc, "node-a")
    assert ('-A KUBE-NODEPORTS -m comment --comment "ns5/svc5:p80 health check node port" '
            "-m tcp -p tcp --dport 32000 -j ACCEPT") in out
    assert '"ns5/svc5:p80 has no local endpoints" -m tcp -p tcp -d 203.0.113.5 --dport 80 -j DROP' in out
    cfg = ProxyConfig(nfacct=False, localhost_nodeports=False, random_fully=False, masquerade_all=True)
    out = kube_proxy_restore(sc, "node-b", cfg)
    assert "nfacct" not in out and "KUBE-FIREWALL" not in out and "--random-fully" not in out
    assert "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP" in out
    assert out.count("-d 127.0.0.0/8") == 1  # only the "! -d 127.0.0.0/8" on the KUBE-NODEPORTS jump
    assert "-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS" in out
    assert '--dport 80 -j KUBE-MARK-MASQ' in out  # masquerade-all: no "! -s <cidr>"
    full = generate_restore(sc, "node-b", cfg)
    assert ":KUBE-FIREWALL - [0:0]" in full  # still ensured, since INPUT/OUTPUT jump to it


def test_builtin_jump_rules_prepend_order():
    j = builtin_jump_rules()
    assert [r.split(" -j ")[-1] for r in j["filter"]["INPUT"]] == [
        "KUBE-FIREWALL", "KUBE-PROXY-FIREWALL", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES"]
    assert [r.split(" -j ")[-1] for r in j["filter"]["FORWARD"]] == [
        "KUBE-PROXY-FIREWALL", "KUBE-FORWARD", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"]
    assert j["nat"]["PREROUTING"] == ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES']
    assert j["nat"]["POSTROUTING"] == ['-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING']
    assert j["nat"]["INPUT"] == []


def test_unknown_node():
    with pytest.raises(ValueError, match="no node named"):
        generate_restore(clusterip_scenario(), "node-z")


# ------------------------------------------- upstream's TestOverallIPTablesRules

def upstream_overall_scenario() -> Scenario:
    """The services and endpoints of upstream's TestOverallIPTablesRules (proxier_test.go).

    Built with ``model_construct`` (no validation): upstream uses NodePorts 3001-3003, the
    same pod IP in two namespaces and a healthCheckNodePort on an ETP Cluster Service
    (which kube-proxy ignores), all of which our scenario schema rightly refuses."""
    def pod(name, ns, ip, node="node2", app=None):
        return Pod(name=name, namespace=ns, node=node, ip=ip, labels={"app": app or name})

    def svc(ns, name, ports, **kw):
        kw.setdefault("type", "ClusterIP")
        return Service.model_construct(namespace=ns, name=name, selector={"app": f"{ns}-ep"},
                                       ports=ports, **kw)

    def port(node_port=None, target=None):
        return ServicePort.model_construct(name="p80", port=80, targetPort=target, nodePort=node_port)

    return Scenario.model_construct(
        name="upstream-overall",
        cluster=Cluster(clusterCIDR="10.0.0.0/8", serviceCIDR="172.30.0.0/16", nodeNetwork="192.168.0.0/24",
                        systemServices=False,
                        nodes=[Node(name="test-node", ip="192.168.0.2", podCIDR="10.180.0.0/24"),
                               Node(name="node2", ip="192.168.0.3", podCIDR="10.180.1.0/24")]),
        pods=[
            pod("ns1-ep", "ns1", "10.180.0.1"),
            pod("ns2-ep", "ns2", "10.180.0.2"),
            pod("ns3-ep", "ns3", "10.180.0.3"),
            pod("ns4-ep", "ns4", "10.180.0.4"),
            pod("ns4-ep2", "ns4", "10.180.0.5", node="test-node", app="ns4-ep"),
            pod("ns5-ep", "ns5", "10.180.0.3"),
        ],
        services=[
            svc("ns1", "svc1", [port()], clusterIP="172.30.0.41"),
            svc("ns2", "svc2", [port(3001)], type="LoadBalancer", externalTrafficPolicy="Local",
                clusterIP="172.30.0.42", loadBalancerIP="1.2.3.4", externalIPs=["192.168.99.22"],
                healthCheckNodePort=30000),
            svc("ns3", "svc3", [port(3003)], type="NodePort", clusterIP="172.30.0.43"),
            svc("ns4", "svc4", [port(target=80)], type="NodePort", clusterIP="172.30.0.44",
                externalIPs=["192.168.99.33"]),
            svc("ns5", "svc5", [port(3002)], type="LoadBalancer", clusterIP="172.30.0.45",
                loadBalancerIP="5.6.7.8", healthCheckNodePort=30000,
                loadBalancerSourceRanges=["203.0.113.0/25"],
                sessionAffinity="ClientIP", sessionAffinityTimeoutSeconds=10800),
            svc("ns6", "svc6", [port(target=80)], clusterIP="172.30.0.46"),
        ],
    )


def _comment_service(rule: str) -> str | None:
    m = re.search(r'--comment (?:"([^"]*)"|(\S+))', rule)
    if not m:
        return None
    value = m.group(1) if m.group(1) is not None else m.group(2)
    return re.split(r"[ :]", value, maxsplit=1)[0]


def sort_like_upstream(text: str) -> str:
    """A port of upstream's test helper sortIPTablesRules (canonical order for comparing)."""
    import functools

    tables: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
    cur = None
    for line in text.splitlines():
        if line.startswith("*"):
            cur = line[1:]
            tables[cur] = ([], {})
        elif line.startswith(":"):
            chain = line[1:].split(" ", 1)[0]
            tables[cur][0].append(chain)
            tables[cur][1].setdefault(chain, [])
        elif line.startswith("-A "):
            tables[cur][1][line.split(" ", 2)[1]].append(line)

    def chain_key(c: str):
        if c == "KUBE-NODEPORTS":
            return (0, c)
        if c == "KUBE-SERVICES":
            return (1, c)
        return (2 if c.startswith("KUBE-") else 3, c)

    def by_service(a: str, b: str) -> int:
        na, nb = _comment_service(a), _comment_service(b)
        if na is None or nb is None:
            return 0
        return -1 if na < nb else (1 if nb < na else 0)

    def nat_services(a: str, b: str) -> int:
        last = "must be the last rule"
        if last in a:
            return 1
        if last in b:
            return -1
        return by_service(a, b)

    out = []
    for tname in sorted(tables):
        order, rules = tables[tname]
        chains = sorted(order, key=chain_key)
        for c in ("KUBE-NODEPORTS", "KUBE-SERVICES"):
            if c in rules:
                cmp = nat_services if (tname, c) == ("nat", "KUBE-SERVICES") else by_service
                rules[c] = sorted(rules[c], key=functools.cmp_to_key(cmp))
        out.append(f"*{tname}")
        out += [f":{c} - [0:0]" for c in chains]
        for c in chains:
            out += rules[c]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


# Expected output of upstream's TestOverallIPTablesRules (k8s proxier_test.go, 1.3x), as
# that test compares it: after sortIPTablesRules, with its fake proxier's "0x4000" mark
# and an iptables without --random-fully.
UPSTREAM_OVERALL_EXPECTED = textwrap.dedent("""\
    *filter
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FIREWALL - [0:0]
    :KUBE-FORWARD - [0:0]
    :KUBE-PROXY-FIREWALL - [0:0]
    -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
    -A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
    -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
    COMMIT
    *nat
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SERVICES - [0:0]
    :KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
    :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
    :KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
    :KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
    :KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
    :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
    :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
    :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
    :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
    :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
    :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
    :KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
    :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
    -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X27LE4BHSL4DOUIK
    -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
    -A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3002 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
    -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
    -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
    -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
    -A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
    -A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
    -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
    -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
    -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
    -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
    -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
    -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
    -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
    -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
    -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
    -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
    -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
    -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
    -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
    -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
    -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
    -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
    COMMIT
    """)


def test_matches_upstream_overall_rules():
    sc = upstream_overall_scenario()
    out = kube_proxy_restore(sc, "test-node", ProxyConfig(random_fully=False))
    out = out.replace("0x00004000", "0x4000")  # upstream's fake proxier hard-codes "0x4000"
    assert sort_like_upstream(out) == UPSTREAM_OVERALL_EXPECTED


# ------------------------------------------------------------------ real kernel

def _kernel_scenarios():
    yield "clusterip", clusterip_scenario()
    yield "np-local", nodeport_local_scenario()
    yield "lb", lb_scenario(node_ip_in_range=True)
    yield "upstream", upstream_overall_scenario()
    sc = clusterip_scenario()
    svc = sc.services[0].model_copy(update={"sessionAffinity": "ClientIP", "internalTrafficPolicy": "Local"})
    yield "affinity-itp", sc.model_copy(update={"services": [svc]})


def _kernel_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (ip netns + iptables-restore)"
    for tool in ("ip", "iptables-restore", "iptables-save"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    return None


@pytest.mark.kernel
@pytest.mark.parametrize("config", [ProxyConfig(), ProxyConfig(nfacct=False, localhost_nodeports=False)],
                         ids=["defaults", "no-nfacct"])
def test_kernel_accepts_generated_rules(config):
    if _kernel_skip_reason():  # conftest's marker hook normally skips first
        pytest.skip(_kernel_skip_reason())
    ns = f"kt-kp-{secrets.token_hex(4)}"
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:  # e.g. in a container without netns rights
        pytest.skip(f"cannot create a network namespace: {e.stderr.strip()}")
    try:
        if config.nfacct:
            ensure_nfacct_counters(ns)
        for label, sc in _kernel_scenarios():
            for node in sc.cluster.nodes:
                text = generate_restore(sc, node.name, config)
                r = subprocess.run(["ip", "netns", "exec", ns, "iptables-restore"],
                                   input=text, capture_output=True, text=True)
                assert r.returncode == 0, f"{label}/{node.name}: {r.stderr}\n{text}"
                saved = subprocess.run(["ip", "netns", "exec", ns, "iptables-save"],
                                       capture_output=True, text=True, check=True).stdout
                # Same number of rules per chain in what the kernel holds.
                for table in ("filter", "nat"):
                    assert _rule_counts(saved, table) == _rule_counts(text, table), f"{label}/{node.name}/{table}"
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _rule_counts(text: str, table: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    cur = None
    for line in text.splitlines():
        if line.startswith("*"):
            cur = line[1:]
        elif cur == table and line.startswith(":"):
            counts.setdefault(line[1:].split(" ", 1)[0], 0)
        elif cur == table and line.startswith("-A "):
            chain = line.split(" ", 2)[1]
            counts[chain] = counts.get(chain, 0) + 1
    return counts


def test_selector_matching_no_pod_gets_the_placeholder_slice():
    """The EndpointSlice reconciler adds one placeholder slice (no ports, no endpoints) for
    a Service whose selector matches nothing; kube-proxy sees no endpoints from it."""
    from kubeflow_tui.kubeproxy import endpoint_slices, service_port_endpoints
    from kubeflow_tui.scenario import load_scenario

    sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "no-endpoints.yaml")
    slices = endpoint_slices(sc)["default/web"]
    assert len(slices) == 1
    assert slices[0].name.startswith("web-") and slices[0].ports == () and slices[0].endpoints == ()
    assert service_port_endpoints(sc) == {}
