"""A pod's stub resolver, as glibc's ``getaddrinfo`` applies its /etc/resolv.conf.

What the kubelet writes for dnsPolicy ClusterFirst (pkg/kubelet/network/dns/dns.go): the
cluster DNS Service as the nameserver, the search list ``<ns>.svc.<zone> svc.<zone> <zone>``
and ``options ndots:5``; a pod's ``dnsConfig`` adds its searches after those (duplicates
left out) and its options override the same-named ones.

How glibc walks that list (resolv/res_query.c, ``__res_context_search``):

* a name that ends with a dot is asked as it is, and only so;
* a name with at least ``ndots`` dots is first asked as it is, then with each search
  domain appended;
* a name with fewer dots is asked with each search domain appended first, and as it is
  last;
* an NXDOMAIN (or an empty answer) moves on to the next candidate; a server that does not
  answer (timeout) or refuses ends the lookup at once: "anything else implies that we're
  done".

Each query here is a real DNS exchange through the cluster: one UDP flow from the pod to
the kube-dns Service IP, port 53, through kube-proxy's rules (its conntrack entry and
counters stay, as a real query's do).  When CoreDNS receives it, it answers as its
kubernetes plugin does for the zone (a Service's name → its ClusterIP); a name outside the
zone goes to the upstream servers, which know none of the scenario's names: NXDOMAIN.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

CLUSTER_DOMAIN = "cluster.local"
DEFAULT_NDOTS = 5
#: glibc caps ndots at RES_MAXNDOTS
MAX_NDOTS = 15


@dataclass(frozen=True)
class ResolvConf:
    """What a pod's /etc/resolv.conf says."""

    nameserver: str
    search: tuple[str, ...]
    ndots: int

    def text(self) -> str:
        """The file as the kubelet writes it."""
        return f"search {' '.join(self.search)}\nnameserver {self.nameserver}\noptions ndots:{self.ndots}\n"


def dns_service_ip(scenario: Any) -> str:
    """kube-dns' ClusterIP: the tenth address of the Service CIDR (10.96.0.10)."""
    return str(ipaddress.IPv4Network(scenario.cluster.serviceCIDR).network_address + 10)


def has_cluster_dns(scenario: Any) -> bool:
    """The cluster has its DNS Service: ``cluster.systemServices``, or a scenario's own
    Service on the tenth Service IP with port 53/UDP."""
    server = dns_service_ip(scenario)
    return bool(getattr(scenario.cluster, "systemServices", False)) or any(
        s.clusterIP == server and any(p.port == 53 and p.protocol == "UDP" for p in s.ports)
        for s in scenario.services)


def resolv_conf(scenario: Any, pod: Any) -> ResolvConf:
    """The resolv.conf the kubelet writes for ``pod`` (dnsPolicy ClusterFirst)."""
    ns = getattr(pod, "namespace", "default") if pod is not None else "default"
    search = [f"{ns}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
    ndots = DEFAULT_NDOTS
    cfg = getattr(pod, "dnsConfig", None)
    if cfg is not None:
        for d in cfg.searches:
            if d not in search:
                search.append(d)
        for opt in cfg.options:
            if opt.name == "ndots":
                ndots = min(int(opt.value), MAX_NDOTS)
    return ResolvConf(dns_service_ip(scenario), tuple(search), ndots)


def candidates(name: str, conf: ResolvConf) -> list[str]:
    """The names glibc asks for ``name``, in order (without their trailing dots)."""
    if name.endswith("."):
        return [name[:-1]]
    searched = [f"{name}.{d}" for d in conf.search]
    if name.count(".") >= conf.ndots:
        return [name] + searched
    return searched + [name]


def records(scenario: Any) -> dict[str, str]:
    """The A records CoreDNS's kubernetes plugin serves: each Service's ClusterIP."""
    return {f"{s.name}.{s.namespace}.svc.{CLUSTER_DOMAIN}": s.clusterIP
            for s in scenario.services if s.clusterIP}


@dataclass
class Query:
    """One question the resolver sent and what came back."""

    name: str
    #: NOERROR / NXDOMAIN when CoreDNS answered; else the resolver's error
    #: ("timed out": nothing came back; "connection refused": an ICMP port unreachable)
    result: str
    address: str | None = None
    trace: Any = None  # the query's Trace (None when no DNS exchange was made)


@dataclass
class Lookup:
    """A whole name lookup: the questions asked and its result."""

    name: str
    conf: ResolvConf | None
    queries: list[Query] = field(default_factory=list)
    address: str | None = None
    #: "" when resolved; "NXDOMAIN" (no candidate exists: "Could not resolve host", Go's
    #: "no such host"); or the transport error that ended it
    error: str = ""

    @property
    def resolved(self) -> bool:
        return self.address is not None

    def story(self) -> str:
        """One sentence: what the resolver asked and what it got."""
        if not self.queries:
            return (f"{self.name} is an address ({self.address})" if self.resolved
                    else f"{self.name}: {self.error}")
        asked = ", ".join(f"{q.name} ({q.result if q.address is None else q.address})" for q in self.queries)
        head = f"the resolver asked {asked}"
        if self.resolved:
            return f"{head}: {self.name} is {self.address}"
        if self.error == "NXDOMAIN":
            return f"{head}: no such name, {self.name} does not resolve"
        return f"{head}: the lookup of {self.name} failed ({self.error})"


def lookup(sim: Any, pod_name: str, name: str) -> Lookup:
    """Resolve ``name`` in pod ``pod_name`` as its resolver would, each query a DNS flow
    through the cluster (see the module's docstring)."""
    try:
        ip = str(ipaddress.IPv4Address(name))
        return Lookup(name, None, address=ip)
    except ValueError:
        pass
    scenario = sim.scenario
    pod = next((p for p in scenario.pods if p.name == pod_name), None)
    if pod is None:
        raise KeyError(f"{pod_name!r} is not a pod of this cluster")
    conf = resolv_conf(scenario, pod)
    out = Lookup(name, conf)
    if name.rstrip(".") in ("localhost", pod.name):  # /etc/hosts, before any DNS
        out.address = "127.0.0.1" if name.rstrip(".") == "localhost" else pod.ip
        return out
    if not has_cluster_dns(scenario):
        out.error = "no DNS Service in this cluster"
        return out
    zone = records(scenario)
    for qname in candidates(name, conf):
        trace = sim.run_adhoc(source=pod.name, to=f"{conf.nameserver}:53", protocol="UDP")
        if trace.ending != "delivered":
            err = "connection refused" if trace.ending == "rejected" else "timed out"
            out.queries.append(Query(qname, err, trace=trace))
            out.error = err
            return out
        address = zone.get(qname.lower())
        out.queries.append(Query(qname, "NOERROR" if address else "NXDOMAIN", address, trace))
        if address:
            out.address = address
            return out
    out.error = "NXDOMAIN"
    return out
