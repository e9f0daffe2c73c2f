"""kube-proxy's nftables mode: names, the transaction, the kernel's state after it, and
``nft list ruleset`` as nftables 1.0.6 prints it.

The expected rulesets of upstream's ``pkg/proxy/nftables/proxier_test.go``
(``TestOverallNFTablesRules`` and the first states of ``TestSyncProxyRulesRepeated``,
each ``baseRules`` + the test's own lines) are compared the way upstream compares them
(``sortNFTablesTransaction``: by object type, then object name, rules of a chain in
their order), with upstream's fake proxier settings: pod CIDR 10.0.0.0/8, ServiceCIDR
172.30.0.0/16, node 192.168.0.2 as the only NodePort address, mark ``0x4000``.
"""

from __future__ import annotations

import textwrap

import pytest

from kubeflow_tui.kubeproxy import generate_nft, nft_endpoint_chain, nft_service_chain, nft_transaction
from kubeflow_tui.kubeproxy.nftables import NftProxyConfig, hash_and_truncate, nft_list_ruleset, nft_rules_text
from kubeflow_tui.netfilter import NftError, Transaction, render_nft_ruleset, table_as_transaction
from kubeflow_tui.netfilter.nft_list import expr_text, priority_text, time_text
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.scenario.models import Cluster, Node, Pod, Scenario, Service, ServicePort

from test_kubeproxy import upstream_overall_scenario

UPSTREAM_CFG = NftProxyConfig(cluster_cidr="10.0.0.0/8", service_cidrs=("172.30.0.0/16",), mark="0x4000")

# --------------------------------------------------------------------------- names


def test_known_chain_names():
    assert nft_service_chain("service-", "ns1", "svc1", "p80", "tcp") == "service-ULMVA6XW-ns1/svc1/tcp/p80"
    assert nft_endpoint_chain("ns1", "svc1", "p80", "TCP", "10.180.0.1:80") == \
        "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
    # more values from upstream's proxier_test.go
    assert nft_service_chain("external-", "ns2", "svc2", "p80", "tcp") == "external-42NFTM6N-ns2/svc2/tcp/p80"
    assert nft_service_chain("firewall-", "ns5", "svc5", "p80", "tcp") == "firewall-HVFWP5L3-ns5/svc5/tcp/p80"
    assert nft_endpoint_chain("ns5", "svc5", "p80", "tcp", "10.180.0.3:80", prefix="affinity-") == \
        "affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"
    assert nft_endpoint_chain("ns4", "svc4", "p80", "tcp", "10.180.0.5:80") == \
        "endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80"
    long = hash_and_truncate("x" * 300)
    assert len(long) == 240 and long.endswith("...")


# ------------------------------------------------------------- upstream's rulesets

BASE_RULES = """\
add table ip kube-proxy { comment "rules for kube-proxy" ; }

add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }

add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }

add chain ip kube-proxy cluster-ips-check
add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }
add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }
add chain ip kube-proxy firewall-check
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add chain ip kube-proxy services
add chain ip kube-proxy service-endpoints-check

add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule ip kube-proxy cluster-ips-check ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"
add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-output ct state new jump cluster-ips-check
add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip kube-proxy masquerading mark set mark xor 0x4000
add rule ip kube-proxy masquerading masquerade fully-random
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy reject-chain reject
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports

add element ip kube-proxy nodeport-ips { 192.168.0.2 }
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
"""

OVERALL = """\
# svc1
add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }

add chain ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80
add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 ip saddr 10.180.0.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 meta l4proto tcp dnat to 10.180.0.1:80

add element ip kube-proxy cluster-ips { 172.30.0.41 }
add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }

# svc2
add chain ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80
add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 }
add chain ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80
add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 ip saddr 10.0.0.0/8 goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit pod traffic"
add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"
add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit local traffic"
add chain ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80
add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 ip saddr 10.180.0.2 jump mark-for-masquerade
add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 meta l4proto tcp dnat to 10.180.0.2:80

add element ip kube-proxy cluster-ips { 172.30.0.42 }
add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 80 : goto service-42NFTM6N-ns2/svc2/tcp/p80 }
add element ip kube-proxy service-ips { 192.168.99.22 . tcp . 80 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }
add element ip kube-proxy service-ips { 1.2.3.4 . tcp . 80 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }
add element ip kube-proxy service-nodeports { tcp . 3001 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }

add element ip kube-proxy no-endpoint-nodeports { tcp . 3001 comment "ns2/svc2:p80" : drop }
add element ip kube-proxy no-endpoint-services { 1.2.3.4 . tcp . 80 comment "ns2/svc2:p80" : drop }
add element ip kube-proxy no-endpoint-services { 192.168.99.22 . tcp . 80 comment "ns2/svc2:p80" : drop }

# svc3
add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 }
add chain ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 jump mark-for-masquerade
add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 goto service-4AT6LBPK-ns3/svc3/tcp/p80
add chain ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80
add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade
add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80

add element ip kube-proxy cluster-ips { 172.30.0.43 }
add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }
add element ip kube-proxy service-nodeports { tcp . 3003 : goto external-4AT6LBPK-ns3/svc3/tcp/p80 }

# svc4
add chain ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }
add chain ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80
add rule ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80 jump mark-for-masquerade
add rule ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80 goto service-LAUZTJTB-ns4/svc4/tcp/p80
add chain ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80
add rule ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 ip saddr 10.180.0.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 meta l4proto tcp dnat to 10.180.0.5:80
add chain ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80
add rule ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 ip saddr 10.180.0.4 jump mark-for-masquerade
add rule ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 meta l4proto tcp dnat to 10.180.0.4:80

add element ip kube-proxy cluster-ips { 172.30.0.44 }
add element ip kube-proxy service-ips { 172.30.0.44 . tcp . 80 : goto service-LAUZTJTB-ns4/svc4/tcp/p80 }
add element ip kube-proxy service-ips { 192.168.99.33 . tcp . 80 : goto external-LAUZTJTB-ns4/svc4/tcp/p80 }

# svc5
add set ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
add chain ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80
add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip daddr 172.30.0.45 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80
add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 }
add chain ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80
add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 jump mark-for-masquerade
add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 goto service-HVFWP5L3-ns5/svc5/tcp/p80

add chain ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80
add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade
add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }
add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80

add chain ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80
add rule ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr != { 203.0.113.0/25 } drop

add element ip kube-proxy cluster-ips { 172.30.0.45 }
add element ip kube-proxy service-ips { 172.30.0.45 . tcp . 80 : goto service-HVFWP5L3-ns5/svc5/tcp/p80 }
add element ip kube-proxy service-ips { 5.6.7.8 . tcp . 80 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }
add element ip kube-proxy service-nodeports { tcp . 3002 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }
add element ip kube-proxy firewall-ips { 5.6.7.8 . tcp . 80 : goto firewall-HVFWP5L3-ns5/svc5/tcp/p80 }

# svc6
add element ip kube-proxy cluster-ips { 172.30.0.46 }
add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }
"""

_ORDER = {"table": 0, "chain": 1, "set": 2, "map": 3, "rule": 4, "element": 5}


def sort_like_upstream(text: str) -> list[str]:
    """Upstream's ``sortNFTablesTransaction``: blank and ``#`` lines dropped; by object
    type, then object name; rules of one chain keep their order, the rest by line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]

    def key(item):
        i, ln = item
        w = ln.split()
        return (_ORDER[w[1]], w[4] if len(w) > 4 else "", i if w[1] == "rule" else 0, ln)

    return [ln for _i, ln in sorted(enumerate(lines), key=key)]


def _dump(scenario: Scenario, node: str) -> str:
    return table_as_transaction(nft_transaction(scenario, node, UPSTREAM_CFG).apply()).text()


def test_matches_upstream_overall_nftables_rules():
    got = sort_like_upstream(_dump(upstream_overall_scenario(), "test-node"))
    want = sort_like_upstream(BASE_RULES + OVERALL)
    assert got == want


def _repeated_scenario(with_svc2: bool, svc4: str | None) -> Scenario:
    """The services of upstream's TestSyncProxyRulesRepeated at one of its states."""
    def pod(name, ns, ip, port):
        return Pod.model_construct(name=name, namespace=ns, node="node2", ip=ip, labels={"app": name},
                                   ports=[], ready=True, terminating=False, deployment=None)

    def svc(ns, name, ip, port, selector):
        return Service.model_construct(namespace=ns, name=name, type="ClusterIP", clusterIP=ip,
                                       selector={"app": selector},
                                       ports=[ServicePort.model_construct(name=f"p{port}", port=port,
                                                                          targetPort=None, nodePort=None,
                                                                          protocol="TCP")])

    pods = [pod("ep1", "ns1", "10.0.1.1", 80), pod("ep3", "ns3", "10.0.3.1", 80)]
    services = [svc("ns1", "svc1", "172.30.0.41", 80, "ep1"), svc("ns3", "svc3", "172.30.0.43", 80, "ep3")]
    if with_svc2:
        pods.append(pod("ep2", "ns2", "10.0.2.1", 8080))
        services.append(svc("ns2", "svc2", "172.30.0.42", 8080, "ep2"))
    if svc4 is not None:
        services.append(svc("ns4", "svc4", "172.30.0.44", 80, "ep4"))
        if svc4 == "endpoints":
            pods.append(pod("ep4", "ns4", "10.0.4.1", 80))
    sc = upstream_overall_scenario()
    return Scenario.model_construct(name="repeated", cluster=sc.cluster, pods=pods, services=services,
                                    clients=[], loadBalancer=None, flows=[], timeline=[])


SVC1 = """\
add element ip kube-proxy cluster-ips { 172.30.0.41 }
add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 }
add chain ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 ip saddr 10.0.1.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 meta l4proto tcp dnat to 10.0.1.1:80
"""
SVC2 = """\
add element ip kube-proxy cluster-ips { 172.30.0.42 }
add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 8080 : goto service-MHHHYRWA-ns2/svc2/tcp/p8080 }
add chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080
add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 numgen random mod 1 vmap { 0 : goto endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 }
add chain ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080
add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 ip saddr 10.0.2.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 meta l4proto tcp dnat to 10.0.2.1:8080
"""
SVC3 = """\
add element ip kube-proxy cluster-ips { 172.30.0.43 }
add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }
add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 }
add chain ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 ip saddr 10.0.3.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 meta l4proto tcp dnat to 10.0.3.1:80
"""
SVC4_NO_ENDPOINTS = """\
add element ip kube-proxy cluster-ips { 172.30.0.44 }
add element ip kube-proxy no-endpoint-services { 172.30.0.44 . tcp . 80 comment "ns4/svc4:p80" : goto reject-chain }
"""
SVC4 = """\
add element ip kube-proxy cluster-ips { 172.30.0.44 }
add element ip kube-proxy service-ips { 172.30.0.44 . tcp . 80 : goto service-LAUZTJTB-ns4/svc4/tcp/p80 }
add chain ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80 }
add chain ip kube-proxy endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80
add rule ip kube-proxy endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80 ip saddr 10.0.4.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80 meta l4proto tcp dnat to 10.0.4.1:80
"""


@pytest.mark.parametrize("with_svc2, svc4, expected", [
    (True, None, SVC1 + SVC2 + SVC3),
    (False, "no-endpoints", SVC1 + SVC3 + SVC4_NO_ENDPOINTS),
    (False, "endpoints", SVC1 + SVC3 + SVC4),
], ids=["three-services", "svc4-without-endpoints", "svc4-with-endpoints"])
def test_matches_upstream_sync_proxy_rules_repeated_states(with_svc2, svc4, expected):
    """The states of TestSyncProxyRulesRepeated that a full sync reaches (upstream gets
    there by partial syncs; the stale, flushed chains of its other states are not a full
    sync's)."""
    got = sort_like_upstream(_dump(_repeated_scenario(with_svc2, svc4), "test-node"))
    assert got == sort_like_upstream(BASE_RULES + expected)


def test_a_wrong_rule_is_noticed_by_the_upstream_comparison():
    text = BASE_RULES + OVERALL
    assert sort_like_upstream(_dump(upstream_overall_scenario(), "test-node")) != \
        sort_like_upstream(text.replace("numgen random mod 2", "numgen random mod 3"))


# ------------------------------------------------------------------ the transaction


def test_transaction_starts_like_kube_proxys_first_sync():
    sc = load_scenario("scenarios/clusterip.yaml")
    lines = generate_nft(sc, "node-a").splitlines()
    assert lines[0] == 'add table ip kube-proxy { comment "rules for kube-proxy" ; }'
    # first sync: every base chain added and deleted, then created with its hook
    assert lines[1:3] == ["add chain ip kube-proxy filter-prerouting-pre-dnat",
                          "delete chain ip kube-proxy filter-prerouting-pre-dnat"]
    assert "add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }" in lines
    # kube-proxy's real mark text is Go's %#08x
    assert "add rule ip kube-proxy mark-for-masquerade mark set mark or 0x00004000" in lines
    assert "add rule ip kube-proxy cluster-ips-check ip daddr { 10.96.0.0/12 } drop " \
           'comment "Drop traffic to unallocated ClusterIPs"' in lines
    assert "add element ip kube-proxy nodeport-ips { 192.168.1.10 }" in lines  # primary: the node IP


def test_transaction_apply_follows_the_kernel():
    tx = Transaction("ip", "t")
    tx.add_table()
    tx.add_chain("a")
    tx.add_rule("a", "accept")
    tx.flush_chain("a")
    tx.add_set("s", "ipv4_addr")
    tx.add_element("s", ("10.0.0.1",))
    tx.add_element("s", ("10.0.0.1",))  # adding an existing element is no error
    t = tx.apply()
    assert t.chains["a"].rules == [] and list(t.sets["s"].elements) == [("10.0.0.1",)]
    bad = Transaction("ip", "t")
    bad.add_table()
    bad.add_rule("missing", "accept")
    with pytest.raises(NftError, match="no chain 'missing'"):
        bad.apply()


# ------------------------------------------------------------------- nft list form


def test_priority_names_as_nft_prints_them():
    assert priority_text("prerouting", -110) == "dstnat - 10"
    assert priority_text("output", -110) == "-110"  # dstnat is not a name at output
    assert priority_text("output", -100) == "-100"
    assert priority_text("input", 0) == "filter"
    assert priority_text("input", 10) == "filter + 10"
    assert priority_text("input", 11) == "11"
    assert priority_text("postrouting", 100) == "srcnat"
    assert priority_text("input", 100) == "100"
    assert priority_text("prerouting", -140) == "mangle + 10"
    assert priority_text("forward", -300) == "raw"


def test_times_and_expressions_as_nft_prints_them():
    assert [time_text(s) for s in (10800, 10, 90, 86400, 0)] == ["3h", "10s", "1m30s", "1d", "0s"]
    assert expr_text("mark and 0x4000 == 0 return") == "meta mark & 0x00004000 == 0x00000000 return"
    assert expr_text("mark set mark or 0x00004000") == "meta mark set meta mark | 0x00004000"
    assert expr_text("mark set mark xor 0x4000") == "meta mark set meta mark ^ 0x00004000"
    assert expr_text("ip daddr { 10.96.0.0/12 } drop") == "ip daddr 10.96.0.0/12 drop"
    assert expr_text("ip saddr != { 203.0.113.0/25 , 192.168.0.0/24 , 1.2.3.4 } drop") == \
        "ip saddr != { 1.2.3.4, 192.168.0.0/24, 203.0.113.0/25 } drop"
    assert expr_text("numgen random mod 2 vmap { 0 : goto a , 1 : goto b }") == \
        "numgen random mod 2 vmap { 0 : goto a, 1 : goto b }"
    assert expr_text("update @aff { ip saddr }") == "update @aff { ip saddr }"


def test_list_ruleset_layout():
    tx = Transaction("ip", "t")
    tx.add_table()
    tx.add_set("s", "ipv4_addr")
    for ip in ("10.0.0.3", "10.0.0.1", "9.0.0.1", "10.0.0.2", "1.1.1.1"):
        tx.add_element("s", (ip,))
    tx.add_set("m", "ipv4_addr . inet_proto . inet_service : verdict", is_map=True)
    tx.add_chain("x")
    tx.add_element("m", ("10.0.0.3", "udp", "53"), ("goto x",))
    tx.add_element("m", ("10.0.0.3", "tcp", "53"), ("goto x",))
    tx.add_element("m", ("10.0.0.1", "tcp", "80"), ("drop",), comment="hey")
    tx.add_set("aff", "ipv4_addr", flags=("dynamic", "timeout"), timeout=10800)
    tx.add_rule("x", "update @aff { ip saddr }")
    tx.add_chain("b", type="filter", hook="input", priority=10)
    # what nft 1.0.6 printed for this transaction in a network namespace
    assert render_nft_ruleset([tx.apply()]) == textwrap.dedent("""\
        table ip t {
        \tset s {
        \t\ttype ipv4_addr
        \t\telements = { 1.1.1.1, 9.0.0.1,
        \t\t\t     10.0.0.1, 10.0.0.2,
        \t\t\t     10.0.0.3 }
        \t}

        \tmap m {
        \t\ttype ipv4_addr . inet_proto . inet_service : verdict
        \t\telements = { 10.0.0.3 . tcp . 53 : goto x,
        \t\t\t     10.0.0.3 . udp . 53 : goto x,
        \t\t\t     10.0.0.1 . tcp . 80 comment "hey" : drop }
        \t}

        \tset aff {
        \t\ttype ipv4_addr
        \t\tsize 65535
        \t\tflags dynamic,timeout
        \t\ttimeout 3h
        \t}

        \tchain x {
        \t\tupdate @aff { ip saddr }
        \t}

        \tchain b {
        \t\ttype filter hook input priority filter + 10; policy accept;
        \t}
        }
        """)


def test_list_ruleset_of_a_scenario():
    sc = load_scenario("scenarios/affinity.yaml")
    text = nft_list_ruleset(sc, sc.cluster.nodes[0].name)
    assert text.startswith('table ip kube-proxy {\n\tcomment "rules for kube-proxy"\n\tset cluster-ips {\n')
    assert "\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n" in text
    assert "\t\ttype nat hook output priority -100; policy accept;\n" in text
    assert "\t\tmeta mark & 0x00004000 == 0x00000000 return\n" in text
    assert "\t\tsize 65535\n\t\tflags dynamic,timeout\n" in text
    assert nft_rules_text(sc, sc.cluster.nodes[0].name, "save") == text
    with pytest.raises(ValueError, match="--format list is not available in nftables mode"):
        nft_rules_text(sc, sc.cluster.nodes[0].name, "list")


def test_proxy_mode_in_the_scenario():
    assert Cluster(nodes=[Node(name="n", ip="192.168.1.10", podCIDR="10.244.1.0/24")]).proxyMode == "iptables"
    c = Cluster(nodes=[Node(name="n", ip="192.168.1.10", podCIDR="10.244.1.0/24")], proxyMode="nftables")
    assert c.proxyMode == "nftables"
    with pytest.raises(Exception, match="proxyMode"):
        Cluster(nodes=[Node(name="n", ip="192.168.1.10", podCIDR="10.244.1.0/24")], proxyMode="ipvs")


# ------------------------------------------------------------------------------ CLI

CLI_SCENARIO = textwrap.dedent("""\
    name: cli-nft
    cluster:
      systemServices: false  # web keeps 10.96.0.1
      proxyMode: nftables
      nodes:
        - {name: node-a, ip: 192.168.1.10, podCIDR: 10.244.1.0/24}
    pods:
      - {name: web-1, node: node-a, ip: 10.244.1.5, labels: {app: web}}
    services:
      - name: web
        clusterIP: 10.96.0.1
        selector: {app: web}
        ports: [{port: 8080}]
    """)


def test_cli_rules_proxy_mode(capsys, tmp_path):
    from kubeflow_tui import cli

    path = tmp_path / "nft.yaml"
    path.write_text(CLI_SCENARIO)
    sc = load_scenario(path)
    # the scenario says nftables: save is nft list ruleset, restore kube-proxy's nft -f input
    assert cli.main(["rules", str(path)]) == 0
    assert capsys.readouterr().out == nft_list_ruleset(sc, "node-a")
    assert cli.main(["rules", str(path), "--format", "restore"]) == 0
    assert capsys.readouterr().out == generate_nft(sc, "node-a")
    # --proxy-mode overrides the scenario
    assert cli.main(["rules", str(path), "--proxy-mode", "iptables"]) == 0
    assert "\n*filter\n" in capsys.readouterr().out  # iptables-save form
    assert cli.main(["rules", "clusterip", "--proxy-mode", "nftables"]) == 0
    assert capsys.readouterr().out.startswith("table ip kube-proxy {\n")
    assert cli.main(["rules", str(path), "--format", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--format list is not available in nftables mode" in err


def test_cli_trace_proxy_mode(capsys):
    from kubeflow_tui import cli

    assert cli.main(["trace", "clusterip", "pod-other-node", "--proxy-mode", "nftables", "-v"]) == 0
    out = capsys.readouterr().out
    assert "ip kube-proxy:services  #53  goto" in out
    assert "element '10.96.0.1 . tcp . 8080 : goto service-SUSTUHLJ-default/web/tcp/http' matches" in " ".join(out.split())
    assert "KUBE-SERVICES" not in out
    assert cli.main(["trace", "clusterip", "pod-other-node"]) == 0
    assert "KUBE-SERVICES" in capsys.readouterr().out
