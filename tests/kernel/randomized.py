"""Seeded random scenarios for the kernel differential (``test_random_scenarios.py``).

``random_scenario(seed)`` builds a valid scenario: 1-3 nodes, two or three Services of mixed
types (ClusterIP, NodePort, LoadBalancer with a ``vip`` or ``proxy`` balancer), TCP and UDP
ports, named and numeric targetPorts, ``externalTrafficPolicy: Local``, ``sessionAffinity:
ClientIP``, ``loadBalancerSourceRanges``; ready, not-ready and terminating endpoints, some
declaring no ``ports`` (they listen on the numeric targetPort: (d), one rule for both); and
flows from pods, from nodes' host networks (to Services, to NodePorts on other nodes and on
their own address) and from an external client.

With a ``vip`` balancer, about one seed in two also gets issue 13 (c): a LoadBalancer Service
with no ready endpoint (no pod, or one not ready), called through the balancer by a second
external client ``user2`` (the flow ``user2-lb-<svc>``, last).  The node REJECTs it in FORWARD,
but it has just built an ICMP redirect for ``user2`` (the LB IP's route is its default route, out
of the eth0 the packet came in on), which restarts the ICMP rate limit it keeps for that
host: the port unreachable is suppressed and the client times out.  The rate limit's state
lives on in the node (its ``inet_peer`` for the client, which nothing flushes between
flows): an ICMP error the node let through to the same client in the last 20 s would leave
tokens in its bucket, so the flow gets a client no earlier flow used.  These draws come from
their own generator (``random.Random(f"{seed}:c")``), so a seed's other Services and flows
are what they were without them.

Cases whose kernel/simulator disagreement is known and open (issue 13 (b)) are not
generated, each for its stated reason, so that a failure here is a new disagreement:

* (b) a proxy balancer in front of a Service with no ready endpoint, or a proxy balancer
  sending an ``externalTrafficPolicy: Local`` Service to a node without a local endpoint;
* a node calling an LB IP without a balancer route (ARP for a router that does not exist).
"""

from __future__ import annotations

import random
from typing import Any

from kubeflow_tui.scenario import Scenario


def random_scenario(seed: int) -> Scenario:
    rng = random.Random(seed)
    n_nodes = rng.randint(1, 3)
    nodes = [{"name": f"node-{'abc'[i]}", "ip": f"192.168.1.{10 + i}", "podCIDR": f"10.244.{i + 1}.0/24"}
             for i in range(n_nodes)]
    pods: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    flows: list[dict[str, Any]] = []
    used_node_ports: set[int] = set()
    lb_style = rng.choice(["vip", "proxy"])
    has_lb = False
    host_octet = {i: 5 for i in range(n_nodes)}

    def new_pod(name: str, labels: dict[str, str], ports: list[dict[str, Any]], **extra) -> dict[str, Any]:
        ni = rng.randrange(n_nodes)
        ip = f"10.244.{ni + 1}.{host_octet[ni]}"
        host_octet[ni] += 1
        pod = {"name": name, "node": nodes[ni]["name"], "ip": ip, "labels": labels, "ports": ports, **extra}
        pods.append(pod)
        return pod

    n_svc = rng.randint(2, 3)
    for s in range(n_svc):
        app = f"app{s}"
        proto = "UDP" if rng.random() < 0.3 else "TCP"
        target = rng.choice([8080, 9376, 5000 + s])
        named = rng.random() < 0.5
        stype = rng.choice(["ClusterIP", "NodePort", "LoadBalancer"])
        if stype == "LoadBalancer" and has_lb:
            stype = "NodePort"
        # endpoints: at least one ready unless the Service is a plain ClusterIP (no-endpoint
        # cases behind a balancer are the known disagreements (b)/(c))
        n_ep = rng.randint(0 if stype == "ClusterIP" else 1, 3)
        eps = []
        for k in range(n_ep):
            state = rng.random()
            extra: dict[str, Any] = {}
            if k > 0 and state < 0.15:
                extra["ready"] = False
            elif k > 0 and state < 0.25:
                extra["terminating"] = True
                extra["ready"] = False
            # a pod may declare no ports (then it listens on the Services' numeric targetPort)
            declared = named or rng.random() < 0.7
            eps.append(new_pod(f"{app}-{k + 1}", {"app": app},
                               [{"name": "srv", "containerPort": target, "protocol": proto}] if declared else [],
                               **extra))
        port: dict[str, Any] = {"name": "srv", "port": rng.choice([80, 8080, 53, 443]), "protocol": proto,
                                "targetPort": "srv" if named else target}
        svc: dict[str, Any] = {"name": f"svc{s}", "type": stype, "clusterIP": f"10.96.{s}.{rng.randint(2, 250)}",
                               "selector": {"app": app}, "ports": [port]}
        if rng.random() < 0.2:
            svc["sessionAffinity"] = "ClientIP"
        if stype != "ClusterIP":
            np_ = rng.randint(30000, 32767)
            while np_ in used_node_ports:
                np_ += 1
            used_node_ports.add(np_)
            port["nodePort"] = np_
            if rng.random() < 0.25:
                svc["externalTrafficPolicy"] = "Local"
        if stype == "LoadBalancer":
            has_lb = True
            svc["loadBalancerIP"] = f"203.0.113.{rng.randint(2, 250)}"
            if rng.random() < 0.3:
                svc["loadBalancerSourceRanges"] = [rng.choice(["192.168.1.0/24", "198.51.100.0/24"])]
        services.append(svc)

    client = new_pod("client", {"app": "client"}, [])
    # systemServices off: random ClusterIPs may be the first or tenth Service IP, and the
    # recorded seeds' rules stay what they were (scenarios/system-services.yaml puts them
    # under the referee in test_scenarios.py)
    data: dict[str, Any] = {"name": f"random-{seed}", "seed": seed, "cluster": {"nodes": nodes, "systemServices": False},
                            "pods": pods, "services": services}
    data["clients"] = [{"name": "user", "kind": "external", "ip": "192.168.1.2"}]
    if has_lb:
        data["loadBalancer"] = {"name": "lb", "ip": "192.168.1.100", "style": lb_style}

    def ready(svc) -> bool:
        app = svc["selector"]["app"]
        return any(p["labels"].get("app") == app and p.get("ready", True) and not p.get("terminating")
                   for p in pods)

    sport = 41000
    for svc in services:
        p = svc["ports"][0]
        proto = p["protocol"]
        to = f"{svc['clusterIP']}:{p['port']}"
        flows.append({"name": f"pod-{svc['name']}", "from": client["name"], "to": to, "protocol": proto})
        node = rng.choice(nodes)
        # (UDP to a Service with no ready endpoint too: the node's OUTPUT rejects it and send()
        # fails with EPERM, issue 13 (a))
        sport += 1
        flows.append({"name": f"node-{svc['name']}", "from": node["name"], "to": to, "protocol": proto,
                      "sourcePort": sport})
        if svc["type"] != "ClusterIP":
            # a pod calling a node's NodePort (the endpoint may be back on the pod's node)
            flows.append({"name": f"pod-np-{svc['name']}", "from": client["name"],
                          "to": f"{rng.choice(nodes)['ip']}:{p['nodePort']}", "protocol": proto})
            via = rng.choice(nodes)
            flows.append({"name": f"user-np-{svc['name']}", "from": "user", "to": f"{via['ip']}:{p['nodePort']}",
                          "protocol": proto})
            # a node calling its own address on the NodePort (routed via lo)
            sport += 1
            flows.append({"name": f"own-np-{svc['name']}", "from": via["name"], "to": f"{via['ip']}:{p['nodePort']}",
                          "protocol": proto, "sourcePort": sport})
        if svc["type"] == "LoadBalancer":
            vias = nodes
            if lb_style == "proxy" and svc.get("externalTrafficPolicy") == "Local":
                # (b): a proxy balancer whose backend connection fails has already accepted
                # the client's: only nodes with a ready local endpoint
                app = svc["selector"]["app"]
                local = {q["node"] for q in pods if q["labels"].get("app") == app and q.get("ready", True)
                         and not q.get("terminating")}
                vias = [n for n in nodes if n["name"] in local]
            if vias:
                flows.append({"name": f"user-lb-{svc['name']}", "from": "user",
                              "to": f"{svc['loadBalancerIP']}:{p['port']}", "protocol": proto,
                              "via": rng.choice(vias)["name"]})
    if lb_style == "vip":
        _no_endpoints_behind_the_vip(random.Random(f"{seed}:c"), data, nodes, services, flows,
                                     used_node_ports, host_octet)
    data["flows"] = flows
    return Scenario.model_validate(data)


def _no_endpoints_behind_the_vip(side: random.Random, data: dict[str, Any], nodes, services, flows,
                                 used_node_ports: set[int], host_octet: dict[int, int]) -> None:
    """Issue 13 (c), about one seed in two: a LoadBalancer Service without a ready endpoint
    behind the ``vip`` balancer, called by ``user2`` through a random node (module docstring)."""
    if side.random() >= 0.5:
        return
    s = len(services)
    app = f"app{s}"
    proto = side.choice(["UDP", "TCP"])
    target = side.choice([8080, 5000 + s])
    if side.random() < 0.5:  # one pod, not ready; else none at all
        ni = side.randrange(len(nodes))
        data["pods"].append({"name": f"{app}-1", "node": nodes[ni]["name"], "ip": f"10.244.{ni + 1}.{host_octet[ni]}",
                             "labels": {"app": app}, "ready": False,
                             "ports": [{"name": "srv", "containerPort": target, "protocol": proto}]})
        host_octet[ni] += 1
    node_port = side.randint(30000, 32767)
    while node_port in used_node_ports:
        node_port += 1
    used_node_ports.add(node_port)
    taken = {svc.get("loadBalancerIP") for svc in services}
    lb_ip = f"203.0.113.{side.randint(2, 250)}"
    while lb_ip in taken:
        lb_ip = f"203.0.113.{int(lb_ip.rsplit('.', 1)[1]) % 250 + 2}"
    port = {"name": "srv", "port": side.choice([80, 53, 5000]), "protocol": proto, "targetPort": target,
            "nodePort": node_port}
    services.append({"name": f"svc{s}", "type": "LoadBalancer", "clusterIP": f"10.96.{s}.{side.randint(2, 250)}",
                     "selector": {"app": app}, "ports": [port], "loadBalancerIP": lb_ip})
    data.setdefault("loadBalancer", {"name": "lb", "ip": "192.168.1.100", "style": "vip"})
    data["clients"].append({"name": "user2", "kind": "external", "ip": "192.168.1.3"})
    flows.append({"name": f"user2-lb-svc{s}", "from": "user2", "to": f"{lb_ip}:{port['port']}", "protocol": proto,
                  "via": side.choice(nodes)["name"]})
