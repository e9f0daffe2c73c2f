"""One rule: the words after ``-A CHAIN`` turned into a :class:`Rule`, as
iptables-restore parses them, and the tokenizer that splits a restore line into words.
Stdlib only."""

from __future__ import annotations

from .extensions import _MATCH_FN, _TARGET_FN
from .names import _SHORT, IFNAMSIZ, MATCH_OPTIONS, TARGET_OPTIONS, TARGET_TABLE
from .rules import BUILTIN_CHAINS, Match, Rule
from .values import _cidr, _Err, parse_proto, proto_name

# ---------------------------------------------------------------------------
# one rule
# ---------------------------------------------------------------------------

_MATCH_CACHE: dict = {}
_TARGET_CACHE: dict = {}
_CHAIN_TARGET_OPTS: dict = {}  # the (never changed) option table of a jump to a user chain
_PROTO_CACHE: dict[str, str] = {}  # -p argument -> protocol name ("" for all/0)


def _check_iface(name: str) -> str:
    if len(name) >= IFNAMSIZ:
        raise _Err(f"interface name `{name}' must be shorter than IFNAMSIZ (15)")
    if not name:
        raise _Err("empty interface name")
    return name


def _addr_value(kind: str, text: str, neg: bool) -> str | None:
    """The argument of -s/-d as iptables-save prints it (None: matches every address)."""
    v = _cidr(text)
    if v == "0.0.0.0/0":
        if neg:  # the kernel refuses it (RULE_APPEND: Invalid argument)
            raise _Err(f"! -{kind} 0.0.0.0/0 can never match")
        return None  # iptables-save drops a match-all address
    return v


def _counter_values(packets: str, bytes_: str) -> tuple[int, int]:
    try:
        return int(packets), int(bytes_)
    except ValueError:
        raise _Err("-c packet counter not numeric") from None


def _check_jump(target: str, table: str, chain_exists, known_chains) -> None:
    """A -j/-g to something that is not a target must name a user chain of the table."""
    if target in BUILTIN_CHAINS.get(table, ()):
        raise _Err(f"cannot jump to built-in chain {target}")
    if chain_exists is not None and target not in known_chains:
        err = chain_exists(target)
        if err:
            raise _Err(err)


# What the generic parser records about the words it read as values (everything else it
# read is syntax: options, "!", match names, the protocol, a built-in target).
_ADDR, _IFACE, _COUNTERS, _JUMP, _OPT = range(5)


def _parse_words(toks, table: str, chain: str, chain_exists, line: int,
                 counters: tuple[int, int], known_chains, rec: list) -> Rule:
    """Parse the words of one rule (after ``-A CHAIN``), word by word.  Raises _Err.
    Appends to ``rec``, in word order, where each value was read and what it became
    (see :class:`_Plan`)."""
    src = dst = iin = iout = None
    src_neg = dst_neg = in_neg = out_neg = False
    proto = None
    proto_neg = False
    matches: list[list] = []  # [module, [opts]]
    target = None
    target_spec = None
    target_opts: list = []
    goto = False
    packets, bytes_ = counters
    neg = seen_s = seen_d = False
    short_get = _SHORT.get
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        i += 1
        if t == "!":
            if neg:
                raise _Err("multiple consecutive ! not allowed")
            neg = True
            continue
        kind = short_get(t)
        if kind is not None:
            if i >= n and kind != "f":
                raise _Err(f"option \"{t}\" requires an argument")
            if kind == "m":
                if neg:
                    raise _Err("unexpected ! flag before --match")
                mod = toks[i]
                i += 1
                if mod not in MATCH_OPTIONS:
                    raise _Err(f"unsupported match \"-m {mod}\"")
                matches.append([mod, []])
            elif kind == "j" or kind == "g":
                if neg:
                    raise _Err(f"unexpected ! flag before {t}")
                if target is not None:
                    raise _Err("multiple -j/-g flags not allowed")
                target = toks[i]
                i += 1
                goto = kind == "g"
                if target in TARGET_OPTIONS:
                    if goto:
                        raise _Err(f"-g needs a user chain, not the target {target}")
                    target_spec = TARGET_OPTIONS[target]
                elif target == "QUEUE":
                    raise _Err("target QUEUE is not supported here")
                else:
                    rec.append((_JUMP, i - 1))
                    _check_jump(target, table, chain_exists, known_chains)
                    target_spec = _CHAIN_TARGET_OPTS
            elif kind == "p":
                if proto is not None or proto_neg:
                    raise _Err("multiple -p flags not allowed")
                pname = _PROTO_CACHE.get(toks[i])
                if pname is None:
                    num = parse_proto(toks[i])
                    pname = proto_name(num) if num else ""
                    if len(_PROTO_CACHE) < 1000:
                        _PROTO_CACHE[toks[i]] = pname
                i += 1
                if not pname:
                    if neg:
                        raise _Err("rule would never match protocol")
                else:
                    proto, proto_neg = pname, neg
            elif kind == "s" or kind == "d":
                if (seen_s if kind == "s" else seen_d):
                    raise _Err(f"multiple -{kind} flags not allowed")
                rec.append((_ADDR, i, kind, neg))
                v = _addr_value(kind, toks[i], neg)
                i += 1
                if kind == "s":
                    src, src_neg, seen_s = v, neg, True
                else:
                    dst, dst_neg, seen_d = v, neg, True
            elif kind == "i" or kind == "o":
                if (iin if kind == "i" else iout) is not None:
                    raise _Err(f"multiple -{kind} flags not allowed")
                rec.append((_IFACE, i, kind, neg))
                v = _check_iface(toks[i])
                i += 1
                if kind == "i":
                    iin, in_neg = v, neg
                else:
                    iout, out_neg = v, neg
            elif kind == "f":
                raise _Err("fragment matching (-f) is not supported here")
            elif kind == "c":
                if i + 1 >= n:
                    raise _Err("-c requires packet and byte counter")
                rec.append((_COUNTERS, i))
                packets, bytes_ = _counter_values(toks[i], toks[i + 1])
                i += 2
            neg = False
            continue
        # an option of a match or the target
        if t[:2] != "--" or len(t) < 3:
            raise _Err(f"Bad argument `{t}'")
        owner = None
        if target_spec is not None and t in target_spec:
            canon, nargs = target_spec[t]
            owner, k = target_opts, -1
        else:
            k = len(matches)
            while k:  # the latest loaded extension wins (getopt)
                k -= 1
                m = matches[k]
                spec = MATCH_OPTIONS[m[0]].get(t)
                if spec is not None:
                    canon, nargs = spec
                    owner = m[1]
                    break
            else:
                if proto in ("tcp", "udp", "icmp", "sctp") and not proto_neg:
                    spec = MATCH_OPTIONS[proto].get(t)
                    if spec is not None:
                        canon, nargs = spec
                        m = [proto, []]
                        k = len(matches)
                        matches.append(m)
                        owner = m[1]
        if owner is None:
            raise _Err(f"unknown option \"{t}\"")
        if i + nargs > n:
            raise _Err(f"option \"{t}\" requires {'an argument' if nargs == 1 else f'{nargs} arguments'}")
        args = (toks[i],) if nargs == 1 else tuple(toks[i:i + nargs])
        rec.append((_OPT, k, neg, canon, tuple(range(i, i + nargs))))
        i += nargs
        owner.append((neg, canon, args))
        neg = False
    if neg:
        raise _Err("no option after !")

    mtuple = []
    for mod, opts in matches:
        key = (mod, tuple(opts), proto, proto_neg)
        hit = _MATCH_CACHE.get(key)
        if hit is None:
            hit = Match(mod, _MATCH_FN[mod](opts, proto, proto_neg, table))
            if len(_MATCH_CACHE) < 100_000:
                _MATCH_CACHE[key] = hit
        mtuple.append(hit)
    topts = ()
    if target is not None and target_spec is not _CHAIN_TARGET_OPTS:
        # (a jump to a user chain has no table restriction and no target options)
        need = TARGET_TABLE.get(target)
        if need is not None and need != table:
            raise _Err(f"target {target} can only be used in the {need} table, "
                       f"not in {table}")
        fn = _TARGET_FN.get(target)
        if fn is not None:
            key = (target, tuple(target_opts), proto, proto_neg)
            topts = _TARGET_CACHE.get(key)
            if topts is None:
                topts = fn(target_opts, proto, proto_neg)
                if len(_TARGET_CACHE) < 100_000:
                    _TARGET_CACHE[key] = topts
    rule = Rule(chain, src, src_neg, dst, dst_neg, iin, in_neg, iout, out_neg, proto,
                proto_neg, tuple(mtuple), target, topts, goto, line, packets, bytes_)
    return rule


# ---------------------------------------------------------------------------
# tokenizer (iptables-restore's add_param_to_argv)
# ---------------------------------------------------------------------------

def tokenize(line: str) -> list[str]:
    """Split a restore line into words the way iptables-restore does: double quotes
    group (a closing quote ends the word), backslash escapes inside quotes, single
    quotes are ordinary characters, an unclosed quote runs to the end of the line."""
    if '"' not in line:
        return line.split()
    nq = 1 if "\\" in line else line.count('"')
    if nq == 2:
        # fast path: one quoted word, no escapes (the loop below, unrolled)
        pre, word, post = line.split('"')
        out = pre.split()
        if pre and not pre[-1].isspace():
            word = out.pop() + word
        out.append(word)
        out += post.split()
        return out
    if not (nq & 1):
        # fast path: balanced quotes, no escapes
        segs = line.split('"')
        out: list[str] = []
        glue = ""
        last = len(segs) - 1
        for k, seg in enumerate(segs):
            if k & 1:
                out.append(glue + seg)
                glue = ""
            else:
                words = seg.split()
                if k < last and words and not seg[-1].isspace():
                    glue = words.pop()
                out.extend(words)
        return out
    return _tokenize_chars(line)


def _tokenize_chars(line: str) -> list[str]:
    """The character-by-character tokenizer (any quoting)."""
    out: list[str] = []
    buf: list[str] = []
    quote = esc = False
    have = False
    for ch in line:
        if quote:
            if esc:
                buf.append(ch)
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quote = False
                out.append("".join(buf))
                buf = []
                have = False
            else:
                buf.append(ch)
            continue
        if ch == '"':
            quote = True
            have = True
            continue
        if ch in " \t\n\r\v\f":
            if buf:
                out.append("".join(buf))
                buf = []
            have = False
            continue
        buf.append(ch)
    if buf or have:
        out.append("".join(buf))
    return out
