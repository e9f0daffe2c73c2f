"""What kube-proxy should have written on a node, next to what its ``iptables-save`` holds.

Only kube-proxy's part of the dump is compared: the ``KUBE-*`` chains (not the empty
``*-CANARY`` chains) and, in the built-in chains, the rules that jump to a ``KUBE-*``
chain; the CNI's and the container runtime's rules are not kube-proxy's business.  Both
sides are parsed and printed by the same code, so a rule is the same rule when its
``iptables-save`` line is the same.

kube-proxy walks its Services in Go map order, so the top-level chains (``KUBE-SERVICES``,
``KUBE-NODEPORTS``, ``KUBE-EXTERNAL-SERVICES``, ``KUBE-PROXY-FIREWALL``) hold the same rules
in an order that changes from sync to sync: there only the set of rules counts.  In every
other chain the order is part of the meaning (the probabilities of a ``KUBE-SVC-…`` chain
add up only in their order), and a different order is reported.

A rule missing on one side and an extra one with the same chain and comment is one
*changed* rule (a new probability, another DNAT address).  Every difference belongs to
the Service port whose chain holds it (``KUBE-SVC-…``, ``KUBE-SEP-…`` …) or whose comment
names it (``"default/web:http cluster IP"``); the rest is kube-proxy's own plumbing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from kubeflow_tui.netfilter import Ruleset, render_rule

UNORDERED = frozenset({"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES",
                       "KUBE-PROXY-FIREWALL"})
GENERAL = "kube-proxy (not one Service's)"
_OWNER = re.compile(r"^([a-z0-9][-a-z0-9]*/[a-z0-9][-a-z0-9.]*(?::[a-z0-9][-a-z0-9]*)?)(?:\s|$)")


@dataclass(frozen=True)
class Change:
    kind: str  # "missing", "extra", "changed", "order"
    table: str
    chain: str
    expected: str | None = None  # the rule kube-proxy writes
    actual: str | None = None  # the rule in the dump


@dataclass
class RuleDiff:
    groups: dict[str, list[Change]] = field(default_factory=dict)
    compared: int = 0  # rules looked at (both sides)

    @property
    def same(self) -> bool:
        return not self.groups

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.groups.values())


def _kube_rules(rs: Ruleset, table: str) -> dict[str, list]:
    """{chain: [rules]} of kube-proxy's part of one table."""
    t = rs.tables.get(table)
    if t is None:
        return {}
    out: dict[str, list] = {}
    for name, chain in t.chains.items():
        if name.startswith("KUBE-"):
            if name.endswith("-CANARY"):
                continue
            out[name] = list(chain.rules)
        elif chain.builtin:
            rules = [r for r in chain.rules if (r.target or "").startswith("KUBE-")]
            if rules:
                out[name] = rules
    return out


def owner_from_comment(comment: str | None) -> str | None:
    if not comment:
        return None
    m = _OWNER.match(comment)
    return m.group(1) if m else None


def _chain_owners(chains: dict[str, list]) -> dict[str, str]:
    """A per-Service chain belongs to the Service port named by its rules' comments."""
    out = {}
    for name, rules in chains.items():
        if name in UNORDERED or not name.startswith("KUBE-") or not re.match(
                r"^KUBE-(SVC|SVL|EXT|FW|SEP)-", name):
            continue
        for r in rules:
            o = owner_from_comment(r.comment)
            if o:
                out[name] = o
                break
    return out


def diff_rulesets(expected: Ruleset, actual: Ruleset,
                  owners: dict[str, str] | None = None) -> RuleDiff:
    """Compare kube-proxy's part of two rulesets (``filter`` and ``nat``, plus any other
    table where one side has ``KUBE-*`` chains).  ``owners`` maps chain names to Service
    ports (``ns/name:port``) when known; otherwise comments tell."""
    out = RuleDiff()
    tables = [t for t in ("filter", "nat", "mangle", "raw")
              if t in expected.tables or t in actual.tables]
    for table in tables:
        exp, act = _kube_rules(expected, table), _kube_rules(actual, table)
        chain_owner = {**_chain_owners(act), **_chain_owners(exp), **(owners or {})}
        for chain in sorted(set(exp) | set(act)):
            e = [render_rule(r) for r in exp.get(chain, [])]
            a = [render_rule(r) for r in act.get(chain, [])]
            comments = {render_rule(r): r.comment for r in exp.get(chain, []) + act.get(chain, [])}
            out.compared += len(e) + len(a)
            changes = _chain_changes(table, chain, e, a, comments)
            if chain not in exp:
                changes.insert(0, Change("extra", table, chain, None, f":{chain} - [0:0]"))
            elif chain not in act:
                changes.insert(0, Change("missing", table, chain, f":{chain} - [0:0]", None))
            for ch in changes:
                text = ch.expected if ch.expected is not None else ch.actual
                owner = chain_owner.get(chain) or owner_from_comment(comments.get(text)) or GENERAL
                out.groups.setdefault(owner, []).append(ch)
    out.groups = dict(sorted(out.groups.items(), key=lambda kv: (kv[0] == GENERAL, kv[0])))
    return out


def _chain_changes(table: str, chain: str, e: list[str], a: list[str],
                   comments: dict[str, str | None]) -> list[Change]:
    ce, ca = Counter(e), Counter(a)
    missing = list((ce - ca).elements())
    extra = list((ca - ce).elements())
    changes: list[Change] = []
    # pair a missing rule with an extra one of the same comment: one changed rule
    by_comment: dict[str | None, list[str]] = {}
    for x in extra:
        by_comment.setdefault(comments.get(x), []).append(x)
    for m in sorted(missing, key=e.index):
        pool = by_comment.get(comments.get(m))
        if pool and comments.get(m):
            changes.append(Change("changed", table, chain, m, pool.pop(0)))
        else:
            changes.append(Change("missing", table, chain, m, None))
    for pool in by_comment.values():
        for x in pool:
            changes.append(Change("extra", table, chain, None, x))
    if not changes and chain not in UNORDERED and e != a:
        changes.append(Change("order", table, chain, "\n".join(e), "\n".join(a)))
    return changes


def dump_cluster_cidr(rs: Ruleset) -> str | None:
    """kube-proxy's ``--cluster-cidr`` as its rules show it: the ``! -s CIDR`` of the
    ``"… cluster IP"`` rules that jump to KUBE-MARK-MASQ (the local-traffic detector; they
    sit first in each ``KUBE-SVC-…`` chain, in ``KUBE-SERVICES`` on older versions)."""
    t = rs.tables.get("nat")
    if t is None:
        return None
    for name, chain in t.chains.items():
        if not (name == "KUBE-SERVICES" or name.startswith("KUBE-SVC-")):
            continue
        for r in chain.rules:
            if (r.target == "KUBE-MARK-MASQ" and r.src_neg and r.src
                    and (r.comment or "").endswith(" cluster IP")):
                return r.src
    return None


def render_diff(d: RuleDiff, node: str, dump: str, left_out: dict[str, str] | None = None,
                counted: str = "rules of kube-proxy's chains") -> str:
    """The diff as text: one block per Service port, ``-`` missing from the dump, ``+``
    extra in the dump, ``~`` changed (kube-proxy's rule, then the dump's)."""
    lines: list[str] = []
    if d.same:
        lines.append(f"node {node}: {dump} holds exactly the rules kube-proxy writes for the "
                     f"scenario ({d.compared // 2} {counted} compared)")
        return "\n".join(lines) + "\n"
    n = d.count
    lines.append(f"node {node}: {n} difference{'s' * (n != 1)} between the rules kube-proxy "
                 f"writes for the scenario and {dump}")
    lines.append("  - kube-proxy writes it, the dump lacks it   + only in the dump   "
                 "~ changed (want, then have)")
    left_out = left_out or {}
    for owner, changes in d.groups.items():
        lines.append("")
        svc = owner.split(":")[0]
        note = f"  (not in the scenario: {left_out[svc]})" if svc in left_out else ""
        lines.append(f"{owner}{note}")
        for ch in changes:
            where = f"{ch.table} {ch.chain}"
            if ch.kind == "missing":
                lines.append(f"  - {where}: {ch.expected}")
            elif ch.kind == "extra":
                lines.append(f"  + {where}: {ch.actual}")
            elif ch.kind == "changed":
                lines.append(f"  ~ {where}:")
                lines.append(f"      want {ch.expected}")
                lines.append(f"      have {ch.actual}")
            else:
                lines.append(f"  ~ {where}: the same rules in another order")
                lines += [f"      want {x}" for x in (ch.expected or "").splitlines()]
                lines += [f"      have {x}" for x in (ch.actual or "").splitlines()]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- nftables mode

NFT_TABLE = "ip kube-proxy"


def _nft_rule_lines(chain) -> list[str]:
    return [r.printed if r.printed is not None else r.text() for r in chain.rules]


def _nft_chain_head(chain) -> str:
    if chain.hook is None:
        return f"chain {chain.name}"
    from kubeflow_tui.netfilter.nft_list import priority_text

    return (f"chain {chain.name} {{ type {chain.type} hook {chain.hook} priority "
            f"{priority_text(chain.hook, chain.priority)}; policy {chain.policy or 'accept'}; }}")


def _nft_element_text(el) -> str:
    key = " . ".join(el.key)
    return key + (f" : {' . '.join(el.value)}" if el.value else "")


def diff_nft_tables(expected, actual, ip_owner: dict[str, str] | None = None) -> RuleDiff:
    """Compare kube-proxy's ``ip kube-proxy`` table (``expected``) with a node's (``actual``,
    from its ``nft list ruleset``): every chain's rules in order (in nftables the order of a
    chain is its meaning; kube-proxy writes each chain whole), the chains' hooks and
    priorities, and the elements of every set and map (no order: ``nft`` sorts them).  A map
    element with the same key and another value is one *changed* element.  A difference belongs
    to the Service port its chain names (``service-…-ns/name/proto/port``), or, for an element,
    that its verdict jumps to, or whose IP it is (``ip_owner``: cluster, external and load
    balancer IPs to ``ns/name``)."""
    from .opendump import nft_owner

    out = RuleDiff()
    ip_owner = ip_owner or {}

    def add(owner: str, ch: Change) -> None:
        out.groups.setdefault(owner or GENERAL, []).append(ch)

    for name in sorted(set(expected.chains) | set(actual.chains)):
        e, a = expected.chains.get(name), actual.chains.get(name)
        owner = nft_owner(name)
        el = _nft_rule_lines(e) if e is not None else []
        al = _nft_rule_lines(a) if a is not None else []
        out.compared += len(el) + len(al)
        where = f"chain {name}"
        if a is None:
            add(owner, Change("missing", NFT_TABLE, where, _nft_chain_head(e), None))
        elif e is None:
            add(owner, Change("extra", NFT_TABLE, where, None, _nft_chain_head(a)))
        elif _nft_chain_head(e) != _nft_chain_head(a):
            add(owner, Change("changed", NFT_TABLE, where, _nft_chain_head(e), _nft_chain_head(a)))
        # a rule missing and one extra that begin alike (``numgen random mod …``, ``ip daddr …
        # jump …``) or carry the same comment are one changed rule
        comments = {r.printed or r.text(): (r.comment or " ".join((r.printed or r.expr).split()[:2]))
                    for c in (e, a) if c is not None for r in c.rules}
        for ch in _chain_changes(NFT_TABLE, where, el, al, comments):
            add(owner, ch)
    for name in sorted(set(expected.sets) | set(actual.sets)):
        e, a = expected.sets.get(name), actual.sets.get(name)
        s = e if e is not None else a
        where = f"{s.kind} {name}"
        if a is None or e is None:
            text = f"{s.kind} {name} {{ type {s.type} }}"
            add(GENERAL, Change("missing" if a is None else "extra", NFT_TABLE, where,
                                text if a is None else None, text if e is None else None))
        if "dynamic" in s.flags:
            # session affinity's sets: the packet path adds their elements (a client and its
            # timer), kube-proxy writes none; they are the node's state, not a difference
            continue
        ee = e.elements if e is not None else {}
        ae = a.elements if a is not None else {}
        out.compared += len(ee) + len(ae)

        def owner_of(elt) -> str:
            verdict = elt.value[-1].split()[-1] if elt.value else ""
            return nft_owner(verdict) or ip_owner.get(elt.key[0], "")

        for key in sorted(set(ee) | set(ae)):
            x, y = ee.get(key), ae.get(key)
            if x is not None and y is not None:
                if x.value != y.value:
                    add(owner_of(x) or owner_of(y),
                        Change("changed", NFT_TABLE, where, _nft_element_text(x), _nft_element_text(y)))
            elif y is None:
                add(owner_of(x), Change("missing", NFT_TABLE, where, _nft_element_text(x), None))
            else:
                add(owner_of(y), Change("extra", NFT_TABLE, where, None, _nft_element_text(y)))
    out.groups = dict(sorted(out.groups.items(), key=lambda kv: (kv[0] == GENERAL, kv[0])))
    return out


def dump_nft_cluster_cidr(table) -> str | None:
    """kube-proxy's ``--cluster-cidr`` as its nftables rules show it: the ``ip saddr != CIDR
    jump mark-for-masquerade`` of the ``service-…`` chains (the local-traffic detector)."""
    for name, chain in table.chains.items():
        if not name.startswith("service-"):
            continue
        for r in chain.rules:
            m = re.search(r"ip saddr != (\d+\.\d+\.\d+\.\d+/\d+) jump mark-for-masquerade", r.expr)
            if m:
                return m.group(1)
    return None
