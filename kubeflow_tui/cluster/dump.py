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
                     local: bool = False, known: bool = False) -> Trace:
        """The first packet of a connection (a SYN for TCP), or with ``known=True`` a later
        one (an ACK, the next datagram) of a connection the conntrack table already holds."""
        self._steps = []
        label = ("ACK" if proto == "tcp" else "next datagram") if known else "first packet"
        self._conn = _Conn("client", proto, (src, sport, dst, dport), label=label)
        host = self.topology.hosts["node"]
        flags = (("ACK",) if known else ("SYN",)) if proto == "tcp" else ("INIT",) if proto == "sctp" else ()
        pkt = Packet(src, dst, proto, sport, dport, flags=flags)
        if local:
            v = self._node_output(host, pkt)
        else:
            what = "A packet of a connection conntrack already knows" if known else "A packet"
            self._note("node", "link", f"{what}, from {src}, arrives on eth0." if known
                       else f"{what} from {src} arrives on eth0.", pkt, link=("client", "node"))
            v = self._node_receive(host, pkt, "eth0")
        outcome = {"forwarded": "delivered", "delivered": "delivered", "rejected": "refused",
                   "dropped": "dropped", "unreachable": "unreachable"}.get(v.status, v.status)
        final = v.packet or pkt
        if v.status == "forwarded":
            how = ", translated by conntrack" if known else ""
            summary = f"The node forwards the packet out of {v.detail} as {final}{how}."
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


# ------------------------------------------------------------------ nft list ruleset


class NftDumpError(ValueError):
    """A listing the tracer cannot follow; ``str()`` is ``source:line:col: message``."""


def _table_line(text: str, family: str, name: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith(f"table {family} {name} {{"):
            return n
    return 1


def load_nft_dump(text: str, source: str = "<input>"):
    """The ``ip kube-proxy`` table of a node's ``nft list ruleset`` (``-a`` or not), checked
    so that every rule can run: ``(table, other tables' names)``.  Raises ``NftParseError``
    or ``NftDumpError``, both ``source:line:col: message``."""
    from ..netfilter.nft_eval import NftEvalError, NftEvaluator
    from ..netfilter.nft_parse import parse_nft_ruleset

    tables = parse_nft_ruleset(text, source=source)
    ours = [t for t in tables if (t.family, t.name) == ("ip", "kube-proxy")]
    others = [f"{t.family} {t.name}" for t in tables if (t.family, t.name) != ("ip", "kube-proxy")]
    if not ours:
        listed = ", ".join(others) or "none"
        raise NftDumpError(f"{source}:1:1: no table ip kube-proxy in this listing (tables: {listed}); "
                           "is kube-proxy running in nftables mode on that node?")
    table = ours[0]
    ev = NftEvaluator(table)
    try:
        ev.check()
    except NftEvalError as e:
        if e.rule is not None:
            line = e.rule.line
            printed = text.splitlines()[line - 1] if line else ""
            col = len(printed) - len(printed.lstrip()) + max(e.col, 1)
            raise NftDumpError(f"{source}:{line}:{col}: {e} (chain {e.rule.chain})") from None
        raise NftDumpError(f"{source}:{_table_line(text, 'ip', 'kube-proxy')}:1: {e}") from None
    return table, ev, others


class NftDumpSim(DumpSim):
    """A one-node 'cluster' whose kube-proxy table comes from an ``nft list ruleset`` dump
    (no iptables rules: what a node in nftables mode holds for kube-proxy)."""

    def __init__(self, table, evaluator, *, node_ip: str = "192.168.1.10", seed: int = 1):
        from ..netfilter.parse import parse_iptables_save

        super().__init__(parse_iptables_save("", source="(no iptables rules)"), node_ip=node_ip, seed=seed)
        self.proxy_mode = "nftables"
        st = self.nodes["node"]
        st.nft, st.nft_eval = table, evaluator
        # a dynamic set's listed elements (session affinity: ``10.244.1.7 expires 2h59m…``)
        # are the packet path's state: the evaluator keeps them as its dynamic entries
        for s in table.sets.values():
            if "dynamic" in s.flags and s.elements:
                st.nft_dynamic[s.name] = {k: self.now + (el.expires if el.expires is not None else s.timeout or 0)
                                          for k, el in s.elements.items()}


def trace_nft_dump(text: str, src: str, dst: str, dport: int, *, source: str = "<input>", proto: str = "tcp",
                   sport: int = 40000, node_ip: str = "192.168.1.10", seed: int = 1, local: bool = False) -> Trace:
    """``kubeflow-tui trace --nft-ruleset DUMP``: one packet through a node's ``ip kube-proxy``
    table.  Other tables of the listing (iptables-nft's, a CNI's) are not walked: ``meta
    ["ignored_tables"]`` names them."""
    import dataclasses

    table, ev, others = load_nft_dump(text, source)
    trace = NftDumpSim(table, ev, node_ip=node_ip, seed=seed).trace_packet(
        src, dst, dport, proto=proto, sport=sport, local=local)
    meta = dict(trace.meta)
    if others:
        meta["ignored_tables"] = ", ".join(others)
    if "# handle " not in text:
        meta["handles"] = ("counted in listing order: the listing has no handles (nft list ruleset "
                           "without -a), so these are not the kernel's; nft -a list ruleset gives them")
    return dataclasses.replace(trace, scenario="nft list ruleset dump", meta=meta)
