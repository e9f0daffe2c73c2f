"""kube-proxy's conntrack clean-up after a resync (``pkg/proxy/conntrack/cleanup.go``).

UDP has no connection end the kernel can see, so a conntrack entry that DNATs a
client's packets to an endpoint that no longer serves would keep doing so for as long
as the client keeps sending (each packet refreshes it).  After every sync kube-proxy
therefore deletes UDP entries whose original destination is a Service address and
port (cluster IP, external IP, load balancer IP, or a NodePort of this node) and whose
reply source is not one of that Service port's serving endpoints any more.
"""

from __future__ import annotations

from ..kubeproxy import service_port_endpoints, service_ports
from ..netfilter.conntrack import ConntrackEntry, ConntrackTable
from ..scenario.models import Scenario


def stale_udp_entries(scenario: Scenario, table: ConntrackTable, node_addrs: frozenset[str]) -> list[ConntrackEntry]:
    """The UDP entries kube-proxy would delete on this node after a sync."""
    endpoints = service_port_endpoints(scenario)
    by_address: dict[tuple[str, int], set[str]] = {}
    by_node_port: dict[int, set[str]] = {}
    for info in service_ports(scenario):
        if info.protocol.lower() != "udp":
            continue
        serving = {ep.address for ep in endpoints.get(info.name, []) if ep.serving}
        for ip in (info.cluster_ip, *info.external_ips, *info.load_balancer_vips):
            by_address[(ip, info.port)] = serving
        if info.node_port:
            by_node_port[info.node_port] = serving
    stale = []
    for e in table.entries:
        if e.proto != "udp" or not e.dnat:
            continue
        dst, dport = e.orig[1], e.orig[3]
        serving = by_address.get((dst, dport))
        if serving is None and dst in node_addrs:
            serving = by_node_port.get(dport)
        if serving is None:
            continue
        if f"{e.reply[0]}:{e.reply[2]}" not in serving:
            stale.append(e)
    return stale
