"""The iptables rules kube-proxy's iptables mode writes on one node.

Modelled on ``syncProxyRules`` in ``pkg/proxy/iptables/proxier.go`` (k8s 1.31-1.33 era:
KUBE-PROXY-FIREWALL in filter, DROP/REJECT in filter instead of KUBE-MARK-DROP,
KUBE-EXT/KUBE-SVL chains, nfacct counters, localhost NodePorts), with kube-proxy's
defaults: ``--iptables-masquerade-bit=14`` (mark 0x4000), ``--masquerade-all=false``,
``--detect-local-mode=ClusterCIDR`` (the scenario's ``cluster.clusterCIDR``),
``--iptables-localhost-nodeports=true``, ``--nodeport-addresses`` unset (all local
addresses), ``nf_conntrack_tcp_be_liberal=0``, iptables with ``--random-fully``.

Two outputs:

``kube_proxy_restore(scenario, node)`` is byte for byte the buffer kube-proxy hands to
``iptables-restore --noflush --counters`` on a full sync: ``*filter``, its chain lines,
its rules, ``COMMIT``, then the same for ``*nat``. Upstream walks its service map in Go
map order (random); we walk service ports sorted by ``"ns/name:port"`` then protocol so
the text is reproducible. Within one service port the order is upstream's.

``generate_restore(scenario, node)`` is that buffer made self-contained, so that
``iptables-restore < file`` alone reproduces the node: each table first declares its
built-in chains (and chains kube-proxy only *ensures*), then kube-proxy's chain lines,
then the jump rules kube-proxy ensures in the built-in chains (``-I`` = prepend, in
upstream's order, so on a fresh node the last one ensured comes first), then
kube-proxy's rules.

Counters for ``-m nfacct`` must exist in the kernel before such rules load (kube-proxy
creates them over netlink): see ``ensure_nfacct_counters``; or turn them off with
``ProxyConfig(nfacct=False)``, which is what kube-proxy writes when it cannot create them.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from dataclasses import dataclass

from kubeflow_tui.scenario.models import Scenario

from . import names as N
from .endpoints import (
    Endpoint,
    ServicePortInfo,
    categorize_endpoints,
    service_port_endpoints,
    service_ports,
)

LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000
NFACCT_CT_STATE_INVALID_DROPPED = "ct_state_invalid_dropped_pkts"
NFACCT_LOCALHOST_NODEPORT_ACCEPTED = "localhost_nps_accepted_pkts"
NFACCT_COUNTERS = (NFACCT_CT_STATE_INVALID_DROPPED, NFACCT_LOCALHOST_NODEPORT_ACCEPTED)


@dataclass(frozen=True)
class ProxyConfig:
    """kube-proxy flags / environment that change the rules (defaults = kube-proxy's)."""

    masquerade_bit: int = 14
    masquerade_all: bool = False
    localhost_nodeports: bool = True
    nfacct: bool = True  # kube-proxy managed to create its nfacct counters
    random_fully: bool = True  # iptables supports MASQUERADE --random-fully
    conntrack_tcp_be_liberal: bool = False
    cluster_cidr: str | None = None  # None: scenario.cluster.clusterCIDR; "": detector off
    include_canary: bool = False  # generate_restore: add the empty KUBE-PROXY-CANARY chains
    # --nodeport-addresses: None = unset (every local address); else the node's own
    # addresses inside those CIDRs, one "-d <ip> -j KUBE-NODEPORTS" rule each
    node_port_ips: tuple[str, ...] | None = None

    @property
    def masquerade_mark(self) -> str:
        """kube-proxy's ``fmt.Sprintf("%#08x", 1<<bit)``: ``"0x00004000"`` for bit 14."""
        return go_sharp_08x(1 << self.masquerade_bit)


def go_sharp_08x(v: int) -> str:
    """Go's ``fmt.Sprintf("%#08x", v)``.

    Unlike C, Go turns a zero-padded width into a *digit* count and adds ``0x`` after:
    0x4000 -> ``"0x00004000"`` (kube-proxy logs ``mark="0x00004000"``). So that is what
    kube-proxy's restore text carries; the kernel stores 0x4000 and iptables-save prints
    ``0x4000``. (Upstream's unit tests hard-code ``"0x4000"`` in their fake proxier.)
    """
    return "0x" + f"{v:x}".rjust(8, "0")


def probability(n: int) -> str:
    """``computeProbability``: ``fmt.Sprintf("%0.10f", 1.0/float64(n))``."""
    return f"{1.0 / n:0.10f}"


def _q(text: str) -> str:
    return f'"{text}"'


# The jump rules kube-proxy ensures (EnsureChain + EnsureRule(Prepend, ...)), in
# upstream's order: iptablesJumpChains then iptablesKubeletJumpChains.
# (table, dst chain, src chain, comment, extra args)
_NEW = ("-m", "conntrack", "--ctstate", "NEW")
JUMP_CHAINS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("filter", N.KUBE_EXTERNAL_SERVICES, "INPUT", "kubernetes externally-visible service portals", _NEW),
    ("filter", N.KUBE_EXTERNAL_SERVICES, "FORWARD", "kubernetes externally-visible service portals", _NEW),
    ("filter", N.KUBE_NODEPORTS, "INPUT", "kubernetes health check service ports", ()),
    ("filter", N.KUBE_SERVICES, "FORWARD", "kubernetes service portals", _NEW),
    ("filter", N.KUBE_SERVICES, "OUTPUT", "kubernetes service portals", _NEW),
    ("filter", N.KUBE_FORWARD, "FORWARD", "kubernetes forwarding rules", ()),
    ("filter", N.KUBE_PROXY_FIREWALL, "INPUT", "kubernetes load balancer firewall", _NEW),
    ("filter", N.KUBE_PROXY_FIREWALL, "OUTPUT", "kubernetes load balancer firewall", _NEW),
    ("filter", N.KUBE_PROXY_FIREWALL, "FORWARD", "kubernetes load balancer firewall", _NEW),
    ("nat", N.KUBE_SERVICES, "OUTPUT", "kubernetes service portals", ()),
    ("nat", N.KUBE_SERVICES, "PREROUTING", "kubernetes service portals", ()),
    ("nat", N.KUBE_POSTROUTING, "POSTROUTING", "kubernetes postrouting rules", ()),
    ("filter", N.KUBE_FIREWALL, "INPUT", "", ()),
    ("filter", N.KUBE_FIREWALL, "OUTPUT", "", ()),
)

BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}


def builtin_jump_rules() -> dict[str, dict[str, list[str]]]:
    """``{table: {builtin chain: [rule lines]}}`` as they stand after kube-proxy's
    first sync on a node whose built-in chains were empty (each rule was prepended)."""
    out: dict[str, dict[str, list[str]]] = {t: {c: [] for c in cs} for t, cs in BUILTIN_CHAINS.items()}
    for table, dst, src, comment, extra in JUMP_CHAINS:
        args = ["-A", src, *extra]
        if comment:
            args += ["-m", "comment", "--comment", _q(comment)]
        args += ["-j", dst]
        out[table][src].insert(0, " ".join(args))
    return out


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, *parts: str | list[str] | tuple[str, ...]) -> None:
        words: list[str] = []
        for p in parts:
            if isinstance(p, (list, tuple)):
                words.extend(p)
            else:
                words.append(p)
        self.lines.append(" ".join(words))

    def chain(self, name: str) -> None:
        self.lines.append(f":{name} - [0:0]")


@dataclass
class _Tables:
    filter_chains: list[str]
    filter_rules: list[str]
    nat_chains: list[str]
    nat_rules: list[str]


def _node_ip(scenario: Scenario, node_name: str) -> str:
    try:
        return scenario.node(node_name).ip
    except KeyError:
        raise ValueError(f"no node named {node_name!r} in scenario {scenario.name!r}") from None


def _sync(scenario: Scenario, node_name: str, cfg: ProxyConfig) -> _Tables:
    node_ip = _node_ip(scenario, node_name)
    mark = cfg.masquerade_mark
    cidr = scenario.cluster.clusterCIDR if cfg.cluster_cidr is None else cfg.cluster_cidr
    detector = bool(cidr)
    if_not_local = ["!", "-s", cidr]
    if_local = ["-s", cidr]

    filter_chains, filter_rules = _Lines(), _Lines()
    nat_chains, nat_rules = _Lines(), _Lines()

    for c in (N.KUBE_SERVICES, N.KUBE_EXTERNAL_SERVICES, N.KUBE_FORWARD, N.KUBE_NODEPORTS, N.KUBE_PROXY_FIREWALL):
        filter_chains.chain(c)
    for c in (N.KUBE_SERVICES, N.KUBE_NODEPORTS, N.KUBE_POSTROUTING, N.KUBE_MARK_MASQ):
        nat_chains.chain(c)

    nat_rules.write("-A", N.KUBE_POSTROUTING, "-m", "mark", "!", "--mark", f"{mark}/{mark}", "-j", "RETURN")
    nat_rules.write("-A", N.KUBE_POSTROUTING, "-j", "MARK", "--xor-mark", mark)
    masq = ["-A", N.KUBE_POSTROUTING, "-m", "comment", "--comment", _q("kubernetes service traffic requiring SNAT"), "-j", "MASQUERADE"]
    if cfg.random_fully:
        masq.append("--random-fully")
    nat_rules.write(masq)
    nat_rules.write("-A", N.KUBE_MARK_MASQ, "-j", "MARK", "--or-mark", mark)

    if cfg.localhost_nodeports:
        filter_chains.chain(N.KUBE_FIREWALL)
        filter_rules.write(
            "-A", N.KUBE_FIREWALL,
            "-m", "comment", "--comment", _q("block incoming localnet connections"),
            "-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8",
            "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT",
            "-j", "DROP",
        )

    infos = sorted(service_ports(scenario), key=lambda i: (str(i.name), i.name.protocol))
    eps_map = service_port_endpoints(scenario)
    total = sum(len(eps_map.get(i.name, [])) for i in infos)
    large = total > LARGE_CLUSTER_ENDPOINTS_THRESHOLD

    def svc_comment(args: list[str], text: str) -> list[str]:
        return args if large else args + ["-m", "comment", "--comment", text]

    for info in infos:
        _service_port_rules(
            info, eps_map.get(info.name, []), node_name, node_ip, cfg,
            detector, if_local, if_not_local, svc_comment,
            filter_rules, nat_chains, nat_rules,
        )

    # Tail-call to KUBE-NODEPORTS: nodePortAddresses unset (MatchAll), every local
    # address; else one rule per node address inside its CIDRs (GetNodeIPs), a loopback
    # one only with localhost NodePorts.
    last = ["-A", N.KUBE_SERVICES, "-m", "comment", "--comment",
            _q("kubernetes service nodeports; NOTE: this must be the last rule in this chain")]
    if cfg.node_port_ips is None:
        dest = ["-m", "addrtype", "--dst-type", "LOCAL"]
        if not cfg.localhost_nodeports:
            dest += ["!", "-d", "127.0.0.0/8"]
        nat_rules.write(last, dest, "-j", N.KUBE_NODEPORTS)
    else:
        for ip in cfg.node_port_ips:
            if ipaddress.ip_address(ip).is_loopback and not cfg.localhost_nodeports:
                continue  # upstream logs "--nodeport-addresses includes localhost but ..."
            nat_rules.write(last, "-d", ip, "-j", N.KUBE_NODEPORTS)

    if not cfg.conntrack_tcp_be_liberal:
        rule = ["-A", N.KUBE_FORWARD, "-m", "conntrack", "--ctstate", "INVALID"]
        if cfg.nfacct:
            rule += ["-m", "nfacct", "--nfacct-name", NFACCT_CT_STATE_INVALID_DROPPED]
        filter_rules.write(rule, "-j", "DROP")
    filter_rules.write(
        "-A", N.KUBE_FORWARD,
        "-m", "comment", "--comment", _q("kubernetes forwarding rules"),
        "-m", "mark", "--mark", f"{mark}/{mark}",
        "-j", "ACCEPT",
    )
    filter_rules.write(
        "-A", N.KUBE_FORWARD,
        "-m", "comment", "--comment", _q("kubernetes forwarding conntrack rule"),
        "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
        "-j", "ACCEPT",
    )
    return _Tables(filter_chains.lines, filter_rules.lines, nat_chains.lines, nat_rules.lines)


def _service_port_rules(
    info: ServicePortInfo,
    all_endpoints: list[Endpoint],
    node_name: str,
    node_ip: str,
    cfg: ProxyConfig,
    detector: bool,
    if_local: list[str],
    if_not_local: list[str],
    svc_comment,
    filter_rules: _Lines,
    nat_chains: _Lines,
    nat_rules: _Lines,
) -> None:
    protocol = info.protocol
    name = str(info.name)
    cat = categorize_endpoints(all_endpoints, info, node_name)
    has_endpoints = cat.has_any

    cluster_chain = N.service_chain_name(N.SVC_PREFIX, name, protocol)
    local_chain = N.service_chain_name(N.SVL_PREFIX, name, protocol)
    ext_chain = N.service_chain_name(N.EXT_PREFIX, name, protocol)
    fw_chain = N.service_chain_name(N.FW_PREFIX, name, protocol)

    uses_cluster_chain = bool(cat.cluster) and info.uses_cluster_endpoints()
    uses_local_chain = bool(cat.local) and info.uses_local_endpoints()

    internal_chain = cluster_chain
    has_internal = has_endpoints
    if info.internal_policy_local:
        internal_chain = local_chain
        if not cat.local:
            has_internal = False

    external_policy_chain = cluster_chain
    has_external = has_endpoints
    if info.external_policy_local:
        external_policy_chain = local_chain
        if not cat.local:
            has_external = False

    uses_ext_chain = has_endpoints and info.externally_accessible()
    lb_chain = ext_chain
    uses_fw_chain = has_endpoints and bool(info.load_balancer_vips) and bool(info.load_balancer_source_ranges)
    if uses_fw_chain:
        lb_chain = fw_chain

    int_target = int_comment = ext_target = ext_comment = ""
    if not has_endpoints:
        int_target = ext_target = "REJECT"
        int_comment = ext_comment = _q(f"{name} has no endpoints")
    else:
        if not has_internal:
            int_target, int_comment = "DROP", _q(f"{name} has no local endpoints")
        if not has_external:
            ext_target, ext_comment = "DROP", _q(f"{name} has no local endpoints")

    proto = ["-m", protocol, "-p", protocol]
    port = str(info.port)

    # Capture the clusterIP.
    if has_internal:
        nat_rules.write(
            "-A", N.KUBE_SERVICES, "-m", "comment", "--comment", _q(f"{name} cluster IP"),
            proto, "-d", info.cluster_ip, "--dport", port, "-j", internal_chain,
        )
    else:
        filter_rules.write(
            "-A", N.KUBE_SERVICES, "-m", "comment", "--comment", int_comment,
            proto, "-d", info.cluster_ip, "--dport", port, "-j", int_target,
        )

    # Capture externalIPs.
    for eip in info.external_ips:
        if has_endpoints:
            nat_rules.write(
                "-A", N.KUBE_SERVICES, "-m", "comment", "--comment", _q(f"{name} external IP"),
                proto, "-d", eip, "--dport", port, "-j", ext_chain,
            )
        if not has_external:
            filter_rules.write(
                "-A", N.KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", ext_comment,
                proto, "-d", eip, "--dport", port, "-j", ext_target,
            )

    # Capture load-balancer ingress.
    for lbip in info.load_balancer_vips:
        if has_endpoints:
            nat_rules.write(
                "-A", N.KUBE_SERVICES, "-m", "comment", "--comment", _q(f"{name} loadbalancer IP"),
                proto, "-d", lbip, "--dport", port, "-j", lb_chain,
            )
        if uses_fw_chain:
            filter_rules.write(
                "-A", N.KUBE_PROXY_FIREWALL,
                "-m", "comment", "--comment", _q(f"{name} traffic not accepted by {fw_chain}"),
                proto, "-d", lbip, "--dport", port, "-j", "DROP",
            )
    if not has_external:
        for lbip in info.load_balancer_vips:
            filter_rules.write(
                "-A", N.KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", ext_comment,
                proto, "-d", lbip, "--dport", port, "-j", ext_target,
            )

    # Capture nodeports.
    if info.node_port:
        nport = str(info.node_port)
        if has_endpoints:
            if cfg.localhost_nodeports and cfg.nfacct:
                nat_rules.write(
                    "-A", N.KUBE_NODEPORTS, "-m", "comment", "--comment", name,
                    proto, "-d", "127.0.0.0/8", "--dport", nport,
                    "-m", "nfacct", "--nfacct-name", NFACCT_LOCALHOST_NODEPORT_ACCEPTED,
                    "-j", ext_chain,
                )
            nat_rules.write(
                "-A", N.KUBE_NODEPORTS, "-m", "comment", "--comment", name,
                proto, "--dport", nport, "-j", ext_chain,
            )
        if not has_external:
            filter_rules.write(
                "-A", N.KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", ext_comment,
                "-m", "addrtype", "--dst-type", "LOCAL",
                proto, "--dport", nport, "-j", ext_target,
            )

    # Capture healthCheckNodePorts.
    if info.health_check_node_port:
        filter_rules.write(
            "-A", N.KUBE_NODEPORTS,
            "-m", "comment", "--comment", _q(f"{name} health check node port"),
            "-m", "tcp", "-p", "tcp", "--dport", str(info.health_check_node_port),
            "-j", "ACCEPT",
        )

    # Internal traffic handling: masquerade off-cluster sources to the cluster IP.
    if has_internal:
        args = ["-m", "comment", "--comment", _q(f"{name} cluster IP"), *proto,
                "-d", info.cluster_ip, "--dport", port]
        if cfg.masquerade_all:
            nat_rules.write("-A", internal_chain, args, "-j", N.KUBE_MARK_MASQ)
        elif detector:
            nat_rules.write("-A", internal_chain, args, if_not_local, "-j", N.KUBE_MARK_MASQ)

    # External traffic handling.
    if uses_ext_chain:
        nat_chains.chain(ext_chain)
        if not info.external_policy_local:
            nat_rules.write(
                "-A", ext_chain,
                "-m", "comment", "--comment", _q(f"masquerade traffic for {name} external destinations"),
                "-j", N.KUBE_MARK_MASQ,
            )
        else:
            if detector:
                nat_rules.write(
                    "-A", ext_chain,
                    "-m", "comment", "--comment", _q(f"pod traffic for {name} external destinations"),
                    if_local, "-j", cluster_chain,
                )
            nat_rules.write(
                "-A", ext_chain,
                "-m", "comment", "--comment", _q(f"masquerade LOCAL traffic for {name} external destinations"),
                "-m", "addrtype", "--src-type", "LOCAL", "-j", N.KUBE_MARK_MASQ,
            )
            nat_rules.write(
                "-A", ext_chain,
                "-m", "comment", "--comment", _q(f"route LOCAL traffic for {name} external destinations"),
                "-m", "addrtype", "--src-type", "LOCAL", "-j", cluster_chain,
            )
        if has_external:
            nat_rules.write("-A", ext_chain, "-j", external_policy_chain)

    # Firewall chain for loadBalancerSourceRanges.
    if uses_fw_chain:
        nat_chains.chain(fw_chain)
        fw_args = ["-A", fw_chain, "-m", "comment", "--comment", _q(f"{name} loadbalancer IP")]
        allow_from_node = False
        nip = ipaddress.ip_address(node_ip)
        for cidr in info.load_balancer_source_ranges:
            nat_rules.write(fw_args, "-s", cidr, "-j", ext_chain)
            if nip in ipaddress.ip_network(cidr, strict=False):
                allow_from_node = True
        if allow_from_node:
            for lbip in info.load_balancer_vips:
                nat_rules.write(fw_args, "-s", lbip, "-j", ext_chain)
        nat_rules.write(
            "-A", fw_chain,
            "-m", "comment", "--comment", _q(f"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL"),
        )

    if uses_cluster_chain:
        nat_chains.chain(cluster_chain)
        _service_to_endpoint_rules(nat_rules, name, info, cluster_chain, cat.cluster, svc_comment)
    if uses_local_chain:
        nat_chains.chain(local_chain)
        _service_to_endpoint_rules(nat_rules, name, info, local_chain, cat.local, svc_comment)

    # Per-endpoint chains.
    for ep in cat.all_reachable:
        sep = N.endpoint_chain_name(name, protocol, ep.address)
        nat_chains.chain(sep)
        args = svc_comment(["-A", sep], name)
        nat_rules.write(args, "-s", ep.ip, "-j", N.KUBE_MARK_MASQ)
        if info.session_affinity_client_ip:
            args = args + ["-m", "recent", "--name", sep, "--set"]
        nat_rules.write(args, proto, "-j", "DNAT", "--to-destination", ep.address)


def _service_to_endpoint_rules(nat_rules: _Lines, name: str, info: ServicePortInfo,
                               chain: str, endpoints, svc_comment) -> None:
    if info.session_affinity_client_ip:
        for ep in endpoints:
            sep = N.endpoint_chain_name(name, info.protocol, ep.address)
            args = svc_comment(["-A", chain], _q(f"{name} -> {ep.address}"))
            nat_rules.write(
                args, "-m", "recent", "--name", sep,
                "--rcheck", "--seconds", str(info.sticky_max_age_seconds), "--reap",
                "-j", sep,
            )
    n = len(endpoints)
    for i, ep in enumerate(endpoints):
        sep = N.endpoint_chain_name(name, info.protocol, ep.address)
        args = svc_comment(["-A", chain], _q(f"{name} -> {ep.address}"))
        if i < n - 1:
            args = args + ["-m", "statistic", "--mode", "random", "--probability", probability(n - i)]
        nat_rules.write(args, "-j", sep)


def scenario_config(scenario: Scenario, node_name: str) -> ProxyConfig:
    """The ``ProxyConfig`` a scenario's ``kubeProxy`` block describes, for one node.

    The local-traffic detector (upstream ``proxyutil.NewDetectLocalByCIDR``) is
    ``-s <clusterCIDR>`` in mode ClusterCIDR and ``-s <node podCIDR>`` in mode NodeCIDR;
    without one (``localDetector.IsImplemented()`` false) kube-proxy writes no
    ``! -s … -j KUBE-MARK-MASQ`` rule for ClusterIPs.
    """
    kp = getattr(scenario, "kubeProxy", None)
    if kp is None:
        return ProxyConfig()
    if kp.detectLocalMode == "NodeCIDR":
        cidr = scenario.node(node_name).podCIDR
    elif kp.detectLocalMode == "None":
        cidr = ""
    else:
        cidr = None
    cidrs = node_port_cidrs(scenario, node_name, "iptables")
    ips = None if cidrs is None else node_port_ips(scenario, node_name, cidrs)
    # NewProxier: "if !nodePortAddresses.ContainsIPv4Loopback() { localhostNodePorts = false }"
    loopback = cidrs is None or any(
        ipaddress.ip_network(c).is_loopback or ipaddress.ip_address("127.0.0.0") in ipaddress.ip_network(c)
        for c in cidrs)
    return ProxyConfig(masquerade_all=kp.masqueradeAll, cluster_cidr=cidr, node_port_ips=ips,
                       localhost_nodeports=loopback)


def node_port_cidrs(scenario: Scenario, node_name: str, mode: str) -> tuple[str, ...] | None:
    """``--nodeport-addresses`` as kube-proxy ends up reading it (``NewNodePortAddresses``):
    None when it matches every address (unset in iptables mode, or a 0.0.0.0/0 among the
    CIDRs); ``primary`` (nftables mode's default) is the node IP's /32, as kube-proxy's
    server turns it into."""
    kp = getattr(scenario, "kubeProxy", None)
    given = getattr(kp, "nodePortAddresses", None)
    if given is None:
        given = ["primary"] if mode == "nftables" else []
    if given == ["primary"]:
        return (f"{scenario.node(node_name).ip}/32",)
    if not given or any(ipaddress.ip_network(c).prefixlen == 0 for c in given):
        return None
    return tuple(given)


def node_local_addresses(scenario: Scenario, node_name: str) -> list[str]:
    """The addresses on a node's interfaces (``InterfaceAddrs``): eth0's node IP, the pod
    gateway on its pods' veths (when the CNI puts one there), lo's 127.0.0.1."""
    node = scenario.node(node_name)
    out = [node.ip, "127.0.0.1"]
    if scenario.cluster.hostVethAddress and any(p.node == node_name for p in scenario.pods):
        out.append(str(ipaddress.ip_network(node.podCIDR).network_address + 1))
    return out


def node_port_ips(scenario: Scenario, node_name: str, cidrs: tuple[str, ...]) -> tuple[str, ...]:
    """``GetNodeIPs``: the node's addresses inside the CIDRs (upstream dedupes through a Go
    map, so its order is random; ours is numeric)."""
    nets = [ipaddress.ip_network(c) for c in cidrs]
    found = {a for a in node_local_addresses(scenario, node_name)
             if any(ipaddress.ip_address(a) in n for n in nets)}
    return tuple(sorted(found, key=ipaddress.ip_address))


def kube_proxy_restore(scenario: Scenario, node_name: str, config: ProxyConfig | None = None) -> str:
    """Exactly what kube-proxy passes to ``iptables-restore --noflush`` on a full sync."""
    t = _sync(scenario, node_name, config or scenario_config(scenario, node_name))
    out = ["*filter", *t.filter_chains, *t.filter_rules, "COMMIT",
           "*nat", *t.nat_chains, *t.nat_rules, "COMMIT"]
    return "\n".join(out) + "\n"


def generate_restore(scenario: Scenario, node_name: str, config: ProxyConfig | None = None) -> str:
    """A full ``iptables-restore`` input reproducing kube-proxy's state on ``node_name``."""
    cfg = config or scenario_config(scenario, node_name)
    t = _sync(scenario, node_name, cfg)
    jumps = builtin_jump_rules()
    out: list[str] = []
    if cfg.include_canary:
        out += ["*mangle", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
                ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", f":{N.KUBE_PROXY_CANARY} - [0:0]", "COMMIT"]
    for table, chains, rules in (("filter", t.filter_chains, t.filter_rules),
                                 ("nat", t.nat_chains, t.nat_rules)):
        out.append(f"*{table}")
        out += [f":{c} ACCEPT [0:0]" for c in BUILTIN_CHAINS[table]]
        declared = {line[1:].split(" ", 1)[0] for line in chains}
        # Chains kube-proxy only ensures (not in its restore data) but jumps to.
        ensured = [dst for tb, dst, _s, _c, _e in JUMP_CHAINS if tb == table and dst not in declared]
        if cfg.include_canary:
            ensured.append(N.KUBE_PROXY_CANARY)
        for c in dict.fromkeys(ensured):
            out.append(f":{c} - [0:0]")
        out += chains
        for builtin in BUILTIN_CHAINS[table]:
            out += jumps[table][builtin]
        out += rules
        out.append("COMMIT")
    return "\n".join(out) + "\n"


_NFACCT_SCRIPT = r"""
import socket, struct, sys
for name in sys.argv[1:]:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    s.bind((0, 0))
    nm = name.encode() + b"\0"
    attr = struct.pack("HH", 4 + len(nm), 1) + nm  # NFACCT_NAME
    attr += b"\0" * (-len(attr) % 4)
    body = struct.pack("BBH", 0, 0, 0) + attr
    # NFNL_SUBSYS_ACCT<<8 | NFNL_MSG_ACCT_NEW; NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE
    s.send(struct.pack("IHHII", 16 + len(body), 7 << 8, 0x1 | 0x4 | 0x400, 1, 0) + body)
    err = struct.unpack_from("i", s.recv(4096), 16)[0]
    if err not in (0, -17):
        sys.exit("nfacct %s: errno %d" % (name, -err))
"""


def ensure_nfacct_counters(netns: str | None = None, names: tuple[str, ...] = NFACCT_COUNTERS) -> None:
    """Create kube-proxy's nfacct counters (as kube-proxy does at startup) in the current
    network namespace, or in ``ip netns`` namespace ``netns``. Needs root."""
    cmd = [sys.executable, "-c", _NFACCT_SCRIPT, *names]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
