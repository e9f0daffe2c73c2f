"""Read iptables text (``iptables-restore`` input and ``iptables-save`` output) into a
:class:`~kubeflow_tui.netfilter.rules.Ruleset`.

Everything is normalised the way iptables 1.8.9 (nf_tables backend) stores it, so
that :mod:`.render` prints back exactly what ``iptables-save`` prints: addresses as
``net/prefix`` masked to the network, implied ``-m tcp``/``-m udp``/``-m icmp``,
``-j MARK --or-mark X`` as ``--set-xmark X/X``, REJECT with ``--reject-with``,
``statistic`` probabilities as the kernel keeps them (``round(p*2^31)/2^31`` with 11
decimals), numeric ports, options in the order iptables-save prints them.  These
facts were checked against the kernel (see tests/fixtures/netfilter/).

Whatever ``iptables-restore`` rejects raises :class:`IptablesError` with the line and
the rule; nothing is silently ignored.  Stdlib only.
"""

from __future__ import annotations

import gc

from .errors import IptablesError
from .jumps import JumpGraph
from .names import (
    _STD_TARGETS,
    _TARGET_HOOK_SETS,
    MAX_CHAIN_NAME,
    SAVE_TABLE_ORDER,
    TABLES,
    TARGET_HOOKS,
    TARGET_OPTIONS,
)
from .rules import BUILTIN_CHAINS, Chain, Rule, Ruleset, Table
from .plans import _chain_checker, _parse_spec, parse_rule_args
from .spec import tokenize
from .values import _Err

__all__ = [
    "parse_iptables_save",
    "parse_rule_args",
    "tokenize",
    "TABLES",
    "SAVE_TABLE_ORDER",
]
# ---------------------------------------------------------------------------
# whole files
# ---------------------------------------------------------------------------

def _counters(text: str) -> tuple[int, int] | None:
    if len(text) < 5 or text[0] != "[" or text[-1] != "]":
        return None
    p, s, b = text[1:-1].partition(":")
    if not s or not p.isdigit() or not b.isdigit():
        return None
    return int(p), int(b)


def _valid_chain_name(name: str) -> str | None:
    if len(name) > MAX_CHAIN_NAME:
        return f"chain name `{name}' too long (must be under {MAX_CHAIN_NAME + 1} chars)"
    if not name or name[0] in "-!" or name in _STD_TARGETS or name in TARGET_OPTIONS:
        return f"invalid chain name `{name}'"
    return None


_NO_COUNTERS = (0, 0)


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.rs = Ruleset()
        self.table: Table | None = None
        self.tname: str | None = None
        self.table_line = 0
        self.lineno = 0
        self._exists = self.exists
        self.graph = JumpGraph(())  # the current table's jumps, checked as they arrive

    def err(self, msg: str, line: int | None = None) -> IptablesError:
        return IptablesError(msg, self.lineno if line is None else line, self.source)

    def cur(self) -> Table:
        if self.table is None:
            self.table = self.rs.table(self.tname)
        return self.table

    def run(self, text: str) -> Ruleset:
        lines = text.split("\n")
        command, declare = self.command, self.declare
        chains = None  # the current table's chains, once it has any
        parse_spec, graph, tname, exists = _parse_spec, self.graph, self.tname, self._exists
        for idx, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line[0] == "#":
                continue
            if chains is not None and line[:3] == "-A ":
                # "-A CHAIN ..." to an existing chain: most of a dump, so the steps of
                # command() are inlined here (with self.note_jump)
                toks = tokenize(line)
                ch = chains.get(toks[1])
                if ch is not None:
                    chain = ch.name  # (the same str object for every rule: see plans)
                    try:
                        rule = parse_spec(toks[2:], tname, chain, exists, idx, _NO_COUNTERS,
                                          chains)
                    except _Err as e:
                        raise IptablesError(f"{e} in rule \"{line}\"", idx,
                                            self.source) from None
                    ch.rules.append(rule)
                    tg = rule.target
                    if tg is not None:
                        if tg in chains:
                            graph.add(chain, tg)
                        elif tg in TARGET_HOOKS:
                            graph.restricted.append((chain, rule))
                    continue
            c0 = line[0]
            if c0 == ":" and chains is not None:
                # ":NAME - [0:0]" of a new user chain: a third of a dump (declare()'s steps)
                parts = line[1:].split()
                if len(parts) == 3 and parts[1] == "-" and parts[2] == "[0:0]":
                    name = parts[0]
                    if name not in chains and _valid_chain_name(name) is None:
                        chains[name] = Chain(name)
                        continue
            self.lineno = idx
            if c0 == "-" or c0 == "[":
                command(line)
            elif c0 == ":":
                declare(line)
            elif c0 == "*":
                if self.tname is not None:
                    raise self.err(f"table {self.tname} (line {self.table_line}) is not "
                                   f"finished with COMMIT before the next table")
                name = line[1:].strip()
                if name not in TABLES:
                    raise self.err(f"table name '{name}' invalid")
                self.tname, self.table_line, self.table = name, idx, None
                self.graph = JumpGraph(BUILTIN_CHAINS[name])
                self.rs.tables.pop(name, None)  # a table section replaces the table
            elif line == "COMMIT" or (line.startswith("COMMIT") and line[6:7] in " \t#"):
                if self.tname is None:
                    raise self.err("COMMIT outside a table")
                if self.table is not None:
                    validate_table(self.table, self.source, self.graph)
                self.tname = self.table = None
            else:
                raise self.err(f"Bad line \"{line}\"")
            chains = self.table.chains if self.table is not None else None
            graph, tname = self.graph, self.tname
        if self.tname is not None:
            raise self.err(f"COMMIT expected: table {self.tname} (line {self.table_line}) "
                           f"is not committed", len(lines) if lines[-1] else len(lines) - 1)
        return self.rs

    def need_table(self, line: str) -> None:
        if self.tname is None:
            raise self.err(f"no table specified (\"*filter\" etc.) before \"{line}\"")

    def declare(self, line: str) -> None:
        self.need_table(line)
        parts = line[1:].split()
        if len(parts) == 3 and parts[1] == "-" and parts[2] == "[0:0]":
            # fast path: ":NAME - [0:0]" of a valid user chain (the same steps as below)
            name = parts[0]
            if name not in BUILTIN_CHAINS[self.tname] and _valid_chain_name(name) is None:
                chains = (self.table or self.cur()).chains
                ch = chains.get(name)
                if ch is not None:
                    self.flushed(ch)  # declaring an existing chain again flushes it
                else:
                    chains[name] = ch = Chain(name)
                ch.packets, ch.bytes = 0, 0
                return
        if not parts:
            raise self.err("empty chain name")
        name = parts[0]
        policy = parts[1] if len(parts) > 1 else None
        cnt = None
        if len(parts) == 3:
            p2 = parts[2]
            cnt = (0, 0) if p2 == "[0:0]" else _counters(p2)
            if cnt is None:
                raise self.err(f"bad chain declaration \"{line}\"")
        elif len(parts) > 3:
            raise self.err(f"bad chain declaration \"{line}\"")
        t = self.cur()
        builtin = name in BUILTIN_CHAINS[self.tname]
        if builtin:
            if policy not in ("ACCEPT", "DROP"):
                if policy == "-" or policy is None:
                    policy = "ACCEPT"
                else:
                    raise self.err(f"Bad policy name \"{policy}\" for chain {name}")
            ch = t.chains[name]
            ch.policy = policy
            if cnt:
                ch.packets, ch.bytes = cnt
            return
        if policy not in (None, "-", "ACCEPT", "DROP"):
            raise self.err(f"Bad policy name \"{policy}\" for chain {name}")
        bad = _valid_chain_name(name)
        if bad:
            raise self.err(bad)
        ch = t.chains.get(name)
        if ch is not None:
            self.flushed(ch)  # declaring an existing chain again flushes it
        else:
            t.chains[name] = ch = Chain(name)
        if cnt:
            ch.packets, ch.bytes = cnt

    def command(self, line: str) -> None:
        if self.tname is None:
            self.need_table(line)
        toks = tokenize(line)
        counters = _NO_COUNTERS
        if toks and toks[0][0] == "[":
            cnt = _counters(toks[0])
            if cnt is None:
                raise self.err(f"Bad counters \"{toks[0]}\"")
            counters = cnt
            toks = toks[1:]
        if not toks:
            raise self.err("empty command")
        cmd = toks[0]
        t = self.table or self.cur()
        if cmd == "-A" or cmd in ("--append", "-I", "--insert"):
            if len(toks) < 2:
                raise self.err(f"option \"{cmd}\" requires a chain name")
            chain = toks[1]
            spec = toks[2:]
            pos = None
            if cmd != "-A" and cmd in ("-I", "--insert") and spec and spec[0].isdigit():
                pos = int(spec[0])
                spec = spec[1:]
            ch = t.chains.get(chain)
            if ch is None:
                raise self.err(f"chain '{chain}' does not exist in table {self.tname} "
                               f"(rule \"{line}\")")
            try:
                rule = _parse_spec(spec, self.tname, chain, self._exists, self.lineno,
                                   counters, t.chains)
            except _Err as e:
                raise self.err(f"{e} in rule \"{line}\"") from None
            if pos is None:
                if cmd in ("-A", "--append"):
                    ch.rules.append(rule)
                else:
                    ch.rules.insert(0, rule)
            else:
                if pos < 1 or pos > len(ch.rules) + 1:
                    raise self.err(f"Index of insertion too big ({pos}) in \"{line}\"")
                ch.rules.insert(pos - 1, rule)
            self.note_jump(chain, rule, t.chains)
            return
        args = toks[1:]
        if cmd in ("-N", "--new-chain"):
            if len(args) != 1:
                raise self.err(f"bad command \"{line}\"")
            bad = _valid_chain_name(args[0])
            if bad:
                raise self.err(bad)
            if args[0] in t.chains:
                raise self.err(f"Chain already exists: {args[0]}")
            t.chains[args[0]] = Chain(args[0])
        elif cmd in ("-X", "--delete-chain"):
            names = args or [c for c, ch in t.chains.items() if not ch.builtin]
            for name in names:
                ch = t.chains.get(name)
                if ch is None:
                    raise self.err(f"Chain '{name}' does not exist")
                if ch.builtin:
                    raise self.err(f"Cannot delete built-in chain {name}")
                if ch.rules:  # nf_tables: CHAIN_DEL failed (Device or resource busy)
                    raise self.err(f"Cannot delete chain {name}: it still has rules "
                                   f"(flush it with -F first)")
                refs = [r for c in t.chains.values() for r in c.rules if r.target == name]
                if refs:
                    raise self.err(f"Cannot delete chain {name}: it is referenced by "
                                   f"\"{render_rule_text(refs[0])}\"")
            for name in names:  # nf_tables deletes a non-empty unreferenced chain too
                self.flushed(t.chains.pop(name))
        elif cmd in ("-F", "--flush"):
            if len(args) > 1:
                raise self.err(f"bad command \"{line}\"")
            if args:
                if args[0] not in t.chains:
                    raise self.err(f"Chain '{args[0]}' does not exist")
                self.flushed(t.chains[args[0]])
            else:
                for ch in t.chains.values():
                    self.flushed(ch)
        elif cmd in ("-Z", "--zero"):
            for ch in t.chains.values():
                if not args or ch.name in args:
                    ch.packets = ch.bytes = 0
        elif cmd in ("-P", "--policy"):
            if len(args) != 2:
                raise self.err(f"bad command \"{line}\"")
            ch = t.chains.get(args[0])
            if ch is None or not ch.builtin:
                raise self.err(f"-P needs a built-in chain, not \"{args[0]}\"")
            if args[1] not in ("ACCEPT", "DROP"):
                raise self.err(f"Bad policy name \"{args[1]}\"")
            ch.policy = args[1]
        else:
            raise self.err(f"unknown command \"{cmd}\" in \"{line}\"")

    def note_jump(self, chain: str, rule: Rule, chains) -> None:
        """Add a new rule's edge (or its hook-restricted target) to the table's graph."""
        tg = rule.target
        if tg is None:
            return
        if tg in chains:
            self.graph.add(chain, tg)
        elif tg in TARGET_HOOKS:
            self.graph.restricted.append((chain, rule))

    def flushed(self, ch: Chain) -> None:
        """A chain loses its rules: the graph collected so far no longer holds."""
        if ch.rules:
            ch.rules.clear()
            self.graph.exact = False

    def exists(self, name: str) -> str | None:
        t = self.table
        if name in t.chains:
            return None
        return _chain_checker(self.rs, self.tname, t.chains)(name)


def render_rule_text(rule: Rule) -> str:
    from .render import render_rule
    return render_rule(rule)


def validate_table(t: Table, source: str | None = None, graph: JumpGraph | None = None
                   ) -> None:
    """What the kernel checks when the table is committed: no chain loop reachable
    from a built-in chain (ELOOP), NAT targets only reached from hooks that allow them.
    ``graph``: the table's jumps as the parser collected them (see :mod:`.jumps`)."""
    if graph is None or not graph.exact or graph.first_misplaced(_TARGET_HOOK_SETS):
        # (also for the error: the walk finds the rule to report)
        _validate_reachable(t, source)


def _validate_reachable(t: Table, source: str | None = None) -> None:
    """What the kernel checks when the table is committed: no chain loop reachable
    from a built-in chain (ELOOP), NAT targets only reached from hooks that allow them."""
    chains = t.chains
    edges: dict[str, list[str]] = {}
    restricted: list[tuple[str, Rule]] = []
    for name, ch in chains.items():
        out = None
        for r in ch.rules:
            tg = r.target
            if tg in chains:
                if out is None:
                    out = edges[name] = [tg]
                else:
                    out.append(tg)
            elif tg in TARGET_HOOKS:
                restricted.append((name, r))
    builtins = [b for b in BUILTIN_CHAINS.get(t.name, ()) if b in chains]
    # everything reachable from a built-in chain, with in-degrees inside that part
    indeg = dict.fromkeys(builtins, 0)
    stack = list(builtins)
    while stack:
        for tg in edges.get(stack.pop(), ()):
            d = indeg.get(tg)
            if d is None:
                indeg[tg] = 1
                stack.append(tg)
            else:
                indeg[tg] = d + 1
    # Kahn: a topological order exists unless there is a loop
    order = [c for c, d in indeg.items() if d == 0]
    k = 0
    while k < len(order):
        for tg in edges.get(order[k], ()):
            d = indeg[tg] - 1
            indeg[tg] = d
            if d == 0:
                order.append(tg)
        k += 1
    if len(order) != len(indeg):
        _raise_loop({c for c, d in indeg.items() if d > 0}, chains, source)
    if not restricted:
        return
    # which built-in chains reach each chain; the sets are shared until they differ
    # (a kube-proxy dump has tens of thousands of chains, nearly all reached the same way)
    hooks: dict[str, frozenset[str]] = {b: frozenset((b,)) for b in builtins}
    for c in order:
        mine = hooks.get(c)
        if mine:
            for tg in edges.get(c, ()):
                h = hooks.get(tg)
                if h is None:
                    hooks[tg] = mine
                elif not mine <= h:
                    hooks[tg] = h | mine
    for name, r in restricted:
        allowed = TARGET_HOOKS[r.target]
        reached = hooks.get(name)
        if not reached or reached.issubset(allowed):
            continue
        for b in builtins:
            if b not in allowed and b in reached:
                raise IptablesError(
                    f"target {r.target} is not allowed in the {b} hook (chain {name} "
                    f"is reached from {b}; {r.target} only works from "
                    f"{'/'.join(allowed)}) in rule \"{render_rule_text(r)}\"",
                    r.line or None, source)


def _raise_loop(cyclic: set[str], chains, source) -> None:
    """Find one loop among ``cyclic`` chains and raise for the rule closing it."""
    # every chain left over by Kahn has a caller among them: walk callers backwards
    preds: dict[str, list[str]] = {}
    for c in sorted(cyclic):
        for r in chains[c].rules:
            if r.target in cyclic:
                preds.setdefault(r.target, []).append(c)
    start = min(cyclic)
    path, pos = [start], {start: 0}
    while True:
        prv = preds[path[-1]][0]
        if prv in pos:
            cyc = (path[pos[prv]:] + [prv])[::-1]
            break
        pos[prv] = len(path)
        path.append(prv)
    loop_rules = [r for a, z in zip(cyc, cyc[1:]) for r in chains[a].rules if r.target == z]
    worst = max(loop_rules, key=lambda r: r.line)
    raise IptablesError(
        f"chain loop {' -> '.join(cyc)} (Too many links) in rule "
        f"\"{render_rule_text(worst)}\"", worst.line or None, source)


def forget_parsed_values() -> None:
    """Empty the parser's memos (rule plans, converted addresses, matches, targets), so
    the next parse starts as the first one in a process does (for benchmarks)."""
    from . import plans, spec, values

    for memo in (plans._PLANS, plans._VALUE_CACHES, plans._SHAPE_IDS, spec._MATCH_CACHE,
                 spec._TARGET_CACHE, spec._PROTO_CACHE, values._ADDR_CACHE, values._CIDR_CACHE):
        memo.clear()


def parse_iptables_save(text: str, source: str = "<input>") -> Ruleset:
    """Parse ``iptables-restore`` input or ``iptables-save`` output into a Ruleset
    normalised as the kernel stores it.  Raises IptablesError (``source:line: msg``)."""
    enabled = gc.isenabled()
    gc.disable()  # a big dump makes ~10^6 objects; cyclic GC passes would dominate
    try:
        parser = _Parser(source)
        try:
            ruleset = parser.run(text)
        finally:
            # _Parser keeps a bound method of itself (a reference cycle): break it, so the
            # parser is freed now and not kept alive by the freeze below
            parser.__dict__.pop("_exists", None)
            del parser
        if len(text) > 1_000_000:
            # The rules of a big dump live as long as the ruleset and hold no cycles worth
            # collecting: move them out of the collector's sight, so later full
            # collections (while tracing packets) do not walk a million objects each time.
            gc.freeze()
        return ruleset
    finally:
        if enabled:
            gc.enable()
