"""The referee's stand-in for a CNI's NetworkPolicy: plain iptables in each pod's own
namespace, written here independently of the simulator (kubeflow_tui/cluster/policy.py).

Ingress is enforced in the pod's filter INPUT: the packet as the pod receives it, after the
nodes' DNAT and SNAT, which is the simulator's model of the CNI's ingress step.  Accepted:
packets of known connections, then whatever a rule of a policy isolating the pod allows
(sources as -s, ipBlock excepts through a per-peer chain that RETURNs them, ports as
--dport after DNAT); the rest is dropped, silently, as CNIs do.  Pod namespaces carry no
TRACE rule, so these rules never show in the chain paths the referee compares.

Egress is not enforced: the simulator judges it on the client's node after kube-proxy's
DNAT (where Calico's FORWARD chains or Cilium's socket-level translation see it), and rules
there would sit among kube-proxy's own in the node's traced tables.  Flows an egress policy
drops are left out of the kernel comparison (tests/kernel/test_scenarios.py says so).
"""

from __future__ import annotations

import ipaddress

from kubeflow_tui.scenario.models import Pod, Scenario


def _peer_sources(sc: Scenario, pol, peer) -> list[tuple[str, list[str]]]:
    """(source CIDR, except CIDRs) for one peer."""
    if peer.ipBlock is not None:
        return [(peer.ipBlock.cidr, list(peer.ipBlock.except_))]
    out = []
    for p in sc.pods:
        if peer.namespaceSelector is not None:
            if not all({"kubernetes.io/metadata.name": p.namespace}.get(k) == v
                       for k, v in peer.namespaceSelector.matchLabels.items()):
                continue
        elif p.namespace != pol.namespace:
            continue
        if peer.podSelector is not None and not all(p.labels.get(k) == v
                                                    for k, v in peer.podSelector.matchLabels.items()):
            continue
        out.append((f"{p.ip}/32", []))
    return out


def _port_args(pod: Pod, port) -> list[str] | None:
    proto = port.protocol.lower()
    if port.port is None:
        return ["-p", proto]
    if isinstance(port.port, str):
        nums = [cp.containerPort for cp in pod.ports if cp.name == port.port and cp.protocol == port.protocol]
        return ["-p", proto, "-m", proto, "--dport", str(nums[0])] if nums else None
    hi = port.endPort or port.port
    rng = str(port.port) if hi == port.port else f"{port.port}:{hi}"
    return ["-p", proto, "-m", proto, "--dport", rng]


def ingress_restore(sc: Scenario, pod: Pod) -> str | None:
    """The iptables-restore text for the pod's namespace, or None if no policy isolates it."""
    pols = [p for p in sc.networkPolicies if "Ingress" in p.types
            and p.namespace == pod.namespace
            and all(pod.labels.get(k) == v for k, v in p.podSelector.matchLabels.items())]
    if not pols:
        return None
    chains, rules = [":INPUT ACCEPT [0:0]"], ["-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    n = 0
    for pol in pols:
        for rule in pol.ingress:
            sources = [s for pe in rule.from_ for s in _peer_sources(sc, pol, pe)] if rule.from_ else [("", [])]
            ports = [a for a in (_port_args(pod, pt) for pt in rule.ports) if a is not None] if rule.ports else [[]]
            for cidr, excepts in sources:
                for port in ports:
                    src = ["-s", cidr] if cidr else []
                    if excepts:
                        n += 1
                        sub = f"KFT-NP-{n}"
                        chains.append(f":{sub} - [0:0]")
                        rules.append(" ".join(["-A INPUT", *src, *port, "-j", sub]))
                        rules += [f"-A {sub} -s {ipaddress.IPv4Network(x)} -j RETURN" for x in excepts]
                        rules.append(f"-A {sub} -j ACCEPT")
                    else:
                        rules.append(" ".join(["-A INPUT", *src, *port, "-j ACCEPT"]))
    rules.append("-A INPUT -j DROP")
    return "\n".join(["*filter", *chains, *rules, "COMMIT"]) + "\n"
