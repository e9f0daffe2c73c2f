"""A node's nftables base chains in the packet walk (kube-proxy's nftables mode).

One datapath serves both modes, as in the kernel: at each hook the iptables tables
(base chains at fixed priorities) and the nftables base chains run in priority order
(``hook_order``).  This mixin runs one nftables base chain for ``NodeDatapath._walk``
and records each rule tried as a Trace step naming the table, chain, rule handle and,
for a map look-up, the key and the element that matched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..netfilter.conntrack import ConntrackEntry
from ..netfilter.packet import Packet
from .topology import Host

if TYPE_CHECKING:  # (loaded with the first nftables node)
    from ..netfilter.nft_eval import NftHit

#: iptables' tables as base chains: their priority at each hook (NF_IP_PRI_*)
IPTABLES_PRIORITY = {
    ("PREROUTING", "raw"): -300, ("PREROUTING", "mangle"): -150, ("PREROUTING", "nat"): -100,
    ("INPUT", "mangle"): -150, ("INPUT", "filter"): 0, ("INPUT", "nat"): 100,
    ("FORWARD", "mangle"): -150, ("FORWARD", "filter"): 0,
    ("OUTPUT", "raw"): -300, ("OUTPUT", "mangle"): -150, ("OUTPUT", "nat"): -100, ("OUTPUT", "filter"): 0,
    ("POSTROUTING", "mangle"): -150, ("POSTROUTING", "nat"): 100,
}
CONNTRACK_PRIORITY = -200  # nf_conntrack's own hook at PREROUTING and OUTPUT
NAT_DST_PRIORITY = -100  # the NAT hook at PREROUTING and OUTPUT (NF_IP_PRI_NAT_DST)


def order_priority(hook: str, kind: str, item) -> int:
    """The priority of one ``hook_order`` item."""
    return IPTABLES_PRIORITY[hook, item] if kind == "iptables" else item.priority
_REJECT_WITH = "icmp-port-unreachable"  # nft's plain "reject" in the ip family


def hook_order(hook: str, tables: tuple[str, ...], nft_chains, window: str) -> list[tuple[str, object]]:
    """The base chains of one walk in the kernel's order: ``("iptables", table)`` and
    ``("nft", NftChain)`` items sorted by priority (iptables first on a tie).  ``window``
    is ``before-conntrack``, ``after-conntrack`` or ``all``."""
    items = [(IPTABLES_PRIORITY[hook, t], 0, i, ("iptables", t)) for i, t in enumerate(tables)]
    for i, c in enumerate(nft_chains):
        if window == "before-conntrack" and c.priority >= CONNTRACK_PRIORITY:
            continue
        if window == "after-conntrack" and c.priority <= CONNTRACK_PRIORITY:
            continue
        items.append((c.priority, 1, i, ("nft", c)))
    return [item for *_k, item in sorted(items, key=lambda x: x[:3])]


def nft_fields(hit: NftHit, table) -> dict[str, str]:
    """The Step fields of an nftables rule tried: the set or map looked up, the key, the
    element that matched, and the declaration of the chain when it is a base chain."""
    out: dict[str, str] = {}
    if hit.lookup:
        lookup = f"numgen random mod {hit.modulus}" if hit.lookup == "numgen random" else hit.lookup
        out.update(lookup=lookup, key=str(hit.key), element=hit.element)
    chain = table.chains.get(hit.chain) if table is not None else None
    if chain is not None and chain.is_base:
        from ..netfilter.nft_list import priority_text  # (loaded with the first nftables node)

        priority = priority_text(chain.hook, chain.priority)
        out["base_chain"] = f"type {chain.type} hook {chain.hook} priority {priority}; policy {chain.policy or 'accept'};"
    return out


def _about(hit: NftHit) -> str:
    return f"rule (handle {hit.handle}) in {hit.table} {hit.chain}"


def why_nft(hit: NftHit, before: Packet) -> str:
    """One plain sentence for a learner about an nftables rule tried."""
    where = _about(hit)
    lookup = ""
    if hit.lookup == "numgen random":
        roll = "pinned by the scenario" if hit.pinned else f"rolled {hit.roll:.2f}"
        lookup = (f"numgen random mod {hit.modulus} gave {hit.key} ({roll}); the vmap element "
                  f"'{hit.element}' decides")
    elif hit.lookup and hit.element:
        lookup = f"the key {hit.key} is looked up in {hit.lookup}; element '{hit.element}' matches"
    elif hit.lookup:
        lookup = f"the key {hit.key} is not in {hit.lookup}"
    k = hit.kind
    if k == "no-match":
        return f"The {where} does not match" + (f": {lookup}." if lookup else ".")
    if k in ("jump", "goto"):
        how = "jump to" if k == "jump" else "go to (no return to this chain)"
        return f"The {where} matches" + (f": {lookup}" if lookup else "") + f": {how} {hit.target}."
    if k == "return":
        if hit.handle == 0:
            return f"End of {hit.chain}: back to the chain that jumped here."
        return f"The {where} matches: return to the calling chain."
    if k == "policy":
        return (f"End of the base chain {hit.chain}: its policy {hit.target} lets the packet go on to the next "
                "base chain of this hook.")
    if k == "accept":
        return f"The {where} matches: accept. This base chain is done; the hook's next base chain still runs."
    if k == "drop":
        return (f"The {where} matches" + (f": {lookup}" if lookup else "")
                + ": drop. The packet is discarded silently; the sender hears nothing and times out.")
    if k == "reject":
        return (f"The {where} matches: reject. The node answers with an ICMP port-unreachable, so the "
                "client sees 'connection refused' at once.")
    if k == "mark":
        return (f"The {where} sets meta mark 0x{hit.packet.mark:x} (was 0x{before.mark:x})"
                + ("; bit 0x4000 means: masquerade this packet in nat-postrouting." if hit.packet.mark & 0x4000
                   else "; bit 0x4000 is cleared so the packet is not masqueraded twice."))
    if k == "update":
        return f"The {where} adds the client's address to the dynamic set @{hit.target} (session affinity)."
    if k == "dnat":
        return (f"The {where}: dnat to {hit.target}. Conntrack records it, so only this first packet ever "
                "sees the nat chains.")
    if k == "masquerade":
        return (f"The {where}: masquerade fully-random. The source becomes the out interface's address "
                f"{hit.target} (port picked at random).")
    return f"The {where} matches."


class NftDatapath:
    """Mixin for ClusterSim: runs nftables base chains (uses ``self.nodes``, ``self.rng``,
    ``self.now``, ``self._pin``, ``self.topology``, ``self._note``)."""

    def _nft_numgen(self, host: Host):
        table = self.nodes[host.name].nft

        def pick(chain: str, handle: int, n: int, elements: list) -> tuple[int, float | None]:
            if self._pin is not None:
                ip = self._pin_ip
                for value, verdict in elements:
                    target = verdict.split(" ", 1)[-1]
                    ch = table.chains.get(target)
                    if ch and any(f"dnat to {ip}:" in r.expr for r in ch.rules):
                        return int(value), None
            roll = self.rng.random()
            return int(roll * n), roll

        return pick

    def _nft_ct(self, entry: ConntrackEntry | None, direction: str, untracked: bool) -> tuple[str, frozenset]:
        if untracked:
            return "untracked", frozenset()
        if entry is None:
            return "invalid", frozenset()
        state = "established" if direction == "REPLY" or entry.seen_reply else "new"
        return state, frozenset(s.lower().replace("_", "-") for s in entry.ct_status())

    def _nft_chain(self, host: Host, hook: str, chain, pkt: Packet, out_iface, entry, direction,
                   untracked: bool):
        """Run one nftables base chain; returns (VERDICT, packet, nat or None, reject_with)."""
        st = self.nodes[host.name]
        state, status = self._nft_ct(entry, direction, untracked)
        from ..netfilter.nft_eval import NftContext

        ctx = NftContext(
            hook=hook.lower(), local_addrs=host.local_addrs, ct_state=state, ct_status=status, now=self.now,
            dynamic=st.nft_dynamic, numgen=self._nft_numgen(host),
            masquerade_source=lambda: host.iface_address(out_iface) if out_iface else None,
        )
        out = st.nft_eval.run(chain.name, pkt, ctx)
        before = pkt
        nat = None
        for hit in out.hits:
            kind = "rule-match" if hit.kind == "update" else hit.kind
            if hit.kind in ("dnat", "masquerade"):
                nat = out.nat
                pkt = self._nft_nat(host, hook, hit, out.nat, before, entry)
                before = pkt
                continue
            # target as for iptables steps: the chain jumped to, MARK, the policy; the map
            # element that decided is named in the sentence
            target = {"mark": "MARK", "update": ""}.get(hit.kind, hit.target)
            self._note(host.name, kind, why_nft(hit, before), hit.packet, hook=hook, table=hit.table,
                       chain=hit.chain, rule_index=hit.handle, rule=hit.rule,
                       changed=hit.packet.changed_fields(before), target=target, nft=nft_fields(hit, st.nft))
            # (numgen's roll is in the sentence: Step.roll/probability mean iptables'
            # statistic match to the front ends)
            before = hit.packet
            pkt = hit.packet
        verdict = {"accept": "ACCEPT", "drop": "DROP", "reject": "REJECT"}[out.verdict]
        return verdict, pkt, nat, _REJECT_WITH if verdict == "REJECT" else ""

    def _nft_nat(self, host: Host, hook: str, hit: NftHit, nat: tuple, pkt: Packet,
                 entry: ConntrackEntry) -> Packet:
        kind, ip, port = nat
        before = pkt
        if pkt.proto == "icmp":
            # an echo has no ports: DNAT keeps its id, a fully-random masquerade draws one
            # (the id sits in the tuples' sport slot)
            if kind == "DNAT":
                pkt = pkt.with_(dst=ip)
                entry.reply = (pkt.dst, entry.reply[1], entry.reply[2], entry.reply[3])
            else:
                pkt = pkt.with_(src=ip, sport=self.rng.randint(0, 65535))
                entry.reply = (entry.reply[0], pkt.src, pkt.sport, entry.reply[3])
            target = ip
        elif kind == "DNAT":
            pkt = pkt.with_(dst=ip, dport=port or pkt.dport)
            entry.reply = (pkt.dst, entry.reply[1], pkt.dport, entry.reply[3])
            target = f"{ip}:{port}" if port else ip
        else:
            port = self.rng.randint(32768, 60999)  # fully-random: the kernel draws the port
            pkt = pkt.with_(src=ip, sport=port)
            entry.reply = (entry.reply[0], pkt.src, entry.reply[2], pkt.sport)
            target = ip
        from ..netfilter.nft_eval import NftHit

        shown = NftHit(hit.kind, hit.table, hit.chain, hit.handle, hit.rule, pkt, target)
        self._note(host.name, hit.kind, why_nft(shown, before), pkt, hook=hook, table=hit.table, chain=hit.chain,
                   rule_index=hit.handle, rule=hit.rule, changed=pkt.changed_fields(before), target=kind,
                   touched_entry=entry, nft=nft_fields(hit, self.nodes[host.name].nft))
        return pkt
