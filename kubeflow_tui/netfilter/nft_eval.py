"""Run a packet through one nftables table's base chains (stdlib only).

``NftEvaluator(table).run(chain, packet, ctx)`` walks a base chain as the kernel does:
rules in order, each a list of matches then statements; verdicts ``accept`` (ends this
base chain), ``drop``, ``reject``, ``jump`` (and back), ``goto`` (no way back),
``return``, ``continue``; sets and maps looked up with single or concatenated keys,
prefixes and ranges in anonymous sets, verdict maps (``vmap @map``, ``vmap { … }``),
``numgen random mod N``, ``ct state``/``ct status``, ``fib saddr|daddr type local``,
``meta mark``/``mark`` (``&``, ``|``, ``^``, ``set``), ``meta l4proto``, ``th``/``tcp``/
``udp dport|sport``, ``counter``, ``update @set { ip saddr }``, ``dnat to``,
``masquerade``.  Rule texts are read in both the forms kube-proxy writes and the forms
``nft list`` prints.  Every rule tried is an ``NftHit`` naming table, chain, rule handle
and, for a map look-up, the element that matched (``nft monitor trace`` names the same
things).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Callable

from .nft import NftChain, NftRule, NftTable
from .nft_list import expr_text
from .packet import Packet

_TOKEN = re.compile(r'"[^"]*"|[{}]|,|[^\s{},]+')
_PROTOS = {"tcp", "udp", "icmp", "sctp"}


class NftEvalError(Exception):
    """A rule uses an expression the evaluator does not know (named in the message).

    From ``NftEvaluator.check()``: ``rule`` is the rule and ``col`` the 1-based column in
    its printed line where the trouble starts (0: the rule as a whole)."""

    rule: NftRule | None = None
    col: int = 0


@dataclass
class NftContext:
    """What a rule may look at besides the packet."""

    hook: str
    local_addrs: frozenset[str] = frozenset()
    ct_state: str = "new"  # new, established, related, invalid, untracked
    ct_status: frozenset[str] = frozenset()  # dnat, snat, confirmed, seen-reply, assured
    now: float = 0.0
    #: dynamic sets' contents: set name -> {key: expiry time}
    dynamic: dict[str, dict[tuple[str, ...], float]] = field(default_factory=dict)
    #: numgen random mod N: (chain, handle, N, the vmap's (value, verdict) pairs)
    #: -> (value, roll or None if pinned)
    numgen: Callable[[str, int, int, list], tuple[int, float | None]] | None = None
    #: masquerade: the address of the outgoing interface
    masquerade_source: Callable[[], str | None] | None = None


@dataclass(frozen=True)
class NftHit:
    """One rule tried, or a base chain's policy applied."""

    kind: str  # no-match, rule-match, jump, goto, return, accept, drop, reject, continue,
    #            dnat, masquerade, mark, update, policy
    table: str
    chain: str
    handle: int  # the rule's handle (0: a chain's end or policy)
    rule: str  # the rule as nft lists it ("" at a chain's end)
    packet: Packet
    target: str = ""  # chain jumped to, or "IP:PORT" of a dnat
    element: str = ""  # the map element that matched, e.g. "10.96.0.1 . tcp . 8080 : goto service-…"
    lookup: str = ""  # the map or set looked up, e.g. "@service-ips"
    key: str = ""  # the key looked up, e.g. "10.96.0.1 . tcp . 8080"
    roll: float | None = None
    modulus: int = 0  # numgen random mod N
    pinned: bool = False


@dataclass
class NftOutcome:
    verdict: str  # accept, drop, reject
    packet: Packet
    nat: tuple | None = None  # ("DNAT", ip, port) / ("MASQUERADE", ip, None)
    hits: list[NftHit] = field(default_factory=list)


# --------------------------------------------------------------------------- compile


def _tokens(expr: str) -> list[str]:
    return _TOKEN.findall(expr)


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The tokens inside the ``{ … }`` starting at ``tokens[i]``, and the index after it."""
    depth, j = 1, i + 1
    while j < len(tokens) and depth:
        depth += {"{": 1, "}": -1}.get(tokens[j], 0)
        j += 1
    return tokens[i + 1 : j - 1], j


def _items(inner: list[str]) -> list[str]:
    out, cur = [], []
    for t in inner:
        if t == ",":
            out.append(" ".join(cur))
            cur = []
        else:
            cur.append(t)
    if cur:
        out.append(" ".join(cur))
    return out


Selector = Callable[[Packet, "NftContext", dict], str]


def _sel_ip(field_: str) -> Selector:
    return lambda p, c, s: getattr(p, field_)


def _sel_port(field_: str) -> Selector:
    return lambda p, c, s: str(getattr(p, field_))


_SELECTORS: dict[tuple[str, ...], Selector] = {
    ("ip", "daddr"): _sel_ip("dst"),
    ("ip", "saddr"): _sel_ip("src"),
    ("meta", "l4proto"): lambda p, c, s: p.proto,
    ("th", "dport"): _sel_port("dport"),
    ("th", "sport"): _sel_port("sport"),
    ("tcp", "dport"): _sel_port("dport"),
    ("tcp", "sport"): _sel_port("sport"),
    ("udp", "dport"): _sel_port("dport"),
    ("udp", "sport"): _sel_port("sport"),
    ("meta", "mark"): lambda p, c, s: str(p.mark),
    ("ct", "state"): lambda p, c, s: c.ct_state,
    ("ct", "status"): lambda p, c, s: ",".join(sorted(c.ct_status)),
}
_PROTO_OF = {("tcp", "dport"): "tcp", ("tcp", "sport"): "tcp", ("udp", "dport"): "udp", ("udp", "sport"): "udp"}


def _component_match(value: str, pattern: str) -> bool:
    if value == pattern:
        return True
    if "/" in pattern:
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            return False
    if "-" in pattern:
        lo, _, hi = pattern.partition("-")
        try:
            if "." in lo:
                return int(ipaddress.ip_address(lo)) <= int(ipaddress.ip_address(value)) <= int(ipaddress.ip_address(hi))
            return int(lo) <= int(value) <= int(hi)
        except ValueError:
            return False
    return False


def _key_match(key: tuple[str, ...], element_key: tuple[str, ...]) -> bool:
    return len(key) == len(element_key) and all(_component_match(k, e) for k, e in zip(key, element_key))


class _Rule:
    """One compiled rule: a list of steps run in order (a match that fails stops it)."""

    def __init__(self, table: NftTable, chain: str, rule: NftRule):
        self.table = table
        self.chain = chain
        self.rule = rule
        self.text = rule.printed if rule.printed is not None else (
            expr_text(rule.expr) + (f' comment "{rule.comment}"' if rule.comment is not None else ""))
        self.steps: list[Callable] = []
        self._compile(_tokens(rule.expr))

    # each step: fn(packet, ctx, state) -> None (go on) | False (no match) | ("verdict", ...)
    def _compile(self, t: list[str]) -> None:
        i = 0
        while i < len(t):
            tok = t[i]
            if tok == "counter":
                i += 1
                while i < len(t) and t[i] in ("packets", "bytes") and i + 1 < len(t):
                    i += 2
                continue
            if tok in ("accept", "drop", "return", "continue"):
                self.steps.append(lambda p, c, s, v=tok: (v, ""))
                i += 1
                continue
            if tok == "reject":
                i += 1
                if i < len(t) and t[i] == "with":  # with tcp reset | with icmp[x] type T
                    i += 3 if t[i + 1] == "tcp" else 4
                self.steps.append(lambda p, c, s: ("reject", ""))
                continue
            if tok in ("jump", "goto"):
                self.steps.append(lambda p, c, s, v=tok, target=t[i + 1]: (v, target))
                i += 2
                continue
            if tok == "masquerade":
                i += 1
                while i < len(t) and t[i] in ("fully-random", "random", "persistent"):
                    i += 1
                self.steps.append(lambda p, c, s: ("masquerade", ""))
                continue
            if tok == "dnat":
                if t[i + 1] == "to":
                    target = t[i + 2]
                    i += 3
                elif t[i + 1] == "ip" and t[i + 2] == "to":
                    target = t[i + 3]
                    i += 4
                else:
                    raise NftEvalError(f"unsupported dnat form in {self.rule.expr!r}")
                self.steps.append(lambda p, c, s, x=target: ("dnat", x))
                continue
            if tok == "update" and t[i + 1].startswith("@"):
                name = t[i + 1][1:]
                inner, i = _group(t, i + 2)
                sel = self._selector_concat(inner)
                self.steps.append(lambda p, c, s, n=name, f=sel: ("update", n, f(p, c, s)))
                continue
            if tok in ("mark", "meta") and (tok == "mark" or t[i + 1] == "mark") and \
                    "set" in t[i + (1 if tok == "mark" else 2): i + (2 if tok == "mark" else 3)]:
                i += 2 if tok == "mark" else 3
                # mark set [meta] mark OP VALUE | mark set VALUE
                if t[i] == "meta":
                    i += 1
                if t[i] == "mark":
                    op, value = t[i + 1], int(t[i + 2], 0)
                    i += 3
                else:
                    op, value = "=", int(t[i], 0)
                    i += 1
                self.steps.append(lambda p, c, s, o=op, v=value: ("mark", o, v))
                continue
            if tok == "numgen":
                if t[i + 1] != "random" or t[i + 2] != "mod":
                    raise NftEvalError(f"unsupported numgen in {self.rule.expr!r}")
                mod = int(t[i + 3])
                i += 4
                if t[i] != "vmap":
                    raise NftEvalError(f"numgen without vmap in {self.rule.expr!r}")
                inner, i = _group(t, i + 1)
                elements = [tuple(x.strip() for x in it.split(" : ", 1)) for it in _items(inner)]
                self.steps.append(self._numgen_step(mod, elements))
                continue
            if tok == "fib":
                which, _type, kind = t[i + 1], t[i + 2], t[i + 3]
                neg = False
                i += 4
                if which not in ("saddr", "daddr") or _type != "type":
                    raise NftEvalError(f"unsupported fib in {self.rule.expr!r}")
                if kind == "!=":
                    neg, kind = True, t[i]
                    i += 1
                attr = "src" if which == "saddr" else "dst"
                self.steps.append(
                    lambda p, c, s, a=attr, k=kind, n=neg: None
                    if ((getattr(p, a) in c.local_addrs) == (k == "local")) != n else False)
                continue
            # a selector expression (maybe a concatenation), then how it is used
            sels, i = self._selectors(t, i)
            i = self._use(t, i, sels)

    def _selector_concat(self, inner: list[str]):
        sels, _ = self._selectors(inner, 0)
        return lambda p, c, s: tuple(f(p, c, s) for f in sels)

    def _selectors(self, t: list[str], i: int):
        sels = []
        while True:
            if t[i] == "mark":
                pair = ("meta", "mark")
                i += 1
            else:
                pair = (t[i], t[i + 1]) if i + 1 < len(t) else (t[i],)
                i += 2
            if pair not in _SELECTORS:
                raise NftEvalError(f"unsupported expression {' '.join(pair)!r} in {self.rule.expr!r}")
            sel = _SELECTORS[pair]
            if pair in _PROTO_OF:
                proto = _PROTO_OF[pair]
                sels.append(lambda p, c, s, f=sel, x=proto: f(p, c, s) if p.proto == x else "\0")
            else:
                sels.append(sel)
            if i < len(t) and t[i] == ".":
                i += 1
                continue
            return sels, i

    def _use(self, t: list[str], i: int, sels) -> int:
        key = lambda p, c, s: tuple(f(p, c, s) for f in sels)  # noqa: E731
        op = "=="
        if i < len(t) and t[i] in ("==", "!="):
            op = t[i]
            i += 1
        if i < len(t) and t[i] in ("&", "and"):
            mask = int(t[i + 1], 0)
            i += 2
            if t[i] in ("==", "!="):
                op = t[i]
                i += 1
            value = int(t[i], 0)
            i += 1
            self.steps.append(lambda p, c, s, k=key, m=mask, v=value, o=op:
                              None if ((int(k(p, c, s)[0]) & m) == v) == (o == "==") else False)
            return i
        if i < len(t) and t[i] == "vmap":
            if t[i + 1].startswith("@"):
                name = t[i + 1][1:]
                self.steps.append(self._map_step(key, name))
                return i + 2
            inner, i = _group(t, i + 1)
            elements = [tuple(x.strip() for x in it.split(" : ", 1)) for it in _items(inner)]
            self.steps.append(self._anon_vmap_step(key, elements))
            return i
        if t[i].startswith("@"):
            name = t[i][1:]
            self.steps.append(lambda p, c, s, k=key, n=name, o=op:
                              None if self._in_set(n, k(p, c, s), c) == (o == "==") else False)
            return i + 1
        if t[i] == "{":
            inner, i = _group(t, i)
            patterns = [tuple(x.strip() for x in it.split(" . ")) for it in _items(inner)]
        else:
            patterns = [(t[i],)]
            if sels and t[i] in ("new", "established", "related", "invalid", "untracked") or "," in t[i]:
                patterns = [(x,) for x in t[i].split(",")]
            i += 1
        self.steps.append(lambda p, c, s, k=key, ps=patterns, o=op:
                          None if self._any_match(k(p, c, s), ps) == (o == "==") else False)
        return i

    @staticmethod
    def _any_match(key: tuple[str, ...], patterns) -> bool:
        if len(key) == 1 and "," in key[0]:  # ct status: any listed bit
            have = set(key[0].split(","))
            return any(pt[0] in have for pt in patterns)
        return any(_key_match(key, pt) for pt in patterns)

    def _in_set(self, name: str, key: tuple[str, ...], ctx: NftContext) -> bool:
        s = self.table.set(name)
        if "dynamic" in s.flags or name in ctx.dynamic:
            expiry = ctx.dynamic.get(name, {}).get(key)
            if expiry is not None and expiry > ctx.now:
                return True
        return _find(s.elements, key) is not None

    def _map_step(self, key, name: str):
        def step(p, c, s):
            m = self.table.set(name)
            k = key(p, c, s)
            s["lookup"], s["key"] = f"@{name}", " . ".join(k)
            ek = _find(m.elements, k)
            if ek is None:
                return False
            el = m.elements[ek]
            s["element"] = " . ".join(ek) + " : " + " . ".join(el.value)
            return _verdict_of(" . ".join(el.value))
        return step

    def _anon_vmap_step(self, key, elements):
        def step(p, c, s):
            k = key(p, c, s)
            for ek, value in elements:
                if _key_match(k, tuple(x.strip() for x in ek.split(" . "))):
                    s["element"] = f"{ek} : {value}"
                    return _verdict_of(value)
            return False
        return step

    def _numgen_step(self, mod: int, elements):
        def step(p, c, s):
            if c.numgen is None:
                raise NftEvalError("numgen needs a random source (NftContext.numgen)")
            n, roll = c.numgen(self.chain, self.rule.handle, mod, elements)
            s["roll"], s["modulus"], s["pinned"] = roll, mod, roll is None
            s["lookup"], s["key"] = "numgen random", str(n)
            for ek, value in elements:
                if ek == str(n):
                    s["element"] = f"{ek} : {value}"
                    return _verdict_of(value)
            return False
        return step


def _find(elements: dict, key: tuple[str, ...]) -> tuple[str, ...] | None:
    """The element key that ``key`` matches: a hash look-up, as the kernel's hash sets do;
    elements with a prefix or a range (interval sets) are scanned."""
    if key in elements:
        return key
    cached = _INTERVALS.get(id(elements))
    if cached is None or cached[0] != len(elements) or cached[1] is not elements:
        cached = (len(elements), elements,
                  [ek for ek in elements if any("/" in part or "-" in part for part in ek)])
        if len(_INTERVALS) > 256:  # tables come and go with every resync
            _INTERVALS.clear()
        _INTERVALS[id(elements)] = cached
    for ek in cached[2]:
        if _key_match(key, ek):
            return ek
    return None


_INTERVALS: dict[int, tuple[int, dict, list]] = {}  # a set's elements -> its interval elements


def _verdict_of(text: str):
    word, _, target = text.partition(" ")
    if word not in ("accept", "drop", "jump", "goto", "return", "continue", "reject"):
        raise NftEvalError(f"map value {text!r} is not a verdict")
    return (word, target)


# ------------------------------------------------------------------------------ run


class NftEvaluator:
    """Walks the base chains of one table."""

    MAX_DEPTH = 64

    def __init__(self, table: NftTable):
        self.table = table
        self._compiled: dict[str, list[_Rule]] = {}

    def rules(self, chain: str) -> list[_Rule]:
        if chain not in self._compiled:
            c = self.table.chain(chain)
            self._compiled[chain] = [_Rule(self.table, chain, r) for r in c.rules]
        return self._compiled[chain]

    def check(self) -> None:
        """Compile every rule now and check what it names: the chains of ``jump``/``goto``
        (in rules and in verdict-map elements) and the ``@sets``.  Raises ``NftEvalError``
        with ``rule`` and ``col`` set (``rule`` None for a map element)."""
        table = self.table
        for cname, chain in table.chains.items():
            compiled = []
            for rule in chain.rules:
                text = rule.printed if rule.printed is not None else rule.text()
                try:
                    compiled.append(_Rule(table, cname, rule))
                except (NftEvalError, IndexError, ValueError) as e:
                    err = NftEvalError(str(e) if isinstance(e, NftEvalError) else
                                       f"cannot read rule {text!r}")
                    err.rule, err.col = rule, 1
                    raise err from None
                cut = text.find(' comment "')
                for m in re.finditer(r"\b(jump|goto) ([^\s,}]+)|@([^\s,}]+)", text if cut < 0 else text[:cut]):
                    if m.group(3) is not None:
                        ok, what, at = m.group(3) in table.sets, f"set or map @{m.group(3)}", m.start(3) - 1
                    else:
                        ok, what, at = m.group(2) in table.chains, f"chain {m.group(2)!r}", m.start(2)
                    if not ok:
                        err = NftEvalError(f"{m.group(1) or 'lookup'}: no {what} in table "
                                           f"{table.family} {table.name}")
                        err.rule, err.col = rule, at + 1
                        raise err
            self._compiled[cname] = compiled
        for s in table.sets.values():
            for el in s.elements.values():
                for v in el.value:
                    m = re.fullmatch(r"(?:jump|goto) (\S+)", v)
                    if m and m.group(1) not in table.chains:
                        raise NftEvalError(f"map {s.name}: element {' . '.join(el.key)} goes to "
                                           f"chain {m.group(1)!r}, which table {table.family} {table.name} lacks")

    def base_chains(self, hook: str) -> list[NftChain]:
        """The table's base chains at ``hook`` (nft hook names), by priority."""
        chains = [c for c in self.table.chains.values() if c.hook == hook]
        return sorted(chains, key=lambda c: c.priority)

    def run(self, chain: str, packet: Packet, ctx: NftContext) -> NftOutcome:
        out = NftOutcome("accept", packet)
        stack: list[tuple[str, int]] = []
        name, idx = chain, 0
        tname = f"{self.table.family} {self.table.name}"
        while True:
            rules = self.rules(name)
            if idx >= len(rules):
                if not stack:
                    base = self.table.chain(name)
                    policy = base.policy or "accept"
                    out.hits.append(NftHit("policy", tname, name, 0, "", out.packet, policy))
                    out.verdict = policy
                    return out
                out.hits.append(NftHit("return", tname, name, 0, "", out.packet))
                name, idx = stack.pop()
                continue
            rule = rules[idx]
            idx += 1
            result = self._run_rule(rule, out, ctx)
            if result is None:
                continue
            verdict, target = result
            if verdict == "continue":
                continue
            if verdict == "jump":
                if len(stack) >= self.MAX_DEPTH:
                    raise NftEvalError("jump depth exceeded")
                stack.append((name, idx))
                name, idx = target, 0
                continue
            if verdict == "goto":
                name, idx = target, 0
                continue
            if verdict == "return":
                if not stack:
                    out.verdict = self.table.chain(chain).policy or "accept"
                    return out
                name, idx = stack.pop()
                continue
            out.verdict = verdict  # accept, drop, reject
            return out

    def _run_rule(self, rule: _Rule, out: NftOutcome, ctx: NftContext):
        tname = f"{self.table.family} {self.table.name}"
        state: dict = {}
        pkt = out.packet
        before = len(out.hits)
        for step in rule.steps:
            r = step(pkt, ctx, state)
            if r is None:
                continue
            if r is False:
                out.hits.append(self._hit("no-match", rule, pkt, "", state))
                return None
            kind = r[0]
            if kind == "mark":
                _, op, v = r
                mark = {"|": pkt.mark | v, "or": pkt.mark | v, "^": pkt.mark ^ v, "xor": pkt.mark ^ v,
                        "&": pkt.mark & v, "and": pkt.mark & v, "=": v}[op]
                pkt = pkt.with_(mark=mark)
                out.packet = pkt
                out.hits.append(self._hit("mark", rule, pkt, "", state))
                continue
            if kind == "update":
                _, name, key = r
                timeout = self.table.set(name).timeout or 0
                ctx.dynamic.setdefault(name, {})[key] = ctx.now + timeout
                out.hits.append(self._hit("update", rule, pkt, name, state))
                continue
            if kind == "dnat":
                ip, _, port = r[1].partition(":")
                out.nat = ("DNAT", ip, int(port) if port else None)
                out.hits.append(self._hit("dnat", rule, pkt, r[1], state))
                return ("accept", "")
            if kind == "masquerade":
                src = ctx.masquerade_source() if ctx.masquerade_source else None
                out.nat = ("MASQUERADE", src, None)
                out.hits.append(self._hit("masquerade", rule, pkt, src or "", state))
                return ("accept", "")
            verdict, target = r
            out.hits.append(self._hit(verdict, rule, pkt, target, state))
            return (verdict, target)
        if len(out.hits) == before:  # matched, but only counted or logged: say so once
            out.hits.append(self._hit("rule-match", rule, pkt, "", state))
        return None

    def _hit(self, kind: str, rule: _Rule, pkt: Packet, target: str, state: dict) -> NftHit:
        return NftHit(kind, f"{self.table.family} {self.table.name}", rule.chain, rule.rule.handle, rule.text,
                      pkt, target, state.get("element", ""), state.get("lookup", ""), state.get("key", ""),
                      state.get("roll"), state.get("modulus", 0), state.get("pinned", False))

