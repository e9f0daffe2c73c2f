"""Timeline events (scale, delete pod, delete Service, change selector, add pod).

Each event returns a new Scenario, as the API server's state after the change; the
simulator then resyncs kube-proxy's rules from it (conntrack entries stay).
"""

from __future__ import annotations

import ipaddress

from ..scenario.models import Event, Pod, Scenario


class EventError(Exception):
    pass


def _free_ip(sc: Scenario, node: str, used: set[str]) -> str:
    net = ipaddress.IPv4Network(sc.node(node).podCIDR)
    for i, addr in enumerate(net.hosts()):
        if i == 0:
            continue  # the first host is the pod gateway on the node
        if str(addr) not in used:
            return str(addr)
    raise EventError(f"no free pod IP left in {net} on {node}")


def _replica_name(deployment: str, taken: set[str]) -> str:
    k = 1
    while f"{deployment}-{k}" in taken:
        k += 1
    return f"{deployment}-{k}"


def apply_event(sc: Scenario, ev: Event) -> Scenario:
    pods = list(sc.pods)
    services = list(sc.services)
    used = {p.ip for p in pods}
    names = {p.name for p in pods}
    if ev.action == "scale":
        members = [p for p in pods if p.deployment == ev.deployment]
        if not members:
            raise EventError(f"no pods belong to deployment {ev.deployment!r}")
        if ev.replicas < len(members):
            for p in members[ev.replicas:]:
                pods.remove(p)
        else:
            nodes = [n.name for n in sc.cluster.nodes]
            template = members[0]
            for k in range(ev.replicas - len(members)):
                node = nodes[(len(members) + k) % len(nodes)]
                name = _replica_name(ev.deployment, names)
                ip = _free_ip(sc, node, used)
                names.add(name)
                used.add(ip)
                pods.append(template.model_copy(update={"name": name, "node": node, "ip": ip}))
    elif ev.action == "delete-pod":
        try:
            victim = next(p for p in pods if p.name == ev.pod)
        except StopIteration:
            raise EventError(f"no pod named {ev.pod!r}") from None
        pods.remove(victim)
        names.discard(victim.name)
        if victim.deployment:
            # its ReplicaSet starts a replacement: a new name and a new IP
            name = _replica_name(victim.deployment, names | {victim.name})
            ip = _free_ip(sc, victim.node, used)
            pods.append(victim.model_copy(update={"name": name, "ip": ip}))
    elif ev.action == "delete-service":
        key = ev.service if "/" in ev.service else f"default/{ev.service}"
        keep = [s for s in services if s.key != key]
        if len(keep) == len(services):
            raise EventError(f"no Service {key!r}")
        services = keep
    elif ev.action == "set-selector":
        key = ev.service if "/" in ev.service else f"default/{ev.service}"
        found = False
        for i, s in enumerate(services):
            if s.key == key:
                services[i] = s.model_copy(update={"selector": dict(ev.selector)})
                found = True
        if not found:
            raise EventError(f"no Service {key!r}")
    elif ev.action == "full-resync":
        return sc  # nothing changes; ClusterSim.apply_event makes the sync a full one
    elif ev.action == "add-pod":
        pod: Pod = ev.newPod
        if pod.name in names:
            raise EventError(f"a pod named {pod.name!r} exists already")
        pods.append(pod)
    return sc.model_copy(update={"pods": pods, "services": services})
