"""One rule's words to a :class:`Rule`, fast for the thousands of rules of one shape.

A kube-proxy dump has ~150k rules in a few dozen shapes: the same options in the same
order, with other addresses, ports, comments and chain names.  Which words are syntax
(options, ``!``, match names, the protocol, a built-in target) and which are values
depends only on the syntax words, and so does the generic parser's path through a rule
(:func:`.spec._parse_words` converts or stores values, it never branches on them; a
jump target is checked on its own).  So the first rule of a shape is parsed word by
word, recording where it read each value, and that record becomes a small function for
the shape (a *plan*): it checks that a later rule's syntax words are the same, word by
word, then converts just the values, in the same order, with the same functions, and so
with the same results and the same errors.  A rule whose syntax differs gets parsed
word by word (and makes a plan of its own).

The plan is generated Python source, compiled once per shape (as :mod:`dataclasses`
builds ``__init__``): an interpreted step list cost about as much as the parser it
replaced.  ``tests/test_netfilter_plans.py`` holds plans to the generic parser.
"""

from __future__ import annotations

from .errors import IptablesError
from .extensions import _MATCH_FN, _NAT_TO, _TARGET_FN, _comment_option, _nat_to
from .names import TABLES, TARGET_OPTIONS
from .rules import BUILTIN_CHAINS, Match, Rule, Ruleset
from .spec import (
    _ADDR,
    _COUNTERS,
    _IFACE,
    _JUMP,
    _OPT,
    _addr_value,
    _check_iface,
    _check_jump,
    _counter_values,
    _parse_words,
)
from .values import _Err

__all__ = ["parse_rule_args"]

_PLANS: dict[tuple, list] = {}  # key -> the plans of the shapes it stands for
_MAX_PLANS = 20_000
_PLANS_PER_KEY = 8  # -m tcp/-m udp, -p tcp/-p udp... share a key (the newest first)
# values already converted, per option shape: {shape id: {value(s): Match or options}}
_VALUE_CACHES: dict[int, dict] = {}
_SHAPE_IDS: dict[tuple, int] = {}
_MAX_PER_SHAPE = 100_000
_F = {name: i for i, name in enumerate(Rule._fields)}  # Rule field -> index


def _values_cache(shape: tuple) -> dict:
    sid = _SHAPE_IDS.setdefault(shape, len(_SHAPE_IDS))
    return _VALUE_CACHES.setdefault(sid, {})


def _new_match(cache, key, module, opts, proto, proto_neg, table) -> Match:
    hit = Match(module, _MATCH_FN[module](opts, proto, proto_neg, table))
    if len(cache) < _MAX_PER_SHAPE:
        cache[key] = hit
    return hit


def _new_comment(cache, text) -> Match:
    """_new_match for a rule's one ``-m comment --comment TEXT`` (not negated): what
    _m_comment makes of it, without collecting the options (~10^5 comments in a dump,
    most of them different)."""
    hit = Match("comment", (_comment_option(text),))
    if len(cache) < _MAX_PER_SHAPE:
        cache[text] = hit
    return hit


def _new_nat_to(cache, text, target, proto, proto_neg) -> tuple:
    """_new_target_options for DNAT/SNAT with one ``--to-destination``/``--to-source`` and
    no flags: what _t_nat makes of it, without collecting the options."""
    hit = (_nat_to(target, text, proto, proto_neg),)
    if len(cache) < _MAX_PER_SHAPE:
        cache[text] = hit
    return hit


def _new_target_options(cache, key, target, opts, proto, proto_neg) -> tuple:
    hit = _TARGET_FN[target](opts, proto, proto_neg)
    if len(cache) < _MAX_PER_SHAPE:
        cache[key] = hit
    return hit


def _compile_plan(toks, table: str, rule: Rule, rec: list):
    """The plan of ``rule``'s shape: ``plan(toks, chain, chain_exists, line, counters,
    known_chains)`` gives the Rule, or None when ``toks`` has other syntax words."""
    n = len(toks)
    values: set[int] = set()
    for op in rec:
        if op[0] == _COUNTERS:
            values.update((op[1], op[1] + 1))
        elif op[0] == _OPT:
            values.update(op[4])
        else:
            values.add(op[1])
    consts: dict = {"_addr_value": _addr_value, "_check_iface": _check_iface,
                    "_check_jump": _check_jump, "_counter_values": _counter_values,
                    "_new_match": _new_match, "_new_target_options": _new_target_options,
                    "_new_comment": _new_comment, "_new_nat_to": _new_nat_to,
                    "_new_tuple": tuple.__new__, "Rule": Rule,
                    "TARGET_OPTIONS": TARGET_OPTIONS,
                    "BUILTINS": frozenset(BUILTIN_CHAINS.get(table, ())),
                    "TABLE": table, "PROTO": rule.proto, "PROTO_NEG": rule.proto_neg}

    def const(value) -> str:  # a name for any object the generated code needs
        name = f"K{len(consts)}"
        consts[name] = value
        return name

    def collected(spec) -> str:  # the options as the generic parser collects them
        return "[" + "".join(
            f"({neg}, {const(canon)}, (" + "".join(f"toks[{p}], " for p in pos) + ")), "
            for neg, canon, pos in spec) + "]"

    syntax = [p for p in range(n) if p not in values]
    body = [f"if len(toks) != {n}: return None"]
    if syntax:
        # every syntax word equal to the first rule's (the keys only narrow the search)
        body.append("if " + " or ".join(f"toks[{p}] != {const(toks[p])}" for p in syntax)
                    + ": return None")
    # the Rule's fields as a list, the ones no value changes set already; the code below
    # stores into it by field index (d[F['dst']] is written d[3])
    base = list(rule._replace(src=None, src_neg=False, dst=None, dst_neg=False, in_iface=None,
                              in_neg=False, out_iface=None, out_neg=False, line=0,
                              packets=0, bytes=0))
    body += [f"d = {const(base)}.copy()", f"d[{_F['chain']}] = chain", f"d[{_F['line']}] = line",
             f"if counters[0] or counters[1]: d[{_F['packets']}], d[{_F['bytes']}] = counters"]
    for op in rec:  # the generic parser's checks of values, in word order
        kind = op[0]
        if kind == _ADDR:
            _, p, which, neg = op
            field = "src" if which == "s" else "dst"
            body += [f"v = _addr_value({which!r}, toks[{p}], {neg})",
                     f"if v is not None: d[{_F[field]}] = v; d[{_F[field + '_neg']}] = {neg}"]
        elif kind == _IFACE:
            _, p, which, neg = op
            field = "in_iface" if which == "i" else "out_iface"
            neg_field = "in_neg" if which == "i" else "out_neg"
            body += [f"d[{_F[field]}] = _check_iface(toks[{p}]); d[{_F[neg_field]}] = {neg}"]
        elif kind == _COUNTERS:
            p = op[1]
            body.append(f"d[{_F['packets']}], d[{_F['bytes']}] = "
                        f"_counter_values(toks[{p}], toks[{p + 1}])")
        elif kind == _JUMP:
            p = op[1]
            body += [f"t = toks[{p}]",
                     "c = known_chains.get(t)",
                     # a chain of the table (not a built-in one) needs no further check;
                     # its name object is the one the table's dict holds (the graph
                     # checks at COMMIT hash and compare ~10^5 of them)
                     "if c is not None and t not in BUILTINS: t = c.name",
                     "else:",
                     "    if t in TARGET_OPTIONS or t == 'QUEUE': return None",
                     "    _check_jump(t, TABLE, chain_exists, known_chains)",
                     f"d[{_F['target']}] = t"]
    def lookup(var: str, kind: str, name: str, spec, make: str) -> list[str]:
        """Code setting ``var`` to what the options of ``spec`` make, from the cache of
        their shape, calling ``make(cache, key, name, options, ...)`` on a miss."""
        positions = [p for _neg, _canon, pos in spec for p in pos]
        shape = (kind, name, tuple((neg, canon, len(pos)) for neg, canon, pos in spec),
                 rule.proto, rule.proto_neg)
        cache = const(_values_cache(shape))
        key = (f"toks[{positions[0]}]" if len(positions) == 1 else
               "(" + "".join(f"toks[{p}], " for p in positions) + ")")
        plain = [(neg, canon, len(pos)) for neg, canon, pos in spec]
        if kind == "m" and name == "comment" and plain == [(False, "--comment", 1)]:
            new = f"_new_comment({cache}, k)"
        elif kind == "t" and name in _NAT_TO and plain == [(False, _NAT_TO[name], 1)]:
            new = f"_new_nat_to({cache}, k, {name!r}, PROTO, PROTO_NEG)"
        else:
            new = (f"{make}({cache}, k, {name!r}, {collected(spec)}, "
                   f"PROTO, PROTO_NEG{', TABLE' if kind == 'm' else ''})")
        return [f"k = {key}", f"{var} = {cache}.get(k)", f"if {var} is None: {var} = {new}"]

    def options_of(owner: int) -> list:  # owner: the match's index, -1 for the target
        return [op[2:] for op in rec if op[0] == _OPT and op[1] == owner]

    names = []
    for j, m in enumerate(rule.matches):
        spec = options_of(j)
        if not any(pos for _neg, _canon, pos in spec):
            names.append(const(m))  # holds no value: the same Match every time
            continue
        body += lookup(f"m{j}", "m", m.module, spec, "_new_match")
        names.append(f"m{j}")
    if any(not n.startswith("K") for n in names):
        body.append(f"d[{_F['matches']}] = (" + "".join(f"{n}, " for n in names) + ")")
    spec = options_of(-1)
    if any(pos for _neg, _canon, pos in spec):
        body += lookup("o", "t", rule.target, spec, "_new_target_options")
        body.append(f"d[{_F['target_options']}] = o")
    body.append("return _new_tuple(Rule, d)")  # (Rule(*d) without the keyword handling)
    src = ("def plan(toks, chain, chain_exists, line, counters, known_chains):\n"
           + "".join(f"    {line}\n" for line in body))
    exec(compile(src, "<rule plan>", "exec"), consts)  # noqa: S102
    plan = consts.pop("plan")  # (no cycle through its globals: parses gc.freeze())
    # the quick key (every other word) holds no value: it may index this plan
    plan.quick_ok = not any(p % 2 == 0 for p in values)
    return plan


def _syntax_key(table: str, toks) -> tuple:
    """The shape of a rule whatever its values: options and "!" kept, other words not."""
    return (table, len(toks), *[t if t[:1] == "-" or t == "!" else None for t in toks])


_NO_CHAINS: dict = {}  # (never changed)


def _parse_spec(toks, table: str, chain: str, chain_exists, line: int,
                counters: tuple[int, int] = (0, 0), known_chains: dict = _NO_CHAINS) -> Rule:
    """Parse the words of one rule (after ``-A CHAIN``).  Raises _Err.
    ``chain_exists(name)`` gives an error text for a jump target that is not a chain
    (skipped for the chains in ``known_chains``, a name -> Chain dict)."""
    # every other word is the quick key (options alternate with their one argument);
    # when a 0- or 2-argument option shifts that, the syntax key finds the plan
    quick = (table, len(toks), *toks[::2])
    for plan in _PLANS.get(quick, ()):
        rule = plan(toks, chain, chain_exists, line, counters, known_chains)
        if rule is not None:
            return rule
    skey = _syntax_key(table, toks)
    for plan in _PLANS.get(skey, ()):
        rule = plan(toks, chain, chain_exists, line, counters, known_chains)
        if rule is not None:
            if plan.quick_ok:
                _remember(quick, plan)
            return rule
    rec: list = []
    rule = _parse_words(toks, table, chain, chain_exists, line, counters, known_chains, rec)
    if len(_PLANS) < _MAX_PLANS:
        plan = _compile_plan(toks, table, rule, rec)
        _remember(skey, plan)
        if plan.quick_ok:
            _remember(quick, plan)
    return rule


def _remember(key: tuple, plan) -> None:
    plans = _PLANS.get(key)
    if plans is None:
        if len(_PLANS) < _MAX_PLANS:
            _PLANS[key] = [plan]
    elif plan not in plans:
        plans.insert(0, plan)
        del plans[_PLANS_PER_KEY:]


def _rule_text(chain: str, toks) -> str:
    return "-A " + chain + (" " + " ".join(toks) if toks else "")


def parse_rule_args(argv: list[str], table: str, chain: str, *,
                    ruleset: Ruleset | None = None, line: int = 0,
                    source: str | None = None) -> Rule:
    """Parse one rule spec given as shell words (what follows ``iptables -A CHAIN``).

    Same normalisation and errors as :func:`parse_iptables_save`.  With ``ruleset``
    the chain and any jump target must exist in ``ruleset.tables[table]``.
    """
    if table not in TABLES:
        raise IptablesError(f"table name '{table}' invalid", line or None, source)
    exists = None
    if ruleset is not None:
        tbl = ruleset.tables.get(table)
        chains = tbl.chains if tbl is not None else {c: None for c in BUILTIN_CHAINS[table]}
        if chain not in chains:
            raise IptablesError(f"chain '{chain}' does not exist in table {table} "
                                f"(rule \"{_rule_text(chain, argv)}\")", line or None, source)
        exists = _chain_checker(ruleset, table, chains)
    try:
        return _parse_spec(list(argv), table, chain, exists, line)
    except _Err as e:
        raise IptablesError(f"{e} in rule \"{_rule_text(chain, argv)}\"", line or None,
                            source) from None


def _chain_checker(ruleset: Ruleset, table: str, chains):
    def check(name: str) -> str | None:
        if name in chains:
            return None
        others = [t for t, tb in ruleset.tables.items() if t != table and name in tb.chains]
        if others:
            return (f"unknown chain or target \"{name}\" (a chain of table {others[0]}: "
                    f"a rule can only jump to chains of its own table, {table})")
        return f"unknown chain or target \"{name}\""
    return check
