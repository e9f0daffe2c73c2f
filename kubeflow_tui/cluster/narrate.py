"""One plain sentence per step, for a learner.  Pure functions of what happened."""

from __future__ import annotations

from ..netfilter.eval import Hit
from ..netfilter.packet import Packet

_CHAIN_ROLES = (
    ("KUBE-SERVICES", "the list of every Service's addresses"),
    ("KUBE-NODEPORTS", "the NodePort dispatch chain"),
    ("KUBE-SVC-", "the Service port's chain, which picks an endpoint"),
    ("KUBE-SVL-", "the Service port's chain of node-local endpoints"),
    ("KUBE-EXT-", "the chain for traffic from outside to the Service"),
    ("KUBE-FW-", "the load balancer firewall chain (loadBalancerSourceRanges)"),
    ("KUBE-SEP-", "one endpoint's chain, which does the DNAT"),
    ("KUBE-MARK-MASQ", "which marks the packet for masquerading"),
    ("KUBE-POSTROUTING", "which masquerades marked packets"),
    ("KUBE-FORWARD", "which lets Service traffic be forwarded"),
    ("KUBE-EXTERNAL-SERVICES", "which rejects external traffic to Services with no endpoints"),
    ("KUBE-PROXY-FIREWALL", "which drops traffic loadBalancerSourceRanges does not allow"),
)


def chain_role(chain: str) -> str:
    for prefix, role in _CHAIN_ROLES:
        if chain.startswith(prefix):
            return role
    return "a user chain"


def _about(hit: Hit) -> str:
    c = hit.rule.comment if hit.rule else None
    return f' ("{c}")' if c else ""


def _roll_text(hit: Hit) -> str:
    if hit.probability is None:
        return ""
    p = f"{hit.probability:.11f}"
    if hit.pinned:
        return f"statistic random p={p}, pinned by the scenario"
    return f"statistic random p={p}, rolled {hit.roll:.2f}"


def why_hit(hit: Hit, before: Packet) -> str:
    where = f"{hit.table} {hit.chain}"
    n = hit.rule_index
    k = hit.kind
    if k == "no-match":
        if hit.probability is not None:
            return f"Rule {n} of {where}: {_roll_text(hit)}: no match, so the next rule gets the packet."
        return f"Rule {n} of {where}{_about(hit)} does not match this packet."
    if k == "jump":
        roll = f" ({_roll_text(hit)}: match)" if hit.probability is not None else ""
        return f"Rule {n} of {where}{_about(hit)} matches{roll}: jump to {hit.target}, {chain_role(hit.target)}."
    if k == "goto":
        return f"Rule {n} of {where}{_about(hit)} matches: go to {hit.target} (no return to this chain)."
    if k == "return":
        if hit.rule is None:
            return f"End of {hit.chain}: back to the chain that jumped here."
        return f"Rule {n} of {where}{_about(hit)} matches: RETURN to the calling chain."
    if k == "policy":
        return f"No rule in {hit.table} {hit.chain} decided: the chain's policy {hit.target} applies."
    if k == "accept":
        return f"Rule {n} of {where}{_about(hit)} matches: ACCEPT, the packet goes on."
    if k == "drop":
        return f"Rule {n} of {where}{_about(hit)} matches: DROP. The packet is discarded silently; the sender hears nothing and times out."
    if k == "reject":
        return (f"Rule {n} of {where}{_about(hit)} matches: REJECT. The node answers with an ICMP "
                "port-unreachable, so the client sees 'connection refused' at once.")
    if k == "mark":
        return (f"Rule {n} of {where} sets mark 0x{hit.packet.mark:x} (was 0x{before.mark:x})"
                + ("; bit 0x4000 means: masquerade this packet in POSTROUTING." if hit.packet.mark & 0x4000 else
                   "; bit 0x4000 is cleared so the packet is not masqueraded twice."))
    if k == "dnat":
        roll = f" ({_roll_text(hit)})" if hit.probability is not None else ""
        return (f"Rule {n} of {where}{_about(hit)}: DNAT{roll}. The destination becomes "
                f"{hit.packet.dst}:{hit.packet.dport}. Conntrack records it, so only this first "
                "packet ever sees the nat table.")
    if k == "masquerade":
        return (f"Rule {n} of {where}{_about(hit)}: MASQUERADE. The source becomes the out interface's "
                f"address {hit.packet.src} (port {hit.packet.sport}, picked at random: --random-fully).")
    if k == "snat":
        return f"Rule {n} of {where}: SNAT. The source becomes {hit.packet.src}:{hit.packet.sport}."
    if k == "log":
        return f"Rule {n} of {where} logs the packet and the walk goes on."
    if k == "trace":
        return f"Rule {n} of {where}: TRACE. From here on the kernel reports every rule this packet hits."
    return f"Rule {n} of {where} matches."
