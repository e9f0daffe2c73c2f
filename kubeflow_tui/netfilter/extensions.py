"""Match modules and targets: each turns the options collected for it into the
normalised Option tuple the kernel stores (and iptables-save prints).  Collected options
are tuples ``(negated, canonical name, args)``.  Stdlib only."""

from __future__ import annotations

import re

from .names import (
    _ICMP_ALIASES,
    _LOG_LEVEL_BY_NAME,
    _TCP_FLAG_BY_NAME,
    ADDR_TYPES,
    CT_STATES,
    CT_STATUSES,
    ICMP_TYPES,
    LOG_FLAGS,
    REJECT_WITH,
    STATE_STATES,
    TCP_FLAGS,
)
from .rules import Option
from .values import (
    IPV4_RE,
    _Err,
    _fmt_range,
    _hexmark,
    _ipv4,
    _ntoa,
    _parse_net,
    _port_range,
    _uint,
    format_net,
    parse_proto,
)

# ---------------------------------------------------------------------------
# match modules: (collected options, context) -> normalised Option tuple
# collected options are tuples (negated, canonical name, args)
# ---------------------------------------------------------------------------

def _one(opts, name):
    found = None
    for o in opts:
        if o[1] == name:
            if found is not None:
                raise _Err(f"option \"{name}\" can only be used once")
            found = o
    return found


def _no_neg(o):
    if o[0]:
        raise _Err(f"option \"{o[1]}\" cannot be inverted")


def _m_tcpudp(module, opts, proto, proto_neg):
    if proto != module or proto_neg:
        raise _Err(f"{module.upper()} match requires '-p {module}'")
    out = []
    for name in ("--sport", "--dport"):
        o = _one(opts, name)
        if o is None:
            continue
        lo, hi = _port_range(o[2][0], module)
        if lo == 0 and hi == 65535 and not o[0]:
            continue
        out.append(Option(name, (_fmt_range(lo, hi),), o[0]))
    if module == "tcp":
        o = _one(opts, "--tcp-option")
        if o is not None:
            out.append(Option("--tcp-option", (str(_uint(o[2][0], "--tcp-option", 255)),),
                              o[0]))
        flags = [o for o in opts if o[1] in ("--tcp-flags", "--syn")]
        if len(flags) > 1:
            raise _Err("only one of --tcp-flags / --syn allowed")
        if flags:
            o = flags[0]
            if o[1] == "--syn":
                mask, cmp = 0x17, 0x02
            else:
                mask, cmp = _tcpflags(o[2][0]), _tcpflags(o[2][1])
            if mask or o[0]:
                out.append(Option("--tcp-flags", (tcpflags_text(mask), tcpflags_text(cmp)),
                                  o[0]))
    return tuple(out)


def _tcpflags(text: str) -> int:
    v = 0
    for f in text.split(","):
        if f.upper() not in _TCP_FLAG_BY_NAME:
            raise _Err(f"Unknown TCP flag `{f}'")
        v |= _TCP_FLAG_BY_NAME[f.upper()]
    return v


def tcpflags_text(v: int) -> str:
    names = [n for n, bit in TCP_FLAGS if v & bit]
    return ",".join(names) if names else "NONE"


def _m_tcp(opts, proto, proto_neg, table):
    return _m_tcpudp("tcp", opts, proto, proto_neg)


def _m_udp(opts, proto, proto_neg, table):
    return _m_tcpudp("udp", opts, proto, proto_neg)


def _m_sctp(opts, proto, proto_neg, table):
    # libxt_sctp: like tcp/udp, but a full range stays as written (iptables-save prints
    # "--sport 0:65535" back; tcp drops it)
    if proto != "sctp" or proto_neg:
        raise _Err("SCTP match requires '-p sctp'")
    out = []
    for name in ("--sport", "--dport"):
        o = _one(opts, name)
        if o is not None:
            lo, hi = _port_range(o[2][0], "sctp")
            out.append(Option(name, (_fmt_range(lo, hi),), o[0]))
    return tuple(out)


def icmp_type_of(text: str) -> tuple[int, int, int]:
    name = _ICMP_ALIASES.get(text, text)
    if name in ICMP_TYPES:
        return ICMP_TYPES[name]
    t, s, c = text.partition("/")
    typ = _uint(t, "--icmp-type", 255) if t.isdigit() else None
    if typ is None:
        raise _Err(f"Invalid ICMP type `{text}'")
    if s:
        code = _uint(c, "--icmp-type", 255)
        return typ, code, code
    return typ, 0, 0xFF


def _m_icmp(opts, proto, proto_neg, table):
    if proto != "icmp" or proto_neg:
        raise _Err("ICMP match requires '-p icmp'")
    o = _one(opts, "--icmp-type")
    if o is None:
        typ, lo, hi, neg = 0xFF, 0, 0xFF, False  # "any"
    else:
        (typ, lo, hi), neg = icmp_type_of(o[2][0]), o[0]
    if typ == 0xFF:
        text = "any"
    elif lo != 0 or hi != 0xFF:
        text = f"{typ}/{lo}"
    else:
        text = str(typ)
    return (Option("--icmp-type", (text,), neg),)


def _m_multiport(opts, proto, proto_neg, table):
    if proto not in ("tcp", "udp", "udplite", "sctp", "dccp") or proto_neg:
        raise _Err("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or "
                   "`-p dccp'")
    if len(opts) != 1:
        raise _Err("multiport can only have one option")
    neg, name, (text,) = opts[0]
    items, count = [], 0
    for part in text.split(","):
        lo, hi = _port_range(part, proto)
        count += 1 if lo == hi else 2
        items.append(_fmt_range(lo, hi))
    if count > 15:
        raise _Err("too many ports specified")
    return (Option(name, (",".join(items),), neg),)


def _m_comment(opts, proto, proto_neg, table):
    o = _one(opts, "--comment")
    if o is None:
        raise _Err("comment: option \"--comment\" must be specified")
    _no_neg(o)
    return (_comment_option(o[2][0]),)


def _comment_option(text: str) -> Option:
    """``--comment TEXT`` (the plans call it for a rule's one plain comment)."""
    # (a character is at most 4 bytes of UTF-8: a short comment needs no encoding)
    if len(text) > 63 and len(text.encode()) > 255:
        raise _Err("comment may not exceed 255 characters")
    return Option("--comment", (text,))


def _m_statistic(opts, proto, proto_neg, table):
    mode = _one(opts, "--mode")
    prob, every, packet = _one(opts, "--probability"), _one(opts, "--every"), _one(opts, "--packet")
    if mode is None:
        raise _Err("statistic: option \"--mode\" must be specified")
    _no_neg(mode)
    m = mode[2][0]
    if m == "random":
        if every or packet:
            raise _Err("statistic: --every/--packet can only be used in nth mode")
        p = 0.0
        neg = False
        if prob is not None:
            try:
                p = float(prob[2][0])
            except ValueError:
                raise _Err("statistic: bad value for option \"--probability\", "
                           "or out of range (0-1).") from None
            if not 0.0 <= p <= 1.0:
                raise _Err("statistic: bad value for option \"--probability\", "
                           "or out of range (0-1).")
            neg = prob[0]
        kept = int(0x80000000 * p + 0.5)  # lround
        kept = min(kept, 0xFFFFFFFF)
        return (Option("--mode", ("random",)),
                Option("--probability", (f"{kept / 0x80000000:.11f}",), neg))
    if m == "nth":
        if prob is not None:
            raise _Err("statistic: --probability can only be used in random mode")
        if every is None or packet is None:
            raise _Err("statistic: option \"--every\" also requires \"--packet\".")
        _no_neg(packet)
        ev = _uint(every[2][0], "--every")
        pk = _uint(packet[2][0], "--packet")
        if ev == 0:
            raise _Err("statistic: bad value for option \"--every\"")
        if pk > ev - 1:
            raise _Err("statistic: --packet can not be bigger than --every")
        return (Option("--mode", ("nth",)), Option("--every", (str(ev),), every[0]),
                Option("--packet", (str(pk),)))
    raise _Err(f"statistic: bad mode \"{m}\"")


def _m_mark(opts, proto, proto_neg, table):
    o = _one(opts, "--mark")
    if o is None:
        raise _Err("mark: option \"--mark\" must be specified")
    v, m = _hexmark(o[2][0], "--mark")
    text = f"{v:#x}" if m is None or m == 0xFFFFFFFF else f"{v:#x}/{m:#x}"
    return (Option("--mark", (text,), o[0]),)


def _ordered_names(text: str, allowed: tuple[str, ...], bad) -> str:
    """A comma list of names (any case) as iptables prints it: upper case, in the order
    of ``allowed``; ``bad(name)`` is the error text for a name not allowed."""
    got = set()
    for name in text.split(","):
        if name.upper() not in allowed:
            raise _Err(bad(name))
        got.add(name.upper())
    return ",".join(n for n in allowed if n in got)


def _types(text: str) -> str:
    return _ordered_names(text, ADDR_TYPES, lambda t: f"addrtype: unknown address type `{t}'")


def _m_addrtype(opts, proto, proto_neg, table):
    out = []
    for name in ("--src-type", "--dst-type"):
        o = _one(opts, name)
        if o is not None:
            out.append(Option(name, (_types(o[2][0]),), o[0]))
    if not out:
        raise _Err("addrtype: you must specify --src-type or --dst-type")
    lin, lout = _one(opts, "--limit-iface-in"), _one(opts, "--limit-iface-out")
    if lin and lout:
        raise _Err("addrtype: you can't specify both --limit-iface-in and --limit-iface-out")
    for o in (lin, lout):
        if o is not None:
            _no_neg(o)
            out.append(Option(o[1]))
    return tuple(out)


def _states(text: str, allowed: tuple[str, ...], what: str) -> str:
    return _ordered_names(text, allowed, lambda s: f"Bad {what} \"{s}\"")


def _ct_addr(text: str) -> str:
    net, mask = _parse_net(text)
    return _ntoa(net) if mask == 0xFFFFFFFF else format_net(net, mask)


def _m_conntrack(opts, proto, proto_neg, table):
    seen = set()
    for o in opts:
        if o[1] in seen:
            raise _Err(f"conntrack: option \"{o[1]}\" can only be used once")
        seen.add(o[1])
    by = {o[1]: o for o in opts}
    if not by:
        raise _Err("conntrack: at least one option is required")
    out = []
    order = ("--ctstate", "--ctproto", "--ctorigsrc", "--ctorigdst", "--ctreplsrc",
             "--ctrepldst", "--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport",
             "--ctrepldstport", "--ctstatus", "--ctexpire", "--ctdir")
    for name in order:
        o = by.get(name)
        if o is None:
            continue
        neg, text = o[0], o[2][0]
        if name == "--ctstate":
            val = _states(text, CT_STATES, "ctstate")
        elif name == "--ctproto":
            val = str(parse_proto(text))
        elif name.endswith("port"):
            val = _fmt_range(*_port_range(text, None))
        elif name == "--ctstatus":
            val = _states(text, ("NONE",) + CT_STATUSES, "ctstatus")
            val = ",".join(s for s in val.split(",") if s != "NONE") or "NONE"
        elif name == "--ctexpire":
            a, s, b = text.partition(":")
            lo = _uint(a, name)
            hi = _uint(b, name) if s else lo
            val = _fmt_range(lo, hi)
        elif name == "--ctdir":
            if text.upper() not in ("ORIGINAL", "REPLY"):
                raise _Err(f"conntrack: bad direction \"{text}\"")
            _no_neg(o)
            val = text.upper()
        else:
            val = _ct_addr(text)
        out.append(Option(name, (val,), neg))
    return tuple(out)


def _m_state(opts, proto, proto_neg, table):
    o = _one(opts, "--state")
    if o is None:
        raise _Err("state: option \"--state\" must be specified")
    return (Option("--state", (_states(o[2][0], STATE_STATES, "state"),), o[0]),)


def _m_recent(opts, proto, proto_neg, table):
    modes = [o for o in opts if o[1] in ("--set", "--rcheck", "--update", "--remove")]
    if len(modes) != 1:
        raise _Err("recent: you must specify one of `--set', `--rcheck', `--update' "
                   "or `--remove'")
    mode = modes[0]
    for o in opts:
        if o is not mode:
            _no_neg(o)
    seconds, hit = _one(opts, "--seconds"), _one(opts, "--hitcount")
    reap, rttl = _one(opts, "--reap"), _one(opts, "--rttl")
    if (seconds or hit or reap or rttl) and mode[1] not in ("--rcheck", "--update"):
        raise _Err("recent: --seconds, --hitcount, --reap and --rttl need --rcheck or "
                   "--update")
    if reap and not seconds:
        raise _Err("recent: --reap requires --seconds")
    name = _one(opts, "--name")
    nm = name[2][0] if name else "DEFAULT"
    if not nm or len(nm) > 199 or "/" in nm:
        raise _Err(f"recent: illegal name \"{nm}\"")
    mask = _one(opts, "--mask")
    try:
        mk = _ntoa(_ipv4(mask[2][0])) if mask else "255.255.255.255"
    except ValueError:
        raise _Err(f"recent: bad mask \"{mask[2][0]}\"") from None
    if _one(opts, "--rsource") and _one(opts, "--rdest"):
        raise _Err("recent: only one of --rsource and --rdest")
    out = [Option(mode[1], (), mode[0])]
    if seconds:
        out.append(Option("--seconds", (str(_uint(seconds[2][0], "--seconds")),)))
    if reap:
        out.append(Option("--reap"))
    if hit:
        out.append(Option("--hitcount", (str(_uint(hit[2][0], "--hitcount", 65535)),)))
    if rttl:
        out.append(Option("--rttl"))
    out.append(Option("--name", (nm,)))
    out.append(Option("--mask", (mk,)))
    out.append(Option("--rdest" if _one(opts, "--rdest") else "--rsource"))
    return tuple(out)


def _m_nfacct(opts, proto, proto_neg, table):
    o = _one(opts, "--nfacct-name")
    if o is None:
        raise _Err("nfacct: you must specify `--nfacct-name'")
    _no_neg(o)
    if len(o[2][0]) > 31:
        raise _Err("nfacct: name too long, maximum is 31 characters")
    return (Option("--nfacct-name", o[2]),)


_MATCH_FN = {
    "nfacct": _m_nfacct,
    "tcp": _m_tcp, "udp": _m_udp, "sctp": _m_sctp, "icmp": _m_icmp, "multiport": _m_multiport,
    "comment": _m_comment, "statistic": _m_statistic, "mark": _m_mark,
    "addrtype": _m_addrtype, "conntrack": _m_conntrack, "state": _m_state,
    "recent": _m_recent,
}

# ---------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------

_PORT_PROTOS = ("tcp", "udp", "sctp", "dccp", "udplite")


# an address with an optional port, written the way iptables-save prints it
_PRINTED_NAT_RANGE = re.compile(rf"({IPV4_RE})(?::([1-9][0-9]{{0,4}}))?")


def _nat_range(text: str, proto, proto_neg) -> str:
    printed = _PRINTED_NAT_RANGE.fullmatch(text)
    if printed is not None:
        # (what the general path below gives for it, without the arithmetic)
        port = printed.group(2)
        if port is None or (int(port) <= 65535 and proto in _PORT_PROTOS and not proto_neg):
            return text
    addr, s, ports = text.partition(":")
    out = ""
    if addr:
        a, d, b = addr.partition("-")
        try:
            lo = _ipv4(a)
            hi = _ipv4(b) if d else lo
        except ValueError:
            raise _Err(f"Bad IP address \"{addr}\"") from None
        if lo > hi:
            raise _Err(f"Bad IP address range \"{addr}\"")
        out = _ntoa(lo) if lo == hi else f"{_ntoa(lo)}-{_ntoa(hi)}"
    if s:
        if proto not in _PORT_PROTOS or proto_neg:
            raise _Err("Need TCP, UDP, SCTP or DCCP with port specification")
        plo, phi = _port_range(ports, proto, "-")
        if plo == 0:
            raise _Err(f"Port `{ports}' not valid")
        out += ":" + _fmt_range(plo, phi, "-")
    if not out:
        raise _Err(f"Bad IP address \"{text}\"")
    return out


def _t_reject(opts, proto, proto_neg):
    o = _one(opts, "--reject-with")
    with_ = "icmp-port-unreachable"
    if o is not None:
        _no_neg(o)
        if o[2][0] not in REJECT_WITH:
            raise _Err(f"unknown reject type \"{o[2][0]}\"")
        with_ = REJECT_WITH[o[2][0]]
    if with_ == "tcp-reset" and (proto != "tcp" or proto_neg):
        raise _Err("REJECT --reject-with tcp-reset needs -p tcp")
    return (Option("--reject-with", (with_,)),)


_NAT_TO = {"DNAT": "--to-destination", "SNAT": "--to-source"}


def _nat_to(target: str, text: str, proto, proto_neg) -> Option:
    """DNAT's ``--to-destination`` / SNAT's ``--to-source TEXT`` (the plans call it for a
    rule's one plain address)."""
    return Option(_NAT_TO[target], (_nat_range(text, proto, proto_neg),))


def _t_nat(target, opts, proto, proto_neg):
    to = _NAT_TO.get(target)
    out = []
    for o in opts:
        _no_neg(o)
    if to is not None:
        o = _one(opts, to)
        if o is None:
            raise _Err(f"{target}: option \"{to}\" must be specified")
        out.append(_nat_to(target, o[2][0], proto, proto_neg))
    else:
        o = _one(opts, "--to-ports")
        if o is not None:
            if proto not in _PORT_PROTOS or proto_neg:
                raise _Err("Need TCP, UDP, SCTP or DCCP with port specification")
            out.append(Option("--to-ports", (_fmt_range(*_port_range(o[2][0], proto, "-"),
                                                        "-"),)))
    for flag in ("--random", "--random-fully", "--persistent"):
        if _one(opts, flag) is not None:
            out.append(Option(flag))
    return tuple(out)


def _t_mark(opts, proto, proto_neg):
    if len(opts) != 1:
        raise _Err("MARK target: exactly one of --set-xmark, --set-mark, --and-mark, "
                   "--or-mark, --xor-mark is required")
    neg, name, (text,) = opts[0]
    if neg:
        raise _Err(f"option \"{name}\" cannot be inverted")
    v, m = _hexmark(text, name)
    if name in ("--and-mark", "--or-mark", "--xor-mark") and m is not None:
        raise _Err(f"MARK: bad value for option \"{name}\"")
    if name == "--set-xmark":
        mark, mask = v, 0xFFFFFFFF if m is None else m
    elif name == "--set-mark":
        mark, mask = v, v | (0xFFFFFFFF if m is None else m)
    elif name == "--and-mark":
        mark, mask = 0, ~v & 0xFFFFFFFF
    elif name == "--or-mark":
        mark, mask = v, v
    else:
        mark, mask = v, 0
    return (Option("--set-xmark", (f"{mark:#x}/{mask:#x}",)),)


def _t_log(opts, proto, proto_neg):
    out = []
    for o in opts:
        _no_neg(o)
    o = _one(opts, "--log-prefix")
    if o is not None:
        if len(o[2][0].encode()) > 29:
            raise _Err("Maximum prefix length 29 for --log-prefix")
        if "\n" in o[2][0]:
            raise _Err("Newlines not allowed in --log-prefix")
        if o[2][0]:
            out.append(Option("--log-prefix", o[2]))
    o = _one(opts, "--log-level")
    if o is not None:
        t = o[2][0]
        if t in _LOG_LEVEL_BY_NAME:
            lvl = _LOG_LEVEL_BY_NAME[t]
        else:
            lvl = _uint(t, "--log-level", 7) if t.isdigit() else None
            if lvl is None:
                raise _Err(f"log-level `{t}' unknown")
        if lvl != 4:
            out.append(Option("--log-level", (str(lvl),)))
    for flag, _, _ in LOG_FLAGS:
        if _one(opts, flag) is not None:
            out.append(Option(flag))
    return tuple(out)


def _t_ct(opts, proto, proto_neg):
    out = []
    for o in opts:
        _no_neg(o)
    if _one(opts, "--notrack"):
        out.append(Option("--notrack"))
    z = _one(opts, "--zone")
    if z is not None:
        out.append(Option("--zone", (str(_uint(z[2][0], "--zone", 65535)),)))
    return tuple(out)


def _t_plain(opts, proto, proto_neg):
    return ()


_TARGET_FN = {
    "REJECT": _t_reject, "MARK": _t_mark, "LOG": _t_log, "CT": _t_ct,
    "DNAT": lambda o, p, n: _t_nat("DNAT", o, p, n),
    "SNAT": lambda o, p, n: _t_nat("SNAT", o, p, n),
    "MASQUERADE": lambda o, p, n: _t_nat("MASQUERADE", o, p, n),
    "ACCEPT": _t_plain, "DROP": _t_plain, "RETURN": _t_plain, "TRACE": _t_plain,
    "NOTRACK": _t_plain,
}
