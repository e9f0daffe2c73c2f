"""NetworkPolicy as a CNI enforces it: a filter beside each pod, not part of kube-proxy.

The CNI's step sits on the pods' side of the node and judges the first packet of a
connection (replies and later packets of an allowed connection pass, as with every
stateful CNI filter):

* **ingress**, for a pod some policy with ``Ingress`` selects: the packet as it reaches
  the pod, so the destination is the one kube-proxy's DNAT chose and the source is
  whatever an SNAT on the way made of it (a NodePort entered through another node
  arrives from that node's IP: an ``ipBlock`` of the real clients no longer matches);
* **egress**, for a pod some policy with ``Egress`` selects: the packet on its node
  after kube-proxy's DNAT, so a rule names the endpoint pod or address, never the
  ClusterIP.

A pod no policy selects (for that direction) is not isolated: everything passes.  An
isolated pod accepts what any rule of any policy selecting it allows: a peer (pods by
label, in the policy's namespace or in the namespaces ``namespaceSelector`` picks;
addresses by ``ipBlock`` minus ``except``) and a port (the destination port after DNAT;
a named port is the destination pod's container port).  What is not allowed is dropped
without an answer, so the client times out.  A namespace's only labels here are
``kubernetes.io/metadata.name: <name>``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (annotations only: `trace --iptables-save` loads this module and no pydantic)
    from ..scenario.models import NetworkPolicy, PolicyPeer, PolicyPort, Pod, Scenario

#: the Trace names the CNI's filter as table ``CNI``, chain ``NetworkPolicy (ingress)`` /
#: ``NetworkPolicy (egress)``: a step that is not kube-proxy's and not netfilter's tables
CNI_TABLE = "CNI"
INGRESS_STEP = "NetworkPolicy (ingress)"
EGRESS_STEP = "NetworkPolicy (egress)"


@dataclass(frozen=True)
class PolicyVerdict:
    allowed: bool
    policies: tuple[str, ...]  # "ns/name" of the policies that isolate the pod
    why: str


def _pod_at(scenario: Scenario, ip: str, pods: list[Pod]) -> Pod | None:
    for p in pods:
        if p.ip == ip:
            return p
    return None


def _peer_matches(pol: NetworkPolicy, peer: PolicyPeer, ip: str, pod: Pod | None) -> bool:
    if peer.ipBlock is not None:
        a = ipaddress.IPv4Address(ip)
        if a not in ipaddress.IPv4Network(peer.ipBlock.cidr):
            return False
        return not any(a in ipaddress.IPv4Network(x) for x in peer.ipBlock.except_)
    if pod is None:
        return False
    if peer.namespaceSelector is not None:
        ns_labels = {"kubernetes.io/metadata.name": pod.namespace}
        if not peer.namespaceSelector.matches(ns_labels):
            return False
    elif pod.namespace != pol.namespace:
        return False
    return peer.podSelector is None or peer.podSelector.matches(pod.labels)


def _port_matches(port: PolicyPort, proto: str, dport: int, dst_pod: Pod | None) -> bool:
    if port.protocol.lower() != proto:
        return False
    if port.port is None:
        return True
    if isinstance(port.port, str):
        if dst_pod is None:
            return False
        return any(cp.name == port.port and cp.protocol == port.protocol and cp.containerPort == dport
                   for cp in dst_pod.ports)
    hi = port.endPort if port.endPort is not None else port.port
    return port.port <= dport <= hi


def _judge(scenario: Scenario, pods: list[Pod], subject: Pod, direction: str, peer_ip: str, proto: str,
           dport: int, dst_pod: Pod | None) -> PolicyVerdict | None:
    kind = "Ingress" if direction == "ingress" else "Egress"
    isolating = [p for p in scenario.networkPolicies if kind in p.types and p.selects(subject)]
    if not isolating:
        return None
    names = tuple(f"{p.namespace}/{p.name}" for p in isolating)
    peer_pod = _pod_at(scenario, peer_ip, pods)
    for pol in isolating:
        rules = pol.ingress if direction == "ingress" else pol.egress
        for i, rule in enumerate(rules):
            peers = rule.from_ if direction == "ingress" else rule.to
            if peers and not any(_peer_matches(pol, pe, peer_ip, peer_pod) for pe in peers):
                continue
            if rule.ports and not any(_port_matches(pt, proto, dport, dst_pod) for pt in rule.ports):
                continue
            return PolicyVerdict(True, names, f"{direction} rule {i + 1} of {pol.namespace}/{pol.name} allows it")
    return PolicyVerdict(False, names, "no rule of " + ", ".join(names) + " allows it")


def ingress_verdict(scenario: Scenario, pods: list[Pod], pod: Pod, src_ip: str, proto: str,
                    dport: int) -> PolicyVerdict | None:
    """None when no policy isolates ``pod`` for ingress."""
    return _judge(scenario, pods, pod, "ingress", src_ip, proto, dport, pod)


def egress_verdict(scenario: Scenario, pods: list[Pod], pod: Pod, dst_ip: str, proto: str,
                   dport: int) -> PolicyVerdict | None:
    """None when no policy isolates ``pod`` for egress."""
    return _judge(scenario, pods, pod, "egress", dst_ip, proto, dport, _pod_at(scenario, dst_ip, pods))
