"""A node's legacy x_tables backend (``iptables-legacy``) beside kube-proxy's rules.

Since iptables 1.8 a node has two ways into netfilter: ``iptables`` (on Debian 12 and most
current distributions ``iptables-nft``, the nf_tables backend kube-proxy's iptables mode
writes through) and ``iptables-legacy`` (the x_tables tables ``ip_tables``, ``iptable_filter``
…).  The two keep separate rule stores: ``iptables -L`` and ``iptables-save`` show only the
nf_tables side and, when legacy tables are loaded (``/proc/net/ip_tables_names`` is not
empty), print a one-line warning to stderr.  Both register netfilter hooks at the same
priorities (filter: 0), and the kernel runs every hook: an ACCEPT ends only its own table,
a DROP or REJECT in either ends the packet.  Among hooks of equal priority the kernel runs
the newer registration first (``nf_hook_entries_grow`` inserts a new hook before the
existing ones of its priority); legacy tables left by a boot script (``legacyRules``) are
older than kube-proxy's chains, so the simulator walks them after the nf_tables table of
the same name, and tables the learner first loads from the shell before it
(``NodeState.legacy_newer``).  tests/kernel/test_legacy_backend.py checks the order.  Only the filter table is modelled here (two nat tables would race for the NAT
binding of a connection's first packet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..netfilter.eval import Evaluator
from ..netfilter.rules import Ruleset

if TYPE_CHECKING:
    from ..scenario.models import Scenario

#: appended to the sentence of a step in a legacy table
LEGACY_NOTE = (" (iptables-legacy: the x_tables backend's table, which `iptables` and `iptables-save` on "
               "this node do not list)")


def legacy_table_name(table: str) -> str:
    """How a Step names a legacy table: ``legacy-filter`` (one word, as iptables' table
    names are: front ends read a name with a space as an nftables table)."""
    return f"legacy-{table}"


def is_legacy_table(name: str) -> bool:
    return name.startswith("legacy-")


def legacy_ruleset(scenario: Scenario, node: str) -> Ruleset | None:
    """The node's legacy tables from ``nodes[].legacyRules`` (None: no legacy table loaded)."""
    from ..netfilter import parse_iptables_save

    text = scenario.node(node).legacyRules
    if text is None:
        return None
    i = next(k for k, n in enumerate(scenario.cluster.nodes) if n.name == node)
    # (the line is the text's own: ``cluster.nodes[1].legacyRules:6: unknown chain …``)
    return parse_iptables_save(text, source=f"scenario {scenario.name}: cluster.nodes[{i}].legacyRules")


def set_legacy(st, ruleset: Ruleset | None) -> None:
    """Replace a node's legacy tables (the shell's iptables-legacy); the next packet sees them."""
    st.legacy = ruleset
    st.legacy_eval = Evaluator(ruleset) if ruleset is not None else None
