"""From kubectl objects (Nodes, Pods, Services, EndpointSlices) to a scenario.

What becomes what:

* Node: ``metadata.name``, the first IPv4 ``InternalIP``, the first IPv4 ``podCIDR``;
* Pod (scheduled, with an IPv4 pod IP, not hostNetwork, not finished): name, namespace,
  node, IP, labels, container ports, readiness (``Ready`` condition) and terminating
  (``deletionTimestamp``); the Deployment from the ReplicaSet that owns it;
* Service: type, clusterIP, ports (named targetPorts, nodePorts), selector, externalIPs,
  the first IPv4 ingress IP of ``status.loadBalancer``, source ranges, session affinity and
  its timeout, both traffic policies, healthCheckNodePort;
* EndpointSlice: the truth for endpoints.  The scenario derives endpoints from selectors
  and pod readiness, as the EndpointSlice controller does; so a pod's ``ready`` and
  ``terminating`` are taken from its slice conditions, then the endpoints the scenario
  will derive are compared with the slices and every difference is a warning.  An endpoint
  that is not a pod of the scenario (a hostNetwork pod, a manually managed slice) cannot
  be written in a scenario: a Service left with no endpoint it can express is not imported
  (it would get a REJECT rule the node does not have), with a warning that says why.  The
  one exception every cluster has, ``default/kubernetes`` (the API server's node address
  on 6443), becomes ``cluster.systemServices: true`` when it has the kubeadm/kind shape.

Everything the scenario model does not cover becomes a warning naming the object, and the
object (or the part) is left out.  Objects of other kinds are skipped without looking at
their content.  What the import decides that loses nothing (``default/kubernetes`` as
``cluster.systemServices``, a pod or node renamed for the scenario's naming rules) is a note,
not a warning.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from kubeflow_tui.scenario.models import DNS_LABEL, NODEPORT_MAX, NODEPORT_MIN, Scenario
from kubeflow_tui.scenario.system import API_SERVER_PORT, first_service_ip

from .read import DumpError, Obj

KINDS = ("Node", "Pod", "Service", "EndpointSlice")
API_SERVICE = "default/kubernetes"
_LABEL = re.compile(DNS_LABEL)
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DEFAULT_SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")  # kubeadm's default


@dataclass
class ImportResult:
    """The scenario (as plain data in schema order, and checked), what was left out."""

    data: dict[str, Any]
    scenario: Scenario
    warnings: list[str] = field(default_factory=list)
    # Services of the dump that are not in the scenario: "ns/name" -> why
    left_out: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # "ns/pod" -> scenario name
    counts: dict[str, int] = field(default_factory=dict)  # objects read, per kind
    # what the import decided that loses nothing (a rename, default/kubernetes as the cluster's
    # system Service): told, but not warnings
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- fields


class _F:
    """Typed access to an object's fields; a wrong type is a DumpError at its line."""

    def __init__(self, obj: Obj):
        self.obj = obj

    def get(self, *path: str | int, typ: type | tuple[type, ...] | None = None, default=None):
        cur: Any = self.obj.data
        for i, step in enumerate(path):
            if isinstance(step, int):
                if not isinstance(cur, list) or step >= len(cur):
                    return default
                cur = cur[step]
            else:
                if cur is None:
                    return default
                if not isinstance(cur, dict):
                    raise self._bad(path[:i], dict, cur)
                if step not in cur:
                    return default
                cur = cur[step]
        if cur is None:
            return default
        if typ is not None and (not isinstance(cur, typ) or (isinstance(cur, bool) and typ is int)):
            raise self._bad(path, typ, cur)
        return cur

    def _bad(self, path, typ, value) -> DumpError:
        names = {dict: "a mapping", list: "a sequence", str: "a string", int: "a number",
                 bool: "true or false"}
        want = " or ".join(names.get(t, t.__name__) for t in (typ if isinstance(typ, tuple) else (typ,)))
        dotted = _dotted(path)
        return self.obj.where.error(f"{self.obj.ref}: {dotted} must be {want}, "
                                    f"not {type(value).__name__} {value!r:.40}", *path)


def _dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + p)
    return out


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")


def _ipv4(text: Any) -> str | None:
    """The address if ``text`` is an IPv4 address as Kubernetes writes them, else None."""
    if isinstance(text, str) and _IPV4.match(text):
        return text
    return None


def _ipv4_net(text: Any) -> ipaddress.IPv4Network | None:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return None


def _label_name(name: str) -> str:
    """A DNS label for a name that may be a DNS subdomain (dots) or too long."""
    out = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].strip("-")
    return out or "x"


# ----------------------------------------------------------------------------- the build


class _Builder:
    def __init__(self, objs: list[Obj], name: str, cluster_cidr: str | None,
                 service_cidr: str | None):
        self.objs = objs
        self.name = name
        self.opt_cluster_cidr = cluster_cidr
        self.opt_service_cidr = service_cidr
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.left_out: dict[str, str] = {}
        self.renamed: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def warn(self, who: str, msg: str) -> None:
        """Something of the cluster the scenario leaves out or holds otherwise."""
        self.warnings.append(f"{who}: {msg}")

    def note(self, who: str, msg: str) -> None:
        """Something the import decided that loses nothing (not a warning)."""
        self.notes.append(f"{who}: {msg}")

    # -- sorting the objects ------------------------------------------------------------

    def classify(self) -> dict[str, list[Obj]]:
        by_kind: dict[str, list[Obj]] = {k: [] for k in KINDS}
        seen: dict[tuple[str, str, str], Obj] = {}
        other: dict[str, int] = {}
        for o in self.objs:
            kind = o.kind
            if kind not in by_kind:
                other[kind] = other.get(kind, 0) + 1
                continue
            key = (kind, o.namespace, o.name)
            if key in seen:
                first = seen[key].where
                line, col = first.at()
                also = first.source + (f":{line}:{col}" if line else "")
                raise o.where.error(f"duplicate object: {o.ref} appears twice (also at {also})")
            seen[key] = o
            by_kind[kind].append(o)
        for k in KINDS:
            self.counts[k] = len(by_kind[k])
        if other:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(other.items()))
            self.warnings.append(f"skipped objects of kinds a scenario does not use: {kinds}")
            self.counts["other"] = sum(other.values())
        if not by_kind["Node"]:
            where = self.objs[0].where if self.objs else None
            msg = ("no Node objects in the input: the scenario needs the nodes (dump them with "
                   "`kubectl get nodes,pods,services,endpointslices -A -o yaml`)")
            if where is None:
                raise DumpError("<input>", msg)
            raise DumpError(where.source, msg)
        return by_kind

    # -- nodes ----------------------------------------------------------------------------

    def nodes(self, objs: list[Obj]) -> None:
        self.node_list: list[dict] = []
        self.node_by_k8s: dict[str, dict] = {}
        self.node_by_ip: dict[str, str] = {}
        taken: set[str] = set()
        for o in objs:
            f = _F(o)
            who = o.ref
            ip = None
            v6 = False
            for i, a in enumerate(f.get("status", "addresses", typ=list, default=[])):
                if not isinstance(a, dict):
                    raise o.where.error(f"{who}: status.addresses[{i}] must be a mapping",
                                        "status", "addresses", i)
                if a.get("type") == "InternalIP":
                    got = _ipv4(a.get("address"))
                    if got and ip is None:
                        ip = got
                    elif not got:
                        v6 = True
            if ip is None:
                self.warn(who, "no IPv4 InternalIP in status.addresses" +
                          (" (IPv6 only: not supported)" if v6 else "") + "; node not imported")
                continue
            cidrs = f.get("spec", "podCIDRs", typ=list, default=None)
            if cidrs is None:
                one = f.get("spec", "podCIDR", typ=str, default=None)
                cidrs = [one] if one else []
            pod_cidr = next((str(n) for c in cidrs if (n := _ipv4_net(c)) is not None), None)
            if pod_cidr is None:
                self.warn(who, "no IPv4 spec.podCIDR (the CNI does not use per-node pod ranges, "
                          "which the scenario's routing needs); node not imported")
                continue
            name = _label_name(o.name)
            if name in taken:
                name = _unique(name, taken)
            if name != o.name:
                self.note(who, f"named {name} in the scenario (node names there are DNS labels)")
            taken.add(name)
            n = {"name": name, "ip": ip, "podCIDR": pod_cidr}
            self.node_list.append(n)
            self.node_by_k8s[o.name] = n
            self.node_by_ip[ip] = name
        if not self.node_list:
            raise DumpError(objs[0].where.source, "no node could be imported (see the warnings: "
                            "each needs an IPv4 InternalIP and a podCIDR)")

    # -- pods -----------------------------------------------------------------------------

    def pods(self, objs: list[Obj]) -> None:
        self.pod_by_key: dict[str, dict] = {}  # "ns/k8s-name" -> scenario pod dict
        self.pod_ip_owner: dict[str, str] = {}  # pod ip -> "ns/name"
        self.control_plane_flags: dict[str, str] = {}
        for o in objs:
            f = _F(o)
            who = o.ref
            ns = o.namespace or "default"
            self._control_plane_flags(o, f)
            if f.get("spec", "hostNetwork", typ=bool, default=False):
                ip = f.get("status", "podIP", typ=str, default="")
                self.warn(who, f"hostNetwork pod (it uses its node's address{' ' + ip if ip else ''}): "
                          "not imported")
                continue
            phase = f.get("status", "phase", typ=str, default="")
            if phase in ("Succeeded", "Failed"):
                self.warn(who, f"phase {phase}: a finished pod is no endpoint; not imported")
                continue
            node = f.get("spec", "nodeName", typ=str, default="")
            if not node:
                self.warn(who, f"not scheduled (phase {phase or 'unknown'}): not imported")
                continue
            if node not in self.node_by_k8s:
                self.warn(who, f"its node {node} is not imported: not imported")
                continue
            ips = [x.get("ip") for x in f.get("status", "podIPs", typ=list, default=[])
                   if isinstance(x, dict)]
            if not ips:
                ips = [f.get("status", "podIP", typ=str, default=None)]
            ip = next((a for x in ips if (a := _ipv4(x))), None)
            if ip is None:
                if any(ips):
                    self.warn(who, "IPv6 pod IP only: not supported; not imported")
                else:
                    self.warn(who, f"no pod IP yet (phase {phase or 'unknown'}): not imported")
                continue
            if len([x for x in ips if x]) > 1:
                self.warn(who, f"dual-stack: only its IPv4 address {ip} is imported")
            labels = f.get("metadata", "labels", typ=dict, default={})
            for k, v in labels.items():
                if not isinstance(v, str):
                    raise o.where.error(f"{who}: label {k} must be a string", "metadata", "labels", k)
            pod: dict[str, Any] = {"name": o.name, "namespace": ns,
                                   "node": self.node_by_k8s[node]["name"], "ip": ip}
            if labels:
                pod["labels"] = dict(labels)
            ports = self._container_ports(o, f)
            if ports:
                pod["ports"] = ports
            ready = False
            for c in f.get("status", "conditions", typ=list, default=[]):
                if isinstance(c, dict) and c.get("type") == "Ready":
                    ready = c.get("status") == "True"
            pod["ready"] = ready
            pod["terminating"] = bool(f.get("metadata", "deletionTimestamp", default=None))
            dep = _deployment(f, labels)
            if dep:
                pod["deployment"] = dep
            pod["_who"] = who
            key = f"{ns}/{o.name}"
            if ip in self.pod_ip_owner:
                self.warn(who, f"pod IP {ip} is also pod {self.pod_ip_owner[ip]}'s: not imported")
                continue
            self.pod_ip_owner[ip] = key
            self.pod_by_key[key] = pod

    def _control_plane_flags(self, o: Obj, f: _F) -> None:
        """kubeadm's static pods carry the cluster's ranges on their command lines."""
        if o.namespace != "kube-system":
            return
        for c in f.get("spec", "containers", typ=list, default=[]):
            if not isinstance(c, dict):
                continue
            for arg in (c.get("command") or []) + (c.get("args") or []):
                if not isinstance(arg, str):
                    continue
                for flag in ("--cluster-cidr=", "--service-cluster-ip-range="):
                    if arg.startswith(flag):
                        for part in arg[len(flag):].split(","):
                            net = _ipv4_net(part)
                            if net is not None:
                                self.control_plane_flags.setdefault(flag[2:-1], str(net))
                                self.control_plane_flags.setdefault(flag[2:-1] + "@", o.ref)
                                break

    def _container_ports(self, o: Obj, f: _F) -> list[dict]:
        out: list[dict] = []
        names: set[str] = set()
        for ci, c in enumerate(f.get("spec", "containers", typ=list, default=[])):
            if not isinstance(c, dict):
                raise o.where.error(f"{o.ref}: spec.containers[{ci}] must be a mapping",
                                    "spec", "containers", ci)
            for pi, p in enumerate(c.get("ports") or []):
                at = ("spec", "containers", ci, "ports", pi)
                if not isinstance(p, dict):
                    raise o.where.error(f"{o.ref}: {_dotted(at)} must be a mapping", *at)
                num = p.get("containerPort")
                if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= 65535:
                    raise o.where.error(f"{o.ref}: {_dotted(at)}.containerPort must be a port "
                                        f"number, not {num!r:.40}", *at, "containerPort")
                proto = p.get("protocol") or "TCP"
                if proto not in ("TCP", "UDP"):
                    self.warn(o.ref, f"container port {num}/{proto}: only TCP and UDP are "
                              "supported; port left out")
                    continue
                cp: dict[str, Any] = {}
                name = p.get("name")
                if isinstance(name, str) and name:
                    if name in names or not (len(name) <= 15 and _PORT_NAME.match(name)
                                             and re.search("[a-z]", name)):
                        self.warn(o.ref, f"container port name {name!r} is invalid or repeated; "
                                  "imported without the name")
                    else:
                        names.add(name)
                        cp["name"] = name
                cp["containerPort"] = num
                if proto != "TCP":
                    cp["protocol"] = proto
                out.append(cp)
        return out

    # -- services ---------------------------------------------------------------------------

    def services(self, objs: list[Obj]) -> None:
        self.svc_by_key: dict[str, dict] = {}
        self.svc_obj: dict[str, Obj] = {}
        for o in objs:
            f = _F(o)
            who = o.ref
            ns = o.namespace or "default"
            key = f"{ns}/{o.name}"
            typ = f.get("spec", "type", typ=str, default="ClusterIP")
            if typ == "ExternalName":
                self._leave_out(key, who, "type ExternalName (a DNS CNAME, no kube-proxy rules): "
                                "not imported")
                continue
            if typ not in ("ClusterIP", "NodePort", "LoadBalancer"):
                self._leave_out(key, who, f"unknown type {typ!r}: not imported")
                continue
            cips = f.get("spec", "clusterIPs", typ=list, default=None) or [
                f.get("spec", "clusterIP", typ=str, default=None)]
            if not any(cips) or cips[0] in ("None", ""):
                self._leave_out(key, who, "headless (clusterIP None: DNS only, no kube-proxy "
                                "rules): not imported")
                continue
            cip = next((a for x in cips if (a := _ipv4(x))), None)
            if cip is None:
                self._leave_out(key, who, "IPv6 clusterIP only: not supported; not imported")
                continue
            if len([x for x in cips if x]) > 1:
                self.warn(who, f"dual-stack: only its IPv4 clusterIP {cip} is imported")
            svc: dict[str, Any] = {"name": o.name, "namespace": ns, "type": typ, "clusterIP": cip}
            ports = self._service_ports(o, f, typ)
            if ports is None:
                continue
            svc["ports"] = ports
            sel = f.get("spec", "selector", typ=dict, default=None)
            if sel:
                for k, v in sel.items():
                    if not isinstance(v, str):
                        raise o.where.error(f"{who}: selector {k} must be a string",
                                            "spec", "selector", k)
                svc["selector"] = dict(sel)
            ext = [a for x in f.get("spec", "externalIPs", typ=list, default=[]) if (a := _ipv4(x))]
            if ext:
                svc["externalIPs"] = ext
            if typ == "LoadBalancer":
                if not self._load_balancer(o, f, svc):
                    continue
            aff = f.get("spec", "sessionAffinity", typ=str, default="None")
            if aff == "ClientIP":
                svc["sessionAffinity"] = "ClientIP"
                t = f.get("spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds",
                          typ=int, default=None)
                if t is not None and t != 10800:
                    svc["sessionAffinityTimeoutSeconds"] = t
            etp = f.get("spec", "externalTrafficPolicy", typ=str, default="Cluster")
            if svc["type"] != "ClusterIP" and etp == "Local":
                svc["externalTrafficPolicy"] = "Local"
            itp = f.get("spec", "internalTrafficPolicy", typ=str, default="Cluster")
            if itp == "Local":
                svc["internalTrafficPolicy"] = "Local"
            hc = f.get("spec", "healthCheckNodePort", typ=int, default=None)
            if hc and svc["type"] == "LoadBalancer" and svc.get("externalTrafficPolicy") == "Local":
                svc["healthCheckNodePort"] = hc
            if f.get("spec", "publishNotReadyAddresses", typ=bool, default=False):
                self.warn(who, "publishNotReadyAddresses: its EndpointSlices call every pod "
                          "ready; the pods' readiness is taken from the slices")
            svc["_who"] = who
            self.svc_by_key[key] = svc
            self.svc_obj[key] = o

    def _leave_out(self, key: str, who: str, why: str) -> None:
        self.left_out[key] = why
        self.warn(who, why)

    def _service_ports(self, o: Obj, f: _F, typ: str) -> list[dict] | None:
        out = []
        raw = f.get("spec", "ports", typ=list, default=[])
        if not raw:
            self._leave_out(f"{o.namespace or 'default'}/{o.name}", o.ref,
                            "no spec.ports: not imported")
            return None
        for i, p in enumerate(raw):
            at = ("spec", "ports", i)
            if not isinstance(p, dict):
                raise o.where.error(f"{o.ref}: spec.ports[{i}] must be a mapping", *at)
            port = p.get("port")
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                raise o.where.error(f"{o.ref}: spec.ports[{i}].port must be a port number, "
                                    f"not {port!r:.40}", *at, "port")
            proto = p.get("protocol") or "TCP"
            name = p.get("name") or ""
            if not isinstance(name, str):
                raise o.where.error(f"{o.ref}: spec.ports[{i}].name must be a string", *at, "name")
            if proto not in ("TCP", "UDP"):
                self.warn(o.ref, f"port {name or port}/{proto}: only TCP and UDP are supported; "
                          "port left out")
                continue
            if name and not (len(name) <= 15 and _PORT_NAME.match(name) and re.search("[a-z]", name)):
                # the name is part of every chain hash: renaming it would change the rules
                self._leave_out(f"{o.namespace or 'default'}/{o.name}", o.ref,
                                f"port name {name!r} is longer than the scenario's 15 characters "
                                "or not an IANA service name: not imported")
                return None
            sp: dict[str, Any] = {}
            if name:
                sp["name"] = name
            sp["port"] = port
            tp = p.get("targetPort")
            if isinstance(tp, str) and tp.isdigit():
                tp = int(tp)
            if tp is not None and tp != port:
                if isinstance(tp, bool) or not isinstance(tp, (int, str)):
                    raise o.where.error(f"{o.ref}: spec.ports[{i}].targetPort must be a number "
                                        "or a port name", *at, "targetPort")
                sp["targetPort"] = tp
            np_ = p.get("nodePort")
            if typ != "ClusterIP":
                if isinstance(np_, int) and NODEPORT_MIN <= np_ <= NODEPORT_MAX:
                    sp["nodePort"] = np_
                elif np_ is not None:
                    self._leave_out(f"{o.namespace or 'default'}/{o.name}", o.ref,
                                    f"nodePort {np_!r} is outside the scenario's range "
                                    f"{NODEPORT_MIN}-{NODEPORT_MAX}: not imported")
                    return None
            if proto != "TCP":
                sp["protocol"] = proto
            out.append(sp)
        if not out:
            self._leave_out(f"{o.namespace or 'default'}/{o.name}", o.ref,
                            "no TCP or UDP port: not imported")
            return None
        if len(out) == 1 and len(raw) > 1 and "name" in out[0]:
            pass  # a multi-port Service keeps its names even with one port left
        return out

    def _load_balancer(self, o: Obj, f: _F, svc: dict) -> bool:
        key = f"{svc['namespace']}/{svc['name']}"
        if any("nodePort" not in p for p in svc["ports"]):
            self._leave_out(key, o.ref, "type LoadBalancer without nodePorts "
                            "(allocateLoadBalancerNodePorts: false) is not supported: not imported")
            return False
        ingress = f.get("status", "loadBalancer", "ingress", typ=list, default=[])
        ips = [a for x in ingress if isinstance(x, dict) and (a := _ipv4(x.get("ip")))]
        if not ips:
            svc["type"] = "NodePort"
            hc = f.get("spec", "healthCheckNodePort", typ=int, default=None)
            more = (f"; kube-proxy's health check rule for port {hc} is not in the scenario"
                    if hc else "")
            self.warn(o.ref, "type LoadBalancer with no IPv4 ingress IP in status.loadBalancer "
                      f"(pending, or a hostname): imported as type NodePort, which gets the same "
                      f"rules{more}")
            return True
        svc["loadBalancerIP"] = ips[0]
        if len(ips) > 1:
            self.warn(o.ref, f"several ingress IPs ({', '.join(ips)}): only {ips[0]} is imported")
        modes = {x.get("ipMode") for x in ingress if isinstance(x, dict)}
        if "Proxy" in modes:
            self.warn(o.ref, "ingress ipMode Proxy: kube-proxy writes no rules for that IP, the "
                      "scenario does; treat the LB rules with care")
        ranges = []
        for x in f.get("spec", "loadBalancerSourceRanges", typ=list, default=[]):
            net = _ipv4_net(x)
            if net is None:
                self.warn(o.ref, f"loadBalancerSourceRange {x!r} is not IPv4: left out")
            else:
                ranges.append(str(net))
        if ranges:
            svc["loadBalancerSourceRanges"] = ranges
        return True

    # -- endpoint slices -------------------------------------------------------------------

    def slices(self, objs: list[Obj]) -> None:
        """Truth per Service: {(port name, proto): {(ip, port): (ready, serving, term)}};
        pod readiness from the conditions; Services with endpoints the scenario can't hold."""
        self.truth: dict[str, dict[tuple[str, str], dict[tuple[str, int], tuple]]] = {}
        self.foreign: dict[str, list[str]] = {}  # svc key -> endpoints that are not our pods
        self.expressible: dict[str, int] = {}
        #: svc key -> (node IP, port, protocol) of endpoints in a node's host network
        self.node_endpoints: dict[str, set[tuple[str, int, str]]] = {}
        pod_cond: dict[str, tuple[bool, bool, str]] = {}
        for o in objs:
            f = _F(o)
            ns = o.namespace or "default"
            svc_name = f.get("metadata", "labels", "kubernetes.io/service-name", typ=str, default="")
            if not svc_name:
                self.warn(o.ref, "no kubernetes.io/service-name label (not a Service's slice): "
                          "skipped")
                continue
            key = f"{ns}/{svc_name}"
            at = f.get("addressType", typ=str, default="IPv4")
            if at != "IPv4":
                if key in self.svc_by_key:
                    self.warn(o.ref, f"addressType {at}: not supported; skipped")
                continue
            ports = []
            for i, p in enumerate(f.get("ports", typ=list, default=[])):
                if not isinstance(p, dict):
                    raise o.where.error(f"{o.ref}: ports[{i}] must be a mapping", "ports", i)
                num = p.get("port")
                if num is None:
                    continue
                if not isinstance(num, int) or isinstance(num, bool):
                    raise o.where.error(f"{o.ref}: ports[{i}].port must be a number",
                                        "ports", i, "port")
                ports.append((p.get("name") or "", p.get("protocol") or "TCP", num))
            truth = self.truth.setdefault(key, {})
            for pn, proto, _ in ports:
                truth.setdefault((pn, proto), {})
            for i, e in enumerate(f.get("endpoints", typ=list, default=[])):
                if not isinstance(e, dict):
                    raise o.where.error(f"{o.ref}: endpoints[{i}] must be a mapping",
                                        "endpoints", i)
                addrs = e.get("addresses") or []
                ip = _ipv4(addrs[0]) if isinstance(addrs, list) and addrs else None
                if ip is None:
                    raise o.where.error(f"{o.ref}: endpoints[{i}].addresses must hold an IPv4 "
                                        "address", "endpoints", i, "addresses")
                cond = e.get("conditions") or {}
                if not isinstance(cond, dict):
                    raise o.where.error(f"{o.ref}: endpoints[{i}].conditions must be a mapping",
                                        "endpoints", i, "conditions")
                # as kube-proxy's EndpointSliceCache reads them: ready and serving unset
                # mean true, terminating unset means false
                ready = cond.get("ready") is not False
                serving = cond.get("serving") is not False
                term = cond.get("terminating") is True
                if not term:
                    serving = ready  # what counts for an endpoint that is not terminating
                ref = e.get("targetRef") if isinstance(e.get("targetRef"), dict) else {}
                pod_key = None
                if ref.get("kind") == "Pod" and isinstance(ref.get("name"), str):
                    cand = f"{ref.get('namespace') or ns}/{ref['name']}"
                    if cand in self.pod_by_key and self.pod_by_key[cand]["ip"] == ip:
                        pod_key = cand
                if pod_key is None:
                    if ip in self.node_by_ip:
                        self.node_endpoints.setdefault(key, set()).update((ip, num, proto) for _, proto, num in ports)
                    where = ip + (f":{ports[0][2]}" if len(ports) == 1 else "")
                    self.foreign.setdefault(key, []).append(self._describe_foreign(ip, e, ref, where))
                    continue
                self.expressible[key] = self.expressible.get(key, 0) + 1
                for pn, proto, num in ports:
                    truth[pn, proto][ip, num] = (ready, serving, term)
                got = (serving, term, o.ref)
                before = pod_cond.get(pod_key)
                if before is None:
                    pod_cond[pod_key] = got
                    pod = self.pod_by_key[pod_key]
                    pod["ready"], pod["terminating"] = serving, term
                elif before[:2] != got[:2]:
                    self.warn(f"Pod {pod_key}", f"{before[2]} and {o.ref} disagree on its "
                              "conditions; the first is kept")

    def _describe_foreign(self, ip: str, e: dict, ref: dict, where: str) -> str:
        """``where`` is the address (with the port when the slice has one)."""
        if ip in self.node_by_ip:
            # the API server behind default/kubernetes listens in its node's host network
            return f"{where} (the address of node {self.node_by_ip[ip]}, not a pod)"
        if ref.get("kind") == "Pod":
            return f"{where} (pod {ref.get('namespace', '')}/{ref.get('name', '')}, not imported)"
        if ref:
            return f"{where} ({ref.get('kind')} {ref.get('name', '')}, not a pod)"
        return f"{where} (no targetRef: not a pod)"

    def settle_services(self) -> None:
        """Leave out the Services whose endpoints the scenario cannot hold."""
        self.api_server = self._api_server_candidate()
        for key in list(self.svc_by_key):
            svc = self.svc_by_key[key]
            foreign = self.foreign.get(key, [])
            has_pods = self.expressible.get(key, 0) > 0
            if key == API_SERVICE and self.api_server is not None:
                continue  # settled with the Service CIDR (settle_api_server)
            if foreign and not has_pods:
                self._not_pods(key, svc, foreign)
            elif not svc.get("selector") and has_pods:
                self.left_out[key] = "endpoints managed by hand"
                self.warn(svc["_who"], "no selector, yet its EndpointSlices list pods (slices "
                          "managed by hand): a scenario cannot express that; not imported")
                del self.svc_by_key[key]
            elif foreign:
                self.warn(svc["_who"], "endpoints that are not pods of the scenario are left "
                          "out: " + _few(foreign))

    def _not_pods(self, key: str, svc: dict, foreign: list[str]) -> None:
        self.left_out[key] = "endpoints are not pods"
        self.warn(svc["_who"], "its endpoints are not pods: " + _few(foreign) +
                  "; a scenario's endpoints are pods chosen by a selector, so it is "
                  "not imported (it would get a REJECT rule the node does not have)")
        del self.svc_by_key[key]

    def _api_server_candidate(self) -> str | None:
        """The node whose API server backs ``default/kubernetes``, when the Service is the one
        every kubeadm/kind cluster has (no selector, ``https`` 443/TCP, one endpoint: a node's
        address on 6443/TCP) and ``kube-system/kube-dns`` comes along: then the scenario's
        ``cluster.systemServices`` writes exactly that Service, with the API server in the
        host network of its first node."""
        svc = self.svc_by_key.get(API_SERVICE)
        if svc is None or svc.get("selector") or "kube-system/kube-dns" not in self.svc_by_key:
            return None
        ports = svc.get("ports") or []
        if len(ports) != 1 or (ports[0].get("name"), ports[0].get("port"), ports[0].get("protocol", "TCP"),
                               ports[0].get("targetPort", 443)) != ("https", 443, "TCP", API_SERVER_PORT):
            return None
        eps = self.node_endpoints.get(API_SERVICE, set())
        if len(eps) != 1 or self.expressible.get(API_SERVICE) or len(self.foreign.get(API_SERVICE, [])) != 1:
            return None
        ip, port, proto = next(iter(eps))
        return self.node_by_ip[ip] if (port, proto) == (API_SERVER_PORT, "TCP") else None

    def settle_api_server(self, cluster: dict[str, Any]) -> None:
        """``default/kubernetes`` as ``cluster.systemServices`` when it sits on the first address
        of the Service CIDR (the API server's node listed first, as the control plane);
        otherwise left out like any Service whose endpoints are not pods."""
        node = self.api_server
        if node is None:
            return
        svc = self.svc_by_key[API_SERVICE]
        if svc.get("clusterIP") != first_service_ip(cluster["serviceCIDR"]):
            self.api_server = None
            self._not_pods(API_SERVICE, svc, self.foreign[API_SERVICE])
            return
        del self.svc_by_key[API_SERVICE]
        cluster["systemServices"] = True
        self.node_list.sort(key=lambda n: n["name"] != node)  # stable: the others keep their order
        self.note(svc["_who"], f"imported as cluster.systemServices: true, which writes it as the "
                  f"cluster has it: {svc['clusterIP']}:443 -> the API server in node {node}'s host "
                  f"network ({self.foreign[API_SERVICE][0].split(' ')[0]}); {node} is listed first, "
                  "as the control plane")

    # -- names ---------------------------------------------------------------------------

    def settle_names(self) -> None:
        """Pod names unique in the scenario, DNS labels, and no two pods of a node with the
        same node-side interface (``veth-<pod>`` cut to 15 characters)."""
        taken = {n["name"] for n in self.node_list}
        veths: set[tuple[str, str]] = set()
        for key, pod in sorted(self.pod_by_key.items(), key=lambda kv: (kv[1]["node"], kv[0])):
            orig = pod["name"]
            name = None
            for cand in _name_candidates(orig, pod["namespace"]):
                if cand not in taken and (pod["node"], f"veth-{cand}"[:15]) not in veths:
                    name = cand
                    break
            assert name is not None
            taken.add(name)
            veths.add((pod["node"], f"veth-{name}"[:15]))
            if name != orig:
                pod["name"] = name
                self.renamed[key] = name
                self.note(pod["_who"], f"named {name} in the scenario: on node {pod['node']} the "
                          f"interface veth-<pod> (15 characters) must differ from its neighbours'"
                          if orig == _label_name(orig) else
                          f"named {name} in the scenario (pod names there are unique DNS labels)")

    # -- networks ------------------------------------------------------------------------

    def networks(self, dump_cluster_cidr: str | None) -> dict[str, str]:
        nodes = self.node_list
        pod_nets = [ipaddress.IPv4Network(n["podCIDR"]) for n in nodes]
        cover = _cover(pod_nets)
        cluster: ipaddress.IPv4Network
        why = ""
        if self.opt_cluster_cidr:
            cluster, why = ipaddress.IPv4Network(self.opt_cluster_cidr), "--cluster-cidr"
        elif dump_cluster_cidr:
            cluster, why = ipaddress.IPv4Network(dump_cluster_cidr), "the iptables-save dump"
        elif "cluster-cidr" in self.control_plane_flags:
            cluster = ipaddress.IPv4Network(self.control_plane_flags["cluster-cidr"])
            why = self.control_plane_flags["cluster-cidr@"]
        else:
            cluster = cover if cover.prefixlen <= 16 else cover.supernet(new_prefix=16)
            self.warnings.append(
                f"cluster: clusterCIDR {cluster} is a guess (the nodes' podCIDRs widened to a "
                "/16, kubeadm's default shape); kube-proxy's --cluster-cidr is in its rules "
                "(`! -s CIDR … KUBE-MARK-MASQ`): give --cluster-cidr, or --iptables-save to "
                "read it from a node")
        if not all(n.subnet_of(cluster) for n in pod_nets):
            self.warnings.append(f"cluster: clusterCIDR {cluster} (from {why}) does not hold every "
                                 f"node's podCIDR; using {cover}")
            cluster = cover
        ips = [ipaddress.IPv4Address(n["ip"]) for n in nodes]
        node_net = _cover([ipaddress.IPv4Network(f"{a}/32") for a in ips])
        if node_net.prefixlen > 24:
            node_net = node_net.supernet(new_prefix=24)
        router = node_net.network_address + 1
        for n in nodes:
            if ipaddress.IPv4Address(n["ip"]) == router:
                raise DumpError("<input>", f"node {n['name']}'s InternalIP {n['ip']} is the first "
                                f"host of the node network {node_net}, which a scenario keeps for "
                                "the default router; this cluster cannot be imported as it is")
        cips = [ipaddress.IPv4Address(s["clusterIP"]) for s in self.svc_by_key.values()]
        if self.opt_service_cidr:
            service = ipaddress.IPv4Network(self.opt_service_cidr)
        elif "service-cluster-ip-range" in self.control_plane_flags:
            service = ipaddress.IPv4Network(self.control_plane_flags["service-cluster-ip-range"])
        elif all(a in DEFAULT_SERVICE_CIDR for a in cips):
            service = DEFAULT_SERVICE_CIDR
        else:
            service = _cover([ipaddress.IPv4Network(f"{a}/32") for a in cips])
            if service.prefixlen > 16:
                service = service.supernet(new_prefix=16)
        if not all(a in service for a in cips):
            service = _cover([service] + [ipaddress.IPv4Network(f"{a}/32") for a in cips])
        plans = {"clusterCIDR": cluster, "serviceCIDR": service, "nodeNetwork": node_net}
        names = list(plans)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if plans[a].overlaps(plans[b]):
                    raise DumpError("<input>", f"the cluster's {b} {plans[b]} overlaps its {a} "
                                    f"{plans[a]}; give --cluster-cidr / --service-cidr")
        self.node_net = node_net
        # systemServices stated: settle_api_server turns it on when the dump has the
        # kubeadm/kind default/kubernetes; otherwise the scenario holds what the dump holds
        return {"clusterCIDR": str(cluster), "serviceCIDR": str(service),
                "nodeNetwork": str(node_net), "systemServices": False}


def _few(items: list[str], n: int = 3) -> str:
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def _cover(nets: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    net = nets[0]
    for other in nets[1:]:
        while not other.subnet_of(net):
            net = net.supernet()
    return net


def _unique(base: str, taken: set[str]) -> str:
    i = 2
    while True:
        suffix = f"-{i}"
        cand = base[: 63 - len(suffix)].rstrip("-") + suffix
        if cand not in taken:
            return cand
        i += 1


def _name_candidates(name: str, ns: str):
    """The name, then forms whose first ten characters differ (the veth keeps those)."""
    base = _label_name(name)
    yield base
    parts = base.split("-")
    if len(parts) > 1:
        yield _label_name("-".join([parts[-1]] + parts[:-1]))
    yield _label_name(f"{ns}-{base}")
    i = 2
    while True:
        yield _label_name(f"{parts[-1]}{i}-{base}")
        i += 1


def _deployment(f: _F, labels: dict) -> str | None:
    for ref in f.get("metadata", "ownerReferences", typ=list, default=[]):
        if isinstance(ref, dict) and ref.get("kind") == "ReplicaSet" and ref.get("controller"):
            rs = ref.get("name") or ""
            h = labels.get("pod-template-hash")
            if h and isinstance(rs, str) and rs.endswith("-" + h):
                return rs[: -len(h) - 1]
    return None


# ----------------------------------------------------------------------------- endpoints check


class _Index:
    """Pods by namespace and label, so a selector costs its matches, not every pod."""

    def __init__(self, pods: list[dict]):
        self.by_label: dict[tuple[str, str, str], list[dict]] = {}
        for p in pods:
            for k, v in (p.get("labels") or {}).items():
                self.by_label.setdefault((p["namespace"], k, v), []).append(p)

    def select(self, ns: str, sel: dict[str, str]) -> list[dict]:
        if not sel:
            return []
        lists = [self.by_label.get((ns, k, v), []) for k, v in sel.items()]
        base = min(lists, key=len)
        return [p for p in base if all((p.get("labels") or {}).get(k) == v for k, v in sel.items())]


def derived_endpoints(index: _Index, svc: dict) -> dict[tuple[str, str], dict]:
    """What the scenario's EndpointSlice controller will publish for ``svc`` (same rules as
    ``kubeproxy.endpoints``): {(port name, proto): {(ip, port): (ready, serving, term)}}."""
    sel = svc.get("selector") or {}
    out: dict[tuple[str, str], dict] = {}
    if not sel:
        return out
    for sp in svc["ports"]:
        out[(sp.get("name", ""), sp.get("protocol", "TCP"))] = {}
    for pod in index.select(svc["namespace"], sel):
        ready, term = pod.get("ready", True), pod.get("terminating", False)
        for sp in svc["ports"]:
            proto = sp.get("protocol", "TCP")
            tp = sp.get("targetPort", sp["port"])
            if isinstance(tp, str):
                tp = next((cp["containerPort"] for cp in pod.get("ports", [])
                           if cp.get("name") == tp and cp.get("protocol", "TCP") == proto), None)
                if tp is None:
                    continue
            out[(sp.get("name", ""), proto)][pod["ip"], tp] = (ready and not term, ready, term)
    return out


# ----------------------------------------------------------------------------- flows


def _flows(b: _Builder, data: dict, scenario_pods: list[dict], services: list[dict]) -> None:
    node_by_name = {n["name"]: n for n in b.node_list}
    node_order = [n["name"] for n in b.node_list]
    pods_by_node: dict[str, list[dict]] = {}
    for p in scenario_pods:
        pods_by_node.setdefault(p["node"], []).append(p)
    for lst in pods_by_node.values():
        lst.sort(key=lambda p: (not p.get("ready", True) or p.get("terminating", False), p["name"]))
    taken = {n["name"] for n in b.node_list} | {p["name"] for p in scenario_pods}
    used_ips = {n["ip"] for n in b.node_list}
    net = b.node_net

    def free_host() -> str:
        a = net.broadcast_address - 1
        while str(a) in used_ips:
            a -= 1
        used_ips.add(str(a))
        return str(a)

    needs_outside = any(s["type"] != "ClusterIP" for s in services)
    needs_lb = any(s.get("loadBalancerIP") for s in services)
    outside = None
    if needs_outside:
        outside = _unique("outside", taken) if "outside" in taken else "outside"
        taken.add(outside)
        data["clients"] = [{"name": outside, "ip": free_host()}]
    if needs_lb:
        lb = _unique("lb", taken) if "lb" in taken else "lb"
        taken.add(lb)
        data["loadBalancer"] = {"name": lb, "ip": free_host()}
    flows: list[dict] = []
    flow_names: set[str] = set()

    def name_for(base: str) -> str:
        cand = _label_name(base)
        if cand in flow_names:
            cand = _unique(cand, flow_names)
        flow_names.add(cand)
        return cand

    index = _Index(scenario_pods)
    pod_by_ip = {p["ip"]: p for p in scenario_pods}
    for svc in services:
        derived = derived_endpoints(index, svc)
        selected = {ip for eps in derived.values() for ip, _ in eps}
        ep_nodes = [pod_by_ip[ip]["node"] for ip in sorted(selected)]
        ready_nodes = [pod_by_ip[ip]["node"] for ip in sorted(selected)
                       if pod_by_ip[ip].get("ready", True)
                       and not pod_by_ip[ip].get("terminating", False)]
        # the sender: a pod (not an endpoint) on a node that hosts no endpoint, else on a
        # node without a ready one, else on another node than the first endpoint's
        tiers = [[n for n in node_order if n not in ep_nodes],
                 [n for n in node_order if n not in ready_nodes],
                 [n for n in node_order if n != (ready_nodes or ep_nodes or [""])[0]],
                 node_order]
        src = src_node = None
        for tier in tiers:
            for n in tier:
                pod = next((p["name"] for p in pods_by_node.get(n, []) if p["ip"] not in selected),
                           None)
                if pod is not None:
                    src, src_node = pod, n
                    break
            if src is not None:
                break
        if src is None:  # no pod to send from: a process in a node's host network
            src = src_node = next(t for t in tiers if t)[0]
        # the node an outside client (or the balancer) sends to: one with a ready endpoint
        # when only local endpoints serve it, else one without (to show the hop)
        if svc.get("externalTrafficPolicy") == "Local":
            entry = (ready_nodes or ep_nodes or node_order)[0]
        else:
            entry = ([n for n in node_order if n not in ep_nodes] or node_order)[0]
        key = f"{svc['namespace']}/{svc['name']}"
        for sp in svc["ports"]:
            pname = sp.get("name") or str(sp["port"])
            proto = sp.get("protocol", "TCP")
            extra = {"protocol": proto} if proto != "TCP" else {}
            what = f"{key}:{pname}" if sp.get("name") else key
            who = f"pod {src} on {src_node}" if src != src_node else f"a process on node {src_node}"
            flows.append({"name": name_for(f"{svc['name']}-{pname}"),
                          "description": f"{who} connects to {what} "
                          f"(ClusterIP {svc['clusterIP']}:{sp['port']}/{proto})",
                          "from": src, "to": f"{svc['clusterIP']}:{sp['port']}", **extra})
            if outside and sp.get("nodePort"):
                ip = node_by_name[entry]["ip"]
                flows.append({"name": name_for(f"{svc['name']}-{pname}-nodeport"),
                              "description": f"a client outside the cluster connects to {what} "
                              f"on node {entry}'s nodePort {sp['nodePort']}",
                              "from": outside, "to": f"{ip}:{sp['nodePort']}", **extra})
            if outside and svc.get("loadBalancerIP"):
                flows.append({"name": name_for(f"{svc['name']}-{pname}-lb"),
                              "description": f"a client outside the cluster connects to {what} "
                              f"through the load balancer ({svc['loadBalancerIP']}), "
                              f"which picks node {entry}",
                              "from": outside, "to": f"{svc['loadBalancerIP']}:{sp['port']}",
                              "via": entry, **extra})
    data["flows"] = flows


# ----------------------------------------------------------------------------- entry point


def build_scenario(objs: list[Obj], *, name: str = "imported", cluster_cidr: str | None = None,
                   service_cidr: str | None = None, dump_cluster_cidr: str | None = None,
                   flows: bool = True) -> ImportResult:
    """Turn kubectl objects into a checked scenario; raises DumpError when it cannot."""
    b = _Builder(objs, name, cluster_cidr, service_cidr)
    by_kind = b.classify()
    b.nodes(by_kind["Node"])
    b.pods(by_kind["Pod"])
    b.services(by_kind["Service"])
    b.slices(by_kind["EndpointSlice"])
    b.settle_services()
    b.settle_names()
    cluster = b.networks(dump_cluster_cidr)
    b.settle_api_server(cluster)

    pods = list(b.pod_by_key.values())
    services = sorted(b.svc_by_key.values(), key=lambda s: (s["namespace"], s["name"]))
    pods.sort(key=lambda p: (p["node"], p["namespace"], p["name"]))

    # validate the whole; an object the schema refuses, alone (pydantic) or next to the
    # others (cross_check: addresses, ranges), is left out with the reason, and again
    compared = False
    for _ in range(5):
        if not compared:
            # the slices are the truth: say where the scenario will differ from them
            _compare_endpoints(b, pods, services)
            compared = True
        data = _data(name, cluster, b.node_list, pods, services)
        if flows:
            _flows(b, data, data["pods"], data["services"])
        data = _clean(data)
        data["description"] = _description(b, data)
        ctx: dict[str, Any] = {"issues": []}
        try:
            scenario = Scenario.model_validate(data, strict=True, by_alias=True, by_name=False,
                                               context=ctx)
            problems = [(tuple(p), m) for p, m in ctx["issues"]]
        except ValidationError as e:
            problems = [(tuple(err["loc"]) + tuple((err.get("ctx") or {}).get("at", ())),
                         err["msg"]) for err in e.errors()]
        if not problems:
            return ImportResult(data, scenario, b.warnings, b.left_out, b.renamed, b.counts, b.notes)
        bad_pods: set[int] = set()
        bad_svcs: set[int] = set()
        for path, msg in problems:
            field = ".".join(str(x) for x in path[2:])
            text = f"{field + ': ' if field else ''}{msg}"
            if path[:1] == ("pods",) and len(path) > 1:
                if path[1] not in bad_pods:
                    bad_pods.add(path[1])
                    b.warn(pods[path[1]]["_who"], f"{text}: not imported")
            elif path[:1] == ("services",) and len(path) > 1:
                if path[1] not in bad_svcs:
                    bad_svcs.add(path[1])
                    sv = services[path[1]]
                    b._leave_out(f"{sv['namespace']}/{sv['name']}", sv["_who"],
                                 f"{text}: not imported")
            else:
                raise DumpError("<input>", "the imported cluster is not a valid scenario: "
                                f"{'.'.join(str(x) for x in path)}: {msg}")
        pods = [p for i, p in enumerate(pods) if i not in bad_pods]
        services = [s for i, s in enumerate(services) if i not in bad_svcs]
        compared = False
    raise DumpError("<input>", "the imported cluster is not a valid scenario")  # pragma: no cover


def _compare_endpoints(b: _Builder, pods: list[dict], services: list[dict]) -> None:
    index = _Index(pods)
    pod_ips = {p["ip"] for p in pods}
    for svc in services:
        key = f"{svc['namespace']}/{svc['name']}"
        truth = b.truth.get(key, {})
        # only what the scenario can express: endpoints that are pods it holds
        want = {k: {a: c for a, c in eps.items() if a[0] in pod_ips} for k, eps in truth.items()}
        got = derived_endpoints(index, svc)
        if want == got:
            continue
        diffs = []
        for k in sorted(set(want) | set(got)):
            w, g = want.get(k, {}), got.get(k, {})
            port = k[0] or "(unnamed)"
            for a in sorted(set(w) - set(g)):
                diffs.append(f"{port}: {a[0]}:{a[1]} is in its EndpointSlices, not selected")
            for a in sorted(set(g) - set(w)):
                diffs.append(f"{port}: {a[0]}:{a[1]} would be selected, not in its EndpointSlices")
            for a in sorted(set(w) & set(g)):
                if w[a] != g[a]:
                    diffs.append(f"{port}: {a[0]}:{a[1]} conditions {_cond(w[a])} in the slice, "
                                 f"{_cond(g[a])} in the scenario")
        if diffs:
            b.warn(svc["_who"], "its endpoints in the scenario differ from its EndpointSlices: "
                   + _few(diffs))


def _cond(c: tuple) -> str:
    return "/".join(n for n, v in zip(("ready", "serving", "terminating"), c) if v) or "none"


def _data(name: str, cluster: dict, nodes, pods, services) -> dict:
    return {
        "name": name,
        "cluster": {**cluster, "nodes": [dict(n) for n in nodes]},
        "pods": pods,
        "services": services,
    }


def _clean(data: dict) -> dict:
    """Plain data in schema order, internal keys and defaults left out."""
    def strip(d):
        return {k: v for k, v in d.items() if not k.startswith("_")}

    pods = []
    for p in data["pods"]:
        q = strip(p)
        if q.get("ready", True) is True:
            q.pop("ready", None)
        if q.get("terminating") is False:
            q.pop("terminating", None)
        pods.append(q)
    services = []
    for s in data["services"]:
        q = strip(s)
        if q.get("type") == "ClusterIP":
            q.pop("type")
        services.append(q)
    out = {"name": data["name"], "description": "", "cluster": data["cluster"],
           "pods": pods, "services": services}
    for k in ("clients", "loadBalancer", "flows"):
        if data.get(k):
            out[k] = data[k]
    return out


def _description(b: _Builder, data: dict) -> str:
    n, p, s = len(data["cluster"]["nodes"]), len(data["pods"]), len(data["services"])
    return (f"Imported from kubectl: {n} node{'s' * (n != 1)}, {p} pod{'s' * (p != 1)}, "
            f"{s} Service{'s' * (s != 1)}.")
