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
from typing import TYPE_CHECKING

from ..netfilter.conntrack import ConntrackTable
from ..netfilter.eval import Evaluator
from ..netfilter.packet import Packet
from ..netfilter.rules import Ruleset
from ..trace import OUTCOME_OF_ENDING, Step, Trace, error_text
from .counters import Counters, Payload
from .datapath import NodeDatapath, NodeState, _Verdict
from .policy import CNI_TABLE, EGRESS_STEP, INGRESS_STEP, egress_verdict, ingress_verdict
from .timeline import TimelineMixin
from .topology import Host, Route, Topology, build_topology

if TYPE_CHECKING:  # (pydantic's models load only when a scenario is: `trace --iptables-save` needs none)
    from ..scenario.models import Flow, Scenario

MAX_HOPS = 16

#: REJECT's --reject-with: the packet it sends back, the errno a TCP client's socket gets
#: (the kernel's icmp_err_convert; a RST in SYN_SENT is ECONNREFUSED), and whether the
#: error is "hard" (a connected UDP socket reports only those)
REJECT_WITH = {
    "icmp-net-unreachable": ("ICMP net unreachable", "ENETUNREACH", False),
    "icmp-host-unreachable": ("ICMP host unreachable", "EHOSTUNREACH", False),
    "icmp-port-unreachable": ("ICMP port unreachable", "ECONNREFUSED", True),
    "icmp-proto-unreachable": ("ICMP protocol unreachable", "ENOPROTOOPT", True),
    "icmp-net-prohibited": ("ICMP net prohibited", "ENETUNREACH", True),
    "icmp-host-prohibited": ("ICMP host prohibited", "EHOSTUNREACH", True),
    "icmp-admin-prohibited": ("ICMP administratively prohibited", "EHOSTUNREACH", True),
    "tcp-reset": ("RST", "ECONNREFUSED", True),
}


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
    ending: str = "delivered"  # one of trace.ENDINGS
    error: str = ""  # the errno the client's socket reports


class ClusterSim(NodeDatapath, TimelineMixin):
    """A running cluster: topology, per-node rules, conntrack and recent lists."""

    def __init__(self, scenario: Scenario, seed: int | None = None, *, proxy_mode: str | None = None):
        self.scenario = scenario
        #: kube-proxy's mode on every node: iptables or nftables (default: the scenario's)
        self.proxy_mode = proxy_mode or scenario.cluster.proxyMode
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
        #: per syncLag node, the scenario its kube-proxy last synced from (one change behind)
        self._views: dict[str, Scenario] = {}
        self.sync_rules()
        #: rule, policy and interface counters, moved by every connection run (counters.py)
        self.counters = Counters(self)
        self._payload: Payload | None = None
        self._steps: list[Step] = []
        self._pin: str | None = None
        self._pin_ip: str | None = None
        self._conn: _Conn | None = None
        self._timeline_init()

    # ------------------------------------------------------------------ rules

    def restore_text(self, node: str) -> str:
        """The node's iptables rules (none in nftables mode: kube-proxy writes no iptables)."""
        from ..kubeproxy import generate_restore

        if self.proxy_mode == "nftables":
            return ""
        return generate_restore(self.view(node), node)

    def view(self, node: str) -> Scenario:
        """The cluster as kube-proxy on ``node`` last synced it: the scenario, except on a
        node with ``syncLag``, whose kube-proxy applies each change one sync late."""
        return self._views.get(node, self.scenario)

    def nft_table(self, node: str):
        """kube-proxy's ``ip kube-proxy`` table on the node (nftables mode), else None."""
        return self.nodes[node].nft

    def sync_rules(self, *, full: bool | None = None) -> dict[str, str]:
        """kube-proxy's sync on every node: rules recomputed from the scenario.

        In iptables mode a sync is partial (cluster/partial_sync.py) unless ``full`` or it
        is the first one or the last full one is ``FULL_SYNC_PERIOD`` old: only the
        top-level chains and the chains of Services that changed since the last sync are
        rewritten, so a hand-deleted rule elsewhere stays deleted.  (nftables mode: the
        table is rebuilt each time.)  ``last_sync`` says what the last one did.
        Returns, per node, the unified diff of ``iptables-save`` text (empty if none).
        Conntrack entries are kept, as the kernel keeps them.
        """
        import difflib

        from ..netfilter import parse_iptables_save, render_save
        from .partial_sync import FULL_SYNC_PERIOD, changed_services, partial, service_chains

        previous = getattr(self, "_synced_scenario", None)
        if full is None:
            full = previous is None or self.now - getattr(self, "last_full_sync", self.now) >= FULL_SYNC_PERIOD
        changed = set() if previous is None else changed_services(previous, self.scenario)
        rewrite = set() if full or previous is None else (
            service_chains(previous, changed) | service_chains(self.scenario, changed))
        self._synced_scenario = self.scenario
        old_views = self._views  # (replaced below, never changed in place)
        #: per node, the scenario its kube-proxy syncs from now (one change behind on a
        #: syncLag node: the API server's change has not reached its watch yet)
        self._views = {n.name: previous for n in self.scenario.cluster.nodes
                       if n.syncLag and previous is not None}
        if full:
            self.last_full_sync = self.now
        #: ("full" or "partial", the Services whose chains it rewrote)
        self.last_sync = ("full" if full else "partial", tuple(sorted(changed)))
        diffs: dict[str, str] = {}
        for name in self.topology.node_names:
            ruleset = parse_iptables_save(self.restore_text(name), source=f"kube-proxy rules for {name}")
            old = self.nodes.get(name)
            nft = None
            if self.proxy_mode == "nftables":
                from ..kubeproxy.nftables import nft_transaction
                from ..netfilter.nft_eval import NftEvaluator
                from ..netfilter.nft_list import render_nft_ruleset

                nft = nft_transaction(self.view(name), name).apply()
            if old is None:
                self.nodes[name] = st = NodeState(ruleset, Evaluator(ruleset))
                from .legacy import legacy_ruleset, set_legacy

                set_legacy(st, legacy_ruleset(self.scenario, name))  # (iptables-legacy's tables)
                if nft is not None:
                    st.nft, st.nft_eval = nft, NftEvaluator(nft)
                continue
            if nft is not None:
                before = render_nft_ruleset([old.nft]).splitlines(keepends=True) if old.nft else []
                after = render_nft_ruleset([nft]).splitlines(keepends=True)
                diffs[name] = "".join(difflib.unified_diff(before, after, f"{name} before", f"{name} after"))
                old.nft, old.nft_eval = nft, NftEvaluator(nft)
                continue
            if not full:
                was, now = old_views.get(name, previous), self.view(name)
                lagged = set() if was is now else changed_services(was, now)
                node_rewrite = rewrite if was is previous and now is self.scenario else (
                    service_chains(was, lagged) | service_chains(now, lagged))
                ruleset = partial(old.ruleset, ruleset, node_rewrite)
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
            gone = stale_udp_entries(self.view(name), st.conntrack, self.topology.hosts[name].local_addrs)
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
        return self.sync_rules(full=True if event.action == "full-resync" else None)

    # ------------------------------------------------------------------ flows

    def run_flow(self, name: str, *, endpoint: str | None = None) -> Trace:
        try:
            flow = self.scenario.flow(name)
        except KeyError:
            known = ", ".join(f.name for f in self.scenario.flows) or "none"
            raise FlowError(f"no flow named {name!r} (flows: {known})") from None
        self._run_prerequisites(flow, set())
        self._flow_time(flow)
        return self.run(flow, endpoint=endpoint or flow.endpoint)

    def _flow_time(self, flow: Flow) -> None:
        """A flow with ``at`` runs at that time of the timeline (timeline.py)."""
        if flow.at is None:
            return
        try:
            self.advance_to(flow.at)
        except ValueError as e:
            raise FlowError(f"flow {flow.name} runs at t={flow.at:g}: {e}") from None

    def _run_prerequisites(self, flow: Flow, seen: set[str]) -> None:
        """Run the flows named in ``after`` first (depth first, each once, cycles cut)."""
        for name in flow.after:
            if name in seen:
                continue
            seen.add(name)
            before = self.scenario.flow(name)
            self._run_prerequisites(before, seen)
            self._flow_time(before)
            self.run(before, endpoint=before.endpoint)

    def run_adhoc(self, source: str, to: str, protocol: str = "TCP", *, source_port: int | None = None,
                  endpoint: str | None = None, payload: Payload | None = None) -> Trace:
        """Run a connection that no flow names (the shell's curl and nc): ``to`` is IP:PORT.
        ``payload``: trace -> (request bytes, response bytes), for the byte counters."""
        self._adhoc_port = getattr(self, "_adhoc_port", 41000) + 1
        flow = _flow({
            "name": "adhoc", "from": source, "to": to, "protocol": protocol.upper(),
            "sourcePort": source_port or self._adhoc_port,
        })
        self._payload = payload
        try:
            return self.run(flow, endpoint=endpoint)
        finally:
            self._payload = None

    def run_ping(self, source: str, dst_ip: str, *, ident: int) -> Trace:
        """One ICMP echo request from ``source`` to ``dst_ip`` and its echo reply, if any
        (the shell's ping).  ``ident`` is the echo id; conntrack keys the exchange on it, so
        the probes of one ping share an entry."""
        flow = _flow({"name": "ping", "from": source, "to": f"{dst_ip}:1"})
        flow = flow.model_copy(update={"sourcePort": ident})  # any 16-bit id, not a port
        self._payload = None
        return self.run(flow, proto="icmp")

    def run_probe(self, source: str, dst_ip: str, dport: int, *, ttl: int, sport: int) -> Trace:
        """One UDP probe with IP TTL ``ttl`` (the shell's traceroute): it ends as an ICMP time
        exceeded from the host where its TTL ran out, an ICMP port unreachable from the host
        it reached, or nothing."""
        flow = _flow({"name": "traceroute", "from": source, "to": f"{dst_ip}:{dport}",
                                    "protocol": "UDP", "sourcePort": sport})
        self._payload = None
        self._ttl = ttl
        try:
            return self.run(flow)
        finally:
            self._ttl = 64

    def run(self, flow: Flow, *, endpoint: str | None = None, proto: str | None = None) -> Trace:
        src_host = self._source_host(flow.from_)
        if endpoint is not None and endpoint not in self.topology.hosts and endpoint not in self.gone_pods:
            raise FlowError(f"flow {flow.name}: endpoint {endpoint!r} is not a pod of this scenario")
        self._steps = []
        self._pin = endpoint
        # a pod the timeline removed is pinned by the address the rules may still hold
        self._pin_ip = None if endpoint is None else (
            self.topology.hosts[endpoint].primary_ip if endpoint in self.topology.hosts
            else self.gone_pods[endpoint])
        self._route_balancer(flow)
        self._fails_after_ms = 0
        proto = proto or flow.protocol.lower()
        outcome, summary, conn = self._connect(src_host, flow.dst_ip, flow.dst_port, proto, flow.sourcePort, flow)
        hosts = tuple(h for h in self.topology.hosts if any(s.host == h for s in self._steps))
        trace = Trace(
            scenario=self.scenario.name,
            flow=flow.name,
            hosts=hosts,
            steps=tuple(self._steps),
            outcome=outcome,
            summary=summary,
            ending=conn.ending,
            error=conn.error,
            seed=self.seed,
            endpoint=conn.server if conn.server in self.topology.hosts and
            self.topology.hosts[conn.server].kind == "pod" else "",
            server_saw=conn.server_saw,
            client_saw=conn.client_saw,
            meta={"from": flow.from_, "to": flow.dst_ip if proto == "icmp" else flow.to,
                  "protocol": proto.upper() if proto == "icmp" else flow.protocol, "pinned": endpoint or "",
                  # how long the client waits before an error arrives (ARP gives up after ~3 s)
                  "fails_after_ms": self._fails_after_ms},
        )
        if self.timed and self.played:
            # whose rules the packets met, on a timed timeline (timeline.py)
            trace.meta["timeline"] = self.rules_as_of()
            trace.meta["timeline_short"] = self.rules_as_of_short()
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
        if proto == "icmp":
            dport = 0  # an echo has no ports: its id rides in the sport slot
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
            if flow is not None and flow.keepOpen:
                script = script[:5]  # the client keeps the connection: no FIN, still ESTABLISHED
        elif proto == "sctp":
            # an association: the four-way handshake, one message each way (a SACK rides
            # with the answer; conntrack ignores DATA and SACK), and the three-way shutdown;
            # a packet's flags are its chunk types
            script = [
                ("original", ("INIT",), "INIT"),
                ("reply", ("INIT_ACK",), "INIT ACK"),
                ("original", ("COOKIE_ECHO",), "COOKIE ECHO"),
                ("reply", ("COOKIE_ACK",), "COOKIE ACK"),
                ("original", ("DATA",), "request"),
                ("reply", ("SACK", "DATA"), "response"),
                ("original", ("SHUTDOWN",), "SHUTDOWN"),
                ("reply", ("SHUTDOWN_ACK",), "SHUTDOWN ACK"),
                ("original", ("SHUTDOWN_COMPLETE",), "SHUTDOWN COMPLETE"),
            ]
        elif proto == "icmp":
            script = [("original", (), "echo request"), ("reply", (), "echo reply")]
        else:
            script = [("original", (), "request"), ("reply", (), "response")]

        server_host: Host | None = None
        last_request: Packet | None = None
        for no, (direction, flags, label) in enumerate(script):
            conn.packet_no, conn.label, conn.direction = no, label, direction
            self.now += 0.001
            if direction == "original":
                pkt = Packet(src_ip, dst_ip, proto, sport, dport, flags=flags, ttl=getattr(self, "_ttl", 64))
                v = self._send(src, pkt)
                if v.status != "delivered":
                    return self._fail(v, conn, no)
                server_host = self.topology.hosts[v.host]
                last_request = v.packet
                if no == 0 and proto == "icmp":
                    # no socket needed: the kernel of whoever owns the address answers an echo
                    conn.server = v.host
                    conn.server_saw = v.packet.src
                    continue
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
                if proto == "icmp":  # the echo reply carries the request's id
                    pkt = Packet(last_request.dst, last_request.src, proto, last_request.sport, 0)
                else:
                    pkt = Packet(last_request.dst, last_request.src, proto, last_request.dport,
                                 last_request.sport, flags=flags)
                v = self._send(server_host, pkt, reply=True)
                if v.status != "delivered":
                    return self._fail(v, conn, no)
                want = (dst_ip, sport) if proto == "icmp" else (dst_ip, dport)
                if v.host != src.name or (v.packet.src, v.packet.sport) != want:
                    return self._astray(v, conn, src)
                conn.client_saw = v.packet.src if proto == "icmp" else f"{v.packet.src}:{v.packet.sport}"
        who = conn.server
        kept = (" The client keeps the connection open (no FIN): its conntrack entries stay ESTABLISHED."
                if proto == "tcp" and flow is not None and flow.keepOpen else "")
        return ("delivered",
                f"{src.name} reached {who} ({conn.server_saw} seen by the server); the reply came back from {conn.client_saw}."
                + kept,
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
        # the error is the balancer's (its connection to the node); the client's own
        # connection was accepted by the balancer, which closes it: its socket sees no errno
        outer.ending, outer.error = inner.ending, ""
        return (outcome, f"Through the proxy balancer: {summary}", outer)

    def _fail(self, v: _Verdict, conn: _Conn, no: int):
        """A packet of the connection ended on the way: say how, and what the client sees."""
        if v.status == "expired":
            return self._expired(v, conn)
        ending = {"rejected": "rejected", "dropped": "dropped", "unreachable": "unreachable"}[v.status]
        conn.ending = ending
        if conn.proto == "icmp":
            return self._echo_failed(v, conn)
        if conn.proto == "sctp":
            return self._association_failed(v, conn)
        tcp = conn.proto == "tcp"
        if (not tcp and conn.direction == "original" and v.status in ("rejected", "dropped")
                and v.host == conn.client and self._stopped_on_the_way_out(v.host)):
            # ip_local_out: a DROP or REJECT in the sender's own OUTPUT/POSTROUTING hook
            # (REJECT sends its ICMP error, then drops) fails the sending call itself: the
            # UDP send() returns EPERM before any error could come back
            conn.error = "EPERM"
            text = (f"{v.host} {'rejected' if v.status == 'rejected' else 'dropped'} its own {conn.label} on the "
                    f"way out ({v.detail}): the packet never leaves, and send() fails at once with "
                    f"{error_text(conn.error)}.")
            self._note(conn.client, "socket-error", text, v.packet, error=conn.error, label=conn.label)
            return OUTCOME_OF_ENDING[ending], text, conn
        if conn.direction == "reply":
            # the error (if any) goes back to the server, which sent the packet
            conn.error = "ETIMEDOUT" if tcp else ""
            text = (f"{conn.client} hears no answer: the {conn.label} from the server was {v.status} "
                    f"({v.detail}); " + ("the client's TCP retransmits, then gives up: "
                                        f"{error_text(conn.error)}." if tcp else "the client gives up waiting."))
            self._note(conn.client, "timeout", text, v.packet, error=conn.error)
            return OUTCOME_OF_ENDING[ending], text, conn
        if v.status == "dropped":
            conn.error = "ETIMEDOUT" if tcp else ""
            text = (f"{conn.client} timed out: {v.detail}. Nothing comes back"
                    + (f"; the client's TCP retransmits, then gives up: {error_text(conn.error)}." if tcp
                       else "; the client gives up waiting."))
            self._note(conn.client, "timeout", text, v.packet, error=conn.error)
            return "timeout", text, conn
        if v.status == "rejected" and self._rate_limited(v):
            conn.ending = "dropped"
            conn.error = "ETIMEDOUT" if tcp else ""
            text = (f"The REJECT rule on {v.host} would answer with an ICMP error, but the {conn.label} came in "
                    f"and would leave through the same interface, so {v.host} has just built an ICMP redirect for "
                    f"{v.packet.src}, before FORWARD (netfilter's NAT discards that redirect on its way out: the "
                    f"connection's NAT is not finished). Making it restarted the ICMP rate limit {v.host} keeps "
                    f"per destination host (net.ipv4.icmp_ratelimit, 1 s): the error is suppressed "
                    f"(IcmpOutRateLimitHost). "
                    f"{conn.client} hears nothing" + (f"; its TCP retransmits, then gives up: {error_text(conn.error)}."
                                                      if tcp else " and gives up waiting."))
            self._note(conn.client, "timeout", text, v.packet, error=conn.error)
            return "timeout", text, conn
        if v.status == "rejected":
            label, errno_name, hard = REJECT_WITH.get(v.error_kind, REJECT_WITH["icmp-port-unreachable"])
            what = f"the REJECT rule on {v.host} answers the {conn.label} with an {label}"
        elif v.error_kind == "":
            # the sender itself has no route: connect()/send() fail at once, no packet
            label, errno_name, hard = "", "ENETUNREACH", True
            what = f"{v.host} has no route to {v.packet.dst}"
        elif v.error_kind == "net-unreachable":
            label, errno_name, hard = "ICMP net unreachable", "ENETUNREACH", False
            what = f"{v.host} has no route to {v.packet.dst} and answers with an {label}"
        else:
            label, errno_name, hard = "ICMP host unreachable", "EHOSTUNREACH", False
            what = f"on {v.host} nobody answers ARP, and the kernel sends an {label}"
        if not tcp and not hard:
            # udp_err: a connected UDP socket reports only hard errors
            conn.error = ""
            text = (f"{conn.client} hears nothing: {what}, but a UDP socket reports only hard errors "
                    "and this one is not; the client gives up waiting.")
            self._note(conn.client, "timeout", text, v.packet)
            return OUTCOME_OF_ENDING[ending], text, conn
        if tcp and label == "RST" and no > 0:
            errno_name = "ECONNRESET"  # tcp_reset: a RST on an established connection
        conn.error = errno_name
        pkt = self._error_packet(v, conn, label)
        if not label:
            text = f"{conn.client} cannot send: {what}; the call fails at once with {error_text(errno_name)}."
        elif tcp and no > 0 and label != "RST":
            text = (f"{what[0].upper()}{what[1:]}; it reaches {conn.client}. The connection is established, "
                    f"so TCP keeps the error until its retransmissions give up, then reports "
                    f"{error_text(errno_name)}.")
        else:
            text = f"{what[0].upper()}{what[1:]}; it reaches {conn.client}, {_fails(tcp, errno_name)}"
        self._note(conn.client, "socket-error", text, pkt, error=errno_name, label=label or conn.label,
                   direction="reply" if label else conn.direction)
        how = f"{label} from {v.host}" if label else f"no route on {v.host}"
        return OUTCOME_OF_ENDING[ending], f"{conn.client} got {error_text(errno_name)}: {how}.", conn

    def _echo_failed(self, v: _Verdict, conn: _Conn):
        """An echo request or reply that ended on the way: what ping hears (it reads every
        ICMP message that reaches the host, errors included)."""
        if v.status == "dropped" and v.host == conn.client and self._stopped_on_the_way_out(v.host):
            # ip_local_out: a drop in OUTPUT/POSTROUTING fails the sending call itself
            conn.error = "EPERM"
            text = (f"{v.host} dropped its own echo request on the way out ({v.detail}): sendmsg() fails "
                    f"with {error_text(conn.error)}, and ping says so.")
            self._note(conn.client, "socket-error", text, v.packet, error=conn.error)
            return OUTCOME_OF_ENDING[conn.ending], text, conn
        if v.status == "dropped" or conn.direction == "reply":
            text = (f"{conn.client} hears no echo reply: the {conn.label} was {v.status} ({v.detail}). "
                    "ping counts the probe as lost.")
            self._note(conn.client, "timeout", text, v.packet)
            return OUTCOME_OF_ENDING[conn.ending], text, conn
        if v.status == "rejected":
            label = REJECT_WITH.get(v.error_kind, REJECT_WITH["icmp-port-unreachable"])[0]
            what = f"the reject on {v.host} answers the echo request with an {label}"
        elif v.error_kind == "":
            label, what = "", f"{v.host} has no route to {v.packet.dst}"
        elif v.error_kind == "net-unreachable":
            label, what = "ICMP net unreachable", f"{v.host} has no route to {v.packet.dst} and answers with an ICMP net unreachable"
        else:
            label, what = "ICMP host unreachable", f"on {v.host} nobody answers ARP, and the kernel sends an ICMP host unreachable"
        sent_here = v.host == conn.client and self._stopped_on_the_way_out(v.host)
        if sent_here or not label:
            # ip_local_out: a drop in OUTPUT/POSTROUTING (a reject is a drop that also sends
            # the error) fails the sending call itself: sendmsg() returns EPERM; no route: ENETUNREACH
            conn.error = "EPERM" if label else "ENETUNREACH"
        pkt = self._error_packet(v, conn, label) if label else v.packet
        if label:
            text = (f"{what[0].upper()}{what[1:]}; it reaches {conn.client}, whose ping prints it "
                    f"(\"From {pkt.src} …\")" + (f"; the send itself failed: {error_text(conn.error)}." if conn.error
                                                  else "."))
        else:
            text = f"{conn.client} cannot send: {what}; the call fails at once with {error_text(conn.error)}."
        self._note(conn.client, "socket-error", text, pkt, error=conn.error, label=label or conn.label,
                   direction="reply" if label else conn.direction)
        return OUTCOME_OF_ENDING[conn.ending], text, conn

    def _expired(self, v: _Verdict, conn: _Conn):
        """A probe whose TTL ran out on a router: the ICMP time exceeded it sends back.  A
        socket hears of it only as a soft error (traceroute reads it with IP_RECVERR)."""
        conn.ending, conn.error = "unreachable", ""
        pkt = self._error_packet(v, conn, "ICMP time exceeded")
        text = (f"The {conn.label}'s TTL ran out on {v.host}, which answers with an ICMP time exceeded from "
                f"{pkt.src}; it reaches {conn.client} (traceroute prints that address as this hop).")
        self._note(conn.client, "socket-error", text, pkt, label="ICMP time exceeded", direction="reply")
        return OUTCOME_OF_ENDING[conn.ending], text, conn

    def _association_failed(self, v: _Verdict, conn: _Conn):
        """A chunk of an SCTP association ended on the way.  An ICMP error is only a soft
        error to SCTP (sctp_v4_err keeps it in sk_err_soft unless IP_RECVERR is set): the
        association retransmits (an INIT up to max_init_retransmits, 8) and then gives up."""
        conn.error = "ETIMEDOUT"
        what = {"rejected": f"rejected on {v.host} ({v.detail})", "dropped": f"dropped on {v.host} ({v.detail})",
                "unreachable": f"undeliverable: {v.detail}"}[v.status]
        text = (f"The {conn.label} was {what}. SCTP takes an ICMP error only as a hint: {conn.client}'s "
                f"association retransmits, then gives up: {error_text(conn.error)}.")
        if v.status == "dropped" or conn.direction == "reply" or v.error_kind == "":
            self._note(conn.client, "timeout", text, v.packet, error=conn.error)
        else:
            label = ("ICMP host unreachable" if v.error_kind == "host-unreachable" else
                     "ICMP net unreachable" if v.error_kind == "net-unreachable" else
                     REJECT_WITH.get(v.error_kind, REJECT_WITH["icmp-port-unreachable"])[0])
            self._note(conn.client, "socket-error", text, self._error_packet(v, conn, label), error=conn.error,
                       label=label, direction="reply")
        return OUTCOME_OF_ENDING[conn.ending], text, conn

    def _rate_limited(self, v: _Verdict) -> bool:
        """A REJECT in FORWARD right after the node sent the packet's sender an ICMP redirect.
        ip_rt_send_redirect sets the sender's inet_peer rate_last to now (and, after 20 s of
        silence, its tokens to 0); icmpv4_xrlim_allow then finds no token for an error to the
        same host (types 3, 4, 11, 12 are in icmp_ratemask; a redirect is not).  Every
        retransmission triggers the redirect logic again (rate_last refreshed even once it
        stops sending them), so the error never gets through.  Seen in namespaces: a vip
        balancer hands a UDP datagram for a Service with no endpoints to a node whose route
        for the LB IP is its default route on the same eth0; nstat: IcmpOutRedirects 1,
        IcmpOutRateLimitHost 1, and the client hears nothing.  The redirect itself does not
        leave either (IpOutDiscards 1): with a nat table loaded, nf_nat_icmp_reply_translation
        drops a redirect about a connection whose NAT is not done ("If NAT isn't finished,
        assume it and drop."); without one it goes out, and the error is suppressed all the
        same."""
        red = getattr(self, "_redirected", None)
        return (red is not None and red[0] == v.host and v.packet is not None and red[1] == v.packet.src
                and self._last_hook(v.host) == "FORWARD")

    def _last_hook(self, host: str) -> str:
        for step in reversed(self._steps):
            if step.host == host and step.hook:
                return step.hook
        return ""

    def _stopped_on_the_way_out(self, host: str) -> bool:
        """The last rule that judged a packet on ``host`` sat in OUTPUT or POSTROUTING."""
        for step in reversed(self._steps):
            if step.host == host and step.hook:
                return step.hook in ("OUTPUT", "POSTROUTING")
        return False

    def _error_packet(self, v: _Verdict, conn: _Conn, label: str) -> Packet:
        """The RST or ICMP error as it reaches the client (the rejected packet when there is none)."""
        client_ip, sport, dst_ip, dport = conn.client_tuple
        if not label:
            return v.packet
        if label == "RST":
            # nf_send_reset answers from the address the packet was for; conntrack un-NATs it
            return Packet(dst_ip, client_ip, "tcp", dport, sport, flags=("RST", "ACK"))
        host = self.topology.hosts[v.host]
        if v.packet.src in host.local_addrs:
            src = v.packet.src  # the sender's own kernel: the error stays on the host
        elif v.packet.dst in host.local_addrs:
            src = v.packet.dst  # icmp_send answers from the address the packet was for
        else:
            route = host.route(v.packet.src)  # else from the address of the route back
            src = host.source_for(route) if route else host.primary_ip
        return Packet(src, client_ip, "icmp")

    def _refused_by_server(self, host: Host, pkt: Packet, conn: _Conn):
        conn.ending = "rejected"
        if pkt.proto == "sctp":
            why = (f"Nothing listens on sctp port {pkt.dport} in {host.name}: its SCTP answers the INIT, "
                   "an out-of-the-blue packet, with an ABORT (RFC 9260 8.4), and the client sees "
                   "'connection refused'.")
        elif pkt.proto == "tcp":
            why = (f"Nothing listens on {pkt.proto} port {pkt.dport} in {host.name}: its kernel answers "
                   "with a TCP RST, and the client sees 'connection refused'.")
        else:
            why = (f"Nothing listens on udp port {pkt.dport} in {host.name}: its kernel answers with ICMP "
                   "port unreachable.")
        self._note(host.name, "reject", why, pkt)
        client_ip, sport, dst_ip, dport = conn.client_tuple
        if pkt.proto in ("tcp", "sctp"):
            label = "RST" if pkt.proto == "tcp" else "ABORT"
            conn.packet_no, conn.label, conn.direction = conn.packet_no + 1, label, "reply"
            rst = Packet(pkt.dst, pkt.src, pkt.proto, pkt.dport, pkt.sport,
                         flags=("RST", "ACK") if pkt.proto == "tcp" else ("ABORT",))
            v = self._send(host, rst, reply=True)
            if v.status != "delivered":
                return self._fail(v, conn, conn.packet_no)
            conn.client_saw = f"{v.packet.src}:{v.packet.sport}"
            arrived = v.packet
        else:
            # the entry was confirmed on the way in, so the ICMP error is RELATED to it and
            # conntrack gives its outer source back the address the client asked for
            label, arrived = "ICMP port unreachable", Packet(dst_ip, client_ip, "icmp")
        conn.error = "ECONNREFUSED"
        self._note(conn.client, "socket-error",
                   f"The {label} from {host.name} reaches {conn.client}, {_fails(pkt.proto != 'udp', conn.error)}",
                   arrived, error=conn.error, label=label, direction="reply")
        return ("refused", f"{conn.client} got {error_text(conn.error)}: {label} from {host.name}, where "
                f"nothing listens on port {pkt.dport}.", conn)

    def _astray(self, v: _Verdict, conn: _Conn, src: Host):
        conn.ending = "timed-out"
        conn.error = "ETIMEDOUT" if conn.proto == "tcp" else ""
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
        self._note(v.host, "timeout", text, v.packet, error=conn.error)
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
                return _Verdict("unreachable", host.name, pkt, f"nobody answers ARP for {next_hop}",
                                "host-unreachable")
            in_iface = self._in_iface(nxt, host, iface)
            self._note(nxt.name, "link", f"{host.name} ({out_iface}) → {nxt.name} ({in_iface})", pkt,
                       link=(host.name, nxt.name))
            prev, host = host, nxt
            if host.kind == "node":
                v = self._node_receive(host, pkt, in_iface)
                if (not reply and prev.kind == "pod" and prev.node == host.name
                        and v.status in ("forwarded", "delivered")):
                    denied = self._policy_step(host, prev.name, v.packet, "egress")
                    if denied is not None:
                        return denied
                if v.status != "forwarded":
                    return v
                out_iface, pkt, next_hop = v.detail, v.packet, v.host
                continue
            if host.kind == "pod" and not reply and pkt.dst in host.local_addrs:
                denied = self._policy_step(host, host.name, pkt, "ingress")
                if denied is not None:
                    return denied
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
            if host.kind == "router":
                # its only off-link route is a blackhole: discarded, no ICMP error
                self._note(host.name, "drop",
                           f"The node network's router ({host.primary_ip}) has no route into the cluster: "
                           f"{pkt.dst} exists only in the nodes' rules and routes. It discards the packet "
                           "without an ICMP error, so the client hears nothing and times out.", pkt)
                return _Verdict("dropped", host.name, pkt, f"the router {host.primary_ip} discards packets for {pkt.dst}")
            if not host.forwarding:
                self._note(host.name, "drop", f"{host.name} does not forward packets for {pkt.dst}.", pkt)
                return _Verdict("dropped", host.name, pkt, f"{host.name} does not forward")
            route = host.route(pkt.dst)
            if route is None:
                self._note(host.name, "drop", f"{host.name} has no route to {pkt.dst}.", pkt)
                return _Verdict("dropped", host.name, pkt, f"{host.name} has no route")
            if pkt.ttl <= 1:  # ip_forward: no hop left
                self._note(host.name, "drop", f"The packet's TTL is {pkt.ttl}: {host.name} drops it and answers "
                           "the sender with an ICMP time exceeded.", pkt)
                return _Verdict("expired", host.name, pkt, f"its TTL ran out on {host.name}", "time-exceeded")
            pkt = pkt.with_(ttl=pkt.ttl - 1)
            self._note(host.name, "route", f"{host.name} forwards the packet for {pkt.dst} via {route.via or 'the link'} on {route.dev}.", pkt)
            out_iface, next_hop = route.dev, route.via or pkt.dst
        return _Verdict("dropped", host.name, pkt, "too many hops")

    def _policy_step(self, host: Host, pod_name: str, pkt: Packet, direction: str) -> _Verdict | None:
        """The CNI's NetworkPolicy filter (cluster/policy.py): a step when a policy isolates
        the pod; a drop verdict when none of its rules allows the packet."""
        if not self.scenario.networkPolicies or (self._conn is not None and self._conn.packet_no != 0):
            return None  # stateful: later packets of an allowed connection pass
        try:
            pod = self.scenario.pod(pod_name)
        except KeyError:
            return None
        pods = list(self.scenario.pods)
        if direction == "ingress":
            v = ingress_verdict(self.scenario, pods, pod, pkt.src, pkt.proto, pkt.dport)
            seen = f"from {pkt.src} to port {pkt.dport}, as the pod receives it"
            step = INGRESS_STEP
        else:
            v = egress_verdict(self.scenario, pods, pod, pkt.dst, pkt.proto, pkt.dport)
            seen = f"to {pkt.dst}:{pkt.dport}, after kube-proxy's DNAT"
            step = EGRESS_STEP
        if v is None:
            return None
        if v.allowed:
            self._note(host.name, "accept", f"CNI NetworkPolicy ({direction}) of {pod_name}: {seen}; {v.why}.",
                       pkt, table=CNI_TABLE, chain=step, target="ACCEPT")
            return None
        self._note(host.name, "drop", f"CNI NetworkPolicy ({direction}) of {pod_name}: {seen}; {v.why}, so "
                   "the CNI drops it silently.", pkt, table=CNI_TABLE,
                   chain=step, target="DROP")
        return _Verdict("dropped", host.name, pkt, f"NetworkPolicy {', '.join(v.policies)} ({direction})")

    def _send_why(self, host: Host, pkt: Packet) -> str:
        c = self._conn
        what = c.label if c else "packet"
        if pkt.proto == "icmp" and c is not None and c.proto == "icmp":
            return f"{host.name} sends the ICMP {what}: {pkt.src} → {pkt.dst} (id {pkt.sport})."
        return f"{host.name} sends the {what}: {pkt.src}:{pkt.sport} → {pkt.dst}:{pkt.dport} ({pkt.proto})."

    def _in_iface(self, host: Host, from_host: Host, via_iface) -> str:
        if via_iface.peer:
            for i in host.interfaces:
                if i.peer == from_host.name:
                    return i.name
        return "eth0"


def _flow(data: dict) -> "Flow":
    """A flow the shell or a tool asks for (not one of the scenario's)."""
    from ..scenario.models import Flow

    return Flow.model_validate(data)


def _fails(tcp: bool, errno_name: str) -> str:
    """How the client's kernel hands the error to the program (the end of a sentence)."""
    if tcp:
        return f"whose kernel fails the connection: {error_text(errno_name)}."
    # udp_err: only a connected UDP socket hears of it, at its next send or receive
    return f"whose kernel fails the (connected) UDP socket's next receive: {error_text(errno_name)}."


def run_flow(scenario: Scenario, flow: str, *, seed: int | None = None, endpoint: str | None = None) -> Trace:
    """Run one named flow on a fresh cluster."""
    return ClusterSim(scenario, seed=seed).run_flow(flow, endpoint=endpoint)
