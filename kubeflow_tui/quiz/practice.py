"""Endless practice: a random cluster from a seed × a fault from a catalogue → an incident.

:func:`generate` builds the scenario (nodes, a Deployment behind a Service, a client pod,
external clients, CoreDNS …, all drawn from the seed) and the case around it: the broken
state (through the case's ``setup`` or the scenario itself), what the user reports, hints,
investigation commands, a diagnosis whose distractors are the one-line diagnoses of the
faults that show the same symptom, and a reference fix.  The symptom is checked by running
the flow; a fix counts when the failing connection works again (``CaseSession.check_fix``).

``kubeflow-tui practice`` plays them; ``kubeflow-tui cases generate --seed S --count N -o DIR``
writes them as case files (with the scenario beside them) that record ``fault``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

#: the fault kinds, with the symptom class they show (used to pick plausible distractors)
FAULTS: dict[str, str] = {
    "not-ready": "refused",
    "selector-mismatch": "refused",
    "selector-typo": "refused",
    "scaled-to-zero": "refused",
    "wrong-target-port": "refused",
    "named-port": "refused",
    "dns-scaled-to-zero": "refused",
    "local-no-endpoint": "timeout",
    "source-ranges": "timeout",
    "missing-masquerade": "timeout",
    "conntrack-full": "timeout",
    "rule-deleted": "timeout",
    "stale-udp-conntrack": "timeout",
}

#: pod names stay within 10 characters: the node's veth for a pod is "veth-" + its name, cut at 15
APPS = ("payments", "catalog", "orders", "search", "stock", "billing", "profile", "reviews")
CLIENTS = ("checkout", "frontend", "cart", "gateway", "shop", "mobile")


@dataclass
class World:
    """The random cluster a fault is put into."""

    seed: int
    rng: random.Random
    app: str
    client: str
    nodes: list[dict[str, Any]]
    port: int
    target: int
    replicas: int
    cluster_ip: str
    pods: list[dict[str, Any]] = field(default_factory=list)

    def pod_ip(self, node_index: int, host: int) -> str:
        return f"10.244.{node_index + 1}.{host}"


def _world(seed: int) -> World:
    rng = random.Random(f"practice:{seed}")
    n = rng.randint(2, 3)
    nodes = [{"name": f"node-{'abc'[i]}", "ip": f"192.168.1.{10 + i}", "podCIDR": f"10.244.{i + 1}.0/24"}
             for i in range(n)]
    return World(seed=seed, rng=rng, app=rng.choice(APPS), client=rng.choice(CLIENTS), nodes=nodes,
                 port=rng.choice([80, 8080, 443, 9090]), target=rng.choice([8080, 8443, 9376, 5000, 3000]),
                 replicas=rng.randint(1, 3),
                 cluster_ip=f"10.96.{rng.randint(1, 200)}.{rng.randint(2, 254)}")


def _app_pods(w: World, *, nodes: list[int] | None = None, labels: dict[str, str] | None = None,
              port_name: str = "http", ready: bool = True) -> list[dict[str, Any]]:
    out = []
    for k in range(w.replicas):
        ni = nodes[k % len(nodes)] if nodes else w.rng.randrange(len(w.nodes))
        pod: dict[str, Any] = {"name": f"{w.app}-{k + 1}", "node": w.nodes[ni]["name"],
                               "ip": w.pod_ip(ni, 5 + k), "deployment": w.app,
                               "labels": dict(labels or {"app": w.app}),
                               "ports": [{"name": port_name, "containerPort": w.target}]}
        if not ready:
            pod["ready"] = False
        out.append(pod)
    return out


def _client_pod(w: World, ni: int, name: str | None = None, host: int = 9) -> dict[str, Any]:
    name = name or f"{w.client}-1"
    return {"name": name, "node": w.nodes[ni]["name"], "ip": w.pod_ip(ni, host),
            "labels": {"app": name.rsplit("-", 1)[0] if name[-1].isdigit() else name}}


def _service(w: World, **kw: Any) -> dict[str, Any]:
    svc: dict[str, Any] = {"name": w.app, "clusterIP": w.cluster_ip, "selector": {"app": w.app},
                           "ports": [{"name": "http", "port": w.port, "targetPort": "http"}]}
    svc.update(kw)
    return svc


def _scenario(w: World, name: str, pods: list, services: list, flows: list, **extra: Any) -> dict[str, Any]:
    data = {"name": name, "description": f"Practice cluster {w.seed}.", "seed": w.seed % 10000,
            # systemServices off: a practice cluster holds the fault's own Service only, so
            # every rule the learner reads belongs to the fault
            "cluster": {"nodes": w.nodes, "systemServices": False}, "pods": pods, "services": services, "flows": flows}
    data.update(extra)
    return data


@dataclass
class Built:
    """One fault put into one world: everything a case file needs."""

    scenario: dict[str, Any]
    setup: list[dict[str, Any]]
    host: str
    flow: str
    outcome: str
    report: str
    title: str
    summary: str
    hints: list[str]
    investigate: list[dict[str, str]]
    diagnosis: str  # the right one-line diagnosis
    explanation: str
    fix: list[dict[str, str]] | None


def _svc_flow(w: World, src: str) -> dict[str, Any]:
    return {"name": "client-to-service", "from": src, "to": f"{w.cluster_ip}:{w.port}"}


# ------------------------------------------------------------------ the catalogue
#
# Each builder returns a Built; its diagnosis sentence is also what the other faults of
# the same symptom offer as a distractor (see ONE_LINERS), so all options read alike.

ONE_LINERS: dict[str, Callable[[World], str]] = {
    "not-ready": lambda w: f"No {w.app} pod is Ready, so the Service has no ready endpoint and kube-proxy rejects it.",
    "selector-mismatch": lambda w: f"The {w.app} pods lost the app label the Service selects, so the Service has no endpoint.",
    "selector-typo": lambda w: f"The Service's selector has a typo, so it matches no {w.app} pod and it has no endpoints.",
    "scaled-to-zero": lambda w: f"The {w.app} Deployment has 0 replicas, so the Service has no endpoints, and is rejected.",
    "wrong-target-port": lambda w: f"The Service's targetPort is not a port the {w.app} container listens on: it sends a RST.",
    "named-port": lambda w: f"The Service's targetPort names a port the {w.app} container does not have: no endpoints.",
    "dns-scaled-to-zero": lambda w: "CoreDNS has 0 replicas, so kube-dns has no endpoints and the node rejects every query to it.",
    "local-no-endpoint": lambda w: "externalTrafficPolicy is Local and this node has no local endpoint: kube-proxy drops the packet.",
    "source-ranges": lambda w: "The client's address is outside loadBalancerSourceRanges, so the node drops its packets.",
    "missing-masquerade": lambda w: "KUBE-POSTROUTING lost its MASQUERADE rule, so replies bypass the node that did the DNAT.",
    "conntrack-full": lambda w: "The node's conntrack table is full, so the kernel drops the first packet of each new connection.",
    "rule-deleted": lambda w: "The KUBE-SERVICES rule for the ClusterIP is missing on the client's node: nothing DNATs it.",
    "stale-udp-conntrack": lambda w: "A stale UDP conntrack entry still DNATs the queries to the address of the replaced pod.",
}


# The one-liners of a symptom's faults are worded to the same length give or take one
# character (the refused ones: 81 plus the app's name; the timeouts: 88 to 96, the
# shortest and the longest length twice each), so that for every fault the others of its
# kind include options as long and as short as its own: the distractors can be of the
# answer's kind without its length standing out (tests/test_quiz_fairness.py).

DNS_FAULTS = ("stale-udp-conntrack", "dns-scaled-to-zero")
#: plausible wrong answers for a DNS incident, beside the other DNS fault
DNS_DISTRACTORS = (
    "The KUBE-SERVICES rule for kube-dns's ClusterIP is missing on the app's node: nothing DNATs it.",
    "The node's conntrack table is full, so new UDP flows to kube-dns are dropped.",
    "kube-dns's targetPort names a port the CoreDNS container does not have: no endpoints.",
)


def fair_distractors(answer: str, candidates: list[str], n: int = 3) -> list[str]:
    """The first ``n`` of ``candidates`` (in their order of preference) whose lengths do not
    give ``answer`` away (:func:`~kubeflow_tui.quiz.fairness.length_giveaway`); the first
    ``n`` when no such choice exists."""
    from itertools import combinations

    from .fairness import length_giveaway

    for pick in combinations(candidates, n):
        if length_giveaway([answer, *pick], 0) is None:
            return list(pick)
    return candidates[:n]


def _report(outcome: str, who: str, what: str) -> str:
    return {"refused": f"{who} gets 'connection refused' from {what}",
            "timeout": f"{who}{chr(39) if who.endswith('s') else chr(39) + 's'} requests to {what} hang",
            "unreachable": f"{who} can't reach {what}: 'No route to host'"}[outcome]


def _clusterip_fault(w: World, fault: str) -> Built:
    """The faults a pod → ClusterIP connection shows (refused at once)."""
    cni = w.rng.randrange(len(w.nodes))
    client = _client_pod(w, cni)
    host = client["node"]
    svc = _service(w)
    setup: list[dict[str, Any]] = []
    fix: list[dict[str, str]] | None
    inv = [{"host": host, "command": f"kubectl get endpointslices -l kubernetes.io/service-name={w.app}",
            "expect": w.app}]
    if fault == "not-ready":
        pods = _app_pods(w, ready=False)
        summary = f"The {w.app} pods are Running but their readiness probe fails."
        expl = (f"No {w.app} pod is Ready, so the EndpointSlice has no ready endpoint. kube-proxy then writes "
                "no KUBE-SVC chain for the port but a rule in filter KUBE-SERVICES, commented \"has no "
                "endpoints\", that REJECTs the ClusterIP: the refusal comes from the client's own node. "
                "The fix is in the application or its probe; kube-proxy adds the endpoints when the pods "
                "turn Ready.")
        fix = None
        hints = ["A refusal that comes back at once is an answer from somebody. Who answered?",
                 f"`iptables -t filter -S KUBE-SERVICES` on {host} shows the Services kube-proxy rejects.",
                 f"`kubectl get pods` — look at the READY column."]
        inv.append({"host": host, "command": "iptables -t filter -S KUBE-SERVICES", "expect": "has no endpoints"})
    elif fault == "selector-mismatch":
        pods = _app_pods(w, labels={"app": f"{w.app}-v2"})
        summary = f"A rollout relabelled the {w.app} pods app={w.app}-v2; the Service still selects app={w.app}."
        expl = (f"A pod is an endpoint only if its labels contain the whole selector. No pod is labelled "
                f"app={w.app}, so the EndpointSlice is empty and filter KUBE-SERVICES REJECTs the ClusterIP "
                "(\"has no endpoints\"). Relabel the pods or change the selector; kube-proxy resyncs by itself.")
        fix = [{"host": host, "command": f"kubectl label pods -l app={w.app}-v2 app={w.app} --overwrite"}]
        hints = ["The refusal comes back at once: look at the filter table of the client's node.",
                 "Compare the Service's selector with the pods' labels (`kubectl get pods --show-labels`)."]
        inv.append({"host": host, "command": "kubectl get pods --show-labels", "expect": f"app={w.app}-v2"})
    elif fault == "selector-typo":
        typo = w.app[:-2] + w.app[-1] + w.app[-2]
        pods = _app_pods(w)
        svc["selector"] = {"app": typo}
        summary = f"The Service was created with selector app={typo}."
        expl = (f"The selector app={typo} matches no pod (they are labelled app={w.app}), so the Service has "
                "no endpoints and filter KUBE-SERVICES REJECTs its ClusterIP (\"has no endpoints\"). Fix the "
                "selector; kube-proxy resyncs by itself.")
        fix = [{"host": host, "command": f"kubectl patch svc {w.app} -p "
                f"'{{\"spec\":{{\"selector\":{{\"app\":\"{w.app}\"}}}}}}'"}]
        hints = ["The refusal comes back at once: look at the filter table of the client's node.",
                 f"`kubectl describe svc {w.app}`: what does it select, and which endpoints does it have?"]
        inv.append({"host": host, "command": f"kubectl describe svc {w.app}", "expect": f"app={typo}"})
    elif fault == "scaled-to-zero":
        pods = _app_pods(w)
        setup.append({"shell": f"kubectl scale deployment {w.app} --replicas=0", "host": host})
        summary = f"Somebody scaled the {w.app} Deployment to 0 replicas."
        expl = (f"With 0 replicas there is no {w.app} pod, so the EndpointSlice is empty and filter "
                "KUBE-SERVICES REJECTs the ClusterIP (\"has no endpoints\"). Scale it up again.")
        fix = [{"host": host, "command": f"kubectl scale deployment {w.app} --replicas={w.replicas}"}]
        hints = ["The refusal comes back at once: look at the filter table of the client's node.",
                 "`kubectl get deployments`"]
        inv.append({"host": host, "command": "kubectl get deployments", "expect": "0/0"})
    elif fault == "wrong-target-port":
        pods = _app_pods(w)
        wrong = w.target + 1
        svc["ports"] = [{"name": "http", "port": w.port, "targetPort": wrong}]
        summary = f"The Service sends to targetPort {wrong}; the container listens on {w.target}."
        expl = (f"kube-proxy does not check ports: it DNATs to the pod's address on port {wrong}, the pod's "
                "kernel finds no socket there and answers with a TCP RST, so the refusal comes from the pod, "
                f"not from a rule. Point targetPort at {w.target} (or at the port's name).")
        fix = [{"host": host, "command": f"kubectl patch svc {w.app} -p "
                f"'{{\"spec\":{{\"ports\":[{{\"port\":{w.port},\"targetPort\":{w.target}}}]}}}}'"}]
        hints = ["Is there an endpoint at all? Then who refuses?",
                 f"`kubectl describe svc {w.app}`: compare TargetPort with the container's port."]
        inv.append({"host": host, "command": f"kubectl describe svc {w.app}", "expect": f"{wrong}/TCP"})
    elif fault == "named-port":
        name = w.rng.choice(["web", "server", "app-port"])
        pods = _app_pods(w, port_name=name)
        summary = f"The Service's targetPort is \"http\"; the container's port is named \"{name}\"."
        expl = ("A named targetPort is looked up on every selected pod. No pod has a port called http, so "
                "none is an endpoint of that Service port and filter KUBE-SERVICES REJECTs the ClusterIP "
                f"(\"has no endpoints\"). Point targetPort at {name} or rename the container port.")
        fix = [{"host": host, "command": f"kubectl patch svc {w.app} -p "
                f"'{{\"spec\":{{\"ports\":[{{\"port\":{w.port},\"targetPort\":\"{name}\"}}]}}}}'"}]
        hints = ["The pods are Ready and match the selector, yet something says there is no endpoint.",
                 "A named targetPort must be found on each pod. What is the container's port called?"]
        inv.append({"host": host, "command": f"kubectl get pod {w.app}-1 -o yaml", "expect": f"name: {name}"})
    else:
        raise KeyError(fault)
    pods.append(client)
    scen = _scenario(w, f"practice-{w.seed}", pods, [svc], [_svc_flow(w, client["name"])])
    return Built(scen, setup, host, "client-to-service", "refused",
                 f"From pod {client['name']}, `curl {w.cluster_ip}:{w.port}` is refused at once.",
                 _report("refused", client["name"].rsplit("-", 1)[0], w.app), summary, hints, inv,
                 ONE_LINERS[fault](w), expl, fix)


def _external_fault(w: World, fault: str) -> Built:
    """NodePort / LoadBalancer faults: a user outside the cluster, endpoints on node-a only."""
    pods = _app_pods(w, nodes=[0])
    node_port = 30000 + w.rng.randint(0, 2767)
    other = w.nodes[1]
    svc = _service(w, type="NodePort")
    svc["ports"][0]["nodePort"] = node_port
    clients = [{"name": "user", "kind": "external", "ip": "192.168.1.2"}]
    setup: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    flow = {"name": "through-other-node", "from": "user", "to": f"{other['ip']}:{node_port}"}
    host = other["name"]
    outcome = "timeout"
    if fault == "local-no-endpoint":
        svc["externalTrafficPolicy"] = "Local"
        summary = f"The Service was switched to externalTrafficPolicy: Local; all {w.app} pods run on node-a."
        expl = (f"With externalTrafficPolicy Local a node only sends NodePort traffic to its own endpoints. "
                f"{host} has none, so kube-proxy's rule \"has no local endpoints\" drops the packet and the "
                "user waits until it times out. Either go back to Cluster (the source is then masqueraded) or "
                "run an endpoint on every node the load balancer uses.")
        fix = [{"host": host, "command": f"kubectl patch svc {w.app} -p "
                "'{\"spec\":{\"externalTrafficPolicy\":\"Cluster\"}}'"}]
        hints = ["It works through one node and not through another. What differs between the nodes?",
                 f"`kubectl get pods -o wide` and `kubectl describe svc {w.app}`."]
        inv = [{"host": host, "command": f"kubectl describe svc {w.app}", "expect": "Local"}]
        report_what = f"{w.app} through {host}"
        text = f"`curl {other['ip']}:{node_port}` from outside hangs; `curl {w.nodes[0]['ip']}:{node_port}` works."
    elif fault == "missing-masquerade":
        setup.append({"shell": "iptables -t nat -D KUBE-POSTROUTING -m comment --comment \"kubernetes service "
                      "traffic requiring SNAT\" -j MASQUERADE --random-fully", "host": host})
        summary = f"Somebody removed the MASQUERADE rule from {host}'s KUBE-POSTROUTING by hand."
        expl = (f"NodePort traffic is marked for masquerade because the node that DNATs it may not host the "
                f"pod. Without MASQUERADE {host} forwards the SYN with the user's own source; the pod answers "
                f"the user directly through node-a, whose conntrack has no NAT to undo, so the reply comes from "
                f"the pod's address, matches nothing the user sent, and the connection times out. kube-proxy "
                "restores the rule at its next sync; by hand, append it again.")
        fix = [{"host": host, "command": "iptables -t nat -A KUBE-POSTROUTING -m comment --comment \"kubernetes "
                "service traffic requiring SNAT\" -j MASQUERADE --random-fully"}]
        hints = ["The SYN reaches the pod. What source does the pod see, and where does it send its answer?",
                 f"Compare {host}'s KUBE-POSTROUTING with node-a's."]
        inv = [{"host": host, "command": "iptables -t nat -S KUBE-POSTROUTING", "expect": "KUBE-POSTROUTING"}]
        report_what = f"{w.app} through {host}"
        text = f"`curl {other['ip']}:{node_port}` from outside hangs; `curl {w.nodes[0]['ip']}:{node_port}` works."
    elif fault == "source-ranges":
        lb_ip = f"203.0.113.{w.rng.randint(2, 250)}"
        svc.update(type="LoadBalancer", loadBalancerIP=lb_ip, loadBalancerSourceRanges=["192.168.1.0/28"])
        clients = [{"name": "office", "kind": "external", "ip": "192.168.1.2"},
                   {"name": "home", "kind": "external", "ip": "192.168.1.50"}]
        extra["loadBalancer"] = {"name": "lb", "ip": "192.168.1.100", "style": "vip",
                                 "nodes": [n["name"] for n in w.nodes]}
        flow = {"name": "from-home", "from": "home", "to": f"{lb_ip}:{w.port}", "via": w.nodes[0]["name"]}
        host = w.nodes[0]["name"]
        summary = "The Service only allows 192.168.1.0/28; the user works from 192.168.1.50."
        expl = ("kube-proxy sends load-balancer traffic through a KUBE-FW chain that jumps on only for the "
                "allowed source ranges; 192.168.1.50 is outside 192.168.1.0/28, so the packet is dropped at "
                "the node and the client times out. Add the client's range to loadBalancerSourceRanges.")
        fix = [{"host": host, "command": f"kubectl patch svc {w.app} -p '{{\"spec\":{{\"loadBalancerSourceRanges\":"
                "[\"192.168.1.0/28\",\"192.168.1.50/32\"]}}'"}]
        hints = ["It works from one place and not from another: what differs is the source address.",
                 f"`kubectl describe svc {w.app}` and `iptables -t nat -S` (look for KUBE-FW)."]
        inv = [{"host": host, "command": "iptables -t nat -S", "expect": "KUBE-FW-"}]
        report_what = w.app
        text = f"`curl {lb_ip}:{w.port}` from home (192.168.1.50) hangs; from the office (192.168.1.2) it works."
    else:
        raise KeyError(fault)
    scen = _scenario(w, f"practice-{w.seed}", pods, [svc], [flow], clients=clients, **extra)
    who = "Users" if fault != "source-ranges" else "A user at home"
    return Built(scen, setup, host, flow["name"], outcome, text, _report(outcome, who, report_what), summary,
                 hints, inv, ONE_LINERS[fault](w), expl, fix)


def _node_fault(w: World, fault: str) -> Built:
    """Faults of one node's state: a deleted rule, a full conntrack table."""
    pods = _app_pods(w, nodes=[0])
    ni = 1
    client = _client_pod(w, ni)
    host = client["node"]
    svc = _service(w)
    flows = [_svc_flow(w, client["name"])]
    setup: list[dict[str, Any]] = []
    if fault == "rule-deleted":
        chain = _svc_chain(w, pods + [client], svc)
        rule = (f"KUBE-SERVICES -d {w.cluster_ip}/32 -p tcp -m comment --comment \"default/{w.app}:http cluster "
                f"IP\" -m tcp --dport {w.port} -j {chain}")
        setup.append({"shell": f"iptables -t nat -D {rule}", "host": host})
        outcome = "timeout"
        summary = f"While debugging, somebody deleted a rule on {host} by hand."
        expl = (f"A ClusterIP is virtual: no interface has it. Only the KUBE-SERVICES rule for "
                f"{w.cluster_ip}:{w.port} sends the packet to the Service's chain and its DNAT. On {host} "
                "that rule is gone, so the SYN keeps its destination and follows the default route to the "
                "router, which has no use for a ClusterIP and discards it: the client times out. kube-proxy "
                "rewrites the top-level chains at its next sync (a partial sync too); by hand, insert the "
                "rule again.")
        fix = [{"host": host, "command": f"iptables -t nat -I {rule.replace('KUBE-SERVICES ', 'KUBE-SERVICES 1 ', 1)}"}]
        hints = ["Does it fail from every node? Compare the nat table of two nodes.",
                 f"`iptables -t nat -S KUBE-SERVICES` on {host} and on node-a."]
        inv = [{"host": host, "command": "iptables -t nat -S KUBE-SERVICES", "expect": "KUBE-NODEPORTS"}]
        text = f"From pod {client['name']} on {host}, `curl {w.cluster_ip}:{w.port}` fails with 'No route to host'."
    elif fault == "conntrack-full":
        batch = _client_pod(w, ni, name="batch-1", host=10)
        pods.append(batch)
        # the job's pool keeps its connections open: ESTABLISHED entries, which the kernel never
        # evicts early (closed ones, TIME_WAIT, it would: tcp_can_early_drop)
        flows += [{"name": f"batch-{k}", "from": "batch-1", "to": f"{w.cluster_ip}:{w.port}",
                   "sourcePort": 41000 + k, "keepOpen": True} for k in (1, 2)]
        setup += [{"conntrackMax": {"host": host, "max": 2}}, {"run": "batch-1"}, {"run": "batch-2"}]
        outcome = "timeout"
        summary = (f"A batch job on {host} keeps many connections open and nf_conntrack_max is very low "
                   "(2 here, to keep the table readable).")
        expl = ("Conntrack must create an entry for a connection's first packet before NAT can happen. With "
                "nf_conntrack_max entries in the table, all of them live (ESTABLISHED, ASSURED: nothing the "
                "kernel may evict early), it drops the packet (\"nf_conntrack: table full, dropping packet\"): "
                "new connections time out while the open ones go on. Raise nf_conntrack_max (`sysctl -w`), or "
                "end what holds so many connections; `conntrack -F` would also cut the live connections.")
        fix = [{"host": host, "command": "sysctl -w net.netfilter.nf_conntrack_max=262144"}]
        hints = ["The rules are fine; the packet is lost before the nat table sees it.",
                 f"`conntrack -L` and `conntrack -C` on {host}."]
        inv = [{"host": host, "command": "conntrack -C", "expect": "2"},
               {"host": host, "command": "sysctl net.netfilter.nf_conntrack_max", "expect": "= 2"}]
        text = f"From pod {client['name']} on {host}, new connections to {w.cluster_ip}:{w.port} hang."
    else:
        raise KeyError(fault)
    pods.append(client)
    scen = _scenario(w, f"practice-{w.seed}", pods, [svc], flows)
    return Built(scen, setup, host, flows[0]["name"], outcome, text,
                 _report(outcome, client["name"].rsplit("-", 1)[0], w.app), summary, hints, inv,
                 ONE_LINERS[fault](w), expl, fix)


def _svc_chain(w: World, pods: list, svc: dict) -> str:
    """The Service's KUBE-SVC chain, as kube-proxy names it (read from the generated rules)."""
    from ..cluster import ClusterSim
    from ..scenario import Scenario

    sc = Scenario.model_validate(_scenario(w, "probe", pods, [svc], []))
    nat = ClusterSim(sc).node_ruleset(sc.cluster.nodes[0].name).tables["nat"]
    for r in nat.chains["KUBE-SERVICES"].rules:
        if (r.target or "").startswith("KUBE-SVC-") and r.dst == f"{w.cluster_ip}/32":
            return r.target
    raise RuntimeError("no KUBE-SVC chain for the Service")


def _dns_fault(w: World, fault: str) -> Built:
    """CoreDNS faults: the app's UDP queries to kube-dns fail."""
    dns_ip = "10.96.0.10"
    coredns = {"name": "coredns-1", "namespace": "kube-system", "node": w.nodes[0]["name"],
               "ip": w.pod_ip(0, 3), "deployment": "coredns", "labels": {"k8s-app": "kube-dns"},
               "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                         {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}]}
    app = _client_pod(w, 1)
    host = app["node"]
    sport = 50000 + w.rng.randint(0, 9999)
    svc = {"name": "kube-dns", "namespace": "kube-system", "clusterIP": dns_ip, "selector": {"k8s-app": "kube-dns"},
           "ports": [{"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"},
                     {"name": "dns-tcp", "port": 53, "targetPort": "dns-tcp", "protocol": "TCP"}]}
    flow = {"name": "dns-query", "from": app["name"], "to": f"{dns_ip}:53", "protocol": "UDP", "sourcePort": sport}
    setup: list[dict[str, Any]] = []
    if fault == "stale-udp-conntrack":
        setup += [{"conntrackCleanup": False}, {"run": "dns-query"},
                  {"event": {"action": "delete-pod", "pod": "coredns-1", "note": "coredns-1 is replaced"}}]
        outcome = "timeout"
        summary = ("coredns-1 was replaced by a new pod with a new address; the app keeps its source port, and "
                   f"kube-proxy on {host} failed to clear conntrack entries.")
        expl = ("For UDP, conntrack keeps an entry per 5-tuple; the app's queries reuse the same source port, so "
                "they match the old entry, which still DNATs them to the old pod's address, and the nat rules "
                "are never consulted again. kube-proxy deletes such entries after a sync; when that fails, "
                f"`conntrack -D -p udp --orig-dst {dns_ip}` removes them by hand.")
        fix = [{"host": host, "command": f"conntrack -D -p udp --orig-dst {dns_ip}"}]
        hints = ["The rules were resynced for the new pod. Are they even consulted for these packets?",
                 f"`conntrack -L -p udp` on {host}."]
        inv = [{"host": host, "command": "conntrack -L -p udp", "expect": f"src={w.pod_ip(0, 3)}"}]
        text = (f"DNS queries from pod {app['name']} (source port {sport}) to {dns_ip}:53 time out "
                "since coredns-1 was replaced, although the new CoreDNS pod is Ready.")
    elif fault == "dns-scaled-to-zero":
        setup.append({"shell": "kubectl -n kube-system scale deployment coredns --replicas=0", "host": host})
        outcome = "refused"
        summary = "Somebody scaled the coredns Deployment in kube-system to 0 replicas."
        expl = ("With no CoreDNS pod, kube-dns has no endpoints: filter KUBE-SERVICES REJECTs its ClusterIP "
                "(\"has no endpoints\") and every query gets an ICMP port unreachable at once. Scale CoreDNS up.")
        fix = [{"host": host, "command": "kubectl -n kube-system scale deployment coredns --replicas=1"}]
        hints = ["An answer at once: who sends it?",
                 "`kubectl get deployments -A`"]
        inv = [{"host": host, "command": "iptables -t filter -S KUBE-SERVICES", "expect": "has no endpoints"}]
        text = f"DNS lookups from pod {app['name']} fail at once ('connection refused')."
    else:
        raise KeyError(fault)
    pods = _app_pods(w) + [coredns, app]
    scen = _scenario(w, f"practice-{w.seed}", pods, [svc], [flow])
    return Built(scen, setup, host, "dns-query", outcome, text,
                 f"{app['name'].rsplit('-', 1)[0]}'s DNS lookups fail", summary, hints, inv,
                 ONE_LINERS[fault](w), expl, fix)


BUILDERS: dict[str, Callable[[World, str], Built]] = {
    **{f: _clusterip_fault for f in ("not-ready", "selector-mismatch", "selector-typo", "scaled-to-zero",
                                     "wrong-target-port", "named-port")},
    **{f: _external_fault for f in ("local-no-endpoint", "missing-masquerade", "source-ranges")},
    **{f: _node_fault for f in ("rule-deleted", "conntrack-full")},
    **{f: _dns_fault for f in ("stale-udp-conntrack", "dns-scaled-to-zero")},
}


# ------------------------------------------------------------------ cases


def pick_fault(seed: int) -> str:
    return random.Random(f"fault:{seed}").choice(sorted(FAULTS))


def generate(seed: int, fault: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(case data, scenario data) for ``seed``; the case's ``scenario`` key is left for the
    caller to set (a file name or an in-memory scenario)."""
    fault = fault or pick_fault(seed)
    if fault not in BUILDERS:
        raise KeyError(f"no fault kind {fault!r} (kinds: {', '.join(sorted(FAULTS))})")
    w = _world(seed)
    b = BUILDERS[fault](w, fault)
    order = lambda f: random.Random(f"{seed}:{f}").random()  # noqa: E731
    # distractors of the same kind first (the other causes of the same symptom), chosen so
    # that the options' lengths do not point at the answer
    if fault in DNS_FAULTS:
        candidates = [ONE_LINERS[f](w) for f in DNS_FAULTS if f != fault] + sorted(DNS_DISTRACTORS, key=order)
    else:
        pool = [f for f in FAULTS if f != fault and f not in DNS_FAULTS]
        same = sorted((f for f in pool if FAULTS[f] == FAULTS[fault]), key=order)
        rest = sorted((f for f in pool if FAULTS[f] != FAULTS[fault]), key=order)
        candidates = [ONE_LINERS[f](w) for f in same + rest]
    wrong = fair_distractors(b.diagnosis, candidates)
    options = [b.diagnosis] + wrong
    w.rng.shuffle(options)
    case: dict[str, Any] = {
        "title": b.title, "fault": fault, "summary": b.summary, "difficulty": 2, "seed": seed % 10000,
        "setup": b.setup, "host": b.host,
        "symptom": {"flow": b.flow, "outcome": b.outcome, "text": b.report},
        "hints": b.hints, "investigate": b.investigate,
        "diagnosis": {"question": "What is wrong?", "options": options, "answer": options.index(b.diagnosis),
                      "explanation": b.explanation},
    }
    if not case["setup"]:
        del case["setup"]
    if b.fix is not None:
        check: dict[str, Any] = {"flow": b.flow, "outcome": "delivered"}
        if fault == "stale-udp-conntrack":  # the app keeps its source port: the same 5-tuple
            check["sourcePort"] = next(f["sourcePort"] for f in b.scenario["flows"] if f["name"] == b.flow)
        case["fix"] = {"commands": b.fix, "check": check}
    return case, b.scenario


def practice_case(seed: int, fault: str | None = None) -> Any:
    """An in-memory :class:`~kubeflow_tui.quiz.cases.Case` (checked like a file)."""
    from ..scenario import Scenario
    from .cases import Case, CaseError, CaseModel, _cross_check

    data, scen = generate(seed, fault)
    scenario = Scenario.model_validate(scen)
    model = CaseModel.model_validate({**data, "scenario": scen["name"]})
    case = Case(f"practice-{seed}", Path(f"<practice {seed}>"), model, scenario)
    problems = _cross_check(case)
    if problems:  # pragma: no cover - the generator's own bug
        raise CaseError.single(str(case.path), "; ".join(m for _, m in problems))
    return case


def write_cases(seed: int, count: int, out: str | Path) -> list[Path]:
    """``count`` cases from seeds ``seed``, ``seed+1`` … as ``OUT/practice-<seed>.yaml`` with
    their scenarios under ``OUT/scenarios/``."""
    out = Path(out)
    (out / "scenarios").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for s in range(seed, seed + count):
        data, scen = generate(s)
        (out / "scenarios" / f"practice-{s}.yaml").write_text(
            yaml.safe_dump(scen, sort_keys=False, width=100), encoding="utf-8")
        body = {"title": data["title"], "fault": data["fault"], "scenario": f"scenarios/practice-{s}.yaml"}
        body.update({k: v for k, v in data.items() if k not in body})
        path = out / f"practice-{s}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False, width=100, allow_unicode=True), encoding="utf-8")
        written.append(path)
    return written
