"""The data model of an iptables ruleset: tables, chains, rules, matches, targets.

A ``Rule`` keeps every part of the rule in a structured, normalised form (addresses
as CIDR text with their prefix, protocols lower case, match modules in the order the
kernel keeps them), so it can be rendered the way ``iptables-save`` prints it and
evaluated against a packet.  Stdlib only; nothing here knows about Kubernetes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

#: The built-in chains of each table, in the order iptables-save prints them.
BUILTIN_CHAINS: dict[str, tuple[str, ...]] = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
}

#: Targets that end the traversal of the current hook in this table.
TERMINAL_TARGETS = frozenset({"ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE"})


@dataclass(frozen=True)
class Option:
    """One option of a match module or target: ``! --dport 80`` is
    ``Option("--dport", ("80",), negated=True)``."""

    name: str
    args: tuple[str, ...] = ()
    negated: bool = False

    def __init__(self, name: str, args: tuple[str, ...] = (), negated: bool = False) -> None:
        # (the frozen dataclass __init__ sets each field through object.__setattr__,
        # twice as slow: a dump makes ~10^5 of these)
        d = self.__dict__
        d["name"], d["args"], d["negated"] = name, args, negated

    @property
    def value(self) -> str:
        return " ".join(self.args)


@dataclass(frozen=True)
class Match:
    """A ``-m module`` match with its options, in the order given."""

    module: str
    options: tuple[Option, ...] = ()

    def __init__(self, module: str, options: tuple[Option, ...] = ()) -> None:
        d = self.__dict__  # (as Option.__init__)
        d["module"], d["options"] = module, options

    def get(self, name: str) -> Option | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None


class Rule(NamedTuple):
    """One rule, immutable.  A named tuple rather than a frozen dataclass: a kube-proxy
    dump has ~10^5 rules, and a tuple is built in a third of the time and memory
    (change one with ``rule._replace(field=value)``)."""

    chain: str
    src: str | None = None  # normalised CIDR, e.g. "10.0.0.0/8", "10.96.0.1/32"
    src_neg: bool = False
    dst: str | None = None
    dst_neg: bool = False
    in_iface: str | None = None
    in_neg: bool = False
    out_iface: str | None = None
    out_neg: bool = False
    proto: str | None = None  # "tcp", "udp", "icmp", "sctp", "all" never stored
    proto_neg: bool = False
    matches: tuple[Match, ...] = ()
    target: str | None = None  # ACCEPT, DNAT, KUBE-SVC-..., None = no target (counter only)
    target_options: tuple[Option, ...] = ()
    goto: bool = False  # -g instead of -j
    line: int = 0  # line number in the text it was parsed from (0 = built in code)
    packets: int = 0
    bytes: int = 0

    def match(self, module: str) -> Match | None:
        for m in self.matches:
            if m.module == module:
                return m
        return None

    def target_option(self, name: str) -> Option | None:
        for opt in self.target_options:
            if opt.name == name:
                return opt
        return None

    @property
    def comment(self) -> str | None:
        m = self.match("comment")
        if m is None:
            return None
        opt = m.get("--comment")
        return opt.value if opt else None


@dataclass
class Chain:
    name: str
    policy: str | None = None  # ACCEPT/DROP for built-in chains, None for user chains
    rules: list[Rule] = field(default_factory=list)
    packets: int = 0
    bytes: int = 0

    @property
    def builtin(self) -> bool:
        return self.policy is not None


@dataclass
class Table:
    name: str
    chains: dict[str, Chain] = field(default_factory=dict)  # insertion order = declaration order

    def chain(self, name: str) -> Chain:
        return self.chains[name]

    def ensure_builtins(self) -> None:
        for name in BUILTIN_CHAINS.get(self.name, ()):
            self.chains.setdefault(name, Chain(name, policy="ACCEPT"))


@dataclass
class Ruleset:
    tables: dict[str, Table] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        if name not in self.tables:
            t = Table(name)
            t.ensure_builtins()
            self.tables[name] = t
        return self.tables[name]

    def copy(self) -> "Ruleset":
        out = Ruleset()
        for tname, t in self.tables.items():
            nt = Table(tname)
            for cname, c in t.chains.items():
                nt.chains[cname] = Chain(c.name, c.policy, list(c.rules), c.packets, c.bytes)
            out.tables[tname] = nt
        return out
