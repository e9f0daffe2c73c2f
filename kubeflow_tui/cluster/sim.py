"""Run connections across a simulated cluster and record every step as a Trace.

Each node has the ruleset kube-proxy would write for it, a conntrack table and the
lists of ``-m recent``.  A connection is run as its packets (SYN, SYN-ACK, ACK,
request, response, FIN, FIN-ACK, last ACK for TCP; request and response for UDP),
each walked host by host; on a node it crosses the netfilter hooks in the kernel's
order (see datapath.py).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from ..netfilter.conntrack import ConntrackTable
from ..netfilter.eval import Evaluator
from ..netfilter.packet import Packet
from ..netfilter.rules import Ruleset
from ..scenario.models import Flow, Scenario
from ..trace import Step, Trace
from .counters import Counters, Payload
from .datapath import NodeDatapath, NodeState, _Verdict
from .topology import Host, Route, Topology, build_topology

MAX_HOPS = 16


class FlowError(Exception):
    """A flow cannot run (unknown flow, source or pinned endpoint)."""


@dataclass
class _Conn:
    """The state of one connection being run."""

    client: str
    proto: str
    client_tuple: tuple[str, int, str, int]  # src ip, sport, dst ip, dport as the client sent
    server: str = ""
    server_saw: str = ""
    client_saw: str = ""
    packet_no: int = 0
    label: str = ""
    direction: str = "original"



class ClusterSim(NodeDatapath):
    """A running cluster: topology, per-node rules, conntrack and recent lists."""

    def __init__(self, scenario: Scenario, seed: int | None = None):
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.rng = random.Random(self.seed)
        self.now = 1000.0
        self.topology: Topology = build_topology(scenario)
        self.nodes: dict[str, NodeState] = {}
        #: kube-proxy deletes stale UDP conntrack entries after each sync (False: as when
        #: its clean-up fails, the classic "DNS broke after CoreDNS moved" outage)
        self.conntrack_cleanup = True
        #: per node, the conntrack lines the last sync's clean-up deleted
        self.last_cleanup: dict[str, list[str]] = {}
        self.sync_rules()
        #: rule, policy and interface counters, moved by every connection run (counters.py)
        self.counters = Counters(self)
        self._payload: Payload | None = None
        self._steps: list[Step] = []
        self._pin: str | None = None
        self._conn: _Conn | None = None

    # ------------------------------------------------------------------ rules

    def restore_text(self, node: str) -> str:
        from ..kubeproxy import generate_restore

        return generate_restore(self.scenario, node)

    def sync_rules(self) -> dict[str, str]:
        """Recompute every node's rules from the scenario (kube-proxy's resync).

        Returns, per node, the unified diff of ``iptables-save`` text (empty if none).
        Conntrack entries are kept, as the kernel keeps them.
        """
        import difflib

        from ..netfilter import parse_iptables_save, render_save

        diffs: dict[str, str] = {}
        for name in self.topology.node_names:
            ruleset = parse_iptables_save(self.restore_text(name), source=f"kube-proxy rules for {name}")
            old = self.nodes.get(name)
            if old is None:
                self.nodes[name] = NodeState(ruleset, Evaluator(ruleset))
                continue
            before = render_save(old.ruleset, header=False).splitlines(keepends=True)
            after = render_save(ruleset, header=False).splitlines(keepends=True)
            diffs[name] = "".join(difflib.unified_diff(before, after, f"{name} before", f"{name} after"))
            old.ruleset = ruleset
            old.evaluator = Evaluator(ruleset)
        self._clean_stale_conntrack()
        return diffs

    def _clean_stale_conntrack(self) -> None:
        from .cleanup import stale_udp_entries

        self.last_cleanup = {}
        if not self.conntrack_cleanup:
            return
        for name, st in self.nodes.items():
            gone = stale_udp_entries(self.scenario, st.conntrack, self.topology.hosts[name].local_addrs)
            for e in gone:
                st.conntrack.entries.remove(e)
            if gone:
                self.last_cleanup[name] = [e.line() for e in gone]

    def set_ruleset(self, node: str, ruleset: Ruleset) -> None:
        """Replace a node's rules (the shell's iptables commands); next packet sees them."""
        st = self.nodes[node]
        st.ruleset = ruleset
        st.evaluator = Evaluator(ruleset)

    def node_ruleset(self, node: str) -> Ruleset:
        return self.nodes[node].ruleset

    def node_ruleset_text(self, node: str) -> str:
        from ..netfilter import render_save

        return render_save(self.nodes[node].ruleset)

    def conntrack(self, host: str) -> ConntrackTable | None:
        st = self.nodes.get(host)
        return st.conntrack if st else None

    def apply_event(self, event) -> dict[str, str]:
        """Apply a timeline event to the scenario and resync kube-proxy's rules."""
        from .events import apply_event

        self.scenario = apply_event(self.scenario, event)
        # pods come and go (new veths and routes); events never add or remove nodes, so
        # each node keeps its conntrack table and recent lists
        self.topology = build_topology(self.scenario)
        return self.sync_rules()

    # ------------------------------------------------------------------ flows

    def run_flow(self, name: str, *, endpoint: str | None = None) -> Trace:
        try:
            flow = self.scenario.flow(name)
        except KeyError:
            known = ", ".join(f.name for f in self.scenario.flows) or "none"
            raise FlowError(f"no flow named {name!r} (flows: {known})") from None
        self._run_prerequisites(flow, set())
        return self.run(flow, endpoint=endpoint or flow.endpoint)

    def _run_prerequisites(self, flow: Flow, seen: set[str]) -> None:
        """Run the flows named in ``after`` first (depth first, each once, cycles cut)."""
        for name in flow.after:
            if name in seen:
                continue
            seen.add(name)
            before = self.scenario.flow(name)
            self._run_prerequisites(before, seen)
            self.run(before, endpoint=before.endpoint)

    def run_adhoc(self, source: str, to: str, protocol: str = "TCP", *, source_port: int | None = None,
                  endpoint: str | None = None, payload: Payload | None = None) -> Trace:
        """Run a connection that no flow names (the shell's curl and nc): ``to`` is IP:PORT.
        ``payload``: trace -> (request bytes, response bytes), for the byte counters."""
        self._adhoc_port = getattr(self, "_adhoc_port", 41000) + 1
        flow = Flow.model_validate({
            "name": "adhoc", "from": source, "to": to, "protocol": protocol.upper(),
            "sourcePort": source_port or self._adhoc_port,
        })
        self._payload = payload
        try:
            return self.run(flow, endpoint=endpoint)
        finally:
            self._payload = None

    def run(self, flow: Flow, *, endpoint: str | None = None) -> Trace:
        src_host = self._source_host(flow.from_)
        if endpoint is not None and endpoint not in self.topology.hosts:
            raise FlowError(f"flow {flow.name}: endpoint {endpoint!r} is not a pod of this scenario")
        self._steps = []
        self._pin = endpoint
        self._route_balancer(flow)
        self._fails_after_ms = 0
        proto = flow.protocol.lower()
        outcome, summary, conn = self._connect(src_host, flow.dst_ip, flow.dst_port, proto, flow.sourcePort, flow)
        hosts = tuple(h for h in self.topology.hosts if any(s.host == h for s in self._steps))
        trace = Trace(
            scenario=self.scenario.name,
            flow=flow.name,
            hosts=hosts,
            steps=tuple(self._steps),
            outcome=outcome,
            summary=summary,
            seed=self.seed,
            endpoint=conn.server if conn.server in self.topology.hosts and
            self.topology.hosts[conn.server].kind == "pod" else "",
            server_saw=conn.server_saw,
            client_saw=conn.client_saw,
            meta={"from": flow.from_, "to": flow.to, "protocol": flow.protocol, "pinned": endpoint or "",
                  # how long the client waits before an error arrives (ARP gives up after ~3 s)
                  "fails_after_ms": self._fails_after_ms},
        )
        self.counters.count(trace, self._payload)
        return trace

    def _route_balancer(self, flow: Flow) -> None:
        """A ``vip`` balancer sends the Service's LB IP to the node the flow names (``via``)."""
        lb = self.scenario.loadBalancer
        if lb is None or lb.style != "vip" or lb.name not in self.topology.hosts:
            return
        nodes = lb.nodes or self.topology.node_names
        via = flow.via or nodes[0]
        node_ip = self.scenario.node(via).ip
        host = self.topology.hosts[lb.name]
        vips = {s.loadBalancerIP for s in self.scenario.services if s.type == "LoadBalancer" and s.loadBalancerIP}
        host.routes = [r for r in host.routes if str(r.dst.network_address) not in vips or r.dst.prefixlen != 32]
        for vip in sorted(vips):
            host.routes.append(Route(ipaddress.IPv4Network(f"{vip}/32"), "eth0", via=node_ip))

    def _source_host(self, name: str) -> Host:
        h = self.topology.hosts.get(name)
        if h is not None:
            return h
        for c in self.scenario.clients:
            if c.name == name:
                target = c.node if c.kind == "node" else c.pod
                if target in self.topology.hosts:
                    return self.topology.hosts[target]
        raise FlowError(f"flow source {name!r} is not a client, pod or node of this scenario")

    # ------------------------------------------------------------------ connection

    def _connect(self, src: Host, dst_ip: str, dport: int, proto: str, sport: int, flow: Flow | None):
        route = src.route(dst_ip)
        src_ip = src.source_for(route) if route else src.primary_ip
        conn = _Conn(src.name, proto, (src_ip, sport, dst_ip, dport))
        self._conn = conn
        if proto == "tcp":
            script = [
                ("original", ("SYN",), "SYN"),
                ("reply", ("SYN", "ACK"), "SYN-ACK"),
                ("original", ("ACK",), "ACK"),
                ("original", ("PSH", "ACK"), "request"),
                ("reply", ("PSH", "ACK"), "response"),
                ("original", ("FIN", "ACK"), "FIN"),
                ("reply", ("FIN", "ACK"), "FIN-ACK"),
                ("original", ("ACK",), "last ACK"),
            ]
        else:
            script = [("original", (), "request"), ("reply", (), "response")]

        server_host: Host | None = None
        last_request: Packet | None = None
        for no, (direction, flags, label) in enumerate(script):
            conn.packet_no, conn.label, conn.direction = no, label, direction
            self.now += 0.001
            if direction == "original":
                pkt = Packet(src_ip, dst_ip, proto, sport, dport, flags=flags)
                v = self._send(src, pkt)
                if v.status != "delivered":
                    return self._fail(v, conn, no)
                server_host = self.topology.hosts[v.host]
                last_request = v.packet
                if no == 0:
                    conn.server = v.host
                    conn.server_saw = f"{v.packet.src}:{v.packet.sport}"
                    if (proto, v.packet.dport) not in server_host.listeners and not self._proxy(server_host, v.packet):
                        # nobody listens: the server host's kernel answers RST / ICMP
                        return self._refused_by_server(server_host, v.packet, conn)
                if label == "request" and self._proxy(server_host, v.packet) and flow is not None:
                    inner = self._proxy_backend(server_host, v.packet, flow)
                    if inner is not None:
                        self._conn = conn
                        return inner
            else:
                assert server_host is not None and last_request is not None
                pkt = Packet(last_request.dst, last_request.src, proto, last_request.dport,
                             last_request.sport, flags=flags)
                v = self._send(server_host, pkt, reply=True)
                if v.status != "delivered":
                    return self._fail(v, conn, no)
                if v.host != src.name or (v.packet.src, v.packet.sport) != (dst_ip, dport):
                    return self._astray(v, conn, src)
                conn.client_saw = f"{v.packet.src}:{v.packet.sport}"
        who = conn.server
        return ("delivered",
                f"{src.name} reached {who} ({conn.server_saw} seen by the server); the reply came back from {conn.client_saw}.",
                conn)

    def _proxy(self, host: Host, pkt: Packet) -> bool:
        lb = self.scenario.loadBalancer
        return host.kind == "lb" and lb is not None and lb.style == "proxy" and pkt.dst in host.extra_local

    def _proxy_backend(self, lb_host: Host, pkt: Packet, flow: Flow):
        """A proxy balancer opens its own connection to a node's NodePort."""
        node_name = flow.via or (self.scenario.loadBalancer.nodes or self.topology.node_names)[0]
        node = self.scenario.node(node_name)
        node_port = None
        for svc in self.scenario.services:
            if svc.loadBalancerIP == pkt.dst:
                for p in svc.ports:
                    if p.port == pkt.dport and p.protocol.lower() == pkt.proto:
                        node_port = p.nodePort
        if node_port is None:
            return None
        outer = self._conn
        self._note(lb_host.name, "send", f"The proxy load balancer accepted the client's connection and now opens its own to {node.ip}:{node_port} (NodePort on {node_name}).",
                   pkt)
        outcome, summary, inner = self._connect(lb_host, node.ip, node_port, pkt.proto, 50000, None)
        outer.server = inner.server
        outer.server_saw = inner.server_saw
        outer.client_saw = f"{pkt.dst}:{pkt.dport}" if outcome == "delivered" else ""
        return (outcome, f"Through the proxy balancer: {summary}", outer)

    def _fail(self, v: _Verdict, conn: _Conn, no: int):
        outcome = {"rejected": "refused", "dropped": "timeout", "unreachable": "unreachable"}.get(v.status, v.status)
        text = {
            "refused": f"{conn.client} got 'connection refused': {v.detail}",
            "timeout": f"{conn.client} timed out: {v.detail}",
            "unreachable": f"{conn.client} got 'no route to host': {v.detail}",
        }.get(outcome, v.detail)
        self._note(conn.client, "timeout" if outcome == "timeout" else "deliver", text,
                   v.packet)
        return outcome, text, conn

    def _refused_by_server(self, host: Host, pkt: Packet, conn: _Conn):
        if pkt.proto == "tcp":
            why = (f"Nothing listens on {pkt.proto} port {pkt.dport} in {host.name}: its kernel answers "
                   "with a TCP RST, and the client sees 'connection refused'.")
        else:
            why = (f"Nothing listens on udp port {pkt.dport} in {host.name}: its kernel answers with ICMP "
                   "port unreachable.")
        self._note(host.name, "reject", why, pkt)
        if pkt.proto == "tcp":
            conn.packet_no, conn.label, conn.direction = conn.packet_no + 1, "RST", "reply"
            rst = Packet(pkt.dst, pkt.src, "tcp", pkt.dport, pkt.sport, flags=("RST", "ACK"))
            v = self._send(host, rst, reply=True)
            if v.status == "delivered":
                conn.client_saw = f"{v.packet.src}:{v.packet.sport}"
        return "refused", f"{conn.client} got 'connection refused' from {host.name}: nothing listens on port {pkt.dport}.", conn

    def _astray(self, v: _Verdict, conn: _Conn, src: Host):
        if v.host != src.name:
            text = f"The reply went to {v.host}, not back to {src.name}: the client never hears back and times out."
        else:
            text = (f"The reply arrived from {v.packet.src}:{v.packet.sport}, but the client talked to "
                    f"{conn.client_tuple[2]}:{conn.client_tuple[3]}: no socket expects it, the client's kernel "
                    "answers with a RST and the connection times out.")
        if v.host == src.name and v.packet.proto == "tcp" and "RST" not in v.packet.flags:
            # the client's kernel answers the unexpected segment with a RST, which crosses the
            # nodes on its way back to the sender (their conntrack sees it: CLOSE); then the
            # client, still waiting for its own answer, times out
            saved = conn.packet_no, conn.label, conn.direction
            conn.packet_no, conn.label, conn.direction = conn.packet_no + 1, "RST", "original"
            rst = Packet(v.packet.dst, v.packet.src, "tcp", v.packet.dport, v.packet.sport, flags=("RST",))
            self._send(src, rst)
            conn.packet_no, conn.label, conn.direction = saved
        self._note(v.host, "timeout", text, v.packet)
        return "timeout", text, conn

    # ------------------------------------------------------------------ packets

    def _send(self, host: Host, pkt: Packet, reply: bool = False) -> _Verdict:
        """Send a packet from a process on ``host``; walk it until it ends somewhere."""
        self._note(host.name, "send", self._send_why(host, pkt), pkt)
        if host.kind == "node":
            v = self._node_output(host, pkt)
            if v.status != "forwarded":
                return v
            out_iface, pkt, next_hop = v.detail, v.packet, v.host
        else:
            route = host.route(pkt.dst)
            if route is None:
                return _Verdict("unreachable", host.name, pkt, f"{host.name} has no route to {pkt.dst}")
            out_iface, next_hop = route.dev, route.via or pkt.dst
        for _ in range(MAX_HOPS):
            if out_iface == "lo" and host.kind == "node":
                # the loopback: the packet leaves and re-enters the same node
                self._note(host.name, "link", f"{host.name} (lo) → {host.name} (lo)", pkt, link=(host.name, host.name))
                v = self._node_receive(host, pkt, "lo")
                if v.status != "forwarded":
                    return v
                out_iface, pkt, next_hop = v.detail, v.packet, v.host
                continue
            iface = host.iface(out_iface)
            nxt = self.topology.neighbour(host, iface, next_hop)
            if nxt is None:
                self._note(host.name, "drop",
                           f"No host answers ARP for {next_hop} on {out_iface}: after about 3 s the kernel "
                           "gives up and sends the source an ICMP host unreachable ('No route to host').", pkt)
                self._fails_after_ms = 3000  # three ARP probes, one second apart
                return _Verdict("unreachable", host.name, pkt, f"nobody answers ARP for {next_hop}")
            in_iface = self._in_iface(nxt, host, iface)
            self._note(nxt.name, "link", f"{host.name} ({out_iface}) → {nxt.name} ({in_iface})", pkt,
                       link=(host.name, nxt.name))
            host = nxt
            if host.kind == "node":
                v = self._node_receive(host, pkt, in_iface)
                if v.status != "forwarded":
                    return v
                out_iface, pkt, next_hop = v.detail, v.packet, v.host
                continue
            if pkt.dst in host.local_addrs:
                if pkt.src in host.local_addrs:
                    # ip_route_input: a packet from outside that claims one of our own
                    # addresses as its source is a "martian" and is dropped
                    self._note(host.name, "drop",
                               f"The packet comes in from outside but its source {pkt.src} is {host.name}'s own "
                               "address: the kernel drops it as a martian source. (This is why kube-proxy "
                               "masquerades hairpin traffic.)", pkt)
                    return _Verdict("dropped", host.name, pkt, "martian source")
                self._note(host.name, "deliver", f"{pkt.dst} is {host.name}'s own address: the packet is delivered.", pkt)
                return _Verdict("delivered", host.name, pkt)
            if not host.forwarding:
                self._note(host.name, "drop", f"{host.name} does not forward packets for {pkt.dst}.", pkt)
                return _Verdict("dropped", host.name, pkt, f"{host.name} does not forward")
            route = host.route(pkt.dst)
            if route is None:
                self._note(host.name, "drop", f"{host.name} has no route to {pkt.dst}.", pkt)
                return _Verdict("dropped", host.name, pkt, f"{host.name} has no route")
            self._note(host.name, "route", f"{host.name} forwards the packet for {pkt.dst} via {route.via or 'the link'} on {route.dev}.", pkt)
            out_iface, next_hop = route.dev, route.via or pkt.dst
        return _Verdict("dropped", host.name, pkt, "too many hops")

    def _send_why(self, host: Host, pkt: Packet) -> str:
        c = self._conn
        what = c.label if c else "packet"
        return f"{host.name} sends the {what}: {pkt.src}:{pkt.sport} → {pkt.dst}:{pkt.dport} ({pkt.proto})."

    def _in_iface(self, host: Host, from_host: Host, via_iface) -> str:
        if via_iface.peer:
            for i in host.interfaces:
                if i.peer == from_host.name:
                    return i.name
        return "eth0"


def run_flow(scenario: Scenario, flow: str, *, seed: int | None = None, endpoint: str | None = None) -> Trace:
    """Run one named flow on a fresh cluster."""
    return ClusterSim(scenario, seed=seed).run_flow(flow, endpoint=endpoint)
