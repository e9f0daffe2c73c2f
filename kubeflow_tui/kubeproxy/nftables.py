"""kube-proxy's nftables mode (``--proxy-mode nftables``, GA in Kubernetes 1.33) on one node.

Modelled on ``setupNFTables`` and ``syncProxyRules`` in ``pkg/proxy/nftables/proxier.go``
(the 1.33+ layout, whose ``proxier_test.go`` ``baseRules`` our tests reproduce): one table
``ip kube-proxy``; base chains ``filter-prerouting-pre-dnat`` / ``filter-output-pre-dnat``
(priority dstnat-10 = -110, before DNAT, for loadBalancerSourceRanges),
``filter-input`` / ``filter-forward`` / ``filter-output`` (filter = 0), ``nat-prerouting``
/ ``nat-output`` (dstnat = -100) and ``nat-postrouting`` (srcnat = 100); dispatch through
the verdict maps ``service-ips`` and ``service-nodeports``; ``no-endpoint-services`` /
``no-endpoint-nodeports`` for services without endpoints; ``firewall-ips`` for source
ranges; ``cluster-ips-check`` rejecting wrong ports of ClusterIPs and dropping unallocated
ClusterIPs; ``numgen random mod N vmap`` choosing the endpoint; per-endpoint affinity sets
(``flags dynamic,timeout``) for ClientIP session affinity.

kube-proxy's configuration here is a kubeadm/kind cluster's: ``--nodeport-addresses``
unset, which nftables mode reads as ``primary`` (the node's own IP: ``nodeport-ips`` holds
it); the ClusterCIDR local-traffic detector (``ip saddr != <clusterCIDR>``); the
ServiceCIDR of ``--service-cluster-ip-range``; masquerade bit 14.

``nft_transaction(scenario, node)`` is the transaction of kube-proxy's first (full) sync
on a fresh node, in the order kube-proxy adds the operations; kube-proxy walks its
service map in Go map order (random), we walk service ports sorted by name then protocol.
``generate_nft(scenario, node)`` is its text, what kube-proxy pipes to ``nft -f -``.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from dataclasses import dataclass

from kubeflow_tui.netfilter.nft import Transaction
from kubeflow_tui.scenario.models import Scenario

from .endpoints import Endpoint, ServicePortInfo, categorize_endpoints, service_port_endpoints, service_ports
from .generate import go_sharp_08x

TABLE = "kube-proxy"
FAMILY = "ip"

# base chains: (name, type, hook, priority) in upstream's order
FILTER_PREROUTING_PRE_DNAT = "filter-prerouting-pre-dnat"
FILTER_OUTPUT_PRE_DNAT = "filter-output-pre-dnat"
FILTER_INPUT = "filter-input"
FILTER_FORWARD = "filter-forward"
FILTER_OUTPUT = "filter-output"
NAT_PREROUTING = "nat-prerouting"
NAT_OUTPUT = "nat-output"
NAT_POSTROUTING = "nat-postrouting"

BASE_CHAINS: tuple[tuple[str, str, str, int], ...] = (
    (FILTER_PREROUTING_PRE_DNAT, "filter", "prerouting", -110),
    (FILTER_OUTPUT_PRE_DNAT, "filter", "output", -110),
    (FILTER_INPUT, "filter", "input", 0),
    (FILTER_FORWARD, "filter", "forward", 0),
    (FILTER_OUTPUT, "filter", "output", 0),
    (NAT_PREROUTING, "nat", "prerouting", -100),
    (NAT_OUTPUT, "nat", "output", -100),
    (NAT_POSTROUTING, "nat", "postrouting", 100),
)

SERVICES = "services"
SERVICE_IPS = "service-ips"
SERVICE_NODEPORTS = "service-nodeports"
NODEPORT_IPS = "nodeport-ips"
CLUSTER_IPS = "cluster-ips"
SERVICE_ENDPOINTS_CHECK = "service-endpoints-check"
NODEPORT_ENDPOINTS_CHECK = "nodeport-endpoints-check"
NO_ENDPOINT_SERVICES = "no-endpoint-services"
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"
REJECT_CHAIN = "reject-chain"
CLUSTER_IPS_CHECK = "cluster-ips-check"
FIREWALL_IPS = "firewall-ips"
FIREWALL_CHECK = "firewall-check"
MARK_MASQ = "mark-for-masquerade"
MASQUERADING = "masquerading"

# top-level chains jumped to from base chains: (destination, source, extra match)
JUMP_CHAINS: tuple[tuple[str, str, str], ...] = (
    (NODEPORT_ENDPOINTS_CHECK, FILTER_INPUT, "ct state new"),
    (SERVICE_ENDPOINTS_CHECK, FILTER_INPUT, "ct state new"),
    (SERVICE_ENDPOINTS_CHECK, FILTER_FORWARD, "ct state new"),
    (SERVICE_ENDPOINTS_CHECK, FILTER_OUTPUT, "ct state new"),
    (FIREWALL_CHECK, FILTER_PREROUTING_PRE_DNAT, "ct state new"),
    (FIREWALL_CHECK, FILTER_OUTPUT_PRE_DNAT, "ct state new"),
    (SERVICES, NAT_OUTPUT, ""),
    (SERVICES, NAT_PREROUTING, ""),
    (MASQUERADING, NAT_POSTROUTING, ""),
    (CLUSTER_IPS_CHECK, FILTER_FORWARD, "ct state new"),
    (CLUSTER_IPS_CHECK, FILTER_OUTPUT, "ct state new"),
)

SERVICE_PREFIX = "service-"
LOCAL_PREFIX = "local-"
EXTERNAL_PREFIX = "external-"
ENDPOINT_PREFIX = "endpoint-"
AFFINITY_PREFIX = "affinity-"
FIREWALL_PREFIX = "firewall-"

NAME_LENGTH_MAX = 256  # knftables.NameLengthMax
_BASE_LENGTH_MAX = NAME_LENGTH_MAX - 16


def hash_and_truncate(name: str) -> str:
    """``hashAndTruncate``: the first 8 characters of base32(sha256(name)), ``-``, name."""
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    out = digest[:8] + "-" + name
    if len(out) > _BASE_LENGTH_MAX:
        out = out[: _BASE_LENGTH_MAX - 3] + "..."
    return out


def service_chain_base(namespace: str, service: str, port_name: str, protocol: str) -> str:
    """``ULMVA6XW-ns1/svc1/tcp/p80`` for ns1/svc1 port p80 TCP."""
    return hash_and_truncate(f"{namespace}/{service}/{protocol.lower()}/{port_name}")


def endpoint_chain_base(namespace: str, service: str, port_name: str, protocol: str, endpoint: str) -> str:
    """``5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80`` for that port's endpoint 10.180.0.1:80."""
    ip, _, port = endpoint.rpartition(":")
    ip = ip.strip("[]").replace(":", ".")
    return hash_and_truncate(f"{namespace}/{service}/{protocol.lower()}/{port_name}__{ip}/{port}")


def nft_service_chain(prefix: str, namespace: str, service: str, port_name: str, protocol: str) -> str:
    """``nft_service_chain("service-", "ns1", "svc1", "p80", "tcp") ==
    "service-ULMVA6XW-ns1/svc1/tcp/p80"``; prefix one of service-, local-, external-, firewall-."""
    return prefix + service_chain_base(namespace, service, port_name, protocol)


def nft_endpoint_chain(namespace: str, service: str, port_name: str, protocol: str, endpoint: str,
                       prefix: str = ENDPOINT_PREFIX) -> str:
    """``endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80`` (``affinity-…`` with that prefix)."""
    return prefix + endpoint_chain_base(namespace, service, port_name, protocol, endpoint)


def is_service_chain(name: str) -> bool:
    return name.startswith((SERVICE_PREFIX, LOCAL_PREFIX, EXTERNAL_PREFIX, ENDPOINT_PREFIX, FIREWALL_PREFIX))


@dataclass(frozen=True)
class NftProxyConfig:
    """kube-proxy settings that change the nftables rules (defaults: kubeadm/kind)."""

    masquerade_bit: int = 14
    masquerade_all: bool = False
    cluster_cidr: str | None = None  # None: scenario.cluster.clusterCIDR; "": detector off
    service_cidrs: tuple[str, ...] | None = None  # None: (scenario.cluster.serviceCIDR,)
    nodeport_addresses: tuple[str, ...] | None = None  # None: "primary" (the node IP); (): all
    mark: str | None = None  # override the mark text (upstream's unit tests use "0x4000")

    @property
    def masquerade_mark(self) -> str:
        return self.mark or go_sharp_08x(1 << self.masquerade_bit)


def _node_ip(scenario: Scenario, node_name: str) -> str:
    try:
        return scenario.node(node_name).ip
    except KeyError:
        raise ValueError(f"no node named {node_name!r} in scenario {scenario.name!r}") from None


def _port_names(info: ServicePortInfo) -> tuple[str, str, str, str]:
    n = info.name
    return n.namespace, n.name, n.port, info.protocol


def nft_scenario_config(scenario: Scenario, node_name: str) -> NftProxyConfig:
    """The settings a scenario's ``kubeProxy`` block describes, for one node: the
    local-traffic detector (``ip saddr != <clusterCIDR>``, ``<node podCIDR>`` in mode
    NodeCIDR, none in mode None: upstream's ``localDetector.IfNotLocalNFT()``) and
    ``masqueradeAll``, as ``kubeproxy.generate.scenario_config`` reads them for iptables."""
    from .generate import scenario_config

    from .generate import node_port_cidrs

    ipt = scenario_config(scenario, node_name)
    cidrs = node_port_cidrs(scenario, node_name, "nftables")
    return NftProxyConfig(masquerade_all=ipt.masquerade_all, cluster_cidr=ipt.cluster_cidr,
                          nodeport_addresses=() if cidrs is None else cidrs)


def nft_transaction(scenario: Scenario, node_name: str, config: NftProxyConfig | None = None) -> Transaction:
    """kube-proxy's first full sync on ``node_name``, as an nftables transaction."""
    cfg = config or nft_scenario_config(scenario, node_name)
    node_ip = _node_ip(scenario, node_name)
    cidr = scenario.cluster.clusterCIDR if cfg.cluster_cidr is None else cfg.cluster_cidr
    service_cidrs = (scenario.cluster.serviceCIDR,) if cfg.service_cidrs is None else cfg.service_cidrs
    if cfg.nodeport_addresses is None:
        nodeport_ips: tuple[str, ...] | None = (node_ip,)
    elif cfg.nodeport_addresses == ():
        nodeport_ips = None  # match all
    else:
        # GetNodeIPs: the node's addresses inside the CIDRs; "localhost NodePorts are not
        # supported" in nftables mode, so a loopback one is left out
        from .generate import node_port_ips

        cidrs = tuple(str(ipaddress.ip_network(c, strict=False)) for c in cfg.nodeport_addresses)
        nodeport_ips = tuple(ip for ip in node_port_ips(scenario, node_name, cidrs)
                             if not ipaddress.ip_address(ip).is_loopback)
    return transaction_for(service_ports(scenario), service_port_endpoints(scenario), node_name, node_ip,
                           cidr, service_cidrs, nodeport_ips, cfg)


def transaction_for(infos, eps_map, node_name: str, node_ip: str, cluster_cidr: str,
                    service_cidrs: tuple[str, ...], nodeport_ips: tuple[str, ...] | None,
                    cfg: NftProxyConfig | None = None) -> Transaction:
    """The sync from kube-proxy's own view: service ports and their endpoints (what
    ``service_ports`` / ``service_port_endpoints`` derive from a scenario)."""
    cfg = cfg or NftProxyConfig()
    mark = cfg.masquerade_mark
    tx = Transaction(FAMILY, TABLE)
    _setup(tx, mark, service_cidrs, nodeport_ips)
    for info in sorted(infos, key=lambda i: (str(i.name), i.name.protocol)):
        _service_port(tx, info, eps_map.get(info.name, []), node_name, node_ip, cfg, cluster_cidr, mark)
    return tx


def generate_nft(scenario: Scenario, node_name: str, config: NftProxyConfig | None = None) -> str:
    """The text kube-proxy pipes to ``nft -f -`` on its first sync on ``node_name``."""
    return nft_transaction(scenario, node_name, config).text()


def _setup(tx: Transaction, mark: str, service_cidrs: tuple[str, ...], nodeport_ips: tuple[str, ...] | None) -> None:
    tx.add_table(comment="rules for kube-proxy")
    # first sync: add+delete every base chain so that changed hooks/priorities apply
    for name, _t, _h, _p in BASE_CHAINS:
        tx.add_chain(name)
        tx.delete_chain(name)
    for name, ctype, hook, prio in BASE_CHAINS:
        tx.add_chain(name, type=ctype, hook=hook, priority=prio)
        tx.flush_chain(name)

    created: set[str] = set()

    def ensure(chain: str) -> None:
        if chain not in created:
            created.add(chain)
            tx.add_chain(chain)
            tx.flush_chain(chain)

    for dst, src, extra in JUMP_CHAINS:
        ensure(dst)
        tx.add_rule(src, f"{extra} jump {dst}" if extra else f"jump {dst}")
    for chain in (SERVICES, CLUSTER_IPS_CHECK, MASQUERADING, MARK_MASQ):
        ensure(chain)

    tx.add_rule(MARK_MASQ, f"mark set mark or {mark}")
    tx.add_rule(MASQUERADING, f"mark and {mark} == 0 return")
    tx.add_rule(MASQUERADING, f"mark set mark xor {mark}")
    tx.add_rule(MASQUERADING, "masquerade fully-random")

    tx.add_set(CLUSTER_IPS, "ipv4_addr", comment="Active ClusterIPs")
    tx.add_rule(CLUSTER_IPS_CHECK, f"ip daddr @{CLUSTER_IPS} reject",
                comment="Reject traffic to invalid ports of ClusterIPs")
    if service_cidrs:
        tx.add_rule(CLUSTER_IPS_CHECK, f"ip daddr {{ {','.join(service_cidrs)} }} drop",
                    comment="Drop traffic to unallocated ClusterIPs")

    tx.add_set(NODEPORT_IPS, "ipv4_addr", comment="IPs that accept NodePort traffic")
    if nodeport_ips is None:
        tx.delete_set(NODEPORT_IPS)
    else:
        tx.flush_set(NODEPORT_IPS)
        for ip in nodeport_ips:
            if not ipaddress.ip_address(ip).is_loopback:
                tx.add_element(NODEPORT_IPS, (ip,))

    tx.add_set(NO_ENDPOINT_SERVICES, "ipv4_addr . inet_proto . inet_service : verdict", is_map=True,
               comment="vmap to drop or reject packets to services with no endpoints")
    tx.add_set(NO_ENDPOINT_NODEPORTS, "inet_proto . inet_service : verdict", is_map=True,
               comment="vmap to drop or reject packets to service nodeports with no endpoints")
    tx.add_chain(REJECT_CHAIN, comment="helper for @no-endpoint-services / @no-endpoint-nodeports")
    tx.flush_chain(REJECT_CHAIN)
    tx.add_rule(REJECT_CHAIN, "reject")
    tx.add_rule(SERVICE_ENDPOINTS_CHECK, f"ip daddr . meta l4proto . th dport vmap @{NO_ENDPOINT_SERVICES}")
    if nodeport_ips is None:
        tx.add_rule(NODEPORT_ENDPOINTS_CHECK,
                    f"ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @{NO_ENDPOINT_NODEPORTS}")
    else:
        tx.add_rule(NODEPORT_ENDPOINTS_CHECK,
                    f"ip daddr @{NODEPORT_IPS} meta l4proto . th dport vmap @{NO_ENDPOINT_NODEPORTS}")

    tx.add_set(FIREWALL_IPS, "ipv4_addr . inet_proto . inet_service : verdict", is_map=True,
               comment="destinations that are subject to LoadBalancerSourceRanges")
    ensure(FIREWALL_CHECK)
    tx.add_rule(FIREWALL_CHECK, f"ip daddr . meta l4proto . th dport vmap @{FIREWALL_IPS}")

    tx.add_set(SERVICE_IPS, "ipv4_addr . inet_proto . inet_service : verdict", is_map=True,
               comment="ClusterIP, ExternalIP and LoadBalancer IP traffic")
    tx.add_set(SERVICE_NODEPORTS, "inet_proto . inet_service : verdict", is_map=True, comment="NodePort traffic")
    tx.add_rule(SERVICES, f"ip daddr . meta l4proto . th dport vmap @{SERVICE_IPS}")
    if nodeport_ips is None:
        tx.add_rule(SERVICES, f"fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport "
                              f"vmap @{SERVICE_NODEPORTS}")
    else:
        tx.add_rule(SERVICES, f"ip daddr @{NODEPORT_IPS} meta l4proto . th dport vmap @{SERVICE_NODEPORTS}")

    # containers are flushed on a full sync
    tx.flush_set(CLUSTER_IPS)
    for name in (SERVICE_IPS, FIREWALL_IPS, NO_ENDPOINT_SERVICES, NO_ENDPOINT_NODEPORTS, SERVICE_NODEPORTS):
        tx.flush_set(name, is_map=True)


def _service_port(tx: Transaction, info: ServicePortInfo, all_endpoints: list[Endpoint], node_name: str,
                  node_ip: str, cfg: NftProxyConfig, cidr: str, mark: str) -> None:
    ns, svc, port_name, protocol = _port_names(info)
    name = str(info.name)
    cat = categorize_endpoints(all_endpoints, info, node_name)
    has_endpoints = cat.has_any

    def ep_chain(ep: Endpoint) -> str:
        return nft_endpoint_chain(ns, svc, port_name, protocol, ep.address)

    def affinity_set(ep: Endpoint) -> str:
        return nft_endpoint_chain(ns, svc, port_name, protocol, ep.address, prefix=AFFINITY_PREFIX)

    created: list[str] = []

    def ensure(chain: str) -> None:
        if chain not in created:
            created.append(chain)
            tx.add_chain(chain)
            tx.flush_chain(chain)

    for ep in cat.all_reachable:
        ensure(ep_chain(ep))

    cluster_chain = nft_service_chain(SERVICE_PREFIX, ns, svc, port_name, protocol)
    uses_cluster = bool(cat.cluster) and info.uses_cluster_endpoints()
    if uses_cluster:
        ensure(cluster_chain)
    local_chain = nft_service_chain(LOCAL_PREFIX, ns, svc, port_name, protocol)
    uses_local = bool(cat.local) and info.uses_local_endpoints()
    if uses_local:
        ensure(local_chain)

    internal_chain, has_internal = cluster_chain, has_endpoints
    if info.internal_policy_local:
        internal_chain = local_chain
        if not cat.local:
            has_internal = False
    external_policy_chain, has_external = cluster_chain, has_endpoints
    if info.external_policy_local:
        external_policy_chain = local_chain
        if not cat.local:
            has_external = False
    external_chain = nft_service_chain(EXTERNAL_PREFIX, ns, svc, port_name, protocol)
    uses_external = has_endpoints and info.externally_accessible()
    if uses_external:
        ensure(external_chain)

    internal_verdict = external_verdict = ""
    if not has_endpoints:
        internal_verdict = external_verdict = f"goto {REJECT_CHAIN}"
    else:
        if not has_internal:
            internal_verdict = "drop"
        if not has_external:
            external_verdict = "drop"

    port = str(info.port)
    tx.add_element(CLUSTER_IPS, (info.cluster_ip,))
    if has_internal:
        tx.add_element(SERVICE_IPS, (info.cluster_ip, protocol, port), (f"goto {internal_chain}",))
    else:
        tx.add_element(NO_ENDPOINT_SERVICES, (info.cluster_ip, protocol, port), (internal_verdict,), comment=name)

    for eip in info.external_ips:
        if has_endpoints:
            tx.add_element(SERVICE_IPS, (eip, protocol, port), (f"goto {external_chain}",))
        if not has_external:
            tx.add_element(NO_ENDPOINT_SERVICES, (eip, protocol, port), (external_verdict,), comment=name)

    uses_fw = bool(info.load_balancer_vips) and bool(info.load_balancer_source_ranges)
    fw_chain = nft_service_chain(FIREWALL_PREFIX, ns, svc, port_name, protocol)
    if uses_fw:
        ensure(fw_chain)
    for lbip in info.load_balancer_vips:
        if has_endpoints:
            tx.add_element(SERVICE_IPS, (lbip, protocol, port), (f"goto {external_chain}",))
        if uses_fw:
            tx.add_element(FIREWALL_IPS, (lbip, protocol, port), (f"goto {fw_chain}",))
    if not has_external:
        for lbip in info.load_balancer_vips:
            tx.add_element(NO_ENDPOINT_SERVICES, (lbip, protocol, port), (external_verdict,), comment=name)

    if info.node_port:
        nport = str(info.node_port)
        if has_endpoints:
            tx.add_element(SERVICE_NODEPORTS, (protocol, nport), (f"goto {external_chain}",))
        if not has_external:
            tx.add_element(NO_ENDPOINT_NODEPORTS, (protocol, nport), (external_verdict,), comment=name)

    # internal traffic: masquerade off-cluster sources of the ClusterIP
    if has_internal:
        if cfg.masquerade_all:
            tx.add_rule(internal_chain, f"ip daddr {info.cluster_ip} jump {MARK_MASQ}")
        elif cidr:
            tx.add_rule(internal_chain, f"ip daddr {info.cluster_ip} ip saddr != {cidr} jump {MARK_MASQ}")

    if uses_external:
        if not info.external_policy_local:
            tx.add_rule(external_chain, f"jump {MARK_MASQ}")
        else:
            if cidr:
                tx.add_rule(external_chain, f"ip saddr {cidr} goto {cluster_chain}",
                            comment="short-circuit pod traffic")
            tx.add_rule(external_chain, f"fib saddr type local jump {MARK_MASQ}", comment="masquerade local traffic")
            tx.add_rule(external_chain, f"fib saddr type local goto {cluster_chain}",
                        comment="short-circuit local traffic")
        if has_external:
            tx.add_rule(external_chain, f"goto {external_policy_chain}")

    if uses_fw:
        sources: list[str] = []
        allow_from_node = False
        nip = ipaddress.ip_address(node_ip)
        for c in info.load_balancer_source_ranges:
            net = ipaddress.ip_network(c.strip(), strict=False)
            sources.append(str(net))
            if nip in net:
                allow_from_node = True
        if allow_from_node:
            sources += list(info.load_balancer_vips)
        tx.add_rule(fw_chain, f"ip saddr != {{ {' , '.join(sources)} }} drop")

    if info.session_affinity_client_ip:
        for ep in cat.all_reachable:
            tx.add_set(affinity_set(ep), "ipv4_addr", flags=("dynamic", "timeout"),
                       timeout=info.sticky_max_age_seconds)

    if uses_cluster:
        _service_to_endpoints(tx, info, cluster_chain, cat.cluster, ep_chain, affinity_set)
    if uses_local:
        _service_to_endpoints(tx, info, local_chain, cat.local, ep_chain, affinity_set)

    for ep in cat.all_reachable:
        chain = ep_chain(ep)
        tx.add_rule(chain, f"ip saddr {ep.ip} jump {MARK_MASQ}")
        if info.session_affinity_client_ip:
            tx.add_rule(chain, f"update @{affinity_set(ep)} {{ ip saddr }}")
        tx.add_rule(chain, f"meta l4proto {protocol} dnat to {ep.address}")


def _service_to_endpoints(tx: Transaction, info: ServicePortInfo, chain: str, endpoints, ep_chain,
                          affinity_set) -> None:
    if info.session_affinity_client_ip:
        for ep in endpoints:
            tx.add_rule(chain, f"ip saddr @{affinity_set(ep)} goto {ep_chain(ep)}")
    elements = " , ".join(f"{i} : goto {ep_chain(ep)}" for i, ep in enumerate(endpoints))
    tx.add_rule(chain, f"numgen random mod {len(endpoints)} vmap {{ {elements} }}")


def nft_list_ruleset(scenario: Scenario, node_name: str, config: NftProxyConfig | None = None) -> str:
    """``nft list ruleset`` on ``node_name`` after kube-proxy's first sync (nftables 1.0.6)."""
    from kubeflow_tui.netfilter.nft_list import render_nft_ruleset

    return render_nft_ruleset([nft_transaction(scenario, node_name, config).apply()])


RULES_FORMATS = {"save": "nft list ruleset", "restore": "the transaction kube-proxy sends to nft -f"}


def nft_rules_text(scenario: Scenario, node_name: str, fmt: str = "save") -> str:
    """``kubeflow-tui rules --proxy-mode nftables``: ``save`` (``nft list ruleset``) or
    ``restore`` (kube-proxy's ``nft -f`` input)."""
    if fmt == "save":
        return nft_list_ruleset(scenario, node_name)
    if fmt == "restore":
        return generate_nft(scenario, node_name)
    raise ValueError(f"--format {fmt} is not available in nftables mode; use save (nft list ruleset) "
                     "or restore (kube-proxy's nft -f input)")
