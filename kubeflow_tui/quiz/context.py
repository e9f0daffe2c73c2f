"""What the generators may draw distractors from besides the Trace itself: the chains
of each node's ruleset, the DNAT destinations written there and each host's addresses.

Built from a running ``ClusterSim`` (duck-typed: ``.nodes[name].ruleset`` and
``.topology.hosts``), so a question about KUBE-SERVICES offers the node's *other*
chains and a DNAT question offers the *other* endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class QuizContext:
    #: host -> table -> chain names in the order the ruleset keeps them
    chains: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    #: host -> chain -> the rules' targets in order (for counting endpoint jumps)
    targets: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    #: host -> every "ip:port" a nat DNAT rule of that host sends to
    dnat_targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: host -> its own addresses
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: host -> nat chain -> (target, probability or None) of each rule with a
    #: ``-m statistic`` or no match that picks an endpoint (the ``recent`` affinity
    #: rules are left out), in rule order: what endpoint choice is made of
    picks: Mapping[str, Mapping[str, tuple[tuple[str, float | None], ...]]] = field(default_factory=dict)
    #: host -> nat chain -> True when the chain has sessionAffinity's ``-m recent --rcheck`` rules
    affinity: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    #: host -> named verdict map of kube-proxy's nftables table -> its elements as nft lists
    #: them (``KEY : VERDICT``), nftables mode only
    nft_maps: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def all_dnat_targets(self) -> list[str]:
        out: list[str] = []
        for values in self.dnat_targets.values():
            out.extend(v for v in values if v not in out)
        return out


EMPTY = QuizContext()


def context_from_sim(sim: Any) -> QuizContext:
    chains: dict[str, dict[str, tuple[str, ...]]] = {}
    targets: dict[str, dict[str, tuple[str, ...]]] = {}
    dnat: dict[str, tuple[str, ...]] = {}
    picks: dict[str, dict[str, tuple[tuple[str, float | None], ...]]] = {}
    affinity: dict[str, dict[str, bool]] = {}
    for name, st in getattr(sim, "nodes", {}).items():
        tables = st.ruleset.tables
        chains[name] = {t: tuple(tab.chains) for t, tab in tables.items()}
        nat = tables.get("nat")
        found: list[str] = []
        tmap: dict[str, tuple[str, ...]] = {}
        if nat is not None:
            for cname, chain in nat.chains.items():
                tmap[cname] = tuple(r.target or "" for r in chain.rules)
                for r in chain.rules:
                    if r.target == "DNAT":
                        opt = r.target_option("--to-destination")
                        if opt is not None and opt.value not in found:
                            found.append(opt.value)
        targets[name] = tmap
        dnat[name] = tuple(found)
        picks[name], affinity[name] = _endpoint_picks(nat)
    addresses: dict[str, tuple[str, ...]] = {}
    topo = getattr(sim, "topology", None)
    if topo is not None:
        for name, host in topo.hosts.items():
            addresses[name] = tuple(host.addresses)
    nft_maps: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, st in getattr(sim, "nodes", {}).items():
        table = getattr(st, "nft", None)
        if table is not None:
            nft_maps[name] = {m.name: tuple(" . ".join(e.key) + " : " + " . ".join(e.value)
                                            for e in m.elements.values())
                              for m in table.sets.values() if m.is_map}
    return QuizContext(chains=chains, targets=targets, dnat_targets=dnat, addresses=addresses,
                       picks=picks, affinity=affinity, nft_maps=nft_maps)


def _endpoint_picks(nat: Any) -> tuple[dict[str, tuple[tuple[str, float | None], ...]], dict[str, bool]]:
    picks: dict[str, tuple[tuple[str, float | None], ...]] = {}
    aff: dict[str, bool] = {}
    if nat is None:
        return picks, aff
    for cname, chain in nat.chains.items():
        if not cname.startswith(("KUBE-SVC-", "KUBE-SVL-")):
            continue
        out: list[tuple[str, float | None]] = []
        for r in chain.rules:
            if not (r.target or "").startswith("KUBE-SEP-"):
                continue
            if r.match("recent") is not None:
                aff[cname] = True
                continue
            st = r.match("statistic")
            opt = st.get("--probability") if st is not None else None
            out.append((r.target, float(opt.value) if opt is not None else None))
        picks[cname] = tuple(out)
        aff.setdefault(cname, False)
    return picks, aff
