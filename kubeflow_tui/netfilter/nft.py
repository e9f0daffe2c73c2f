"""nftables objects of one table, the transaction text that builds them (``nft -f``)
and the state that transaction leaves behind.  Stdlib only; nothing here knows about
Kubernetes.

A ``Transaction`` is an ordered list of operations, each written as one line exactly
the way knftables writes it for ``nft -f`` (``add table ip t { comment "..." ; }``,
``add chain ip t c { type nat hook prerouting priority -100 ; }``, ``add rule ip t c
EXPR comment "..."``, ``add element ip t s { KEY comment "..." : VALUE }``, ``flush
…``, ``delete …``).  ``Transaction.apply()`` replays the operations the way the kernel
does and returns the resulting ``NftTable``; ``netfilter.nft_list`` prints that as
``nft list ruleset`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# nft's named priorities for the ip/ip6/inet families (``nft describe`` / libnftables)
PRIORITY_NAMES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}


class NftError(ValueError):
    """An operation the kernel would refuse (unknown chain, set, duplicate key ...)."""


@dataclass
class NftRule:
    chain: str
    expr: str
    comment: str | None = None
    handle: int = 0
    printed: str | None = None  # read from a listing: the line exactly as nft printed it
    line: int = field(default=0, compare=False)  # read from a listing: its line number (1-based)

    def text(self) -> str:
        """The rule as written in the transaction (``EXPR comment "..."``)."""
        return self.expr + (f' comment "{self.comment}"' if self.comment is not None else "")


@dataclass
class NftChain:
    name: str
    type: str | None = None
    hook: str | None = None
    priority: int | None = None
    policy: str | None = None
    comment: str | None = None
    rules: list[NftRule] = field(default_factory=list)
    handle: int = 0

    @property
    def is_base(self) -> bool:
        return self.hook is not None


@dataclass
class NftElement:
    key: tuple[str, ...]
    value: tuple[str, ...] = ()
    comment: str | None = None
    #: an element of a dynamic set added from the packet path: seconds until it expires
    #: (``nft list`` prints ``KEY expires 2h59m59s960ms``)
    expires: float | None = field(default=None, compare=False)


@dataclass
class NftSet:
    """A named set, or a map when ``is_map`` (``type`` then holds ``KEYS : VALUE``)."""

    name: str
    type: str
    is_map: bool = False
    flags: tuple[str, ...] = ()
    timeout: int | None = None  # seconds
    comment: str | None = None
    elements: dict[tuple[str, ...], NftElement] = field(default_factory=dict)
    handle: int = 0
    size: int | None = None  # as listed; None: nft's default

    @property
    def kind(self) -> str:
        return "map" if self.is_map else "set"


@dataclass
class NftTable:
    family: str
    name: str
    comment: str | None = None
    chains: dict[str, NftChain] = field(default_factory=dict)
    sets: dict[str, NftSet] = field(default_factory=dict)

    def chain(self, name: str) -> NftChain:
        try:
            return self.chains[name]
        except KeyError:
            raise NftError(f"no chain {name!r} in table {self.family} {self.name}") from None

    def set(self, name: str) -> NftSet:
        try:
            return self.sets[name]
        except KeyError:
            raise NftError(f"no set or map {name!r} in table {self.family} {self.name}") from None


# ------------------------------------------------------------------------ operations


@dataclass(frozen=True)
class Op:
    """One transaction line: ``verb`` (add, flush, delete) and the object it names."""

    verb: str
    obj: object  # NftTable | NftChain | NftSet | NftRule | tuple[set name, NftElement]


def anonymous_sets(expr: str) -> int:
    """How many anonymous sets/maps nft creates for a rule: one per ``vmap { … }`` and per
    ``{ … }`` of two or more elements (one element is compared directly; the ``{ ip saddr }``
    of ``update @set`` is a key, not a set)."""
    tokens = re.findall(r'"[^"]*"|[{},]|[^\s{},]+', expr)
    count = 0
    for i, tok in enumerate(tokens):
        if tok != "{" or i == 0:
            continue
        prev = tokens[i - 1]
        if prev.startswith("@"):
            continue
        if prev == "vmap":
            count += 1
            continue
        depth, j, commas = 1, i + 1, 0
        while j < len(tokens) and depth:
            depth += {"{": 1, "}": -1}.get(tokens[j], 0)
            commas += tokens[j] == "," and depth == 1
            j += 1
        count += commas > 0
    return count


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Transaction:
    """The operations sent to ``nft -f`` for one table, in order."""

    def __init__(self, family: str, table: str) -> None:
        self.family = family
        self.table = table
        self.ops: list[Op] = []

    # -- building
    def add_table(self, comment: str | None = None) -> None:
        self.ops.append(Op("add", NftTable(self.family, self.table, comment)))

    def add_chain(self, name: str, *, type: str | None = None, hook: str | None = None,
                  priority: int | None = None, comment: str | None = None) -> None:
        self.ops.append(Op("add", NftChain(name, type, hook, priority, None, comment)))

    def flush_chain(self, name: str) -> None:
        self.ops.append(Op("flush", NftChain(name)))

    def delete_chain(self, name: str) -> None:
        self.ops.append(Op("delete", NftChain(name)))

    def add_set(self, name: str, type: str, *, is_map: bool = False, flags: tuple[str, ...] = (),
                timeout: int | None = None, comment: str | None = None) -> None:
        self.ops.append(Op("add", NftSet(name, type, is_map, tuple(flags), timeout, comment)))

    def flush_set(self, name: str, *, is_map: bool = False) -> None:
        self.ops.append(Op("flush", NftSet(name, "", is_map)))

    def delete_set(self, name: str, *, is_map: bool = False) -> None:
        self.ops.append(Op("delete", NftSet(name, "", is_map)))

    def add_rule(self, chain: str, expr: str, comment: str | None = None) -> None:
        self.ops.append(Op("add", NftRule(chain, expr, comment)))

    def add_element(self, set_name: str, key: tuple[str, ...], value: tuple[str, ...] = (),
                    comment: str | None = None) -> None:
        self.ops.append(Op("add", (set_name, NftElement(tuple(key), tuple(value), comment))))

    # -- text
    def line(self, op: Op) -> str:
        fam_tab = f"{self.family} {self.table}"
        o = op.obj
        if isinstance(o, NftTable):
            text = f"{op.verb} table {fam_tab}"
            if op.verb == "add" and o.comment is not None:
                text += f" {{ comment {_q(o.comment)} ; }}"
            return text
        if isinstance(o, NftChain):
            text = f"{op.verb} chain {fam_tab} {o.name}"
            if op.verb == "add" and (o.type is not None or o.comment is not None):
                text += " {"
                if o.type is not None:
                    text += f" type {o.type} hook {o.hook} priority {o.priority} ;"
                if o.comment is not None:
                    text += f" comment {_q(o.comment)} ;"
                text += " }"
            return text
        if isinstance(o, NftSet):
            text = f"{op.verb} {o.kind} {fam_tab} {o.name}"
            if op.verb == "add":
                text += f" {{ type {o.type} ;"
                if o.flags:
                    text += f" flags {','.join(o.flags)} ;"
                if o.timeout is not None:
                    text += f" timeout {o.timeout}s ;"
                if o.comment is not None:
                    text += f" comment {_q(o.comment)} ;"
                text += " }"
            return text
        if isinstance(o, NftRule):
            return f"{op.verb} rule {fam_tab} {o.chain} {o.text()}"
        set_name, el = o
        text = f"{op.verb} element {fam_tab} {set_name} {{ {' . '.join(el.key)}"
        if op.verb == "add":
            if el.comment is not None:
                text += f" comment {_q(el.comment)}"
            if el.value:
                text += f" : {' . '.join(el.value)}"
        return text + " }"

    def text(self) -> str:
        """The whole transaction, one operation a line (what kube-proxy pipes to ``nft -f -``)."""
        return "".join(self.line(op) + "\n" for op in self.ops)

    # -- state
    def apply(self, table: NftTable | None = None) -> NftTable:
        """Replay the operations on ``table`` (a fresh, empty one by default), as the kernel
        would: ``add`` of an existing object keeps it, ``flush`` empties, ``delete`` removes."""
        t = table if table is not None else NftTable(self.family, self.table)
        handle = max([0] + [c.handle for c in t.chains.values()] + [s.handle for s in t.sets.values()]
                     + [r.handle for c in t.chains.values() for r in c.rules])
        for op in self.ops:
            o = op.obj
            if isinstance(o, NftTable):
                if op.verb == "add" and o.comment is not None:
                    t.comment = o.comment
                elif op.verb == "delete":
                    t.chains.clear()
                    t.sets.clear()
                continue
            if isinstance(o, NftChain):
                if op.verb == "add":
                    if o.name not in t.chains:
                        handle += 1
                        t.chains[o.name] = NftChain(o.name, o.type, o.hook, o.priority, o.policy,
                                                    o.comment, [], handle)
                    elif o.type is not None:
                        old = t.chains[o.name]
                        if (old.type, old.hook, old.priority) != (o.type, o.hook, o.priority):
                            raise NftError(f"chain {o.name!r} exists with other hook or priority")
                elif op.verb == "flush":
                    t.chain(o.name).rules.clear()
                else:
                    ch = t.chain(o.name)
                    if ch.rules:
                        raise NftError(f"cannot delete chain {o.name!r}: it is not empty")
                    del t.chains[o.name]
                continue
            if isinstance(o, NftSet):
                if op.verb == "add":
                    if o.name not in t.sets:
                        handle += 1
                        t.sets[o.name] = NftSet(o.name, o.type, o.is_map, o.flags, o.timeout, o.comment, {}, handle)
                elif op.verb == "flush":
                    t.set(o.name).elements.clear()
                else:
                    t.set(o.name)
                    del t.sets[o.name]
                continue
            if isinstance(o, NftRule):
                handle += 1 + anonymous_sets(o.expr)  # the kernel numbers a rule's anonymous sets first
                t.chain(o.chain).rules.append(NftRule(o.chain, o.expr, o.comment, handle))
                continue
            set_name, el = o
            s = t.set(set_name)
            if op.verb == "add":
                if el.key in s.elements and s.elements[el.key].value != el.value:
                    raise NftError(f"element {' . '.join(el.key)} already exists in {set_name!r}")
                s.elements.setdefault(el.key, el)
            else:
                s.elements.pop(el.key, None)
        return t


def table_as_transaction(table: NftTable) -> Transaction:
    """A table's state as the ``add`` operations that rebuild it on an empty node: the
    table, its sets and maps, its chains, their rules, the elements (what knftables'
    fake ``Dump()`` prints, in the same line format)."""
    tx = Transaction(table.family, table.name)
    tx.add_table(table.comment)
    for s in table.sets.values():
        tx.add_set(s.name, s.type, is_map=s.is_map, flags=s.flags, timeout=s.timeout, comment=s.comment)
    for c in table.chains.values():
        tx.add_chain(c.name, type=c.type, hook=c.hook, priority=c.priority, comment=c.comment)
    for c in table.chains.values():
        for r in c.rules:
            tx.add_rule(c.name, r.expr, r.comment)
    for s in table.sets.values():
        for el in s.elements.values():
            tx.add_element(s.name, el.key, el.value, el.comment)
    return tx
