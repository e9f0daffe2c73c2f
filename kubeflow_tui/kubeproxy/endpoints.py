"""From a Scenario's Services and Pods to what kube-proxy sees: EndpointSlices, service
ports and their endpoints.

Two views, both plain frozen dataclasses:

1. What the EndpointSlice controller publishes (``kubectl get endpointslices``):

   ``endpoint_slices(scenario) -> dict[str, list[EndpointSlice]]``, keyed by the Service
   key ``"namespace/name"`` (every Service appears; one with no selector or no matching
   pods has an empty list). An ``EndpointSlice`` has ``name`` (``<service>-<5 chars>``,
   deterministic), ``namespace``, ``service``, ``address_type`` ("IPv4"), ``ports``
   (tuple of ``EndpointPort(name, port, protocol)``; the resolved target ports) and
   ``endpoints`` (tuple of ``SliceEndpoint(address, pod, node, ready, serving,
   terminating)``).  Rules followed (k8s endpointslice controller):
     - pods in the Service's namespace whose labels contain the selector; a Service
       without a selector (None or ``{}``) gets no slices; one whose selector matches no
       pod gets the reconciler's placeholder slice (no ports, no endpoints);
     - ``targetPort`` unset -> ``port``; a number -> that number (no check against the
       pod); a name -> the pod's container port with that name *and* the Service port's
       protocol; a pod lacking it simply has that port missing, so pods that resolve
       named ports differently land in different slices;
     - conditions: ``ready = pod.ready and not pod.terminating``, ``serving = pod.ready``,
       ``terminating = pod.terminating`` (terminating pods stay in the slice);
     - at most 100 endpoints per slice.

2. What kube-proxy builds from those slices (``pkg/proxy/endpointslicecache.go``):

   ``service_port_endpoints(scenario) -> dict[ServicePortName, list[Endpoint]]``; one
   list per (service, port name, protocol) that some slice mentions, sorted by the
   ``"ip:port"`` *string* like upstream (so 10.244.1.10 sorts before 10.244.1.9); a
   duplicate address prefers the non-terminating endpoint. ``Endpoint`` has ``ip``,
   ``port``, ``pod``, ``node``, ``ready``, ``serving``, ``terminating``, ``.address``
   (``"ip:port"``) and ``.is_local(node_name)``.

   ``service_ports(scenario) -> list[ServicePortInfo]``: kube-proxy's per-port view of a
   Service (cluster IP, node port, LB VIPs, source ranges, policies, affinity).

   ``categorize_endpoints(endpoints, info, node_name)`` is upstream's
   ``CategorizeEndpoints`` (``pkg/proxy/topology.go``) without topology hints: Ready
   endpoints, falling back to serving+terminating ones (separately for the Cluster and
   the Local lists) only when there is no Ready one.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

from kubeflow_tui.scenario.models import Pod, Scenario, Service, ServicePort
from kubeflow_tui.scenario.system import api_server

MAX_ENDPOINTS_PER_SLICE = 100
# The alphabet Kubernetes' generateName uses for its random suffix.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True, order=True)
class ServicePortName:
    """``proxy.ServicePortName``: ``str()`` is ``"ns/name:port"`` or ``"ns/name"``."""

    namespace: str
    name: str
    port: str
    protocol: str  # "TCP" / "UDP"

    def __str__(self) -> str:
        base = f"{self.namespace}/{self.name}"
        return f"{base}:{self.port}" if self.port else base

    @property
    def proto(self) -> str:
        """Lower-case protocol as it appears in rules and chain hashes."""
        return self.protocol.lower()


@dataclass(frozen=True)
class EndpointPort:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class SliceEndpoint:
    address: str
    pod: str
    node: str
    ready: bool
    serving: bool
    terminating: bool


@dataclass(frozen=True)
class EndpointSlice:
    name: str
    namespace: str
    service: str
    ports: tuple[EndpointPort, ...]
    endpoints: tuple[SliceEndpoint, ...]
    address_type: str = "IPv4"

    @property
    def service_key(self) -> str:
        return f"{self.namespace}/{self.service}"


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    pod: str
    node: str
    ready: bool = True
    serving: bool = True
    terminating: bool = False

    @property
    def address(self) -> str:
        """``Endpoint.String()`` upstream: ``"10.244.1.5:8080"``."""
        return f"{self.ip}:{self.port}"

    def is_local(self, node_name: str) -> bool:
        return bool(node_name) and self.node == node_name

    def __str__(self) -> str:
        return self.address


@dataclass(frozen=True)
class ServicePortInfo:
    """One port of one Service, as kube-proxy's ServiceChangeTracker stores it."""

    name: ServicePortName
    cluster_ip: str
    port: int
    node_port: int = 0
    external_ips: tuple[str, ...] = ()
    load_balancer_vips: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    session_affinity_client_ip: bool = False
    sticky_max_age_seconds: int = 10800
    external_policy_local: bool = False
    internal_policy_local: bool = False
    health_check_node_port: int = 0
    service: Service | None = field(default=None, compare=False, repr=False)

    @property
    def protocol(self) -> str:
        return self.name.proto

    def externally_accessible(self) -> bool:
        return self.node_port != 0 or bool(self.load_balancer_vips) or bool(self.external_ips)

    def uses_cluster_endpoints(self) -> bool:
        # Even with externalTrafficPolicy Local, external access needs the Cluster chain
        # for the short-circuit rules.
        return not self.internal_policy_local or self.externally_accessible()

    def uses_local_endpoints(self) -> bool:
        return self.internal_policy_local or (
            self.external_policy_local and self.externally_accessible()
        )


# --------------------------------------------------------------------------- slices


def resolve_target_port(sp: ServicePort, pod: Pod) -> int | None:
    """``podutil.FindPort``: the pod port a Service port sends to, or None."""
    tp = sp.targetPort
    if tp is None:
        return sp.port
    if isinstance(tp, int):
        return tp
    for cp in pod.ports:
        if cp.name == tp and cp.protocol == sp.protocol:
            return cp.containerPort
    return None


def _slice_name(svc: Service, ports: tuple[EndpointPort, ...], index: int) -> str:
    seed = f"{svc.namespace}/{svc.name}|{ports!r}|{index}".encode()
    digest = hashlib.sha256(seed).digest()
    suffix = "".join(_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in digest[:5])
    return f"{svc.name}-{suffix}"


def service_slices(svc: Service, pods: list[Pod]) -> list[EndpointSlice]:
    groups: dict[tuple[EndpointPort, ...], list[SliceEndpoint]] = {}
    for pod in pods:
        if not svc.selects(pod):
            continue
        ports = []
        for sp in svc.ports:
            n = resolve_target_port(sp, pod)
            if n is not None:
                ports.append(EndpointPort(sp.name, n, sp.protocol))
        ep = SliceEndpoint(
            address=pod.ip,
            pod=pod.name,
            node=pod.node,
            ready=pod.ready and not pod.terminating,
            serving=pod.ready,
            terminating=pod.terminating,
        )
        groups.setdefault(tuple(ports), []).append(ep)
    slices: list[EndpointSlice] = []
    for ports, eps in groups.items():
        for i in range(0, len(eps), MAX_ENDPOINTS_PER_SLICE):
            chunk = tuple(eps[i : i + MAX_ENDPOINTS_PER_SLICE])
            slices.append(
                EndpointSlice(
                    name=_slice_name(svc, ports, len(slices)),
                    namespace=svc.namespace,
                    service=svc.name,
                    ports=ports,
                    endpoints=chunk,
                )
            )
    if not slices and svc.selector:
        # the EndpointSlice reconciler: "When no endpoint slices would usually exist, we
        # need to add a placeholder" -- one slice with no ports and no endpoints
        slices.append(EndpointSlice(name=_slice_name(svc, (), 0), namespace=svc.namespace,
                                    service=svc.name, ports=(), endpoints=()))
    return slices


def endpoint_slices(scenario: Scenario) -> dict[str, list[EndpointSlice]]:
    """Every Service's EndpointSlices, keyed by ``"namespace/name"``."""
    # pods by (namespace, label, value): a Service only looks at the pods that carry the
    # first pair of its selector (same result, in pod order; large clusters stay fast)
    index: dict[tuple[str, str, str], list[Pod]] = {}
    for pod in scenario.pods:
        for k, v in pod.labels.items():
            index.setdefault((pod.namespace, k, v), []).append(pod)

    def candidates(svc: Service) -> list[Pod]:
        if not svc.selector:
            return []
        k, v = next(iter(svc.selector.items()))
        return index.get((svc.namespace, k, v), [])

    out = {svc.key: service_slices(svc, candidates(svc)) for svc in scenario.services}
    api = api_server(scenario)
    for svc in scenario.services:
        if api and svc.key == "default/kubernetes" and not svc.selector:
            out[svc.key] = [api_server_slice(svc, api[1])]
    return out


def api_server_slice(svc: Service, address: str) -> EndpointSlice:
    """The slice the API server writes for ``default/kubernetes`` itself (its endpoint
    reconciler): named like the Service, the API server's address and port, no pod and
    no node name."""
    ports = tuple(EndpointPort(sp.name, sp.target if isinstance(sp.target, int) else sp.port, sp.protocol)
                  for sp in svc.ports)
    ep = SliceEndpoint(address=address, pod="", node="", ready=True, serving=True, terminating=False)
    return EndpointSlice(name=svc.name, namespace=svc.namespace, service=svc.name, ports=ports, endpoints=(ep,))


# ---------------------------------------------------------------- kube-proxy's view


def endpoints_from_slices(slices: list[EndpointSlice]) -> dict[ServicePortName, list[Endpoint]]:
    """``EndpointSliceCache``: group by service port, dedupe by address, sort by string."""
    by_port: dict[ServicePortName, dict[str, Endpoint]] = {}
    for sl in slices:
        for p in sl.ports:
            if not p.port:
                continue
            spn = ServicePortName(sl.namespace, sl.service, p.name, p.protocol)
            bucket = by_port.setdefault(spn, {})
            for e in sl.endpoints:
                ip = str(ipaddress.ip_address(e.address))
                ep = Endpoint(ip, p.port, e.pod, e.node, e.ready, e.serving, e.terminating)
                if ep.address not in bucket or not e.terminating:
                    bucket[ep.address] = ep
    return {
        spn: sorted(bucket.values(), key=lambda ep: ep.address)
        for spn, bucket in by_port.items()
        if bucket
    }


def service_port_endpoints(scenario: Scenario) -> dict[ServicePortName, list[Endpoint]]:
    out: dict[ServicePortName, list[Endpoint]] = {}
    for slices in endpoint_slices(scenario).values():
        out.update(endpoints_from_slices(slices))
    return out


def service_port_info(svc: Service, sp: ServicePort) -> ServicePortInfo:
    spn = ServicePortName(svc.namespace, svc.name, sp.name, sp.protocol)
    externally = svc.type in ("NodePort", "LoadBalancer")
    etp_local = externally and svc.externalTrafficPolicy == "Local"
    lb_vips: tuple[str, ...] = ()
    if svc.type == "LoadBalancer" and svc.loadBalancerIP:
        lb_vips = (svc.loadBalancerIP,)
    hc = 0
    if svc.type == "LoadBalancer" and svc.externalTrafficPolicy == "Local":
        hc = svc.healthCheckNodePort or 0  # upstream logs an error and uses none if 0
    return ServicePortInfo(
        name=spn,
        cluster_ip=svc.clusterIP,
        port=sp.port,
        node_port=(sp.nodePort or 0) if externally else 0,
        external_ips=tuple(svc.externalIPs),
        load_balancer_vips=lb_vips,
        load_balancer_source_ranges=tuple(svc.loadBalancerSourceRanges),
        session_affinity_client_ip=svc.sessionAffinity == "ClientIP",
        sticky_max_age_seconds=svc.sessionAffinityTimeoutSeconds,
        external_policy_local=etp_local,
        internal_policy_local=svc.internalTrafficPolicy == "Local",
        health_check_node_port=hc,
        service=svc,
    )


def service_ports(scenario: Scenario) -> list[ServicePortInfo]:
    """Every port of every Service (scenario order)."""
    return [service_port_info(svc, sp) for svc in scenario.services for sp in svc.ports]


# ------------------------------------------------------------------- categorize


@dataclass(frozen=True)
class Categorized:
    cluster: tuple[Endpoint, ...]
    local: tuple[Endpoint, ...]
    all_reachable: tuple[Endpoint, ...]
    has_any: bool


def categorize_endpoints(
    endpoints: list[Endpoint], info: ServicePortInfo, node_name: str
) -> Categorized:
    cluster: list[Endpoint] = []
    local: list[Endpoint] = []
    has_any = False
    use_serving_terminating = False

    if info.uses_cluster_endpoints():
        cluster = [ep for ep in endpoints if ep.ready]
        if not cluster:
            cluster = [ep for ep in endpoints if ep.serving and ep.terminating]
        if cluster:
            has_any = True

    if not info.uses_local_endpoints():
        return Categorized(tuple(cluster), (), tuple(cluster), has_any)

    has_local_ready = has_local_serving_terminating = False
    for ep in endpoints:
        if ep.ready:
            has_any = True
            if ep.is_local(node_name):
                has_local_ready = True
        elif ep.serving and ep.terminating:
            has_any = True
            if ep.is_local(node_name):
                has_local_serving_terminating = True

    if has_local_ready:
        local = [ep for ep in endpoints if ep.is_local(node_name) and ep.ready]
    elif has_local_serving_terminating:
        use_serving_terminating = True
        local = [
            ep for ep in endpoints if ep.is_local(node_name) and ep.serving and ep.terminating
        ]

    if not info.uses_cluster_endpoints():
        return Categorized((), tuple(local), tuple(local), has_any)

    if not use_serving_terminating:
        return Categorized(tuple(cluster), tuple(local), tuple(cluster), has_any)

    # Upstream merges the two lists through a map (random order); we sort by address.
    merged = {ep.address: ep for ep in cluster}
    merged.update({ep.address: ep for ep in local})
    reach = tuple(sorted(merged.values(), key=lambda ep: ep.address))
    return Categorized(tuple(cluster), tuple(local), reach, has_any)
