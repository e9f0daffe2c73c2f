"""Seeded random scenarios for the kernel differential (``test_random_scenarios.py``).

``random_scenario(seed)`` builds a valid scenario: 1-3 nodes, two or three Services of mixed
types (ClusterIP, NodePort, LoadBalancer with a ``vip`` or ``proxy`` balancer), TCP and UDP
ports, named and numeric targetPorts, ``externalTrafficPolicy: Local``, ``sessionAffinity:
ClientIP``, ``loadBalancerSourceRanges``; ready, not-ready and terminating endpoints, some
declaring no ``ports`` (they listen on the numeric targetPort: (d), one rule for both); and
flows from pods, from nodes' host networks (to Services, to NodePorts on other nodes and on
their own address) and from an external client.

Cases whose kernel/simulator disagreement is known and open (issue 13 (b)-(c)) are not
generated, each for its stated reason, so that a failure here is a new disagreement:

* (b) a balancer in front of a Service with no ready endpoint ((c), the vip case, is modelled and
  checked in test_redirect_ratelimit.py, but not generated: it would change every seed), or a proxy balancer sending
  an ``externalTrafficPolicy: Local`` Service to a node without a local endpoint;
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
    data["flows"] = flows
    return Scenario.model_validate(data)
