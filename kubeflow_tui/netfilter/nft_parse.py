"""Read ``nft list ruleset`` text back into ``NftTable``s (stdlib only).

The layout is the one nftables 1.0.6 prints (``nft_list``): ``table FAMILY NAME {``,
an optional ``comment``, ``set``/``map`` blocks (``type``, ``size``, ``flags``,
``timeout``, ``comment``, ``elements = { … }`` over one or more lines) and ``chain``
blocks (``type T hook H priority P; policy accept;``, ``comment``, one rule a line).
Rules are kept as nft printed them (the comment split off); ``render_nft_ruleset`` of
the result gives the text back.

Bad input raises ``NftParseError`` whose ``str()`` is ``source:line:col: message``.
"""

from __future__ import annotations

import re

from .nft import PRIORITY_NAMES, NftChain, NftElement, NftRule, NftSet, NftTable

FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
HOOKS = ("prerouting", "input", "forward", "output", "postrouting", "ingress", "egress")
CHAIN_TYPES = ("filter", "nat", "route")
_TIME_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class NftParseError(ValueError):
    """Text ``nft list ruleset`` would not have printed; ``str()`` is ``source:line:col: message``."""

    def __init__(self, message: str, line: int, col: int, source: str = "<input>"):
        self.message, self.line, self.col, self.source = message, line, col, source
        super().__init__(f"{source}:{line}:{col}: {message}")


def parse_time(text: str) -> int:
    """``3h`` -> 10800, ``1m30s`` -> 90; ValueError when it is not nft's time format."""
    parts = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or parts is None:
        raise ValueError(text)
    return sum(int(v) * _TIME_UNITS[u] for v, u in zip(parts.groups(), "dhms") if v)


def parse_priority(text: str) -> int:
    """``dstnat - 10`` -> -110, ``filter`` -> 0, ``-110`` -> -110."""
    m = re.fullmatch(r"([a-z]+)(?: ([+-]) (\d+))?|(-?\d+)", text)
    if m is None or (m.group(1) and m.group(1) not in PRIORITY_NAMES):
        raise ValueError(text)
    if m.group(4) is not None:
        return int(m.group(4))
    value = PRIORITY_NAMES[m.group(1)]
    if m.group(2):
        value += int(m.group(3)) * (1 if m.group(2) == "+" else -1)
    return value


def _split_comment(text: str) -> tuple[str, str | None]:
    m = re.search(r' comment "((?:[^"\\]|\\.)*)"$', text)
    if m is None:
        return text, None
    return text[: m.start()], m.group(1)


def _split_elements(text: str) -> list[str]:
    """Top-level comma-separated items of ``{ … }`` contents (quotes respected)."""
    items, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def _element(text: str) -> NftElement:
    value = ""
    # the key never contains " : " (verdicts and values come after it)
    if " : " in text:
        key_part, value = text.split(" : ", 1)
    else:
        key_part = text
    key_part, comment = _split_comment(key_part)
    # a dynamic set's element: ``KEY [timeout T] expires E`` (E with milliseconds)
    m = re.fullmatch(r"(.*?)(?: timeout \S+)?(?: expires (\S+))?", key_part)
    expires = None
    if m is not None and m.group(2) is not None:
        key_part, expires = m.group(1), parse_time_ms(m.group(2))
    key = tuple(k.strip() for k in key_part.split(" . "))
    vals = tuple(v.strip() for v in value.split(" . ")) if value else ()
    return NftElement(key, vals, comment, expires=expires)


def parse_time_ms(text: str) -> float:
    """``2h59m59s960ms`` -> 10799.96 (an element's ``expires``); ValueError otherwise."""
    parts = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?", text)
    if not text or parts is None:
        raise ValueError(text)
    d, h, mi, sec, ms = (int(v) if v else 0 for v in parts.groups())
    return d * 86400 + h * 3600 + mi * 60 + sec + ms / 1000


class _Reader:
    def __init__(self, text: str, source: str):
        self.lines = text.splitlines()
        self.source = source
        self.i = 0

    def error(self, message: str, col: int = 1, line: int | None = None) -> NftParseError:
        return NftParseError(message, line if line is not None else self.i, col, self.source)

    def next(self) -> str | None:
        while self.i < len(self.lines):
            line = self.lines[self.i]
            self.i += 1
            if line.strip():
                return line
        return None


_HANDLE = re.compile(r" # handle (\d+)$")


def _handle(line: str) -> tuple[str, int | None]:
    """``nft -a`` appends `` # handle N``: the line without it, and N."""
    m = _HANDLE.search(line)
    return (line[: m.start()], int(m.group(1))) if m else (line, None)


def _indent_col(line: str) -> int:
    return len(line) - len(line.lstrip()) + 1


def parse_nft_ruleset(text: str, source: str = "<input>") -> list[NftTable]:
    """The tables of an ``nft list ruleset`` listing, in order."""
    r = _Reader(text, source)
    tables: list[NftTable] = []
    while (line := r.next()) is not None:
        line, _ = _handle(line)
        m = re.fullmatch(r"table (\S+) (\S+) \{", line)
        if m is None:
            raise r.error(f"expected 'table FAMILY NAME {{', got {line.strip()!r}", _indent_col(line))
        if m.group(1) not in FAMILIES:
            raise r.error(f"unknown family {m.group(1)!r} (one of {', '.join(FAMILIES)})", 7)
        tables.append(_table(r, NftTable(m.group(1), m.group(2))))
    return tables


def _table(r: _Reader, t: NftTable) -> NftTable:
    handle = 0
    while True:
        line = r.next()
        if line is None:
            raise r.error(f"table {t.name} is not closed with '}}'", 1, len(r.lines) or 1)
        line, listed_handle = _handle(line)
        body = line.strip()
        if body == "}":
            return t
        m = re.fullmatch(r'comment "((?:[^"\\]|\\.)*)"', body)
        if m and not t.chains and not t.sets:
            t.comment = m.group(1)
            continue
        m = re.fullmatch(r"(set|map|chain) (\S+) \{", body)
        if m is None:
            raise r.error(f"expected a set, map or chain in table {t.name}, got {body!r}", _indent_col(line))
        kind, name = m.groups()
        handle = listed_handle if listed_handle is not None else handle + 1
        if kind == "chain":
            if name in t.chains:
                raise r.error(f"chain {name!r} listed twice", _indent_col(line) + 6)
            c = _chain(r, NftChain(name, handle=handle))
            t.chains[name] = c
            handle += len(c.rules)
        else:
            if name in t.sets:
                raise r.error(f"{kind} {name!r} listed twice", _indent_col(line) + len(kind) + 1)
            t.sets[name] = _set(r, NftSet(name, "", is_map=kind == "map", handle=handle))


def _set(r: _Reader, s: NftSet) -> NftSet:
    while True:
        line = r.next()
        if line is None:
            raise r.error(f"{s.kind} {s.name} is not closed with '}}'", 1, len(r.lines) or 1)
        body = line.strip()
        col = _indent_col(line)
        if body == "}":
            if not s.type:
                raise r.error(f"{s.kind} {s.name} has no type", col)
            return s
        word, _, rest = body.partition(" ")
        if word == "type":
            s.type = rest
            if s.is_map != (" : " in rest):
                raise r.error(f"a {s.kind}'s type {'needs' if s.is_map else 'has no'} ' : VALUE'", col + 5)
        elif word == "size":
            if not rest.isdigit():
                raise r.error(f"size {rest!r} is not a number", col + 5)
            s.size = int(rest)
        elif word == "flags":
            s.flags = tuple(rest.split(","))
        elif word == "timeout":
            try:
                s.timeout = parse_time(rest)
            except ValueError:
                raise r.error(f"timeout {rest!r} is not a time such as 3h or 1m30s", col + 8) from None
        elif word == "comment":
            m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', rest)
            if m is None:
                raise r.error("a comment is a quoted string", col + 8)
            s.comment = m.group(1)
        elif word == "elements":
            if not rest.startswith("= {"):
                raise r.error("expected 'elements = { … }'", col + 9)
            start_line = r.i
            content = rest[3:]
            while not content.rstrip().endswith("}"):
                more = r.next()
                if more is None:
                    raise r.error(f"elements of {s.name} are not closed with '}}'", col + 11, start_line)
                content += " " + more.strip()
            for item in _split_elements(content.rstrip()[:-1]):
                el = _element(item)
                if s.is_map and not el.value:
                    raise r.error(f"map element {item!r} has no ' : VALUE'", col, start_line)
                s.elements[el.key] = el
        else:
            raise r.error(f"unknown {s.kind} property {word!r}", col)


_BASE = re.compile(r"type (\S+) hook (\S+) priority ([^;]+); policy (accept|drop);")


def _chain(r: _Reader, c: NftChain) -> NftChain:
    first = True
    while True:
        line = r.next()
        if line is None:
            raise r.error(f"chain {c.name} is not closed with '}}'", 1, len(r.lines) or 1)
        body = line.strip()
        col = _indent_col(line)
        if body == "}":
            return c
        if first and body.startswith("type "):
            m = _BASE.fullmatch(body)
            if m is None:
                raise r.error("expected 'type T hook H priority P; policy accept;'", col)
            ctype, hook, prio, policy = m.groups()
            if ctype not in CHAIN_TYPES:
                raise r.error(f"unknown chain type {ctype!r}", col + 5)
            if hook not in HOOKS:
                raise r.error(f"unknown hook {hook!r}", col + 5 + len(ctype) + 6)
            try:
                c.priority = parse_priority(prio.strip())
            except ValueError:
                raise r.error(f"bad priority {prio.strip()!r}", col + body.index("priority") + 9) from None
            c.type, c.hook, c.policy = ctype, hook, policy
            first = False
            continue
        first = False
        m = re.fullmatch(r'comment "((?:[^"\\]|\\.)*)"', body)
        if m and not c.rules:
            c.comment = m.group(1)
            continue
        if body.count("{") != body.count("}"):
            raise r.error("unbalanced braces in rule", col)
        line, listed_handle = _handle(line)
        body = line.strip()
        printed = line[2:] if line.startswith("\t\t") else body
        expr, comment = _split_comment(body)
        handle = listed_handle if listed_handle is not None else c.handle + len(c.rules) + 1
        c.rules.append(NftRule(c.name, " ".join(expr.split()), comment, handle, printed, line=r.i))
