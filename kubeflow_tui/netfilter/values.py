"""Small value parsers of rule options (numbers, addresses, ports, protocols), with
the error texts iptables prints.  Stdlib only."""

from __future__ import annotations

import re

from .names import _PROTO_BY_NAME, _SERVICE_BY_NAME, PROTO_NAMES


class _Err(Exception):
    """Internal: a message to be turned into IptablesError with the rule text."""


# ---------------------------------------------------------------------------
# small value parsers
# ---------------------------------------------------------------------------

# what strtoul(base 0) reads to the end of the word: 0x hex, 0 octal, decimal (no sign)
_UINT_WORD = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def _uint(text: str, what: str, maximum: int = 0xFFFFFFFF) -> int:
    """strtoul(base 0) as xtables_strtoui: decimal, 0x hex, 0 octal."""
    if _UINT_WORD.fullmatch(text) is None:
        raise _Err(f"bad value {text!r} for {what}")
    if text[:2] in ("0x", "0X"):
        v = int(text[2:], 16)
    elif text[0] == "0":
        v = int(text, 8)
    else:
        v = int(text)
    if v > maximum:
        raise _Err(f"value {text!r} for {what} out of range (max {maximum})")
    return v


_ADDR_CACHE: dict[str, tuple[int, int]] = {}


def _ipv4(text: str) -> int:
    parts = text.split(".")
    if len(parts) != 4:
        raise ValueError
    v = 0
    for p in parts:
        if not p.isdigit() or not p.isascii() or len(p) > 3:
            raise ValueError
        n = int(p)
        if n > 255:
            raise ValueError
        v = (v << 8) | n
    return v


def _ntoa(v: int) -> str:
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


def _mask_bits(mask: int) -> int | None:
    """prefix length of a contiguous mask, else None."""
    inv = ~mask & 0xFFFFFFFF
    if inv & (inv + 1):
        return None
    return 32 - inv.bit_length()


def _parse_net(text: str) -> tuple[int, int]:
    """``ip[/prefix|/dotted-mask]`` -> (network, mask), the address masked."""
    hit = _ADDR_CACHE.get(text)
    if hit is not None:
        return hit
    addr, sep, m = text.partition("/")
    try:
        ip = _ipv4(addr)
    except ValueError:
        raise _Err(f"host/network `{addr}' not found") from None
    if not sep:
        mask = 0xFFFFFFFF
    elif m.isdigit() and m.isascii():
        bits = int(m)
        if bits > 32:
            raise _Err(f"invalid mask `{m}' specified")
        mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    else:
        try:
            mask = _ipv4(m)
        except ValueError:
            raise _Err(f"invalid mask `{m}' specified") from None
    res = (ip & mask, mask)
    if len(_ADDR_CACHE) < 200_000:
        _ADDR_CACHE[text] = res
    return res


def format_net(net: int, mask: int) -> str:
    bits = _mask_bits(mask)
    return f"{_ntoa(net)}/{bits if bits is not None else _ntoa(mask)}"


_CIDR_CACHE: dict[str, str] = {}

#: one octet of a dotted quad as iptables prints it (decimal, no leading zero)
OCTET_RE = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_RE = rf"{OCTET_RE}\.{OCTET_RE}\.{OCTET_RE}\.{OCTET_RE}"
# a host address written the way iptables-save prints it, but maybe without the /32
_PRINTED_HOST = re.compile(rf"{IPV4_RE}(?:/32)?")


def _cidr(text: str) -> str:
    hit = _CIDR_CACHE.get(text)
    if hit is None:
        if _PRINTED_HOST.fullmatch(text):
            # (what the general path below gives for it, without the arithmetic)
            return text if text[-3:] == "/32" else text + "/32"
        if "," in text:
            raise _Err(f"address lists ({text}) are not supported here; "
                       "write one rule per address")
        hit = format_net(*_parse_net(text))
        if len(_CIDR_CACHE) < 200_000:
            _CIDR_CACHE[text] = hit
    return hit


def parse_proto(text: str) -> int:
    low = text.lower()
    if low in _PROTO_BY_NAME:
        return _PROTO_BY_NAME[low]
    if text.isdigit() and text.isascii():
        v = int(text)
        if v <= 255:
            return v
    raise _Err(f"unknown protocol \"{text}\" specified")


def proto_name(num: int) -> str:
    return PROTO_NAMES.get(num, str(num))


def _port(text: str, proto: str | None) -> int:
    if text.isdigit() and text.isascii():
        v = int(text)
        if v <= 65535:
            return v
    elif proto in ("tcp", "udp") and (text, proto) in _SERVICE_BY_NAME:
        return _SERVICE_BY_NAME[(text, proto)]
    elif proto not in ("tcp", "udp"):
        for p in ("tcp", "udp"):
            if (text, p) in _SERVICE_BY_NAME:
                return _SERVICE_BY_NAME[(text, p)]
    raise _Err(f"invalid port/service `{text}' specified")


def _port_range(text: str, proto: str | None, sep: str = ":") -> tuple[int, int]:
    a, s, b = text.partition(sep)
    if not s:
        p = _port(a, proto)
        return p, p
    lo = _port(a, proto) if a else 0
    hi = _port(b, proto) if b else 65535
    if lo > hi:
        raise _Err("invalid portrange (min > max)")
    return lo, hi


def _fmt_range(lo: int, hi: int, sep: str = ":") -> str:
    return str(lo) if lo == hi else f"{lo}{sep}{hi}"


def _hexmark(text: str, what: str) -> tuple[int, int | None]:
    v, s, m = text.partition("/")
    val = _uint(v, what)
    return val, (_uint(m, what) if s else None)
