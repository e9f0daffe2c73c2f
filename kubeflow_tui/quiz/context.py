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
    addresses: dict[str, tuple[str, ...]] = {}
    topo = getattr(sim, "topology", None)
    if topo is not None:
        for name, host in topo.hosts.items():
            addresses[name] = tuple(host.addresses)
    return QuizContext(chains=chains, targets=targets, dnat_targets=dnat, addresses=addresses)
