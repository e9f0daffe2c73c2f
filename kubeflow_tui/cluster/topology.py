"""Hosts, interfaces and routes built from a scenario (see CONVENTIONS.md, Topology).

Every node, pod, external client and the load balancer is a ``Host`` with interfaces
and a routing table; ``Host.route(dst)`` is a longest-prefix match like the kernel's
main table.  The kernel referee builds the very same topology in network namespaces.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..scenario.models import Scenario


def veth_name(pod: str) -> str:
    """The node-side veth of a pod: ``veth-<pod>`` cut to the kernel's 15 characters."""
    return f"veth-{pod}"[:15]


def pod_gateway(pod_cidr: str) -> str:
    net = ipaddress.IPv4Network(pod_cidr)
    return str(net.network_address + 1)


@dataclass(frozen=True)
class Interface:
    name: str
    address: str  # primary IPv4 address
    prefix: int  # prefix length of the address
    peer: str | None = None  # for a veth: the host at the other end
    segment: str | None = None  # for a shared L2 segment: its name


@dataclass(frozen=True)
class Route:
    dst: ipaddress.IPv4Network
    dev: str
    via: str | None = None
    src: str | None = None
    scope_link: bool = False

    def text(self) -> str:
        """As `ip route` prints it."""
        dst = "default" if self.dst.prefixlen == 0 else (
            str(self.dst.network_address) if self.dst.prefixlen == 32 else str(self.dst)
        )
        parts = [dst]
        if self.via:
            parts += ["via", self.via]
        parts += ["dev", self.dev]
        if self.scope_link and not self.via:
            if self.src:
                parts += ["proto", "kernel", "scope", "link", "src", self.src]
            else:
                parts += ["scope", "link"]
        return " ".join(parts)


@dataclass
class Host:
    name: str
    kind: str  # "node" | "pod" | "client" | "lb" | "router"
    interfaces: list[Interface] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    extra_local: list[str] = field(default_factory=list)  # addresses on lo (LB VIP in proxy style)
    forwarding: bool = False
    node: str | None = None  # for pods: the node they run on
    listeners: set[tuple[str, int]] = field(default_factory=set)  # (proto, port) servers

    @property
    def addresses(self) -> list[str]:
        return [i.address for i in self.interfaces if i.address] + list(self.extra_local)

    @property
    def local_addrs(self) -> frozenset[str]:
        return frozenset(self.addresses) | {"127.0.0.1"}

    @property
    def primary_ip(self) -> str:
        return self.interfaces[0].address

    def iface(self, name: str) -> Interface:
        for i in self.interfaces:
            if i.name == name:
                return i
        raise KeyError(name)

    def route(self, dst: str) -> Route | None:
        """Longest-prefix match (the kernel's main table)."""
        addr = ipaddress.IPv4Address(dst)
        best: Route | None = None
        for r in self.routes:
            if addr in r.dst and (best is None or r.dst.prefixlen > best.dst.prefixlen):
                best = r
        return best

    def source_for(self, route: Route) -> str:
        """The source address the kernel picks for a locally generated packet."""
        if route.src:
            return route.src
        return self.iface_address(route.dev)

    def iface_address(self, dev: str) -> str:
        """An address for packets leaving by ``dev`` (inet_select_addr): the device's own,
        else the first global address of another device (eth0: the node IP)."""
        return self.iface(dev).address or next(i.address for i in self.interfaces if i.address)


@dataclass
class Topology:
    hosts: dict[str, Host]
    segment: str  # the node network's name
    scenario: Scenario

    def owner_of(self, ip: str) -> Host | None:
        for h in self.hosts.values():
            if ip in h.addresses:
                return h
        return None

    def neighbour(self, host: Host, iface: Interface, next_hop: str) -> Host | None:
        """Which host receives a frame sent out of ``iface`` towards ``next_hop``."""
        if iface.peer:
            return self.hosts[iface.peer]
        for h in self.hosts.values():
            if h is host:
                continue
            for i in h.interfaces:
                if i.segment == iface.segment and i.address == next_hop:
                    return h
        return None

    def node_of_pod(self, pod: str) -> Host:
        return self.hosts[self.hosts[pod].node]

    @property
    def node_names(self) -> list[str]:
        return [h.name for h in self.hosts.values() if h.kind == "node"]


def router_name(sc: Scenario) -> str:
    """The node network's default router: ``router`` unless a scenario host has that name."""
    taken = {n.name for n in sc.cluster.nodes} | {p.name for p in sc.pods} | {c.name for c in sc.clients}
    if sc.loadBalancer:
        taken.add(sc.loadBalancer.name)
    name = "router"
    while name in taken:
        name += "-gw"
    return name


def build_topology(sc: Scenario) -> Topology:
    seg = "nodenet"
    net = ipaddress.IPv4Network(sc.cluster.nodeNetwork)
    hosts: dict[str, Host] = {}
    default_gw = str(net.network_address + 1)

    for c in sc.clients:
        if c.kind != "external":
            continue
        h = Host(c.name, "client", [Interface("eth0", c.ip, net.prefixlen, segment=seg)])
        h.routes.append(Route(net, "eth0", src=c.ip, scope_link=True))
        if sc.loadBalancer:
            for svc in sc.services:
                if svc.type == "LoadBalancer" and svc.loadBalancerIP:
                    h.routes.append(
                        Route(ipaddress.IPv4Network(f"{svc.loadBalancerIP}/32"), "eth0", via=sc.loadBalancer.ip)
                    )
        hosts[c.name] = h

    if sc.loadBalancer:
        lb = sc.loadBalancer
        h = Host(lb.name, "lb", [Interface("eth0", lb.ip, net.prefixlen, segment=seg)], forwarding=True)
        h.routes.append(Route(net, "eth0", src=lb.ip, scope_link=True))
        if lb.style == "proxy":
            h.extra_local = [s.loadBalancerIP for s in sc.services if s.type == "LoadBalancer" and s.loadBalancerIP]
        hosts[lb.name] = h

    for n in sc.cluster.nodes:
        gw = pod_gateway(n.podCIDR)
        h = Host(n.name, "node", [Interface("eth0", n.ip, net.prefixlen, segment=seg)], forwarding=True)
        h.routes.append(Route(ipaddress.IPv4Network("0.0.0.0/0"), "eth0", via=default_gw))
        h.routes.append(Route(net, "eth0", src=n.ip, scope_link=True))
        for other in sc.cluster.nodes:
            if other.name != n.name:
                h.routes.append(Route(ipaddress.IPv4Network(other.podCIDR), "eth0", via=other.ip))
        for p in sc.pods:
            if p.node != n.name:
                continue
            dev = veth_name(p.name)
            h.interfaces.append(Interface(dev, gw if sc.cluster.hostVethAddress else "", 32, peer=p.name))
            h.routes.append(Route(ipaddress.IPv4Network(f"{p.ip}/32"), dev, scope_link=True))
        from ..scenario.system import node_listeners  # (pydantic's models: only for a scenario)

        h.listeners = node_listeners(sc, n.name)  # the API server on the control plane
        hosts[n.name] = h

    for p in sc.pods:
        node = sc.node(p.node)
        gw = pod_gateway(node.podCIDR)
        h = Host(p.name, "pod", [Interface("eth0", p.ip, 32, peer=p.node)], node=p.node)
        h.routes.append(Route(ipaddress.IPv4Network("0.0.0.0/0"), "eth0", via=gw))
        h.routes.append(Route(ipaddress.IPv4Network(f"{gw}/32"), "eth0", scope_link=True))
        # the pod's server listens on its declared containerPorts; a pod that declares
        # none (``ports:`` is informational in Kubernetes) listens where the Services that
        # select it send: their numeric targetPorts.  A declared port is the whole truth:
        # a Service whose targetPort misses it is refused (cases/03).  The kernel referee's
        # servers follow the same rule (tests/kernel/netns.py _server_ports).
        # an exited container listens nowhere: the pod's kernel answers RST / port unreachable
        h.listeners = set() if p.exited else {(cp.protocol.lower(), cp.containerPort) for cp in p.ports}
        for svc in sc.services if not p.ports and not p.exited else ():
            if svc.selector and all(p.labels.get(k) == v for k, v in svc.selector.items()):
                for sp in svc.ports:
                    tp = sp.targetPort if sp.targetPort is not None else sp.port
                    if isinstance(tp, int):
                        h.listeners.add((sp.protocol.lower(), tp))
        hosts[p.name] = h

    # The node network's default router (its first host).  It is the nodes' upstream and
    # knows no route into the cluster: Service IPs exist only in the nodes' rules, pod
    # CIDRs only in the nodes' routes.  Like a real upstream (a kind cluster's docker
    # bridge gateway, a cloud VPC router) it drops what it cannot deliver without an ICMP
    # error, so a packet nobody DNATed times out.  The kernel referee builds it as a
    # forwarding namespace whose only off-link route is ``blackhole default``.
    # (The scenario loader keeps every other host off this address.)
    h = Host(router_name(sc), "router", [Interface("eth0", default_gw, net.prefixlen, segment=seg)],
             forwarding=True)
    h.routes.append(Route(net, "eth0", src=default_gw, scope_link=True))
    hosts[h.name] = h

    return Topology(hosts, seg, sc)
