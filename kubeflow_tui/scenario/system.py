"""A real cluster's system Services: ``default/kubernetes`` and ``kube-system/kube-dns``.

With ``cluster.systemServices: true`` (the default) a scenario gains what kubeadm and kind create in
every cluster, as ordinary objects the rest of the program reads like any other:

* ``default/kubernetes`` at the *first* address of the Service CIDR (10.96.0.1 in
  10.96.0.0/12): port ``https`` 443/TCP, targetPort 6443, no selector.  Its endpoint is
  not a pod: the API server's own reconciler writes the EndpointSlice ``kubernetes``
  with the control-plane node's address and port 6443 (``kubectl get endpointslices``
  shows ``192.168.1.10:6443``).  The first node of ``cluster.nodes`` is the control
  plane; its host network listens on TCP 6443.
* ``kube-system/kube-dns`` at the *tenth* address (10.96.0.10), selector
  ``k8s-app: kube-dns``, ports ``dns`` 53/UDP, ``dns-tcp`` 53/TCP and ``metrics``
  9153/TCP (kubeadm's CoreDNS add-on), and the two CoreDNS replicas of Deployment
  ``coredns`` (``coredns-1``, ``coredns-2``; kube-system) on the control-plane node,
  at the lowest free addresses of its podCIDR, serving those ports.

The objects are added when the scenario is validated (before the per-model checks), so
rules, EndpointSlices, ``kubectl``, flows and the kernel referee all see them.  A scenario
that declares its own ``default/kubernetes`` or ``kube-system/kube-dns`` keeps its own
(and one with pods named ``coredns-1``/``coredns-2`` keeps those instead of the replicas);
a Service of the scenario on the first or tenth Service IP is an error (``crosscheck``)
rather than silently displaced.
"""

from __future__ import annotations

import ipaddress
from typing import Any

API_SERVER_PORT = 6443
KUBERNETES = ("default", "kubernetes")
KUBE_DNS = ("kube-system", "kube-dns")
COREDNS_DEPLOYMENT = "coredns"
COREDNS_PODS = ("coredns-1", "coredns-2")
COREDNS_LABELS = {"k8s-app": "kube-dns"}


def first_service_ip(service_cidr: str) -> str:
    return str(ipaddress.IPv4Network(service_cidr).network_address + 1)


def dns_service_ip(service_cidr: str) -> str:
    """kubeadm's clusterDNS: the tenth address of the Service CIDR."""
    return str(ipaddress.IPv4Network(service_cidr).network_address + 10)


def kubernetes_service(service_cidr: str) -> dict[str, Any]:
    return {"name": KUBERNETES[1], "namespace": KUBERNETES[0], "clusterIP": first_service_ip(service_cidr),
            "ports": [{"name": "https", "port": 443, "targetPort": API_SERVER_PORT, "protocol": "TCP"}]}


def kube_dns_service(service_cidr: str) -> dict[str, Any]:
    return {"name": KUBE_DNS[1], "namespace": KUBE_DNS[0], "clusterIP": dns_service_ip(service_cidr),
            "selector": dict(COREDNS_LABELS),
            "ports": [{"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
                      {"name": "dns-tcp", "port": 53, "targetPort": 53, "protocol": "TCP"},
                      {"name": "metrics", "port": 9153, "targetPort": 9153, "protocol": "TCP"}]}


def coredns_pod(name: str, node: str, ip: str) -> dict[str, Any]:
    return {"name": name, "namespace": KUBE_DNS[0], "node": node, "ip": ip, "labels": dict(COREDNS_LABELS),
            "deployment": COREDNS_DEPLOYMENT,
            "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                      {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                      {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def add_system_objects(data: Any) -> Any:
    """The raw scenario ``data`` with the system Services and CoreDNS pods added, when
    ``cluster.systemServices`` is true.  Anything malformed is left for validation to
    report; anything that would collide is left out (``crosscheck`` names the collision)."""
    if not isinstance(data, dict):
        return data
    cluster = data.get("cluster")
    if cluster is None or _get(cluster, "systemServices", True) is not True:
        return data
    try:
        cidr = _get(cluster, "serviceCIDR", None) or "10.96.0.0/12"
        ipaddress.IPv4Network(cidr)
        nodes = list(_get(cluster, "nodes", None) or [])
        services = list(data.get("services") or [])
        pods = list(data.get("pods") or [])
        keys = {(_get(s, "namespace", None) or "default", _get(s, "name")) for s in services}
        ips = {_get(s, "clusterIP") for s in services}
        add_svcs: list[dict[str, Any]] = []
        add_pods: list[dict[str, Any]] = []
        if KUBERNETES not in keys and first_service_ip(cidr) not in ips:
            add_svcs.append(kubernetes_service(cidr))
        if (KUBE_DNS not in keys and dns_service_ip(cidr) not in ips
                and ipaddress.IPv4Address(dns_service_ip(cidr)) in ipaddress.IPv4Network(cidr)):
            add_svcs.append(kube_dns_service(cidr))
            names = {_get(p, "name") for p in pods}
            if nodes and not names & set(COREDNS_PODS):
                cp = nodes[0]
                taken = {str(_get(p, "ip")) for p in pods}
                net = ipaddress.IPv4Network(str(_get(cp, "podCIDR")))
                hosts = (str(h) for h in list(net.hosts())[1:] if str(h) not in taken)  # [0] is the gateway
                for name in COREDNS_PODS:
                    ip = next(hosts, None)
                    if ip is not None:
                        add_pods.append(coredns_pod(name, str(_get(cp, "name")), ip))
    except (TypeError, ValueError, AttributeError):
        return data
    if not add_svcs and not add_pods:
        return data
    out = dict(data)
    out["services"] = services + add_svcs
    out["pods"] = pods + add_pods
    return out


def api_server(scenario) -> tuple[str, str] | None:
    """``(node name, node IP)`` of the control plane whose API server backs
    ``default/kubernetes``, or None without system Services."""
    if not scenario.cluster.systemServices or not scenario.cluster.nodes:
        return None
    n = scenario.cluster.nodes[0]
    return n.name, n.ip


def node_listeners(scenario, node_name: str) -> set[tuple[str, int]]:
    """The servers in a node's host network namespace: the API server on the control plane."""
    cp = api_server(scenario)
    return {("tcp", API_SERVER_PORT)} if cp and cp[0] == node_name else set()


def system_issues(scenario) -> list[tuple[tuple, str]]:
    """Collisions with the system objects, as ``(path, message)`` for ``cross_check``."""
    c = scenario.cluster
    if not c.systemServices:
        return []
    out: list[tuple[tuple, str]] = []
    first, tenth = first_service_ip(c.serviceCIDR), dns_service_ip(c.serviceCIDR)
    own = {(s.namespace, s.name) for s in scenario.services}
    for i, s in enumerate(scenario.services):
        for ip, key, what in ((first, KUBERNETES, "first"), (tenth, KUBE_DNS, "tenth")):
            if s.clusterIP == ip and (s.namespace, s.name) != key and key not in own:
                out.append((("services", i, "clusterIP"),
                            f"{ip} is the {what} address of serviceCIDR {c.serviceCIDR}, which "
                            f"{key[0]}/{key[1]} holds when cluster.systemServices is true (the "
                            "default, as in every kubeadm or kind cluster); choose another "
                            "clusterIP, or set cluster.systemServices: false to leave the "
                            "system Services out"))
    return out
