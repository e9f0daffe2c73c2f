"""Match and target semantics: walk one table's chains for one hook.

``Evaluator(ruleset).run(table, hook, packet, ctx)`` returns what the kernel would
decide for that table at that hook: the verdict, the packet after MARK, the NAT the
table asked for, and every rule tried on the way (``Hit``s), which the cluster turns
into Trace steps.

Large chains (kube-proxy's KUBE-SERVICES with thousands of rules) are indexed by
(destination /32, protocol, destination port): a rule whose key differs from the
packet's cannot match, so only the candidates are tried, in rule order.  Semantics
are unchanged; only rules that could not match are skipped.

Stdlib only.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Callable

from .packet import Packet
from .rules import Rule, Ruleset

#: Chains with more rules than this get a dispatch index.
INDEX_THRESHOLD = 24


class EvalError(Exception):
    """A rule uses something the evaluator cannot judge (named in the message)."""


@dataclass
class RecentList:
    """One ``-m recent --name`` list: address -> times seen (the xt_recent table)."""

    hits: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class EvalContext:
    """What a rule may look at besides the packet."""

    hook: str
    in_iface: str | None = None
    out_iface: str | None = None
    local_addrs: frozenset[str] = frozenset()
    ct_state: str = "NEW"  # NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED
    ct_status: frozenset[str] = frozenset()  # EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED, DNAT, SNAT
    ct_orig_src: str | None = None
    ct_orig_dst: str | None = None
    ct_orig_dport: int | None = None
    ct_direction: str = "ORIGINAL"
    now: float = 0.0
    recent: dict[str, RecentList] = field(default_factory=dict)
    #: statistic --mode random: (rule, probability) -> (matched, roll or None if pinned)
    statistic: Callable[[Rule, float], tuple[bool, float | None]] | None = None
    #: MASQUERADE: the primary address of the out interface
    masquerade_source: Callable[[str | None], str | None] | None = None
    nth_counters: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One rule tried, or a chain's end reached."""

    kind: str  # rule-match, no-match, jump, goto, return, policy, accept, drop, reject,
    #            dnat, snat, masquerade, mark, log, trace
    table: str
    chain: str
    rule_index: int  # 1-based; 0 for policy / implicit return
    rule: Rule | None
    packet: Packet
    target: str = ""
    roll: float | None = None
    probability: float | None = None
    pinned: bool = False
    detail: str = ""


@dataclass
class TableOutcome:
    verdict: str  # ACCEPT, DROP, REJECT
    packet: Packet
    nat: tuple | None = None  # ("DNAT", ip, port|None) / ("SNAT", ip, port|None) / ("MASQUERADE", ip, None)
    hits: list[Hit] = field(default_factory=list)
    reject_with: str = ""
    notrack: bool = False
    trace: bool = False


# --------------------------------------------------------------------------- compile


@functools.lru_cache(maxsize=4096)
def _net(cidr: str) -> tuple[int, int]:
    n = ipaddress.IPv4Network(cidr, strict=False)
    return int(n.network_address), int(n.netmask)


@functools.lru_cache(maxsize=4096)
def _ip_int(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


def _port_ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        lo, colon, hi = part.partition(":")
        a = int(lo) if lo else 0
        b = int(hi) if hi else (65535 if colon else a)
        out.append((a, b))
    return out


def _in_ranges(port: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= port <= b for a, b in ranges)


Pred = Callable[[Packet, EvalContext], bool]


def _neg(pred: Pred, negated: bool) -> Pred:
    return (lambda p, c: not pred(p, c)) if negated else pred


class _Compiled:
    __slots__ = ("rule", "preds", "stat_prob", "recent_ops", "key")

    def __init__(self, rule: Rule):
        self.rule = rule
        self.preds: list[Pred] = []
        self.stat_prob: float | None = None
        self.recent_ops: list = []
        self.key: tuple | None = None
        self._compile()

    def _compile(self) -> None:
        r = self.rule
        if r.src:
            net, mask = _net(r.src)
            self.preds.append(_neg(lambda p, c, n=net, m=mask: (_ip_int(p.src) & m) == n, r.src_neg))
        if r.dst:
            net, mask = _net(r.dst)
            self.preds.append(_neg(lambda p, c, n=net, m=mask: (_ip_int(p.dst) & m) == n, r.dst_neg))
        if r.in_iface:
            self.preds.append(_neg(_iface_pred(r.in_iface, "in"), r.in_neg))
        if r.out_iface:
            self.preds.append(_neg(_iface_pred(r.out_iface, "out"), r.out_neg))
        if r.proto and r.proto != "all":
            proto = r.proto
            self.preds.append(_neg(lambda p, c, x=proto: p.proto == x, r.proto_neg))
        for m in r.matches:
            fn = _MATCHES.get(m.module)
            if fn is None:
                raise EvalError(f'unsupported match "-m {m.module}" in rule on chain {r.chain}')
            fn(self, m)
        self.key = _dispatch_key(r)

    def matches(self, p: Packet, c: EvalContext) -> bool:
        for pred in self.preds:
            if not pred(p, c):
                return False
        return True


def _dispatch_key(r: Rule) -> tuple | None:
    """(dst, proto, dport) when the rule only matches that exact destination, else None.

    Read from the rule's text alone, so a chain's index costs no compilation (a
    10,000-Service KUBE-SERVICES is read once per trace: Rule.match and Match.get inlined)."""
    dst, proto = r.dst, r.proto
    if dst and dst[-3:] == "/32" and (proto == "tcp" or proto == "udp") and not r.dst_neg \
            and not r.proto_neg:
        for m in r.matches:
            if m.module == proto:  # (the first -m tcp/udp: Rule.match)
                for opt in m.options:
                    if opt.name == "--dport":  # (its first --dport: Match.get)
                        args = opt.args
                        if not opt.negated and len(args) == 1 and args[0].isdigit():
                            return (dst[:-3], proto, int(args[0]))
                        return None
                return None
    return None


def _iface_pred(name: str, which: str) -> Pred:
    def pred(p: Packet, c: EvalContext) -> bool:
        iface = c.in_iface if which == "in" else c.out_iface
        if iface is None:
            return False
        if name.endswith("+"):
            return iface.startswith(name[:-1])
        return iface == name

    return pred


def _m_ports(comp: _Compiled, m) -> None:
    proto = m.module
    comp.preds.append(lambda p, c, x=proto: p.proto == x)
    for opt in m.options:
        if opt.name in ("--dport", "--destination-port", "--sport", "--source-port"):
            ranges = _port_ranges(opt.value)
            attr = "dport" if opt.name in ("--dport", "--destination-port") else "sport"
            comp.preds.append(
                _neg(lambda p, c, r=ranges, a=attr: _in_ranges(getattr(p, a), r), opt.negated)
            )
        elif opt.name == "--syn":
            comp.preds.append(_neg(lambda p, c: p.flags == ("SYN",), opt.negated))
        elif opt.name == "--tcp-flags":
            mask_s, _, comp_s = opt.value.partition(" ")
            mask = set(mask_s.split(",")) if mask_s != "ALL" else {"SYN", "ACK", "FIN", "RST", "URG", "PSH"}
            want = set(comp_s.split(",")) if comp_s not in ("NONE", "") else set()
            if comp_s == "ALL":
                want = set(mask)
            comp.preds.append(
                _neg(lambda p, c, mk=mask, w=want: (set(p.flags) & mk) == w, opt.negated)
            )
        else:
            raise EvalError(f"unsupported option {opt.name} of -m {proto}")


def _m_multiport(comp: _Compiled, m) -> None:
    for opt in m.options:
        ranges = _port_ranges(opt.value)
        if opt.name in ("--dports", "--destination-ports"):
            f = lambda p, c, r=ranges: _in_ranges(p.dport, r)
        elif opt.name in ("--sports", "--source-ports"):
            f = lambda p, c, r=ranges: _in_ranges(p.sport, r)
        elif opt.name == "--ports":
            f = lambda p, c, r=ranges: _in_ranges(p.dport, r) or _in_ranges(p.sport, r)
        else:
            raise EvalError(f"unsupported option {opt.name} of -m multiport")
        comp.preds.append(_neg(f, opt.negated))


def _m_no_filter(comp: _Compiled, m) -> None:
    """comment, nfacct: they annotate or count, and never decide."""
    return None


def _m_statistic(comp: _Compiled, m) -> None:
    mode = m.get("--mode")
    if mode is None or mode.value == "random":
        prob = m.get("--probability")
        comp.stat_prob = float(prob.value) if prob else 1.0
        if prob is not None and prob.negated:
            raise EvalError("negated --probability is not supported")
    elif mode.value == "nth":
        every = int(m.get("--every").value)
        packet_opt = m.get("--packet")
        start = int(packet_opt.value) if packet_opt else 0
        key = id(comp)

        def nth(p: Packet, c: EvalContext, e=every, s=start, k=key) -> bool:
            n = c.nth_counters.get(k, -1) + 1
            c.nth_counters[k] = n
            return n % e == s

        comp.preds.append(nth)
    else:
        raise EvalError(f"unsupported statistic mode {mode.value}")


def _parse_mark(value: str) -> tuple[int, int]:
    v, _, mask = value.partition("/")
    return int(v, 0), int(mask, 0) if mask else 0xFFFFFFFF


def _m_mark(comp: _Compiled, m) -> None:
    opt = m.get("--mark")
    v, mask = _parse_mark(opt.value)
    comp.preds.append(_neg(lambda p, c, v=v, k=mask: (p.mark & k) == v, opt.negated))


def _addr_types(c: EvalContext, ip: str) -> set[str]:
    if ip in c.local_addrs or ip.startswith("127."):
        return {"LOCAL", "UNICAST"}
    if ip == "255.255.255.255":
        return {"BROADCAST"}
    first = int(ip.split(".")[0])
    if 224 <= first <= 239:
        return {"MULTICAST"}
    return {"UNICAST"}


def _m_addrtype(comp: _Compiled, m) -> None:
    for opt in m.options:
        if opt.name in ("--limit-iface-in", "--limit-iface-out"):
            continue  # all addresses of a host count as local to every interface here
        types = set(opt.value.split(","))
        attr = {"--src-type": "src", "--dst-type": "dst"}.get(opt.name)
        if attr is None:
            raise EvalError(f"unsupported option {opt.name} of -m addrtype")
        comp.preds.append(
            _neg(lambda p, c, t=types, a=attr: bool(_addr_types(c, getattr(p, a)) & t), opt.negated)
        )


def _m_conntrack(comp: _Compiled, m) -> None:
    for opt in m.options:
        if opt.name in ("--ctstate", "--state"):
            states = set(opt.value.split(","))
            comp.preds.append(_neg(lambda p, c, s=states: c.ct_state in s, opt.negated))
        elif opt.name == "--ctorigdst":
            net, mask = _net(opt.value)
            comp.preds.append(
                _neg(
                    lambda p, c, n=net, k=mask: c.ct_orig_dst is not None
                    and (_ip_int(c.ct_orig_dst) & k) == n,
                    opt.negated,
                )
            )
        elif opt.name == "--ctorigsrc":
            net, mask = _net(opt.value)
            comp.preds.append(
                _neg(
                    lambda p, c, n=net, k=mask: c.ct_orig_src is not None
                    and (_ip_int(c.ct_orig_src) & k) == n,
                    opt.negated,
                )
            )
        elif opt.name == "--ctorigdstport":
            ranges = _port_ranges(opt.value)
            comp.preds.append(
                _neg(
                    lambda p, c, r=ranges: c.ct_orig_dport is not None and _in_ranges(c.ct_orig_dport, r),
                    opt.negated,
                )
            )
        elif opt.name == "--ctstatus":
            statuses = set(opt.value.split(","))
            comp.preds.append(_neg(lambda p, c, s=statuses: bool(c.ct_status & s), opt.negated))
        elif opt.name == "--ctdir":
            d = opt.value
            comp.preds.append(_neg(lambda p, c, d=d: c.ct_direction == d, opt.negated))
        else:
            raise EvalError(f"unsupported option {opt.name} of -m conntrack")


def _m_recent(comp: _Compiled, m) -> None:
    name = "DEFAULT"
    op = None
    seconds = None
    reap = False
    hitcount = None
    use_dst = False
    mask = 0xFFFFFFFF
    negated = False
    for opt in m.options:
        if opt.name == "--name":
            name = opt.value
        elif opt.name in ("--set", "--rcheck", "--update", "--remove"):
            op = opt.name[2:]
            negated = opt.negated
        elif opt.name == "--seconds":
            seconds = int(opt.value)
        elif opt.name == "--reap":
            reap = True
        elif opt.name == "--hitcount":
            hitcount = int(opt.value)
        elif opt.name == "--rdest":
            use_dst = True
        elif opt.name == "--rsource":
            use_dst = False
        elif opt.name == "--mask":
            mask = _ip_int(opt.value)
        elif opt.name == "--rttl":
            pass
        else:
            raise EvalError(f"unsupported option {opt.name} of -m recent")
    op = op or "set"

    def recent(p: Packet, c: EvalContext) -> bool:
        addr_int = _ip_int(p.dst if use_dst else p.src) & mask
        addr = str(ipaddress.IPv4Address(addr_int))
        lst = c.recent.setdefault(name, RecentList())
        if op == "set":
            lst.hits.setdefault(addr, []).append(c.now)
            return not negated
        times = lst.hits.get(addr)
        if times is not None and reap and seconds is not None:
            times[:] = [t for t in times if c.now - t <= seconds]
        found = bool(times)
        if found and seconds is not None:
            found = any(c.now - t <= seconds for t in times)
        if found and hitcount is not None:
            recent_times = [t for t in times if seconds is None or c.now - t <= seconds]
            found = len(recent_times) >= hitcount
        if op == "update" and found:
            times.append(c.now)
        if op == "remove" and found:
            lst.hits.pop(addr, None)
        return found != negated

    comp.preds.append(recent)


def _m_icmp(comp: _Compiled, m) -> None:
    comp.preds.append(lambda p, c: p.proto == "icmp")


_MATCHES = {
    "tcp": _m_ports,
    "udp": _m_ports,
    "sctp": _m_ports,
    "multiport": _m_multiport,
    "comment": _m_no_filter,
    "statistic": _m_statistic,
    "mark": _m_mark,
    "addrtype": _m_addrtype,
    "conntrack": _m_conntrack,
    "state": _m_conntrack,
    "recent": _m_recent,
    "icmp": _m_icmp,
    "nfacct": _m_no_filter,
}


class _CompiledChain:
    """A chain's rules, each compiled the first time a packet reaches it (a 10,000-rule
    KUBE-SERVICES costs one index pass, not 10,000 compilations, per ruleset)."""

    __slots__ = ("raw", "compiled", "index", "generic")

    def __init__(self, rules: list[Rule]):
        self.raw = rules
        self.compiled: list[_Compiled | None] = [None] * len(rules)
        self.index: dict[tuple, list[int]] | None = None
        self.generic: list[int] = []
        if len(rules) > INDEX_THRESHOLD:
            self.index = {}
            for i, r in enumerate(rules):
                key = _dispatch_key(r)
                if key is None:
                    self.generic.append(i)
                else:
                    self.index.setdefault(key, []).append(i)

    def rule(self, i: int) -> _Compiled:
        cr = self.compiled[i]
        if cr is None:
            cr = self.compiled[i] = _Compiled(self.raw[i])
        return cr

    @property
    def size(self) -> int:
        return len(self.raw)

    def candidates(self, p: Packet) -> list[int] | range:
        if self.index is None:
            return range(len(self.raw))
        keyed = self.index.get((p.dst, p.proto, p.dport), [])
        if not keyed:
            return self.generic
        if not self.generic:
            return keyed
        return sorted(set(keyed).union(self.generic))


# --------------------------------------------------------------------------- run

_MAX_DEPTH = 64


class Evaluator:
    """Evaluates packets against one host's ruleset.  Compiles chains lazily."""

    def __init__(self, ruleset: Ruleset):
        self.ruleset = ruleset
        self._chains: dict[tuple[str, str], _CompiledChain] = {}

    def invalidate(self) -> None:
        """Forget compiled chains (after a chain's rules were changed in place)."""
        self._chains.clear()
        for t in self.ruleset.tables.values():
            for c in t.chains.values():
                c.__dict__.pop("_compiled", None)

    def _chain(self, table: str, chain: str) -> _CompiledChain:
        key = (table, chain)
        cc = self._chains.get(key)
        if cc is None:
            c = self.ruleset.tables[table].chains[chain]
            # The compiled form lives on the Chain, so every Evaluator of the same ruleset
            # (one per traced packet of a big dump) shares it.  Edits go through
            # Ruleset.copy(), which makes new Chains; the guard catches in-place list edits.
            cached = c.__dict__.get("_compiled")
            if cached is not None and cached[0] is c.rules and cached[1] == len(c.rules):
                cc = cached[2]
            else:
                cc = _CompiledChain(c.rules)
                c.__dict__["_compiled"] = (c.rules, len(c.rules), cc)
            self._chains[key] = cc
        return cc

    def run(self, table: str, hook: str, packet: Packet, ctx: EvalContext) -> TableOutcome:
        """Traverse ``table``'s built-in chain for ``hook``; return the table's decision."""
        t = self.ruleset.tables.get(table)
        if t is None or hook not in t.chains:
            return TableOutcome("ACCEPT", packet)
        hits: list[Hit] = []
        out = TableOutcome("ACCEPT", packet, hits=hits)
        stack: list[tuple[str, int]] = []  # (chain, index to resume at) for -j returns
        chain = hook
        pos = 0
        while True:
            cc = self._chain(table, chain)
            cands = cc.candidates(packet)
            verdict_done = False
            jumped = False
            for i in cands:
                if i < pos:
                    continue
                cr = cc.rule(i)
                rule = cr.rule
                if not cr.matches(packet, ctx):
                    hits.append(Hit("no-match", table, chain, i + 1, rule, packet))
                    continue
                roll = None
                pinned = False
                if cr.stat_prob is not None:
                    if ctx.statistic is None:
                        raise EvalError("statistic match needs a random source")
                    ok, roll = ctx.statistic(rule, cr.stat_prob)
                    pinned = roll is None
                    if not ok:
                        hits.append(
                            Hit("no-match", table, chain, i + 1, rule, packet, roll=roll,
                                probability=cr.stat_prob, pinned=pinned)
                        )
                        continue
                target = rule.target
                base = dict(roll=roll, probability=cr.stat_prob, pinned=pinned)
                if target is None:
                    hits.append(Hit("rule-match", table, chain, i + 1, rule, packet, **base))
                    continue
                if target in ("ACCEPT", "DROP", "REJECT"):
                    hits.append(Hit(target.lower(), table, chain, i + 1, rule, packet, target, **base))
                    out.verdict = target
                    if target == "REJECT":
                        opt = rule.target_option("--reject-with")
                        out.reject_with = opt.value if opt else "icmp-port-unreachable"
                    verdict_done = True
                    break
                if target == "RETURN":
                    hits.append(Hit("return", table, chain, i + 1, rule, packet, target, **base))
                    if not stack:
                        verdict_done = self._policy(table, hook, packet, hits, out)
                        break
                    chain, pos = stack.pop()
                    jumped = True
                    break
                if target in ("DNAT", "SNAT", "MASQUERADE"):
                    nat = self._nat(rule, packet, ctx)
                    kind = {"DNAT": "dnat", "SNAT": "snat", "MASQUERADE": "masquerade"}[target]
                    out.nat = nat
                    hits.append(Hit(kind, table, chain, i + 1, rule, packet, target, **base))
                    out.verdict = "ACCEPT"
                    verdict_done = True
                    break
                if target == "MARK":
                    packet = packet.with_(mark=_apply_mark(rule, packet.mark))
                    out.packet = packet
                    hits.append(Hit("mark", table, chain, i + 1, rule, packet, target, **base))
                    continue
                if target in ("LOG", "TRACE", "NFLOG"):
                    if target == "TRACE":
                        out.trace = True
                    hits.append(Hit(target.lower() if target != "NFLOG" else "log", table, chain,
                                    i + 1, rule, packet, target, **base))
                    continue
                if target in ("CT", "NOTRACK"):
                    if target == "NOTRACK" or rule.target_option("--notrack"):
                        out.notrack = True
                    hits.append(Hit("rule-match", table, chain, i + 1, rule, packet, target, **base))
                    continue
                if target in self.ruleset.tables[table].chains:
                    if len(stack) >= _MAX_DEPTH:
                        raise EvalError(f"chain loop through {target}")
                    kind = "goto" if rule.goto else "jump"
                    hits.append(Hit(kind, table, chain, i + 1, rule, packet, target, **base))
                    if not rule.goto:
                        stack.append((chain, i + 1))
                    elif not stack:
                        # a goto from the built-in chain: its end means the policy
                        stack.append((hook, len(self.ruleset.tables[table].chains[hook].rules)))
                    chain, pos = target, 0
                    jumped = True
                    break
                raise EvalError(f"unsupported target {target} in rule on chain {chain}")
            if verdict_done:
                out.packet = packet
                return out
            if jumped:
                continue
            # fell off the end of the chain
            if chain == hook and not stack:
                self._policy(table, hook, packet, hits, out)
                out.packet = packet
                return out
            hits.append(Hit("return", table, chain, 0, None, packet, "", detail="end of chain"))
            chain, pos = stack.pop()

    def _policy(self, table: str, hook: str, packet: Packet, hits: list[Hit], out: TableOutcome) -> bool:
        policy = self.ruleset.tables[table].chains[hook].policy or "ACCEPT"
        hits.append(Hit("policy", table, hook, 0, None, packet, policy))
        out.verdict = policy
        return True

    def _nat(self, rule: Rule, packet: Packet, ctx: EvalContext) -> tuple:
        if rule.target == "DNAT":
            ip, port = _split_to(rule.target_option("--to-destination").value)
            return ("DNAT", ip, port)
        if rule.target == "SNAT":
            ip, port = _split_to(rule.target_option("--to-source").value)
            return ("SNAT", ip, port)
        src = ctx.masquerade_source(ctx.out_iface) if ctx.masquerade_source else None
        return ("MASQUERADE", src, None)


def _split_to(value: str) -> tuple[str, int | None]:
    ip, _, port = value.partition(":")
    ip = ip.split("-")[0]
    return ip, (int(port.split("-")[0]) if port else None)


def _apply_mark(rule: Rule, mark: int) -> int:
    for opt in rule.target_options:
        if opt.name == "--set-xmark":
            v, m = _parse_mark(opt.value)
            return (mark & ~m & 0xFFFFFFFF) ^ v
        if opt.name == "--set-mark":
            v, m = _parse_mark(opt.value)
            return (mark & ~m & 0xFFFFFFFF) | v
        if opt.name == "--or-mark":
            return mark | int(opt.value, 0)
        if opt.name == "--xor-mark":
            return mark ^ int(opt.value, 0)
        if opt.name == "--and-mark":
            return mark & int(opt.value, 0)
    raise EvalError("MARK needs --set-xmark, --set-mark, --or-mark, --xor-mark or --and-mark")
