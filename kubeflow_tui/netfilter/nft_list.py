"""``nft list ruleset`` exactly as nftables 1.0.6 prints a table (stdlib only).

What nft does to the text it was given, as seen on this kind of machine:

* objects: the table's comment, then its sets and maps (creation order), then its chains
  (creation order), a blank line between two objects, tabs for indentation;
* base chains: ``type T hook H priority P; policy accept;`` where P is a standard name
  when the priority is within 10 of one allowed at that hook (``dstnat - 10`` at
  prerouting, but ``-110`` at output, where ``dstnat`` is not a name nft uses);
* set elements sorted as nft's mergesort does (by value; a concatenation by its bytes
  read as one little-endian number), ``ipv4_addr`` sets two to a line, concatenations
  one to a line, continuation lines indented by three tabs and five spaces;
* a set that a rule of the same transaction updates from the packet path gets
  ``size 65535``; timeouts print as ``3h``, ``1m30s``;
* rule expressions: ``mark`` becomes ``meta mark``, ``and``/``or``/``xor`` become
  ``&``/``|``/``^``, mark values print as ``0x%08x``, an anonymous set of one element
  is that element, a larger one is sorted and prefixes inside others are merged away,
  ``{ 0 : goto a , 1 : goto b }`` loses the space before its commas.
"""

from __future__ import annotations

import ipaddress
import re

from .nft import PRIORITY_NAMES, NftChain, NftSet, NftTable

NEWLINE_DELIM = ",\n\t\t\t     "
DEFAULT_DYNAMIC_SIZE = 65535

# nft 1.0.6 std_prios, in order, with the hooks where the ip family accepts each name
_STD_PRIOS = (
    ("raw", None),
    ("mangle", None),
    ("dstnat", {"prerouting"}),
    ("filter", None),
    ("security", None),
    ("srcnat", {"postrouting"}),
)
_PROTO_NUMBERS = {"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1}


def priority_text(hook: str, priority: int) -> str:
    """``priority_text("prerouting", -110) == "dstnat - 10"``; numeric when no name fits."""
    for name, hooks in _STD_PRIOS:
        if hooks is not None and hook not in hooks:
            continue
        offset = priority - PRIORITY_NAMES[name]
        if offset == 0:
            return name
        if abs(offset) <= 10:
            return f"{name} {'+' if offset > 0 else '-'} {abs(offset)}"
    return str(priority)


def time_text(seconds: int) -> str:
    """nft's time format: ``10800`` -> ``3h``, ``90`` -> ``1m30s``, ``0`` -> ``0s``."""
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            out += f"{n}{unit}"
    return out


def time_text_ms(seconds: float) -> str:
    """nft's time format with milliseconds (an element's ``expires``): ``10799.96`` ->
    ``2h59m59s960ms``."""
    ms = max(0, int(round(seconds * 1000)))
    out = ""
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)):
        n, ms = divmod(ms, size)
        if n:
            out += f"{n}{unit}"
    return out or "0ms"


# ---------------------------------------------------------------------------- elements


def _component_bytes(kind: str, text: str) -> bytes:
    if kind == "ipv4_addr":
        return ipaddress.IPv4Address(text).packed
    if kind == "inet_proto":
        return bytes([_PROTO_NUMBERS[text] if text in _PROTO_NUMBERS else int(text)])
    if kind == "inet_service":
        return int(text).to_bytes(2, "big")
    raise ValueError(f"no byte form for {kind}")


def _key_types(s: NftSet) -> list[str]:
    keys = s.type.split(":", 1)[0] if s.is_map else s.type
    return [k.strip() for k in keys.split(" . ")]


def _sort_key(types: list[str], key: tuple[str, ...]):
    if len(types) == 1:
        if types[0] == "ipv4_addr":
            return int(ipaddress.IPv4Address(key[0]))
        return int(_component_bytes(types[0], key[0]).hex(), 16)
    data = b"".join(_component_bytes(t, k) for t, k in zip(types, key))
    return int.from_bytes(data, "little")


def _per_line(types: list[str]) -> int | None:
    """How many elements nft prints on one line (None: one per line)."""
    if len(types) != 1:
        return None
    if types[0] in ("ipv4_addr", "ipv6_addr", "mark", "ct_state"):
        return 2
    if types[0] in ("inet_proto", "inet_service", "integer"):
        return 5
    return None


def _elements_text(s: NftSet) -> str:
    types = _key_types(s)
    elements = sorted(s.elements.values(), key=lambda e: _sort_key(types, e.key))
    per_line = _per_line(types)
    out, count = "", 0
    for i, el in enumerate(elements):
        if i:
            if per_line is not None and count < per_line:
                out += ", "
            else:
                count = 0
                out += NEWLINE_DELIM
        text = " . ".join(el.key)
        if el.expires is not None:
            text += f" expires {time_text_ms(el.expires)}"
        if el.comment is not None:
            text += f' comment "{el.comment}"'
        if el.value:
            text += " : " + " . ".join(el.value)
        out += text
        count += 1
    return "{ " + out + " }"


def _handle_text(handle: int, handles: bool) -> str:
    return f" # handle {handle}" if handles else ""


def _set_text(s: NftSet, size: int | None, handles: bool = False) -> str:
    lines = [f"\t{s.kind} {s.name} {{{_handle_text(s.handle, handles)}", f"\t\ttype {s.type}"]
    if size:
        lines.append(f"\t\tsize {size}")
    if s.flags:
        lines.append(f"\t\tflags {','.join(s.flags)}")
    if s.timeout is not None:
        lines.append(f"\t\ttimeout {time_text(s.timeout)}")
    if s.comment is not None:
        lines.append(f'\t\tcomment "{s.comment}"')
    if s.elements:
        lines.append(f"\t\telements = {_elements_text(s)}")
    lines.append("\t}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ expressions

_TOKEN = re.compile(r'"[^"]*"|[{}]|,|[^\s{},]+')
_BITWISE = {"and": "&", "or": "|", "xor": "^"}
_MARK_OPS = {"&", "|", "^", "==", "!=", "set"}


def _anon_set(items: list[str]) -> str:
    nets = []
    for it in items:
        try:
            nets.append(ipaddress.ip_network(it, strict=False))
        except ValueError:
            return "{ " + ", ".join(items) + " }"
    nets = sorted(set(nets), key=lambda n: (int(n.network_address), -n.prefixlen))
    kept = [n for n in nets if not any(o != n and n.subnet_of(o) for o in nets)]

    def show(n):
        return str(n.network_address) if n.prefixlen == 32 else str(n)

    if len(items) == 1:
        return show(kept[0])
    return "{ " + ", ".join(show(n) for n in kept) + " }"


def _hex32(token: str) -> str:
    try:
        return f"0x{int(token, 0):08x}"
    except ValueError:
        return token


def expr_text(expr: str) -> str:
    """A rule expression as ``nft list`` prints it back (see the module docstring)."""
    tokens = _TOKEN.findall(expr)
    out: list[str] = []
    i = 0
    mark_ctx = False
    while i < len(tokens):
        tok = tokens[i]
        if tok == "{":
            depth, j = 1, i + 1
            while j < len(tokens) and depth:
                depth += {"{": 1, "}": -1}.get(tokens[j], 0)
                j += 1
            inner = tokens[i + 1 : j - 1]
            prev = out[-1] if out else ""
            if prev == "vmap" or prev.startswith("@"):
                groups, cur = [], []
                for t in inner:
                    if t == ",":
                        groups.append(" ".join(cur))
                        cur = []
                    else:
                        cur.append(t)
                groups.append(" ".join(cur))
                out.append("{ " + ", ".join(groups) + " }")
            else:
                out.append(_anon_set([t for t in inner if t != ","]))
            i = j
            mark_ctx = False
            continue
        if tok == "mark" and (not out or out[-1] not in ("meta", "ct")):
            out += ["meta", "mark"]
            mark_ctx = True
        elif tok in _BITWISE and mark_ctx:
            out.append(_BITWISE[tok])
        elif mark_ctx and out and out[-1] in _MARK_OPS and out[-1] != "set":
            out.append(_hex32(tok))
        else:
            out.append(tok)
            if tok not in _MARK_OPS and tok not in ("meta", "mark"):
                mark_ctx = False
        i += 1
    return " ".join(out)


# ---------------------------------------------------------------------------- chains


def _chain_text(c: NftChain, handles: bool = False, rules: bool = True) -> str:
    lines = [f"\tchain {c.name} {{{_handle_text(c.handle, handles)}"]
    if c.is_base:
        lines.append(f"\t\ttype {c.type} hook {c.hook} priority {priority_text(c.hook, c.priority)}; "
                     f"policy {c.policy or 'accept'};")
    if c.comment is not None:
        lines.append(f'\t\tcomment "{c.comment}"')
    for r in c.rules if rules else ():
        if r.printed is not None:
            lines.append("\t\t" + r.printed + _handle_text(r.handle, handles))
            continue
        text = expr_text(r.expr)
        if r.comment is not None:
            text += f' comment "{r.comment}"'
        lines.append("\t\t" + text + _handle_text(r.handle, handles))
    lines.append("\t}")
    return "\n".join(lines) + "\n"


_UPDATED_SET = re.compile(r"(?:^|\s)(?:update|add) @(\S+)")


def _listed_size(table: NftTable, s: NftSet) -> int | None:
    if s.size is not None:
        return s.size
    updated = {m.group(1) for c in table.chains.values() for r in c.rules for m in _UPDATED_SET.finditer(r.expr)}
    if s.name in updated and "dynamic" in s.flags:
        return DEFAULT_DYNAMIC_SIZE
    return None


def render_nft_table(table: NftTable, handles: bool = False) -> str:
    """One table as ``nft list table`` / ``nft list ruleset`` prints it (``handles``: as
    ``nft -a`` prints it, `` # handle N`` after the table, each set, chain and rule)."""
    updated = {m.group(1) for c in table.chains.values() for r in c.rules for m in _UPDATED_SET.finditer(r.expr)}
    parts = []
    for s in table.sets.values():
        size = s.size
        if size is None and s.name in updated and "dynamic" in s.flags:
            size = DEFAULT_DYNAMIC_SIZE
        parts.append(_set_text(s, size, handles))
    parts += [_chain_text(c, handles) for c in table.chains.values()]
    head = f"table {table.family} {table.name} {{{_handle_text(1, handles)}\n"
    if table.comment is not None:
        head += f'\tcomment "{table.comment}"\n'
    return head + "\n".join(parts) + "}\n"


def render_nft_ruleset(tables: list[NftTable], handles: bool = False) -> str:
    """``nft list ruleset`` for these tables (in order; ``handles``: ``nft -a``)."""
    return "".join(render_nft_table(t, handles) for t in tables)


def render_nft_chain(table: NftTable, chain: NftChain, handles: bool = False) -> str:
    """``nft list chain FAMILY TABLE CHAIN``: the chain inside its table's braces."""
    return f"table {table.family} {table.name} {{\n" + _chain_text(chain, handles) + "}\n"


def render_nft_set(table: NftTable, s: NftSet, handles: bool = False) -> str:
    """``nft list set|map FAMILY TABLE NAME``: the set inside its table's braces."""
    return f"table {table.family} {table.name} {{\n" + _set_text(s, _listed_size(table, s), handles) + "}\n"


def render_nft_objects(table: NftTable, what: str, handles: bool = False) -> str:
    """``nft list chains|sets|maps``: each object of that kind, no blank lines between,
    chains without their rules (base chains keep their ``type … hook …`` line)."""
    out = f"table {table.family} {table.name} {{\n"
    if what == "chains":
        out += "".join(_chain_text(c, handles, rules=False) for c in table.chains.values())
    else:
        out += "".join(_set_text(s, _listed_size(table, s), handles) for s in table.sets.values()
                       if s.is_map == (what == "maps"))
    return out + "}\n"
