"""Checks of a scenario as a whole: references between its objects (pods on nodes,
Services' ports, clients, flows and their ``after``, the load balancer, timeline events),
the address plans and the uniqueness of names and addresses.

:class:`~kubeflow_tui.scenario.models.Scenario` runs :func:`cross_check` after each
model has checked itself: built directly in Python it raises on the first problem; the
loader passes a validation context with an ``"issues"`` list and gets all of them, each
with its path in YAML keys (``("flows", 0, "from")``), which it turns into
``file:line:col`` errors.
"""

from __future__ import annotations

import difflib
import ipaddress

from .models import Flow, Path, Scenario, Service
from .system import system_issues


def _names(names) -> str:
    names = list(names)
    return ", ".join(names) if names else "none"


def _unknown(kind: str, name: str, known: list[str], when: str = "") -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {_names(known)})"
    return f"{kind} {name!r} does not exist{when}{hint}"


_WHEN = " at this point of the timeline"


def cross_check(s: Scenario) -> list[tuple[Path, str]]:
    """Every problem between objects of a scenario, as (path, message); path uses YAML
    keys (``("flows", 0, "from")``)."""
    out: list[tuple[Path, str]] = []

    def err(msg: str, *path: str | int) -> None:
        out.append((tuple(path), msg))

    c = s.cluster
    cluster_net = ipaddress.IPv4Network(c.clusterCIDR)
    service_net = ipaddress.IPv4Network(c.serviceCIDR)
    node_net = ipaddress.IPv4Network(c.nodeNetwork)
    router = next(node_net.hosts(), None) if node_net.num_addresses > 2 else None

    # the three address plans must not overlap
    plans = [("clusterCIDR", cluster_net), ("serviceCIDR", service_net), ("nodeNetwork", node_net)]
    for i, (na, a) in enumerate(plans):
        for nb, b in plans[i + 1:]:
            if a.overlaps(b):
                err(f"{nb} {b} overlaps {na} {a}", "cluster", nb)

    # every address in the scenario: ip -> where it was first used
    used: dict[str, str] = {}

    def claim(ip: str, what: str, *path: str | int) -> None:
        if ip in used:
            err(f"{ip} is already used by {used[ip]}", *path)
        else:
            used[ip] = what

    def on_node_network(ip: str, what: str, *path: str | int) -> bool:
        a = ipaddress.IPv4Address(ip)
        if a not in node_net or a in (node_net.network_address, node_net.broadcast_address):
            err(f"{what} {ip} is not a host address in nodeNetwork {node_net}", *path)
            return False
        if router is not None and a == router:
            err(f"{ip} is the node network's default router (first host of {node_net}); "
                "pick another address", *path)
            return False
        return True

    # --- nodes ------------------------------------------------------------------
    nodes: dict[str, int] = {}
    pod_nets: dict[str, ipaddress.IPv4Network] = {}
    for i, n in enumerate(c.nodes):
        if n.name in nodes:
            err(f"duplicate node name {n.name!r} (also cluster.nodes[{nodes[n.name]}])",
                "cluster", "nodes", i, "name")
            continue
        nodes[n.name] = i
        if on_node_network(n.ip, "node IP", "cluster", "nodes", i, "ip"):
            claim(n.ip, f"node {n.name}", "cluster", "nodes", i, "ip")
        net = ipaddress.IPv4Network(n.podCIDR)
        if not net.subnet_of(cluster_net):
            err(f"podCIDR {net} is not inside clusterCIDR {cluster_net}",
                "cluster", "nodes", i, "podCIDR")
        elif net.num_addresses < 4:
            err(f"podCIDR {net} is too small (needs room for a gateway and pods)",
                "cluster", "nodes", i, "podCIDR")
        for other, onet in pod_nets.items():
            if net.overlaps(onet):
                err(f"podCIDR {net} overlaps node {other}'s podCIDR {onet}",
                    "cluster", "nodes", i, "podCIDR")
                break
        pod_nets[n.name] = net
    node_names = list(nodes)
    # a node's address on its pods' veths (host-side veth address CNIs): a local address
    # of the node, so a flow may name it (NodePorts answer there unless nodePortAddresses
    # leaves it out)
    gateways = {str(net.network_address + 1) for name, net in pod_nets.items()
                if c.hostVethAddress and any(p.node == name for p in s.pods)}

    # --- pods -------------------------------------------------------------------
    pods: dict[str, int] = {}
    veths: dict[tuple[str, str], str] = {}
    for i, p in enumerate(s.pods):
        if p.name in pods:
            err(f"duplicate pod name {p.name!r} (also pods[{pods[p.name]}]); pod names must "
                "be unique across namespaces", "pods", i, "name")
            continue
        pods[p.name] = i
        if p.name in nodes:
            err(f"pod name {p.name!r} is also a node name; flows could not tell them apart",
                "pods", i, "name")
        if p.node not in nodes:
            err(_unknown("node", p.node, node_names), "pods", i, "node")
        else:
            net = pod_nets[p.node]
            a = ipaddress.IPv4Address(p.ip)
            gw = net.network_address + 1
            if a not in net:
                err(f"pod IP {p.ip} is not inside node {p.node}'s podCIDR {net}", "pods", i, "ip")
            elif a in (net.network_address, net.broadcast_address):
                err(f"pod IP {p.ip} is not a host address of podCIDR {net}", "pods", i, "ip")
            elif a == gw:
                err(f"pod IP {p.ip} is node {p.node}'s pod gateway (first host of {net})",
                    "pods", i, "ip")
            veth = f"veth-{p.name}"[:15]
            if (p.node, veth) in veths:
                err(f"pods {veths[p.node, veth]} and {p.name} on node {p.node} would both get "
                    f"interface {veth!r} (names are cut to 15 characters); shorten one",
                    "pods", i, "name")
            veths[p.node, veth] = p.name
        claim(p.ip, f"pod {p.name}", "pods", i, "ip")
    pod_names = list(pods)

    # --- services ---------------------------------------------------------------
    svcs: dict[str, int] = {}
    node_ports: dict[tuple[int, str], str] = {}
    for i, sv in enumerate(s.services):
        if sv.key in svcs:
            err(f"duplicate Service {sv.key} (also services[{svcs[sv.key]}])",
                "services", i, "name")
            continue
        svcs[sv.key] = i
        if ipaddress.IPv4Address(sv.clusterIP) not in service_net:
            err(f"clusterIP {sv.clusterIP} is not inside serviceCIDR {service_net}",
                "services", i, "clusterIP")
        claim(sv.clusterIP, f"Service {sv.key}", "services", i, "clusterIP")
        for j, p in enumerate(sv.ports):
            for np_ in (p.nodePort,):
                if np_ is None:
                    continue
                if (np_, p.protocol) in node_ports:
                    err(f"nodePort {np_}/{p.protocol} is already used by "
                        f"{node_ports[np_, p.protocol]}", "services", i, "ports", j, "nodePort")
                else:
                    node_ports[np_, p.protocol] = f"Service {sv.key}"
        if sv.healthCheckNodePort is not None:
            if (sv.healthCheckNodePort, "TCP") in node_ports:
                err(f"healthCheckNodePort {sv.healthCheckNodePort} is already used by "
                    f"{node_ports[sv.healthCheckNodePort, 'TCP']}",
                    "services", i, "healthCheckNodePort")
            else:
                node_ports[sv.healthCheckNodePort, "TCP"] = f"Service {sv.key} (health check)"
        for j, x in enumerate(sv.externalIPs):
            claim(x, f"Service {sv.key} (externalIP)", "services", i, "externalIPs", j)
        if sv.loadBalancerIP is not None:
            a = ipaddress.IPv4Address(sv.loadBalancerIP)
            for pname, net in plans:
                if a in net:
                    err(f"loadBalancerIP {a} is inside {pname} {net}; use an address outside "
                        "the cluster's networks, e.g. 203.0.113.5", "services", i, "loadBalancerIP")
                    break
            else:
                claim(sv.loadBalancerIP, f"Service {sv.key} (loadBalancerIP)",
                      "services", i, "loadBalancerIP")

    # --- load balancer ----------------------------------------------------------
    lb = s.loadBalancer
    if lb is not None:
        if lb.name in nodes or lb.name in pods:
            err(f"load balancer name {lb.name!r} is also a node or pod name",
                "loadBalancer", "name")
        if on_node_network(lb.ip, "load balancer IP", "loadBalancer", "ip"):
            claim(lb.ip, f"load balancer {lb.name}", "loadBalancer", "ip")
        seen: set[str] = set()
        for j, n in enumerate(lb.nodes):
            if n not in nodes:
                err(_unknown("node", n, node_names), "loadBalancer", "nodes", j)
            elif n in seen:
                err(f"node {n!r} is listed twice", "loadBalancer", "nodes", j)
            seen.add(n)

    # --- clients ----------------------------------------------------------------
    clients: dict[str, int] = {}
    for i, cl in enumerate(s.clients):
        if cl.name in clients:
            err(f"duplicate client name {cl.name!r} (also clients[{clients[cl.name]}])",
                "clients", i, "name")
            continue
        clients[cl.name] = i
        for kind, names in (("node", nodes), ("pod", pods)):
            if cl.name in names:
                err(f"client name {cl.name!r} is also a {kind} name; flows could not tell "
                    "them apart", "clients", i, "name")
        if lb is not None and cl.name == lb.name:
            err(f"client name {cl.name!r} is also the load balancer's name", "clients", i, "name")
        if cl.kind == "external" and cl.ip is not None:
            if on_node_network(cl.ip, "client IP", "clients", i, "ip"):
                claim(cl.ip, f"client {cl.name}", "clients", i, "ip")
        if cl.kind == "node" and cl.node not in nodes:
            err(_unknown("node", cl.node, node_names), "clients", i, "node")
        if cl.kind == "pod" and cl.pod not in pods:
            err(_unknown("pod", cl.pod, pod_names), "clients", i, "pod")

    # --- flows ------------------------------------------------------------------
    lb_ips = {sv.loadBalancerIP: sv for sv in s.services if sv.loadBalancerIP}
    flows: dict[str, int] = {}
    sources = list(clients) + pod_names + node_names
    for i, f in enumerate(s.flows):
        if f.name in flows:
            err(f"duplicate flow name {f.name!r} (also flows[{flows[f.name]}])",
                "flows", i, "name")
        else:
            flows[f.name] = i
        external = False
        if f.from_ in clients:
            external = s.clients[clients[f.from_]].kind == "external"
        elif f.from_ not in pods and f.from_ not in nodes:
            close = difflib.get_close_matches(f.from_, sources, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            err(f"{f.from_!r} is not a client, pod or node{hint}", "flows", i, "from")
        if f.dst_ip not in used and f.dst_ip not in gateways:
            err(f"{f.dst_ip} is not an address in this scenario (a Service's clusterIP, "
                "externalIP or loadBalancerIP, a node, a pod)", "flows", i, "to")
        through_lb = external and f.dst_ip in lb_ips
        if through_lb and lb is None:
            err(f"{f.dst_ip} is Service {lb_ips[f.dst_ip].key}'s loadBalancerIP: a flow from "
                "an external client to it needs a loadBalancer section", "flows", i, "to")
        elif through_lb and f.via is None:
            err("this flow goes through the load balancer: say which node it picks with via",
                "flows", i)
        known_source = f.from_ in clients or f.from_ in pods or f.from_ in nodes
        if f.via is not None and known_source:
            if not through_lb:
                err("via is only for flows from an external client to a loadBalancerIP",
                    "flows", i, "via")
            elif f.via not in nodes:
                err(_unknown("node", f.via, node_names), "flows", i, "via")
            elif lb is not None and lb.nodes and f.via not in lb.nodes:
                err(f"node {f.via!r} is not one of the load balancer's nodes "
                    f"({_names(lb.nodes)})", "flows", i, "via")
        for k, before in enumerate(f.after):
            if before == f.name:
                err("a flow cannot run after itself", "flows", i, "after", k)
            elif before not in {g.name for g in s.flows}:
                err(_unknown("flow", before, [g.name for g in s.flows]), "flows", i, "after", k)
        if f.endpoint is not None:
            if f.endpoint not in pods:
                err(_unknown("pod", f.endpoint, pod_names), "flows", i, "endpoint")
            else:
                target = _service_at(s, f)
                pod = s.pods[pods[f.endpoint]]
                if target is not None and not target.selects(pod):
                    err(f"pod {f.endpoint!r} is not selected by Service {target.key}, so it "
                        "can never be the endpoint", "flows", i, "endpoint")

    # --- timeline: replayed in order, so references follow the changing state -------
    live_pods = {p.name: p for p in s.pods if p.name in pods}
    live_svcs = {sv.key: sv for sv in s.services}
    for i, ev in enumerate(s.timeline):
        if ev.action == "scale":
            deps = sorted({p.deployment for p in live_pods.values() if p.deployment})
            if ev.deployment not in deps:
                err(_unknown("deployment", ev.deployment, deps), "timeline", i, "deployment")
        elif ev.action == "delete-pod":
            if ev.pod not in live_pods:
                err(_unknown("pod", ev.pod, list(live_pods), _WHEN),
                    "timeline", i, "pod")
            else:
                del live_pods[ev.pod]
        elif ev.action in ("delete-service", "set-selector"):
            found = [k for k, sv in live_svcs.items() if ev.service in (k, sv.name)]
            if not found:
                err(_unknown("Service", ev.service, list(live_svcs), _WHEN),
                    "timeline", i, "service")
            elif len(found) > 1:
                err(f"Service {ev.service!r} is ambiguous ({_names(found)}); write "
                    "namespace/name", "timeline", i, "service")
            elif ev.action == "delete-service":
                del live_svcs[found[0]]
        elif ev.action == "add-pod":
            np_ = ev.newPod
            assert np_ is not None
            if np_.name in live_pods or np_.name in nodes:
                err(f"pod {np_.name!r} already exists", "timeline", i, "newPod", "name")
            if np_.node not in nodes:
                err(_unknown("node", np_.node, node_names), "timeline", i, "newPod", "node")
            else:
                net = pod_nets[np_.node]
                a = ipaddress.IPv4Address(np_.ip)
                if a not in net or a in (net.network_address, net.broadcast_address,
                                         net.network_address + 1):
                    err(f"pod IP {np_.ip} is not a usable address of node {np_.node}'s "
                        f"podCIDR {net}", "timeline", i, "newPod", "ip")
            clash = [p.name for p in live_pods.values() if p.ip == np_.ip]
            if clash or (np_.ip in used and not used[np_.ip].startswith("pod ")):
                who = f"pod {clash[0]}" if clash else used[np_.ip]
                err(f"{np_.ip} is already used by {who}", "timeline", i, "newPod", "ip")
            live_pods[np_.name] = np_
    _timing(s, err)
    out.extend(system_issues(s))
    return out


def _timing(s: Scenario, err) -> None:
    """Times on the timeline: every event or none carries ``at``, never going back; a flow's
    ``at`` needs such a timeline."""
    timed = [i for i, ev in enumerate(s.timeline) if ev.at is not None]
    if timed and len(timed) != len(s.timeline):
        first = timed[0]
        for i, ev in enumerate(s.timeline):
            if ev.at is None:
                err(f"timeline[{first}] has at, so every event needs at (seconds since the "
                    "timeline started); or leave at out everywhere", "timeline", i)
        return
    for i in range(1, len(timed)):
        prev, cur = s.timeline[i - 1].at, s.timeline[i].at
        if cur < prev:
            err(f"at {cur:g} is earlier than timeline[{i - 1}]'s {prev:g}: events are in time "
                "order (equal times are fine)", "timeline", i, "at")
    for i, f in enumerate(s.flows):
        if f.at is not None and not timed:
            err("at needs a timeline whose events carry at (seconds since it started)",
                "flows", i, "at")


def _service_at(s: Scenario, f: Flow) -> Service | None:
    """The Service a flow's destination belongs to, if any."""
    node_ips = {n.ip for n in s.cluster.nodes}
    for sv in s.services:
        for p in sv.ports:
            if p.protocol != f.protocol:
                continue
            if f.dst_port == p.port and (
                f.dst_ip == sv.clusterIP
                or f.dst_ip in sv.externalIPs
                or f.dst_ip == sv.loadBalancerIP
            ):
                return sv
            if p.nodePort == f.dst_port and f.dst_ip in node_ips:
                return sv
    return None
