"""What ``nft list …`` prints for the tables iptables-nft made (kube-proxy in iptables mode).

On a node whose iptables is the nf_tables backend (iptables 1.8.9 here), kube-proxy's
iptables rules live in the kernel as nftables tables ``ip filter`` and ``ip nat``, and
``nft list ruleset`` (nftables 1.0.6) prints them in its own words: every rule with the
counter iptables-nft gives it, addresses and ports as native expressions, the matches nft
has no word for as ``xt match NAME``, and nothing (an empty word, so two spaces) for a
``-m comment`` or an option-less ``-m tcp``.  For each table listed, nft warns on stderr
``# Warning: table ip nat is managed by iptables-nft, do not touch!``.

Only the rule forms kube-proxy and kubelet write were recorded from the real tools
(``tests/kernel/record_nft_shell.py``, every shipped scenario in
``tests/kernel/test_nft_compat.py``); a rule of another form raises :class:`NotTranslated`
so that a front end says so instead of guessing.  Stdlib only.
"""

from __future__ import annotations

from .rules import Chain, Match, Rule, Ruleset

#: base chains as nft declares iptables-nft's built-in chains (type, hook, priority as nft 1.0.6 prints them)
BASE_CHAINS = {
    ("filter", "INPUT"): "type filter hook input priority filter;",
    ("filter", "FORWARD"): "type filter hook forward priority filter;",
    ("filter", "OUTPUT"): "type filter hook output priority filter;",
    ("nat", "PREROUTING"): "type nat hook prerouting priority dstnat;",
    ("nat", "INPUT"): "type nat hook input priority 100;",
    ("nat", "OUTPUT"): "type nat hook output priority -100;",
    ("nat", "POSTROUTING"): "type nat hook postrouting priority srcnat;",
}
#: the conntrack states as nft prints iptables-nft's translation of them
CT_STATES = {
    ("NEW", False): "ct state new",
    ("INVALID", False): "ct state invalid",
    ("RELATED,ESTABLISHED", False): "ct state related,established",
    # kubelet's KUBE-FIREWALL: `! --ctstate RELATED,ESTABLISHED,DNAT` lists as this (nft 1.0.6)
    ("RELATED,ESTABLISHED,DNAT", True): "ct status dnat",
}
#: matches nft lists as a compat expression, by name
XT_MATCHES = frozenset({"recent", "nfacct"})


class NotTranslated(Exception):
    """A rule whose nft listing was never recorded from the real tools."""


def warning(table: str) -> str:
    return f"# Warning: table ip {table} is managed by iptables-nft, do not touch!\n"


def _addr(cidr: str) -> str:
    return cidr[:-3] if cidr.endswith("/32") else cidr


def _hex_pair(value: str) -> tuple[int, int]:
    v, _, m = value.partition("/")
    return int(v, 0), int(m, 0) if m else 0xFFFFFFFF


def _match(rule: Rule, m: Match) -> str:
    opts = {(o.name, o.negated): o for o in m.options}
    if m.module == "comment":
        return ""
    if m.module in ("tcp", "udp"):
        if not m.options:
            return ""
        if len(m.options) == 1 and ("--dport", False) in opts and rule.proto == m.module:
            return f"{m.module} dport {opts['--dport', False].value}"
    elif m.module == "conntrack" and len(m.options) == 1 and m.options[0].name == "--ctstate":
        o = m.options[0]
        text = CT_STATES.get((o.value, o.negated))
        if text is not None:
            return text
    elif m.module == "mark" and len(m.options) == 1 and m.options[0].name == "--mark" and "/" in m.options[0].value:
        o = m.options[0]
        value, mask = _hex_pair(o.value)
        return f"meta mark & 0x{mask:08x} {'!=' if o.negated else '=='} 0x{value:08x}"
    elif m.module == "addrtype" and len(m.options) == 1 and m.options[0].value == "LOCAL" \
            and not m.options[0].negated and m.options[0].name in ("--dst-type", "--src-type"):
        return f"fib {'daddr' if m.options[0].name == '--dst-type' else 'saddr'} type local"
    elif m.module == "statistic" and ("--mode", False) in opts and opts["--mode", False].value == "random" \
            and ("--probability", False) in opts and len(m.options) == 2:
        p = float(opts["--probability", False].value)
        return f"meta random & 2147483647 < {round(p * 2**31)}"
    elif m.module in XT_MATCHES:
        return f"xt match {m.module}"
    raise NotTranslated(f"-m {m.module}")


def _target(rule: Rule) -> str | None:
    t = rule.target
    opts = {o.name: o.value for o in rule.target_options}
    if t is None:
        return None
    if t in ("ACCEPT", "DROP", "RETURN") and not opts:
        return t.lower()
    if t == "REJECT" and opts.get("--reject-with", "icmp-port-unreachable") == "icmp-port-unreachable" \
            and set(opts) <= {"--reject-with"}:
        return "reject"
    if t == "DNAT" and set(opts) == {"--to-destination"}:
        return f"dnat to {opts['--to-destination']}"
    if t == "MASQUERADE" and set(opts) == {"--random-fully"}:
        return "masquerade fully-random"
    if t == "MARK" and len(opts) == 1:
        (name, value), = opts.items()
        if name == "--or-mark":
            return f"meta mark set mark or 0x{int(value, 0):x}"
        if name == "--xor-mark":
            return f"meta mark set mark xor 0x{int(value, 0):x}"
        if name == "--set-xmark":
            v, m = _hex_pair(value)
            if v == m:
                return f"meta mark set mark or 0x{v:x}"
            if m == 0:
                return f"meta mark set mark xor 0x{v:x}"
    if t.isupper() and not t.startswith("KUBE-"):
        raise NotTranslated(f"-j {t}")
    if opts:
        raise NotTranslated(f"-j {t}")
    return f"{'goto' if rule.goto else 'jump'} {t}"


def compat_rule(rule: Rule, *, stateless: bool = False) -> str:
    """One rule as nft lists it (without the leading tabs; ``stateless``: ``nft -s``, the
    counter without its values)."""
    if rule.in_iface or rule.out_iface or rule.proto_neg or (rule.proto not in (None, "tcp", "udp")):
        raise NotTranslated("an interface or protocol match")
    words: list[str] = []
    if rule.proto:
        words.append(f"meta l4proto {rule.proto}")
    if rule.src:
        words.append(f"ip saddr {'!= ' if rule.src_neg else ''}{_addr(rule.src)}")
    if rule.dst:
        words.append(f"ip daddr {'!= ' if rule.dst_neg else ''}{_addr(rule.dst)}")
    words += [_match(rule, m) for m in rule.matches]
    words.append("counter" if stateless else f"counter packets {rule.packets} bytes {rule.bytes}")
    target = _target(rule)
    if target is not None:
        words.append(target)
    return " ".join(words)


def _chain(table: str, chain: Chain, *, rules: bool, stateless: bool) -> list[str]:
    lines = [f"\tchain {chain.name} {{"]
    if chain.builtin:
        decl = BASE_CHAINS.get((table, chain.name))
        if decl is None:
            raise NotTranslated(f"the {table} table's {chain.name} chain")
        lines.append(f"\t\t{decl} policy {(chain.policy or 'ACCEPT').lower()};")
    if rules:
        lines += ["\t\t" + compat_rule(r, stateless=stateless) for r in chain.rules]
    lines.append("\t}")
    return lines


def render_compat(ruleset: Ruleset, tables: list[str] | None = None, *, chain: str | None = None,
                  rules: bool = True, chains: bool = True, stateless: bool = False) -> str:
    """``nft list ruleset`` (``tables`` None), ``nft list table ip T`` (one table), ``nft list
    chain ip T C`` (``chain``), ``nft list chains`` (``rules=False``: headers only, no blank
    lines) or ``nft list sets|maps`` (``chains=False``: the tables, empty) of iptables-nft's
    tables.  Raises :class:`NotTranslated` for a rule of a form not recorded."""
    out: list[str] = []
    for name in tables if tables is not None else list(ruleset.tables):
        table = ruleset.tables[name]
        if table.name not in ("filter", "nat") and (chains or rules):
            raise NotTranslated(f"the {table.name} table")
        out.append(f"table ip {table.name} {{")
        shown = [c for c in table.chains.values() if chain is None or c.name == chain] if chains else []
        for i, c in enumerate(shown):
            if i and rules and chain is None:
                out.append("")
            out += _chain(table.name, c, rules=rules, stateless=stateless)
        out.append("}")
    return "".join(line + "\n" for line in out)


def compat_warnings(ruleset: Ruleset, tables: list[str] | None = None, *, chain: str | None = None) -> str:
    """nft's stderr for such a listing: the warning for each table of which it printed a rule."""
    out = []
    for name in tables if tables is not None else list(ruleset.tables):
        chains = ruleset.tables[name].chains.values()
        if any(c.rules for c in chains if chain is None or c.name == chain):
            out.append(warning(name))
    return "".join(out)
