"""One node's netfilter datapath: the hooks in the kernel's order, conntrack, NAT.

    received: raw PREROUTING → conntrack → mangle → nat PREROUTING (first packet only)
              → routing → filter INPUT or (mangle, filter) FORWARD → mangle/nat
              POSTROUTING (first packet only) → conntrack confirm
    local:    routing → raw OUTPUT → conntrack → mangle → nat OUTPUT → filter OUTPUT
              → reroute → POSTROUTING

Later packets and replies skip the nat table: conntrack translates them from the
entry the first packet created (un-DNAT of a reply happens at POSTROUTING, un-SNAT
at PREROUTING, as in the kernel).  Every decision is recorded as a Trace step.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..netfilter.conntrack import ConntrackEntry, ConntrackTable, update_entry
from ..netfilter.eval import EvalContext, Evaluator, Hit, RecentList
from ..netfilter.packet import Packet
from ..netfilter.rules import Rule, Ruleset
from ..trace import ConntrackView, PacketView, Step
from .narrate import why_hit
from .nft_datapath import NAT_DST_PRIORITY, NftDatapath, hook_order, order_priority
from .topology import Host, Route

if TYPE_CHECKING:  # (nodes in iptables mode never load the nftables half)
    from ..netfilter.nft import NftTable
    from ..netfilter.nft_eval import NftEvaluator

TABLE_ORDER = {
    "PREROUTING": ("raw", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "nat"),
    "FORWARD": ("mangle", "filter"),
    "OUTPUT": ("raw", "mangle", "nat", "filter"),
    "POSTROUTING": ("mangle", "nat"),
}


@dataclass
class _Verdict:
    """What became of one packet."""

    status: str  # delivered | forwarded | rejected | dropped | unreachable
    host: str = ""
    packet: Packet | None = None
    detail: str = ""
    #: rejected: the REJECT rule's --reject-with; unreachable: "host-unreachable" (ARP gave
    #: up), "net-unreachable" (a forwarding host has no route) or "" (the sender has none)
    error_kind: str = ""



@dataclass
class NodeState:
    ruleset: Ruleset
    evaluator: Evaluator
    conntrack: ConntrackTable = field(default_factory=ConntrackTable)
    recent: dict[str, RecentList] = field(default_factory=dict)
    #: kube-proxy's nftables table (nftables mode), its evaluator and its dynamic sets
    nft: NftTable | None = None
    nft_eval: NftEvaluator | None = None
    nft_dynamic: dict = field(default_factory=dict)
    #: the legacy x_tables backend's tables (iptables-legacy), if any are loaded, and their
    #: evaluator (cluster/legacy.py)
    legacy: Ruleset | None = None
    legacy_eval: Evaluator | None = None
    #: the legacy tables were loaded after kube-proxy's chains (by the shell): the kernel
    #: runs the newer of two equal-priority hooks first
    legacy_newer: bool = False



class NodeDatapath(NftDatapath):
    """The per-node packet walk of ClusterSim (a mixin: it uses ``self.nodes``,
    ``self.topology``, ``self.rng``, ``self.now``, ``self._pin``, ``self._conn`` and
    appends to ``self._steps``)."""

    # ------------------------------------------------------------------ node datapath

    def _ctx(self, host: Host, hook: str, in_iface, out_iface, entry: ConntrackEntry | None,
             direction: str, untracked: bool) -> EvalContext:
        st = self.nodes[host.name]
        if untracked:
            ct_state = "UNTRACKED"
        elif entry is None:
            ct_state = "INVALID"
        elif direction == "REPLY" or entry.seen_reply:
            ct_state = "ESTABLISHED"
        else:
            ct_state = "NEW"
        return EvalContext(
            hook=hook,
            in_iface=in_iface,
            out_iface=out_iface,
            local_addrs=host.local_addrs,
            ct_state=ct_state,
            ct_status=entry.ct_status() if entry else frozenset(),
            ct_orig_src=entry.orig[0] if entry else None,
            ct_orig_dst=entry.orig[1] if entry else None,
            ct_orig_dport=entry.orig[3] if entry else None,
            ct_direction=direction or "ORIGINAL",
            now=self.now,
            recent=st.recent,
            statistic=self._statistic,
            masquerade_source=lambda iface, h=host: h.iface_address(iface) if iface else None,
        )

    def _statistic(self, rule: Rule, p: float) -> tuple[bool, float | None]:
        if self._pin is not None and rule.target and rule.target.startswith("KUBE-SEP-"):
            return rule.target == self._pinned_sep(rule), None
        roll = self.rng.random()
        return roll < p, roll

    def _pinned_sep(self, rule: Rule) -> str | None:
        """The KUBE-SEP chain of the pinned pod among the chains this rule's chain jumps to."""
        pod_ip = self._pin_ip
        for st in self.nodes.values():
            nat = st.ruleset.tables.get("nat")
            if nat is None or rule.chain not in nat.chains:
                continue
            for r in nat.chains[rule.chain].rules:
                if r.target and r.target.startswith("KUBE-SEP-"):
                    for sr in nat.chains[r.target].rules:
                        if sr.target == "DNAT":
                            opt = sr.target_option("--to-destination")
                            if opt and opt.value.split(":")[0] == pod_ip:
                                return r.target
            # not on this node: a node whose kube-proxy lags (syncLag) may list other pods
        return None

    def _walk(self, host: Host, hook: str, pkt: Packet, in_iface, out_iface, entry, direction,
              untracked: bool, tables: tuple[str, ...] | None = None):
        """Run the tables of one hook; returns (verdict, packet, nat, reject_with)."""
        st = self.nodes[host.name]
        nat_result = None
        order = [("iptables", t) for t in (tables or TABLE_ORDER[hook])]
        pending_nat = False
        if st.nft_eval is not None:  # nftables base chains interleave by priority
            window = "all" if tables is None else ("before-conntrack" if tables == ("raw",) else "after-conntrack")
            order = hook_order(hook, tables or TABLE_ORDER[hook], st.nft_eval.base_chains(hook.lower()), window)
            # a known connection's destination NAT happens in the NAT hook (priority -100),
            # so base chains before it (filter-prerouting-pre-dnat, -110) see the old address
            pending_nat = (hook in ("PREROUTING", "OUTPUT") and window == "after-conntrack"
                           and entry is not None and entry.confirmed)
        for kind, table in order:
            legacy_here = kind == "iptables" and st.legacy_eval is not None and table in st.legacy.tables
            if legacy_here and st.legacy_newer:
                verdict, pkt, rej = self._legacy_table(host, hook, table, pkt, in_iface, out_iface, entry,
                                                       direction, untracked)
                if verdict != "ACCEPT":
                    return verdict, pkt, None, rej
            if pending_nat and order_priority(hook, kind, table) >= NAT_DST_PRIORITY:
                pkt = self._ct_translate(host, hook, pkt, entry, direction, "dst")
                pending_nat = False
            if kind == "nft":
                if table.type == "nat" and (untracked or entry is None or entry.confirmed):
                    continue  # nat chains see only a connection's first packet
                verdict, pkt, nat, rej = self._nft_chain(host, hook, table, pkt, out_iface, entry, direction,
                                                         untracked)
                if verdict != "ACCEPT":
                    return verdict, pkt, None, rej
                if nat:
                    nat_result = nat
                continue
            if table in st.ruleset.tables and not (
                    table == "nat" and (untracked or entry is None or entry.confirmed)):
                # (the nat table sees only a connection's first packet)
                ctx = self._ctx(host, hook, in_iface, out_iface, entry, direction, untracked)
                out = st.evaluator.run(table, hook, pkt, ctx)
                self._record_hits(host, hook, out.hits, pkt)
                pkt = out.packet
                if out.verdict != "ACCEPT":
                    return out.verdict, pkt, None, out.reject_with
                if out.nat:
                    nat_result = out.nat
                    pkt = self._apply_nat(host, hook, pkt, out.nat, entry, out.hits[-1])
            if legacy_here and not st.legacy_newer:
                # the legacy backend's table at the same priority, after it (cluster/legacy.py)
                verdict, pkt, rej = self._legacy_table(host, hook, table, pkt, in_iface, out_iface, entry,
                                                       direction, untracked)
                if verdict != "ACCEPT":
                    return verdict, pkt, None, rej
        if pending_nat:
            pkt = self._ct_translate(host, hook, pkt, entry, direction, "dst")
        return "ACCEPT", pkt, nat_result, ""

    def _legacy_table(self, host: Host, hook: str, table: str, pkt: Packet, in_iface, out_iface, entry,
                      direction: str, untracked: bool) -> tuple[str, Packet, str]:
        """One table of the legacy x_tables backend at this hook: (verdict, packet, reject-with)."""
        st = self.nodes[host.name]
        ctx = self._ctx(host, hook, in_iface, out_iface, entry, direction, untracked)
        out = st.legacy_eval.run(table, hook, pkt, ctx)
        self._record_hits(host, hook, out.hits, pkt, legacy=True)
        return out.verdict, out.packet, out.reject_with

    def _record_hits(self, host: Host, hook: str, hits: list[Hit], before: Packet, *, legacy: bool = False) -> None:
        # chain entry steps are implied by each hit's chain; NAT hits are recorded by _apply_nat
        from .legacy import LEGACY_NOTE, legacy_table_name

        for hit in hits:
            if hit.kind in ("dnat", "snat", "masquerade"):
                continue
            why = why_hit(hit, before) + (LEGACY_NOTE if legacy else "")
            self._note(
                host.name, hit.kind, why, hit.packet, hook=hook,
                table=legacy_table_name(hit.table) if legacy else hit.table,
                chain=hit.chain, rule_index=hit.rule_index, rule=self._rule_text(hit.rule),
                changed=hit.packet.changed_fields(before), roll=hit.roll, probability=hit.probability,
                target=hit.target,
            )
            before = hit.packet

    def _rule_text(self, rule: Rule | None) -> str:
        if rule is None:
            return ""
        from ..netfilter import render_rule

        return render_rule(rule)

    def _apply_nat(self, host: Host, hook: str, pkt: Packet, nat: tuple, entry: ConntrackEntry, hit: Hit) -> Packet:
        kind, ip, port = nat
        before = pkt
        if pkt.proto == "icmp":
            # an echo has no ports; the NAT maps its id instead (in the tuples' sport slot):
            # DNAT keeps it, a --random-fully MASQUERADE draws a new one
            if kind == "DNAT":
                pkt = pkt.with_(dst=ip)
                entry.reply = (pkt.dst, entry.reply[1], entry.reply[2], entry.reply[3])
            else:
                ident = self.rng.randint(0, 65535) if kind == "MASQUERADE" else pkt.sport
                pkt = pkt.with_(src=ip, sport=ident)
                entry.reply = (entry.reply[0], pkt.src, ident, entry.reply[3])
        elif kind == "DNAT":
            pkt = pkt.with_(dst=ip, dport=port or pkt.dport)
            entry.reply = (pkt.dst, entry.reply[1], pkt.dport, entry.reply[3])
        else:
            if kind == "MASQUERADE":
                # --random-fully: the kernel draws the source port at random
                port = self.rng.randint(32768, 60999)
            pkt = pkt.with_(src=ip, sport=port or pkt.sport)
            entry.reply = (entry.reply[0], pkt.src, entry.reply[2], pkt.sport)
        nat_hit = Hit(hit.kind, hit.table, hit.chain, hit.rule_index, hit.rule, pkt, hit.target,
                      hit.roll, hit.probability, hit.pinned)
        self._note(
            host.name, hit.kind, why_hit(nat_hit, before), pkt, hook=hook, table=hit.table, chain=hit.chain,
            rule_index=hit.rule_index, rule=self._rule_text(hit.rule), changed=pkt.changed_fields(before),
            roll=hit.roll, probability=hit.probability, target=hit.target, touched_entry=entry,
        )
        return pkt

    def _conntrack_in(self, host: Host, pkt: Packet):
        """Conntrack's look-up at PREROUTING/OUTPUT: (entry, direction, new?, drop reason)."""
        st = self.nodes[host.name]
        entry, direction = st.conntrack.lookup(pkt)
        flags = set(pkt.flags)
        nat = "the nat chains" if st.nft_eval is not None else "the nat table"  # nftables mode: type nat chains
        if entry is None and pkt.proto == "tcp" and (flags & {"RST", "FIN"} or {"SYN", "ACK"} <= flags):
            # nf_conntrack_proto_tcp: a SYN-ACK, FIN or RST that opens nothing known is
            # INVALID (tcp_conntracks from NONE: sIV); no entry, the nat table is skipped,
            # and rules matching --ctstate INVALID see it (kube-proxy's KUBE-FORWARD drops it)
            return None, "", False, ""
        if entry is None:
            room = ""
            if st.conntrack.full:
                evicted = st.conntrack.make_room()
                if evicted is None:
                    return None, "", False, "nf_conntrack: table full, dropping packet"
                room = (f" The table was full ({st.conntrack.max_entries} entries, nf_conntrack_max): the "
                        "kernel dropped the first try of this packet (\"nf_conntrack: table full, dropping "
                        "packet\") and its garbage collector, the table being over 95% full, evicted an "
                        f"entry it may drop early ({evicted.proto} {evicted.state or 'unreplied'}"
                        f"{'' if evicted.assured else ', not ASSURED'}): a retransmission finds the room.")
            entry = st.conntrack.new(pkt, self.now)
            self._note(host.name, "conntrack-new",
                       f"No conntrack entry matches: a new connection. Conntrack creates an entry "
                       f"({entry.state or 'udp'}, unconfirmed) and this first packet will walk {nat}."
                       + room, pkt, touched_entry=entry, extra_entry=entry)
            return entry, "ORIGINAL", True, ""
        if (entry.proto == "tcp" and direction == "ORIGINAL" and set(pkt.flags) == {"SYN"}
                and entry.state in ("TIME_WAIT", "CLOSE")):
            # nf_conntrack_proto_tcp: "Attempt to reopen a closed/aborted connection":
            # the old entry is killed and the SYN starts a new one, nat table and all.
            st.conntrack.entries.remove(entry)
            old_line = entry.line()
            entry = st.conntrack.new(pkt, self.now)
            self._note(host.name, "conntrack-new",
                       f"An entry with these addresses and ports exists, but it is closed ({old_line.split()[3]}): "
                       "a new SYN reopens the tuple, so conntrack deletes the old entry and starts a new "
                       f"connection. This first packet walks {nat} again.",
                       pkt, touched_entry=entry, extra_entry=entry)
            return entry, "ORIGINAL", True, ""
        if entry.proto == "tcp" and "RST" in pkt.flags and not entry.seen_reply:
            # nf_conntrack_proto_tcp: "If only reply is a RST, we can consider ourselves not
            # to have an established connection [...] delete the conntrack immediately."
            # The packet keeps its entry, so its NAT is still undone.
            st.conntrack.entries.remove(entry)
            update_entry(entry, pkt, direction)
            self._note(host.name, "conntrack-reverse" if direction == "REPLY" else "conntrack-hit",
                       "Conntrack knows this connection, but the only answer it ever got is a RST: "
                       "the connection never existed, and conntrack deletes the entry at once "
                       "(`conntrack -E` shows [DESTROY]; `conntrack -L` no longer lists it).",
                       pkt, touched_entry=entry, extra_entry=entry, extra_event="destroy")
            return entry, direction, False, ""
        update_entry(entry, pkt, direction)
        if direction == "REPLY":
            why = ("Conntrack knows this connection: the packet is a reply (it matches the entry's reply "
                   f"tuple). State now {entry.state or 'replied'}.")
        else:
            why = (f"Conntrack knows this connection: {nat} {'are' if nat.endswith('s') else 'is'} skipped and the "
                   f"entry's NAT is reused. State {entry.state or 'udp'}.")
        self._note(host.name, "conntrack-hit" if direction == "ORIGINAL" else "conntrack-reverse",
                   why, pkt, touched_entry=entry)
        return entry, direction, False, ""

    def _ct_translate(self, host: Host, hook: str, pkt: Packet, entry: ConntrackEntry | None, direction: str,
                      manip: str) -> Packet:
        """Apply a known connection's NAT: manip "dst" at PREROUTING/OUTPUT, "src" at POSTROUTING/INPUT."""
        if entry is None:  # an INVALID packet: no connection, no NAT
            return pkt
        before = pkt
        icmp = entry.proto == "icmp"  # an echo's id stays as it is (sport slot; no ports)
        if direction == "ORIGINAL":
            if manip == "dst" and entry.dnat:
                pkt = pkt.with_(dst=entry.reply[0], dport=pkt.dport if icmp else entry.reply[2])
                why = (f"Conntrack applies the connection's DNAT to this later packet: destination "
                       f"{pkt.dst}:{pkt.dport}. No rule is consulted.")
            elif manip == "src" and entry.snat:
                pkt = pkt.with_(src=entry.reply[1], sport=entry.reply[2] if icmp else entry.reply[3])
                why = f"Conntrack applies the connection's source NAT: source {pkt.src}:{pkt.sport}."
            else:
                return pkt
            kind = "conntrack-hit"
        else:
            if manip == "dst" and entry.snat:
                pkt = pkt.with_(dst=entry.orig[0], sport=entry.orig[2]) if icmp else \
                    pkt.with_(dst=entry.orig[0], dport=entry.orig[2])
                why = (f"Conntrack undoes the source NAT on the reply: destination back to the real client "
                       f"{pkt.dst}:{pkt.dport}.")
            elif manip == "src" and entry.dnat:
                pkt = pkt.with_(src=entry.orig[1], sport=pkt.sport if icmp else entry.orig[3])
                why = (f"Conntrack undoes the DNAT on the reply: the source becomes {pkt.src}:{pkt.sport} "
                       "again, the address the client asked for. No SNAT rule does this; the entry does.")
            else:
                return pkt
            kind = "conntrack-reverse"
        self._note(host.name, kind, why, pkt, hook=hook, changed=pkt.changed_fields(before), touched_entry=entry)
        return pkt

    def _confirm(self, host: Host, pkt: Packet, entry: ConntrackEntry, is_new: bool) -> None:
        if not is_new or entry is None:
            return
        self.nodes[host.name].conntrack.confirm(entry)
        nat = []
        if entry.dnat:
            nat.append(f"DNAT to {entry.reply[0]}:{entry.reply[2]}")
        if entry.snat:
            nat.append(f"source NAT to {entry.reply[1]}:{entry.reply[3]}")
        nat_text = (" with " + " and ".join(nat)) if nat else " without NAT"
        self._note(host.name, "conntrack-confirm",
                   f"The packet leaves the host: conntrack confirms the entry{nat_text}. "
                   "`conntrack -L` shows it from now on.", pkt, touched_entry=entry)

    def _track(self, host: Host, hook: str, pkt: Packet, in_iface, out_iface):
        """raw table, then conntrack's look-up, then a known connection's destination NAT:
        the start of PREROUTING and OUTPUT.  Returns (verdict if the packet stopped,
        packet, entry, direction, new?)."""
        verdict, pkt, _, rej = self._walk(host, hook, pkt, in_iface, out_iface, None, "", False, ("raw",))
        if verdict != "ACCEPT":
            return self._stop(host, verdict, pkt, rej), pkt, None, "", False
        looped = getattr(self, "_looped", None)
        if in_iface == "lo" and looped is not None:
            # nf_conntrack_in: "Previously seen (loopback or untracked)? Ignore." The packet
            # still carries the entry it got in OUTPUT: no new look-up, and the nat table,
            # whose bindings were made in OUTPUT/POSTROUTING, is not walked again
            self._looped = None
            entry, direction = looped
            self._note(host.name, "conntrack-hit" if direction == "ORIGINAL" else "conntrack-reverse",
                       "Back in from lo: the packet still carries the conntrack entry it got on its way out, "
                       "so conntrack does not look it up again and "
                       + ("the nat chains are" if self.nodes[host.name].nft_eval is not None else "the nat table is")
                       + " not walked again.",
                       pkt, touched_entry=entry)
            return None, pkt, entry, direction, False
        entry, direction, is_new, reason = self._conntrack_in(host, pkt)
        if reason:
            self._note(host.name, "drop", reason, pkt)
            return _Verdict("dropped", host.name, pkt, reason), pkt, None, "", False
        if not is_new and self.nodes[host.name].nft_eval is None:
            # (with nftables base chains, _walk applies it at the NAT hook's priority)
            pkt = self._ct_translate(host, hook, pkt, entry, direction, "dst")
        return None, pkt, entry, direction, is_new

    def _node_receive(self, host: Host, pkt: Packet, in_iface: str) -> _Verdict:
        untracked = False
        stopped, pkt, entry, direction, is_new = self._track(host, "PREROUTING", pkt, in_iface, None)
        if stopped is not None:
            return stopped
        verdict, pkt, nat, rej = self._walk(host, "PREROUTING", pkt, in_iface, None, entry, direction,
                                            untracked, ("mangle", "nat"))
        if verdict != "ACCEPT":
            return self._stop(host, verdict, pkt, rej)
        # routing decision
        if pkt.dst in host.local_addrs:
            self._note(host.name, "route", f"Routing: {pkt.dst} is an address of {host.name}: deliver locally (INPUT).",
                       pkt, hook="PREROUTING")
            verdict, pkt, nat, rej = self._walk(host, "INPUT", pkt, in_iface, None, entry, direction, untracked)
            if verdict != "ACCEPT":
                return self._stop(host, verdict, pkt, rej)
            if not is_new:
                pkt = self._ct_translate(host, "INPUT", pkt, entry, direction, "src")
            self._confirm(host, pkt, entry, is_new)
            self._note(host.name, "deliver", f"Delivered to a socket on {host.name}.", pkt)
            return _Verdict("delivered", host.name, pkt)
        route = host.route(pkt.dst)
        if route is None:
            self._note(host.name, "drop", f"Routing: {host.name} has no route to {pkt.dst}: the kernel drops "
                       "the packet and answers the sender with an ICMP net unreachable.", pkt)
            return _Verdict("unreachable", host.name, pkt, f"{host.name} has no route to {pkt.dst}",
                            "net-unreachable")
        out_iface = route.dev
        self._note(host.name, "route",
                   f"Routing: {pkt.dst} is not local; forward it out of {out_iface}"
                   + (f" via {route.via}." if route.via else " (directly connected)."),
                   pkt, hook="PREROUTING")
        if pkt.ttl <= 1:
            # ip_forward: before the FORWARD hook, a packet with no hop left is dropped and
            # the sender gets ICMP time exceeded (what traceroute counts on); the conntrack
            # entry PREROUTING made is never confirmed
            self._note(host.name, "drop", f"The packet's TTL is {pkt.ttl}: {host.name} may not forward it. "
                       "The kernel drops it before the FORWARD hook and answers the sender with an ICMP "
                       "time exceeded.", pkt)
            return _Verdict("expired", host.name, pkt, f"its TTL ran out on {host.name}", "time-exceeded")
        pkt = pkt.with_(ttl=pkt.ttl - 1)
        self._redirected = None
        iface = host.iface(out_iface) if route.via and in_iface == out_iface else None
        if iface is not None and ipaddress.ip_address(pkt.src) in ipaddress.ip_network(
                f"{iface.address}/{iface.prefix}", strict=False):
            # __mkroute_input: in and out on the same interface, the sender on its link: the
            # kernel sends the sender an ICMP redirect (to the gateway) before FORWARD, and that
            # stamps the sender's inet_peer, whose token bucket also rate-limits the ICMP errors
            # sent to it (see ClusterSim._rate_limited)
            self._redirected = (host.name, pkt.src)
        verdict, pkt, _, rej = self._walk(host, "FORWARD", pkt, in_iface, out_iface, entry, direction, untracked)
        if verdict != "ACCEPT":
            return self._stop(host, verdict, pkt, rej)
        return self._postrouting(host, pkt, in_iface, out_iface, entry, direction, is_new, untracked,
                                 route.via or pkt.dst)

    def _postrouting(self, host, pkt, in_iface, out_iface, entry, direction, is_new, untracked, next_hop):
        verdict, pkt, _, rej = self._walk(host, "POSTROUTING", pkt, in_iface, out_iface, entry, direction,
                                          untracked)
        if verdict != "ACCEPT":
            return self._stop(host, verdict, pkt, rej)
        if not is_new:
            pkt = self._ct_translate(host, "POSTROUTING", pkt, entry, direction, "src")
        self._confirm(host, pkt, entry, is_new)
        if out_iface == "lo":
            self._looped = (entry, direction)
        return _Verdict("forwarded", next_hop, pkt, out_iface)

    @staticmethod
    def _out_route(host: Host, dst: str):
        """The route of a locally generated packet: the local table first (an address of
        this host goes out of ``lo`` and comes back in through PREROUTING and INPUT), then
        the main table."""
        if dst in host.local_addrs:
            return Route(ipaddress.IPv4Network(f"{dst}/32"), "lo", src=dst)
        return host.route(dst)

    def _node_output(self, host: Host, pkt: Packet) -> _Verdict:
        route = self._out_route(host, pkt.dst)
        if route is None:
            self._note(host.name, "drop", f"{host.name} has no route to {pkt.dst}.", pkt)
            return _Verdict("unreachable", host.name, pkt, f"no route to {pkt.dst}")
        out_iface = route.dev
        if out_iface == "lo":
            self._note(host.name, "route", f"Routing (locally generated): {pkt.dst} is an address of {host.name}: "
                       "the local table sends it out of lo; it comes back in through PREROUTING and INPUT.",
                       pkt, hook="OUTPUT")
        else:
            self._note(host.name, "route", f"Routing (locally generated): out of {out_iface}, source {pkt.src}.",
                       pkt, hook="OUTPUT")
        dst_before = pkt.dst  # before conntrack's DNAT too: any change of destination means a new route
        stopped, pkt, entry, direction, is_new = self._track(host, "OUTPUT", pkt, None, out_iface)
        if stopped is not None:
            return stopped
        verdict, pkt, _, rej = self._walk(host, "OUTPUT", pkt, None, out_iface, entry, direction, False,
                                          ("mangle", "nat", "filter"))
        if verdict != "ACCEPT":
            return self._stop(host, verdict, pkt, rej)
        if pkt.dst != dst_before:
            route = self._out_route(host, pkt.dst)
            if route is None:
                return _Verdict("unreachable", host.name, pkt, f"no route to {pkt.dst}")
            out_iface = route.dev
            self._note(host.name, "route", f"The destination changed: route again, now out of {out_iface}.",
                       pkt, hook="OUTPUT")
        return self._postrouting(host, pkt, None, out_iface, entry, direction, is_new, False, route.via or pkt.dst)

    def _stop(self, host: Host, verdict: str, pkt: Packet, reject_with: str) -> _Verdict:
        if verdict == "REJECT":
            return _Verdict("rejected", host.name, pkt, f"{host.name} rejected it ({reject_with})", reject_with)
        return _Verdict("dropped", host.name, pkt, f"{host.name} dropped it")

    # ------------------------------------------------------------------ steps

    def _note(self, host: str, kind: str, why: str, pkt: Packet, *, hook: str = "", table: str = "",
              chain: str = "", rule_index: int = 0, rule: str = "", changed: tuple = (), roll=None,
              probability=None, target: str = "", link: tuple = (), touched_entry: ConntrackEntry | None = None,
              extra_entry: ConntrackEntry | None = None, extra_event: str = "new", error: str = "",
              label: str | None = None, direction: str | None = None, nft: dict[str, str] | None = None) -> None:
        conn = self._conn
        entries: list[ConntrackEntry] = []
        st = self.nodes.get(host)
        if st is not None:
            entries = list(st.conntrack.entries)
        if extra_entry is not None and extra_entry not in entries:
            entries.append(extra_entry)
        touched = entries.index(touched_entry) if touched_entry in entries else -1
        views = tuple(_view(e, extra_event if e is extra_entry else "") for e in entries)
        self._steps.append(
            Step(
                index=len(self._steps),
                host=host,
                kind=kind,
                why=why,
                packet=PacketView(pkt.src, pkt.dst, pkt.proto, pkt.sport, pkt.dport, pkt.mark, tuple(pkt.flags),
                                  direction or (conn.direction if conn else "original")),
                packet_no=conn.packet_no if conn else 0,
                packet_label=label if label is not None else (conn.label if conn else ""),
                hook=hook,
                table=table,
                chain=chain,
                rule_index=rule_index,
                rule=rule,
                changed=tuple(changed),
                conntrack=views,
                touched=touched,
                roll=roll,
                probability=probability,
                target=target,
                link=tuple(link),
                error=error,
                **(nft or {}),
            )
        )



def _view(e: ConntrackEntry, event: str) -> ConntrackView:
    return ConntrackView(
        line=e.line(), proto=e.proto, state=e.state, orig=tuple(e.orig), reply=tuple(e.reply),
        status=e.status(), event=event,
    )
