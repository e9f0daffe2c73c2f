"""Trace one packet through a real node's ``iptables-save`` dump.

For ``kubeflow-tui trace --iptables-save DUMP --src IP --dst IP:PORT``: the dump is
loaded as the rules of a single node that receives the packet on eth0 (or, with
``local=True``, sends it itself), and the walk is the same datapath the cluster
simulator uses, so the steps read the same.
"""

from __future__ import annotations

import ipaddress
import random

from ..netfilter.conntrack import ConntrackTable
from ..netfilter.eval import Evaluator
from ..netfilter.packet import Packet
from ..netfilter.rules import Ruleset
from ..trace import Trace
from .sim import ClusterSim, NodeState, _Conn
from .topology import Host, Interface, Route, Topology


class DumpSim(ClusterSim):
    """A one-node 'cluster' whose rules come from a dump instead of kube-proxy."""

    def __init__(self, ruleset: Ruleset, *, node_ip: str = "192.168.1.10", seed: int = 1,
                 extra_local: tuple[str, ...] = ()):
        self.scenario = None  # type: ignore[assignment]
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 1000.0
        node = Host("node", "node", [Interface("eth0", node_ip, 24, segment="net")], forwarding=True,
                    extra_local=list(extra_local))
        node.routes.append(Route(ipaddress.IPv4Network("0.0.0.0/0"), "eth0", via=str(
            ipaddress.IPv4Network(f"{node_ip}/24", strict=False).network_address + 1)))
        self.topology = Topology({"node": node}, "net", None)  # type: ignore[arg-type]
        self.nodes = {"node": NodeState(ruleset, Evaluator(ruleset), ConntrackTable())}
        self._steps = []
        self._pin = None
        self._conn = None

    def sync_rules(self) -> dict[str, str]:  # the dump is the rules; nothing to resync
        return {}

    def trace_packet(self, src: str, dst: str, dport: int, *, proto: str = "tcp", sport: int = 40000,
                     local: bool = False) -> Trace:
        self._steps = []
        self._conn = _Conn("client", proto, (src, sport, dst, dport), label="first packet")
        host = self.topology.hosts["node"]
        flags = ("SYN",) if proto == "tcp" else ()
        pkt = Packet(src, dst, proto, sport, dport, flags=flags)
        if local:
            v = self._node_output(host, pkt)
        else:
            self._note("node", "link", f"A packet from {src} arrives on eth0.", pkt, link=("client", "node"))
            v = self._node_receive(host, pkt, "eth0")
        outcome = {"forwarded": "delivered", "delivered": "delivered", "rejected": "refused",
                   "dropped": "dropped", "unreachable": "unreachable"}.get(v.status, v.status)
        final = v.packet or pkt
        if v.status == "forwarded":
            summary = f"The node forwards the packet out of {v.detail} as {final}."
        elif v.status == "delivered":
            summary = f"The packet is delivered locally on the node as {final}."
        else:
            summary = f"The packet is {v.status}: {v.detail}."
        return Trace(scenario="iptables-save dump", flow=f"{src} -> {dst}:{dport}", hosts=("node",),
                     steps=tuple(self._steps), outcome=outcome, summary=summary, seed=self.seed,
                     meta={"final": str(final)})


def trace_dump(ruleset: Ruleset, src: str, dst: str, dport: int, *, proto: str = "tcp", sport: int = 40000,
               node_ip: str = "192.168.1.10", seed: int = 1, local: bool = False) -> Trace:
    return DumpSim(ruleset, node_ip=node_ip, seed=seed).trace_packet(
        src, dst, dport, proto=proto, sport=sport, local=local)
