"""The scenario schema: a cluster, its pods and Services, clients, a load balancer,
named flows and a timeline of events.  pydantic v2; unknown keys are errors.

Field names follow Kubernetes' own spelling (``clusterIP``, ``targetPort``,
``externalTrafficPolicy``) so a learner recognises them from real manifests.

Two layers of checks:

* each model checks itself (types, address syntax, ranges, fields that only make
  sense together).  A failure inside a model is raised as a ``PydanticCustomError``
  whose ``ctx["at"]`` holds the path *below* the model (``("ports", 1, "nodePort")``)
  so the YAML loader can point at the exact line;
* :func:`~kubeflow_tui.scenario.crosscheck.cross_check` checks the scenario as a whole
  (references between objects, address plans, uniqueness).  ``Scenario`` runs it after validation: built directly
  in Python it raises on the first problem; the loader passes a validation context
  with an ``"issues"`` list and gets all of them, each with its path.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

NODEPORT_MIN, NODEPORT_MAX = 30000, 32767

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DNS_LABEL_RE = re.compile(DNS_LABEL)
# IANA service name, as Kubernetes validates container port names and named targetPorts
_PORT_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TO_RE = re.compile(r"^([0-9.]+):([0-9]+)$")

Path = tuple[Union[str, int], ...]


def _fail(msg: str, *at: str | int) -> PydanticCustomError:
    """A validation error located ``at`` a path below the model raising it."""
    return PydanticCustomError("scenario", "{msg}", {"msg": msg, "at": tuple(at)})


def _ip(v: str) -> str:
    try:
        return str(ipaddress.IPv4Address(v))
    except ValueError:
        raise _fail(f"{v!r} is not a valid IPv4 address") from None


def _cidr(v: str) -> str:
    try:
        return str(ipaddress.IPv4Network(v, strict=True))
    except ValueError as e:
        if "host bits set" in str(e):
            fixed = ipaddress.IPv4Network(v, strict=False)
            raise _fail(f"{v!r} has host bits set (did you mean {fixed}?)") from None
        if "/" not in str(v):
            raise _fail(f"{v!r} is not a CIDR: write it as ADDRESS/PREFIX, e.g. 10.244.0.0/16") from None
        raise _fail(f"{v!r} is not a valid IPv4 CIDR") from None


def _port_name(v: str, what: str) -> str:
    if not (1 <= len(v) <= 15 and _PORT_NAME_RE.match(v) and re.search("[a-z]", v)):
        raise _fail(
            f"{what} {v!r} is not a valid port name (1-15 lowercase letters, digits "
            "and '-', at least one letter, no leading or trailing '-')"
        )
    return v


def _node_port(v: int | None, what: str = "nodePort") -> int | None:
    if v is not None and not NODEPORT_MIN <= v <= NODEPORT_MAX:
        raise _fail(f"{what} {v} is outside the NodePort range {NODEPORT_MIN}-{NODEPORT_MAX}")
    return v


_IPV4 = {"format": "ipv4"}
_CIDR = {"pattern": r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"}


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True
    )


class Node(_Strict):
    """A Kubernetes node: a host on the node network with a range of pod IPs routed to it."""

    name: str = Field(pattern=DNS_LABEL, max_length=63, description="Node name, e.g. node-a")
    ip: str = Field(
        description="The node's InternalIP on cluster.nodeNetwork, e.g. 192.168.1.10",
        json_schema_extra=_IPV4,
    )
    podCIDR: str = Field(
        description="The pod range routed to this node, inside cluster.clusterCIDR, "
        "e.g. 10.244.1.0/24; its first host (10.244.1.1) is the pods' gateway",
        json_schema_extra=_CIDR,
    )

    syncLag: bool = Field(
        False, description="kube-proxy on this node applies each EndpointSlice change one sync "
        "late (a slow watch, a busy node, a long iptables-restore): its rules show the cluster as "
        "it was before the last change, the window in which a rollout's old pods are still DNAT "
        "targets here after they stopped")

    legacyRules: str | None = Field(
        None, description="Rules in the node's legacy x_tables backend, as iptables-legacy-save "
        "prints them (the filter table only), e.g. left by an old bootstrap script or CNI. "
        "`iptables` (the nf_tables backend kube-proxy uses) does not list them, only warns "
        "that legacy tables exist; the kernel runs their hooks beside kube-proxy's chains")

    _v_ip = field_validator("ip")(classmethod(lambda cls, v: _ip(v)))
    _v_cidr = field_validator("podCIDR")(classmethod(lambda cls, v: _cidr(v)))

    @field_validator("legacyRules")
    @classmethod
    def _legacy(cls, v: str | None) -> str | None:
        # (the rules themselves are parsed by the cluster, which may use netfilter/)
        if v is None:
            return v
        tables = [line.strip()[1:] for line in v.splitlines() if line.strip().startswith("*")]
        other = sorted(set(tables) - {"filter"})
        if other:
            raise _fail(f"only the filter table is modelled in the legacy backend (got {', '.join(other)})")
        if not tables:
            raise _fail("iptables-legacy-save text starts a table with *filter")
        return v


class UpstreamDNS(_Strict):
    """The resolver CoreDNS forwards names outside cluster.local to (kubeadm's Corefile:
    ``forward . /etc/resolv.conf``; the nodes' resolv.conf names a resolver on the node
    network).  It knows the names declared here; any other name does not exist for it."""

    records: dict[str, str] = Field(
        default_factory=dict,
        description="Names the upstream resolver answers, each with its IPv4 address, e.g. "
        "example.com: 93.184.215.14",
    )
    ttl: int = Field(
        300,
        ge=1,
        le=2147483647,
        description="The TTL the upstream gives its answers, in seconds; CoreDNS's cache "
        "(kubeadm's Corefile: cache 30) caps what a pod sees at 30",
    )

    @field_validator("records")
    @classmethod
    def _records(cls, v: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, ip in v.items():
            n = name.rstrip(".").lower()
            if not n or n.endswith(".cluster.local") or n == "cluster.local" or any(
                    not lab or len(lab) > 63 for lab in n.split(".")):
                raise _fail("not a name CoreDNS forwards: give a DNS name outside cluster.local, "
                            "e.g. example.com", name)
            try:
                out[n] = str(ipaddress.IPv4Address(ip))
            except ValueError:
                raise _fail(f"{ip!r} is not a valid IPv4 address", name) from None
        return out


class Cluster(_Strict):
    """Address plan and nodes of the cluster."""

    clusterCIDR: str = Field(
        "10.244.0.0/16",
        description="All pod IPs (kube-proxy --cluster-cidr); every node's podCIDR lies inside it",
        json_schema_extra=_CIDR,
    )
    serviceCIDR: str = Field(
        "10.96.0.0/12",
        description="Where ClusterIPs come from (kube-apiserver --service-cluster-ip-range)",
        json_schema_extra=_CIDR,
    )
    nodeNetwork: str = Field(
        "192.168.1.0/24",
        description="The L2 network shared by nodes, external clients and the load balancer; "
        "its first host is the default router",
        json_schema_extra=_CIDR,
    )
    nodes: list[Node] = Field(min_length=1, description="The nodes (at least one)")
    hostVethAddress: bool = Field(
        True,
        description="CNI style.  true (ptp- or bridge-like CNIs): the node's end of each pod "
        "veth carries the pod gateway (first host of the podCIDR), and MASQUERADE out of a veth "
        "uses it; false (Calico-like): the node's end has no address, the node answers the "
        "pods' ARP for the gateway by proxy ARP, and MASQUERADE out of a veth picks the node IP",
    )
    systemServices: bool = Field(
        True,
        description="true: the cluster has what kubeadm and kind create in every cluster: "
        "default/kubernetes at the first Service IP (https 443 -> the API server on the first "
        "node, port 6443; its endpoint is that node's IP, not a pod) and kube-system/kube-dns at "
        "the tenth (dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP) with two CoreDNS pods "
        "(coredns-1, coredns-2, Deployment coredns) on the first node.  This is the default, "
        "as in every kubeadm or kind cluster.  false: only the scenario's own Services, so a "
        "scenario may put its own Service at 10.96.0.1 as the lessons that retell the seed "
        "article do",
    )
    upstreamDNS: UpstreamDNS = Field(
        default_factory=UpstreamDNS,
        description="The resolver on the node network that CoreDNS forwards names outside "
        "cluster.local to, and the names it knows (dig example.com from a pod)",
    )
    proxyMode: Literal["iptables", "nftables"] = Field(
        "iptables",
        description="kube-proxy's --proxy-mode: iptables (the default) or nftables (GA since "
        "Kubernetes 1.33): which rules kube-proxy writes on every node",
    )

    _v_cidrs = field_validator("clusterCIDR", "serviceCIDR", "nodeNetwork")(
        classmethod(lambda cls, v: _cidr(v))
    )


class ContainerPort(_Strict):
    """A port a container listens on."""

    name: str | None = Field(
        None,
        max_length=15,
        description="Port name that a Service's targetPort can refer to, e.g. http",
    )
    containerPort: int = Field(ge=1, le=65535, description="Port number, 1-65535")
    protocol: Literal["TCP", "UDP", "SCTP"] = Field("TCP", description="TCP, UDP or SCTP")

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return None if v is None else _port_name(v, "port name")


class PodDNSOption(_Strict):
    """One resolver option of a pod's ``dnsConfig`` (written to its /etc/resolv.conf)."""

    name: Literal["ndots"] = Field(
        description="The option; the simulated resolver knows ndots (how many dots make a "
        "name be tried as it is before the search list)"
    )
    value: str = Field(pattern=r"^([0-9]|1[0-5])$", description="ndots: 0-15 (glibc caps it at 15)")


class PodDNSConfig(_Strict):
    """A pod's ``spec.dnsConfig``: merged by the kubelet into the resolv.conf it writes for
    dnsPolicy ClusterFirst (its searches after the cluster's, its options over ndots:5)."""

    searches: list[str] = Field(
        default_factory=list,
        description="Search domains added after <ns>.svc.cluster.local svc.cluster.local cluster.local",
    )
    options: list[PodDNSOption] = Field(
        default_factory=list, description="Resolver options, e.g. {name: ndots, value: \"2\"}"
    )

    @field_validator("searches")
    @classmethod
    def _searches(cls, v: list[str]) -> list[str]:
        for d in v:
            if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", d):
                raise _fail(f"{d!r} is not a DNS domain (lower-case labels joined by dots)")
        return v


class Pod(_Strict):
    """A pod: one IP from its node's podCIDR, labels that Services select on."""

    name: str = Field(
        pattern=DNS_LABEL, max_length=63, description="Pod name, unique in the scenario"
    )
    namespace: str = Field(
        "default", pattern=DNS_LABEL, max_length=63, description="Namespace (default: default)"
    )
    node: str = Field(description="Name of the node the pod runs on")
    ip: str = Field(
        description="Pod IP, inside the node's podCIDR (not its first host, the gateway)",
        json_schema_extra=_IPV4,
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Labels, matched by Service selectors"
    )
    ports: list[ContainerPort] = Field(
        default_factory=list, description="Container ports (named ones serve named targetPorts)"
    )
    ready: bool = Field(True, description="Ready pods are serving endpoints")
    terminating: bool = Field(
        False, description="A terminating pod's endpoint is not ready (kept for graceful drain)"
    )
    deployment: str | None = Field(
        None, description="The Deployment this pod belongs to (for `kubectl scale`)"
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="The container's environment: the app's configuration, e.g. the name it "
        "connects to (PAYMENTS_HOST: payments); `kubectl set env deployment/NAME` changes it",
    )
    dnsConfig: PodDNSConfig | None = Field(
        None, description="Extra search domains and resolver options for the pod's /etc/resolv.conf"
    )
    preStopSleepSeconds: int = Field(
        0, ge=0, le=3600, description="lifecycle.preStop sleep of its container (0: no preStop "
        "hook). On deletion the kubelet runs the hook before SIGTERM, so the app keeps serving "
        "(and passing readiness) while every node's kube-proxy drops the endpoint")
    exited: bool = Field(
        False, description="Its container has exited (an app without a preStop hook stops at "
        "SIGTERM): the pod's network namespace and address stay until the kubelet removes the "
        "sandbox, and nothing listens, so its kernel answers TCP with RST, UDP with ICMP port "
        "unreachable. An exited pod is not ready")

    _v_ip = field_validator("ip")(classmethod(lambda cls, v: _ip(v)))

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        for k in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", k):
                raise _fail(f"{k!r} is not an environment variable name", k)
        return v

    @model_validator(mode="after")
    def _exited(self):
        if self.exited and self.ready:
            raise _fail("an exited pod cannot be ready (set ready: false)", "exited")
        return self

    @model_validator(mode="after")
    def _ports(self):
        seen: dict[str, int] = {}
        for i, p in enumerate(self.ports):
            if p.name is not None:
                if p.name in seen:
                    raise _fail(f"duplicate port name {p.name!r} (also ports[{seen[p.name]}])",
                                "ports", i, "name")
                seen[p.name] = i
        return self


class ServicePort(_Strict):
    """One port of a Service."""

    name: str = Field(
        "", description="Port name; required (and unique) when the Service has several ports"
    )
    port: int = Field(ge=1, le=65535, description="The Service port, on the ClusterIP and LB IP")
    targetPort: Union[int, str, None] = Field(
        None,
        description="Pod port: a number, or the name of a container port; defaults to port",
    )
    nodePort: int | None = Field(
        None,
        description=f"Port on every node ({NODEPORT_MIN}-{NODEPORT_MAX}); required for "
        "type NodePort and LoadBalancer (the simulator does not allocate one)",
    )
    protocol: Literal["TCP", "UDP", "SCTP"] = Field("TCP", description="TCP, UDP or SCTP")

    @field_validator("targetPort")
    @classmethod
    def _target(cls, v):
        if isinstance(v, bool):
            raise _fail("targetPort must be a port number or a port name")
        if isinstance(v, int) and not 1 <= v <= 65535:
            raise _fail(f"targetPort {v} must be between 1 and 65535")
        if isinstance(v, str):
            _port_name(v, "targetPort")
        return v

    @field_validator("nodePort")
    @classmethod
    def _np(cls, v):
        return _node_port(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return v if v == "" else _port_name(v, "port name")

    @property
    def target(self) -> int | str:
        """targetPort with its default (the port number) applied."""
        return self.port if self.targetPort is None else self.targetPort


class Service(_Strict):
    """A Service, as kube-proxy sees it."""

    name: str = Field(pattern=DNS_LABEL, max_length=63, description="Service name")
    namespace: str = Field(
        "default", pattern=DNS_LABEL, max_length=63, description="Namespace (default: default)"
    )
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "ClusterIP", description="ClusterIP, NodePort or LoadBalancer"
    )
    clusterIP: str = Field(
        description="The virtual IP, inside cluster.serviceCIDR, e.g. 10.96.0.1",
        json_schema_extra=_IPV4,
    )
    ports: list[ServicePort] = Field(min_length=1, description="Service ports (at least one)")
    selector: dict[str, str] | None = Field(
        None,
        description="Pods in the same namespace whose labels include all of these are "
        "endpoints; absent: no endpoints",
    )
    externalIPs: list[str] = Field(
        default_factory=list, description="Extra IPs the Service answers on (spec.externalIPs)"
    )
    loadBalancerIP: str | None = Field(
        None,
        description="type LoadBalancer: the balancer's address for this Service "
        "(status.loadBalancer.ingress[0].ip), e.g. 203.0.113.5",
        json_schema_extra=_IPV4,
    )
    loadBalancerSourceRanges: list[str] = Field(
        default_factory=list,
        description="type LoadBalancer: only these source CIDRs may use the LB IP",
    )
    sessionAffinity: Literal["None", "ClientIP"] = Field(
        "None", description="ClientIP: a client keeps landing on the same endpoint"
    )
    sessionAffinityTimeoutSeconds: int = Field(
        10800, ge=1, le=86400, description="How long ClientIP affinity lasts (iptables recent)"
    )
    externalTrafficPolicy: Literal["Cluster", "Local"] = Field(
        "Cluster",
        description="Local: NodePort/LB traffic only goes to endpoints on the receiving node "
        "and keeps the client's source IP",
    )
    internalTrafficPolicy: Literal["Cluster", "Local"] = Field(
        "Cluster",
        description="Local: traffic from inside the cluster only goes to endpoints on the "
        "sender's node",
    )
    healthCheckNodePort: int | None = Field(
        None,
        description="type LoadBalancer with externalTrafficPolicy Local: the health check port",
    )

    _v_ip = field_validator("clusterIP")(classmethod(lambda cls, v: _ip(v)))

    @field_validator("externalIPs")
    @classmethod
    def _ext(cls, v):
        out = []
        for i, x in enumerate(v):
            try:
                out.append(_ip(x))
            except PydanticCustomError:
                raise _fail(f"{x!r} is not a valid IPv4 address", i) from None
        return out

    @field_validator("loadBalancerIP")
    @classmethod
    def _lb(cls, v):
        return None if v is None else _ip(v)

    @field_validator("loadBalancerSourceRanges")
    @classmethod
    def _ranges(cls, v):
        out = []
        for i, x in enumerate(v):
            try:
                out.append(str(ipaddress.IPv4Network(x, strict=False)))
            except ValueError:
                raise _fail(f"{x!r} is not a valid IPv4 CIDR", i) from None
        return out

    @field_validator("healthCheckNodePort")
    @classmethod
    def _hc(cls, v):
        return _node_port(v, "healthCheckNodePort")

    @model_validator(mode="after")
    def _ports(self):
        multi = len(self.ports) > 1
        names: dict[str, int] = {}
        numbers: dict[tuple[int, str], int] = {}
        node_ports: dict[tuple[int, str], int] = {}
        for i, p in enumerate(self.ports):
            if multi and not p.name:
                raise _fail("every port needs a name when a Service has more than one", "ports", i)
            if p.name:
                if p.name in names:
                    raise _fail(f"duplicate port name {p.name!r} (also ports[{names[p.name]}])",
                                "ports", i, "name")
                names[p.name] = i
            if (p.port, p.protocol) in numbers:
                raise _fail(f"duplicate port {p.port}/{p.protocol} "
                            f"(also ports[{numbers[p.port, p.protocol]}])", "ports", i, "port")
            numbers[p.port, p.protocol] = i
            if p.nodePort is not None:
                if self.type == "ClusterIP":
                    raise _fail("nodePort is only allowed for type NodePort or LoadBalancer",
                                "ports", i, "nodePort")
                if (p.nodePort, p.protocol) in node_ports:
                    raise _fail(f"duplicate nodePort {p.nodePort}/{p.protocol} "
                                f"(also ports[{node_ports[p.nodePort, p.protocol]}])",
                                "ports", i, "nodePort")
                node_ports[p.nodePort, p.protocol] = i
            elif self.type != "ClusterIP":
                raise _fail(
                    f"type {self.type} needs an explicit nodePort "
                    f"({NODEPORT_MIN}-{NODEPORT_MAX}) on every port; none is allocated for you",
                    "ports", i,
                )
        if self.type == "LoadBalancer" and self.loadBalancerIP is None:
            raise _fail("type LoadBalancer needs loadBalancerIP (the balancer's address)")
        if self.type != "LoadBalancer":
            for f in ("loadBalancerIP", "loadBalancerSourceRanges", "healthCheckNodePort"):
                if getattr(self, f):
                    raise _fail(f"{f} is only allowed for type LoadBalancer", f)
        if self.type == "ClusterIP" and self.externalTrafficPolicy == "Local":
            raise _fail("externalTrafficPolicy Local needs type NodePort or LoadBalancer",
                        "externalTrafficPolicy")
        if self.healthCheckNodePort is not None:
            if self.externalTrafficPolicy != "Local":
                raise _fail("healthCheckNodePort needs externalTrafficPolicy Local",
                            "healthCheckNodePort")
            if any(self.healthCheckNodePort == p.nodePort for p in self.ports):
                raise _fail(f"healthCheckNodePort {self.healthCheckNodePort} is also a nodePort",
                            "healthCheckNodePort")
        return self

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def selects(self, pod: Pod) -> bool:
        """Whether the selector picks this pod (readiness not considered)."""
        return (
            bool(self.selector)
            and pod.namespace == self.namespace
            and all(pod.labels.get(k) == v for k, v in self.selector.items())
        )


class Client(_Strict):
    """Somebody who starts a flow: an external machine, or a process on a node or in a pod."""

    name: str = Field(pattern=DNS_LABEL, max_length=63, description="Client name")
    kind: Literal["external", "node", "pod"] = Field(
        "external",
        description="external: a machine on the node network; node: a process in a node's "
        "host network namespace; pod: a process in a pod",
    )
    ip: str | None = Field(
        None,
        description="kind external: its address on cluster.nodeNetwork, e.g. 192.168.1.2",
        json_schema_extra=_IPV4,
    )
    node: str | None = Field(None, description="kind node: the node the process runs on")
    pod: str | None = Field(None, description="kind pod: the pod the process runs in")

    _v_ip = field_validator("ip")(classmethod(lambda cls, v: None if v is None else _ip(v)))

    @model_validator(mode="after")
    def _kind(self):
        needs = {"external": "ip", "node": "node", "pod": "pod"}
        need = needs[self.kind]
        if getattr(self, need) is None:
            raise _fail(f"a client of kind {self.kind} needs {need}")
        for kind, f in needs.items():
            if f != need and getattr(self, f) is not None:
                raise _fail(f"{f} is only for clients of kind {kind}", f)
        return self


class LoadBalancer(_Strict):
    """The cloud load balancer in front of LoadBalancer Services."""

    name: str = Field("lb", pattern=DNS_LABEL, max_length=63, description="Its host name")
    ip: str = Field(
        description="The balancer's own address on cluster.nodeNetwork",
        json_schema_extra=_IPV4,
    )
    style: Literal["vip", "proxy"] = Field(
        "vip",
        description="vip: the packet keeps dst=LB IP and is routed to a node; "
        "proxy: the balancer opens its own connection to a node's NodePort",
    )
    nodes: list[str] = Field(default_factory=list, description="Backend nodes; empty = all")

    _v_ip = field_validator("ip")(classmethod(lambda cls, v: _ip(v)))


class KubeProxy(_Strict):
    """kube-proxy configuration that changes its rules (defaults: a kubeadm/kind cluster)."""

    detectLocalMode: Literal["ClusterCIDR", "NodeCIDR", "None"] = Field(
        "ClusterCIDR",
        description="How kube-proxy tells pod traffic from other traffic. ClusterCIDR (kubeadm "
        "and kind pass --cluster-cidr): sources outside cluster.clusterCIDR are masqueraded on "
        "the way to a ClusterIP; NodeCIDR: outside the node's own podCIDR; None: no detector "
        "(ClusterCIDR mode without a CIDR), so ClusterIP traffic is never masqueraded",
    )
    masqueradeAll: bool = Field(
        False, description="kube-proxy --masquerade-all: masquerade all traffic to ClusterIPs"
    )
    nodePortAddresses: list[str] | None = Field(
        None,
        description="kube-proxy --nodeport-addresses: the node addresses NodePorts answer on, "
        "as CIDRs (e.g. [192.168.1.0/24]) or [primary] (the node IP only).  Unset: iptables mode "
        "accepts NodePorts on every local address (-m addrtype --dst-type LOCAL, 127.0.0.1 "
        "included: localhost NodePorts), nftables mode reads it as primary.  CIDRs give one "
        "'-d <address> -j KUBE-NODEPORTS' rule per node address inside them (nftables: the "
        "nodeport-ips set); without a loopback CIDR there are no localhost NodePorts",
    )
    minSyncPeriod: float = Field(
        1.0, ge=0, le=3600,
        description="kube-proxy --iptables-min-sync-period (iptables.minSyncPeriod), in seconds "
        "(default 1): a sync starts no sooner than this after the previous one ended; changes "
        "that arrive meanwhile wait and are written together by one sync.  Seen on a timeline "
        "whose events carry 'at'",
    )
    syncPeriod: float = Field(
        30.0, gt=0, le=86400,
        description="kube-proxy --iptables-sync-period (iptables.syncPeriod), in seconds (default "
        "30): how soon a failed sync is retried and how often kube-proxy checks that its canary "
        "chains still exist (a full sync when one is gone).  The periodic full sync comes every "
        "hour whatever this says",
    )

    @field_validator("nodePortAddresses")
    @classmethod
    def _npa(cls, v):
        if v is None:
            return v
        if v == ["primary"]:
            return v
        out = []
        for i, x in enumerate(v):
            if x == "primary":
                raise _fail("'primary' must be the only entry of nodePortAddresses", i)
            try:
                out.append(str(ipaddress.IPv4Network(x, strict=True)))
            except ValueError:
                raise _fail(f"{x!r} is not a CIDR (e.g. 192.168.1.0/24) or 'primary'", i) from None
        if not out:
            raise _fail("nodePortAddresses needs at least one CIDR, or leave it out")
        return out


class LabelSelector(_Strict):
    """A label selector (``matchLabels`` only); empty selects everything."""

    matchLabels: dict[str, str] = Field(default_factory=dict, description="Labels that must all match")

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.matchLabels.items())


class IPBlock(_Strict):
    """A CIDR, minus some sub-ranges."""

    cidr: str = Field(description="e.g. 192.168.1.0/24", json_schema_extra=_CIDR)
    except_: list[str] = Field(default_factory=list, alias="except",
                               description="CIDRs inside cidr that do not match")

    @field_validator("cidr")
    @classmethod
    def _c(cls, v):
        return _cidr(v)

    @field_validator("except_")
    @classmethod
    def _e(cls, v):
        out = []
        for i, x in enumerate(v):
            try:
                out.append(_cidr(x))
            except PydanticCustomError as e:
                raise _fail(str(e), i) from None
        return out

    @model_validator(mode="after")
    def _inside(self):
        net = ipaddress.IPv4Network(self.cidr)
        for i, x in enumerate(self.except_):
            if not ipaddress.IPv4Network(x).subnet_of(net):
                raise _fail(f"except {x} is not inside cidr {self.cidr}", "except", i)
        return self


class PolicyPeer(_Strict):
    """Who a rule allows: pods (podSelector, in the policy's namespace unless
    namespaceSelector says which namespaces), or addresses (ipBlock)."""

    podSelector: LabelSelector | None = Field(None, description="Pods with these labels")
    namespaceSelector: LabelSelector | None = Field(
        None, description="Namespaces with these labels; a namespace here has only the label "
        "kubernetes.io/metadata.name: <its name>, as every namespace does")
    ipBlock: IPBlock | None = Field(None, description="Addresses in a CIDR (for pods too: what the "
                                    "CNI sees is the packet's source or destination address)")

    @model_validator(mode="after")
    def _one(self):
        if self.ipBlock is not None and (self.podSelector is not None or self.namespaceSelector is not None):
            raise _fail("ipBlock cannot be combined with podSelector or namespaceSelector", "ipBlock")
        if self.ipBlock is None and self.podSelector is None and self.namespaceSelector is None:
            raise _fail("a peer needs podSelector, namespaceSelector or ipBlock")
        return self


class PolicyPort(_Strict):
    """A port a rule allows (on the destination: the pod's port after DNAT)."""

    protocol: Literal["TCP", "UDP"] = Field("TCP", description="TCP or UDP")
    port: Union[int, str, None] = Field(None, description="A number, or a named container port; "
                                        "absent: every port")
    endPort: int | None = Field(None, ge=1, le=65535, description="With a numeric port: a range port..endPort")

    @field_validator("port")
    @classmethod
    def _p(cls, v):
        if isinstance(v, bool):
            raise _fail("port must be a port number or a port name")
        if isinstance(v, int) and not 1 <= v <= 65535:
            raise _fail(f"port {v} must be between 1 and 65535")
        if isinstance(v, str):
            _port_name(v, "port")
        return v

    @model_validator(mode="after")
    def _range(self):
        if self.endPort is not None and (not isinstance(self.port, int) or self.endPort < self.port):
            raise _fail("endPort needs a numeric port no larger than it", "endPort")
        return self


class IngressRule(_Strict):
    """Sources and ports a policy lets in (both must match; an empty list matches all)."""

    from_: list[PolicyPeer] = Field(default_factory=list, alias="from",
                                    description="Sources allowed; empty: every source")
    ports: list[PolicyPort] = Field(default_factory=list, description="Ports allowed; empty: every port")


class EgressRule(_Strict):
    """Destinations (after DNAT) and ports a policy lets out (an empty list matches all)."""

    to: list[PolicyPeer] = Field(default_factory=list, description="Destinations allowed; empty: every one")
    ports: list[PolicyPort] = Field(default_factory=list, description="Ports allowed; empty: every port")


class NetworkPolicy(_Strict):
    """A NetworkPolicy, as the CNI enforces it beside the pods it selects."""

    name: str = Field(pattern=DNS_LABEL, max_length=63, description="Policy name")
    namespace: str = Field("default", pattern=DNS_LABEL, max_length=63, description="Namespace")
    podSelector: LabelSelector = Field(default_factory=LabelSelector,
                                       description="The pods it isolates ({} = all pods of its namespace)")
    policyTypes: list[Literal["Ingress", "Egress"]] | None = Field(
        None, description="Ingress, Egress or both; absent: Ingress, plus Egress if egress rules are given")
    ingress: list[IngressRule] = Field(default_factory=list, description="What may reach the pods")
    egress: list[EgressRule] = Field(default_factory=list, description="What the pods may reach")

    @property
    def types(self) -> tuple[str, ...]:
        if self.policyTypes is not None:
            return tuple(self.policyTypes)
        return ("Ingress", "Egress") if self.egress else ("Ingress",)

    def selects(self, pod: Pod) -> bool:
        return pod.namespace == self.namespace and self.podSelector.matches(pod.labels)


class Flow(_Strict):
    """A named connection the learner can watch: who connects to which IP:PORT."""

    name: str = Field(
        pattern=DNS_LABEL, max_length=63, description="Flow name, kebab-case, e.g. pod-same-node"
    )
    description: str = Field("", description="One sentence for the learner")
    from_: str = Field(
        alias="from", description="Who connects: a client name, a pod name or a node name"
    )
    to: str = Field(
        description="IP:PORT the client connects to, e.g. 10.96.0.1:8080",
        json_schema_extra={"pattern": r"^[0-9]{1,3}(\.[0-9]{1,3}){3}:[0-9]{1,5}$"},
    )
    protocol: Literal["TCP", "UDP", "SCTP"] = Field("TCP", description="TCP, UDP or SCTP")
    endpoint: str | None = Field(
        None, description="Pin the endpoint the kernel picks (a pod the Service selects)"
    )
    via: str | None = Field(
        None,
        description="Flows from an external client through the load balancer: the node the "
        "balancer picks (required there, not allowed elsewhere)",
    )
    sourcePort: int = Field(
        40000, ge=1024, le=65535, description="The client's source port (default 40000)"
    )
    keepOpen: bool = Field(
        False,
        description="TCP: the client keeps the connection open after the response (a pooled or "
        "long-lived connection): no FIN is sent, and its conntrack entries stay ESTABLISHED",
    )
    at: float | None = Field(
        None, ge=0,
        description="Seconds since the timeline started: the flow runs then, after the events "
        "up to that time, and meets the rules of kube-proxy's last sync at or before it (which "
        "may not have written the latest changes yet).  Needs a timeline whose events carry at",
    )
    after: list[str] = Field(
        default_factory=list,
        description="Flows to run first on the same cluster (their packets are not part of this "
        "flow's trace): what they leave behind, such as conntrack entries and -m recent lists, "
        "is what this flow meets. E.g. a second request under session affinity.",
    )

    @field_validator("to")
    @classmethod
    def _to(cls, v: str) -> str:
        m = _TO_RE.match(v)
        if not m:
            raise _fail(f"{v!r} is not IP:PORT, e.g. 10.96.0.1:8080")
        ip = _ip(m.group(1))
        p = int(m.group(2))
        if not 1 <= p <= 65535:
            raise _fail(f"port {m.group(2)} in {v!r} must be between 1 and 65535")
        return f"{ip}:{p}"

    @property
    def dst_ip(self) -> str:
        return self.to.rpartition(":")[0]

    @property
    def dst_port(self) -> int:
        return int(self.to.rpartition(":")[2])


_EVENT_NEEDS: dict[str, tuple[str, ...]] = {
    "scale": ("deployment", "replicas"),
    "delete-pod": ("pod",),
    "delete-service": ("service",),
    "set-selector": ("service", "selector"),
    "add-pod": ("newPod",),
    "full-resync": (),
}


class Event(_Strict):
    """One step of the timeline: something changes and kube-proxy resyncs."""

    action: Literal["scale", "delete-pod", "delete-service", "set-selector", "add-pod", "full-resync"] = Field(
        description="scale (deployment, replicas), delete-pod (pod), delete-service (service), "
        "set-selector (service, selector), add-pod (newPod), or full-resync: nothing changes but "
        "kube-proxy does a full sync (its hourly one, or a restart), rewriting every chain; the "
        "other actions' syncs are partial (only the changed Services' chains and the top-level ones)"
    )
    deployment: str | None = Field(None, description="scale: the Deployment (pods' deployment)")
    replicas: int | None = Field(None, ge=0, le=100, description="scale: the new replica count")
    pod: str | None = Field(None, description="delete-pod: the pod's name")
    service: str | None = Field(None, description="namespace/name or name")
    selector: dict[str, str] | None = Field(None, description="set-selector: the new selector")
    newPod: Pod | None = Field(None, description="add-pod: the pod to create")
    at: float | None = Field(
        None, ge=0,
        description="Seconds since the timeline started, when the change reaches the API server "
        "(every event or none; never earlier than the event before).  kube-proxy then syncs as its "
        "runner schedules it: at once if its last sync ended kubeProxy.minSyncPeriod ago or more, "
        "otherwise when that period is over, in one sync with every change that arrived meanwhile.  "
        "Without at, kube-proxy syncs after every event at once",
    )
    note: str = Field("", description="What the learner should notice")

    @model_validator(mode="after")
    def _needs(self):
        need = _EVENT_NEEDS[self.action]
        for f in need:
            if getattr(self, f) is None:
                raise _fail(f"action {self.action} needs {f}")
        for f in ("deployment", "replicas", "pod", "service", "selector", "newPod"):
            if f not in need and getattr(self, f) is not None:
                raise _fail(f"{f} is not used by action {self.action}", f)
        return self


class Scenario(_Strict):
    """A kubeflow-tui scenario: a cluster, its workloads, who talks to whom, and what changes."""

    name: str = Field(min_length=1, description="Scenario name, e.g. clusterip")
    description: str = Field("", description="What this scenario teaches")
    seed: int = Field(1, ge=0, description="Seed for every random choice (endpoint rolls, ports)")
    cluster: Cluster = Field(description="Address plan and nodes")
    pods: list[Pod] = Field(default_factory=list, description="Pods (names unique)")
    services: list[Service] = Field(default_factory=list, description="Services")
    clients: list[Client] = Field(default_factory=list, description="Clients that start flows")
    loadBalancer: LoadBalancer | None = Field(
        None, description="The balancer in front of LoadBalancer Services"
    )
    kubeProxy: KubeProxy = Field(
        default_factory=KubeProxy, description="kube-proxy's configuration (kubeadm/kind defaults)"
    )
    networkPolicies: list[NetworkPolicy] = Field(
        default_factory=list,
        description="NetworkPolicies, enforced by the CNI on the pods' side: ingress as the packet "
        "reaches the pod (after kube-proxy's DNAT and any SNAT on the way), egress as it leaves the "
        "client pod's node (after DNAT); what they do not allow is dropped")
    flows: list[Flow] = Field(default_factory=list, description="Named connections to watch")
    timeline: list[Event] = Field(default_factory=list, description="Changes, in order")

    @model_validator(mode="before")
    @classmethod
    def _system(cls, data):
        from .system import add_system_objects

        return add_system_objects(data)

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo):
        from .crosscheck import cross_check  # it reads these models: imported when first used

        issues = cross_check(self)
        if not issues:
            return self
        ctx = info.context
        if isinstance(ctx, dict) and isinstance(ctx.get("issues"), list):
            ctx["issues"].extend(issues)
            return self
        path, msg = issues[0]
        raise _fail(msg, *path)

    # --- look-ups -----------------------------------------------------------------

    def node(self, name: str) -> Node:
        for n in self.cluster.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def pod(self, name: str) -> Pod:
        for p in self.pods:
            if p.name == name:
                return p
        raise KeyError(name)

    def service(self, name: str) -> Service:
        """By ``namespace/name``, or by bare name."""
        for s in self.services:
            if name in (s.key, s.name):
                return s
        raise KeyError(name)

    def flow(self, name: str) -> Flow:
        for f in self.flows:
            if f.name == name:
                return f
        raise KeyError(name)

    def client(self, name: str) -> Client:
        for c in self.clients:
            if c.name == name:
                return c
        raise KeyError(name)

    def endpoints(self, service: Service) -> list[Pod]:
        """Pods the Service's selector picks, in scenario order (readiness not considered)."""
        return [p for p in self.pods if service.selects(p)]
