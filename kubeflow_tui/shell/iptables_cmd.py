"""``iptables`` and ``iptables-save`` over a node's live ruleset (iptables 1.8.9, nf_tables).

Option parsing follows iptables' own ``do_parse``: getopt in order, combined short
flags (``-nL``, ``-tnat``), ``--table=nat`` and unambiguous long prefixes
(``--line``), ``-L``/``-S``/``-F``/``-X``/``-Z`` take a chain only right after them
(``-L -n CHAIN`` is "Bad argument `CHAIN'", as on a real node), and the rule
specification is handed to the engine's ``parse_rule_args``.  Error texts and exit
codes are the ones the real tool prints (checked on a real node).
"""

from __future__ import annotations

import dataclasses
import re

from ..netfilter import IptablesError, parse_rule_args, render_list, render_rule, render_rules_S, render_save
from ..netfilter.rules import BUILTIN_CHAINS, Chain, Ruleset, Table
from .base import CommandError, ShellContext, ShellResult

VERSION = "iptables v1.8.9 (nf_tables)"
PREFIX = VERSION + ": "
TRY = "Try `iptables -h' or 'iptables --help' for more information."
TABLES = ("raw", "mangle", "nat", "filter")
NO_CHAIN = "iptables: No chain/target/match by that name."
NO_PERM = "Could not fetch rule set generation id: Permission denied (you must be root)"
MAX_CHAIN_NAME = 28

try:  # option tables of the engine's parser: how many words each long option takes
    from ..netfilter.names import MATCH_OPTIONS, TARGET_OPTIONS
except Exception:  # pragma: no cover - engine without them
    MATCH_OPTIONS, TARGET_OPTIONS = {}, {}

_SPEC_NARGS: dict[str, int] = {}
for _table in (MATCH_OPTIONS, TARGET_OPTIONS):
    for _opts in _table.values():
        for _name, (_canon, _n) in _opts.items():
            _SPEC_NARGS[_name] = max(_SPEC_NARGS.get(_name, 0), _n)

#: long spellings of iptables' own options -> short letter
_LONG_CMD = {
    "--append": "A", "--check": "C", "--delete": "D", "--insert": "I", "--replace": "R",
    "--list": "L", "--list-rules": "S", "--flush": "F", "--zero": "Z", "--new-chain": "N",
    "--delete-chain": "X", "--rename-chain": "E", "--policy": "P", "--table": "t",
    "--numeric": "n", "--verbose": "v", "--exact": "x", "--line-numbers": "#",
    "--wait": "w", "--wait-interval": "W", "--help": "h", "--version": "V", "--ipv4": "4",
    "--ipv6": "6", "--modprobe": "M", "--new": "N",
}
#: long spellings of rule-spec options (passed through to the engine)
_LONG_SPEC = {
    "--source": "-s", "--src": "-s", "--destination": "-d", "--dst": "-d", "--protocol": "-p",
    "--in-interface": "-i", "--out-interface": "-o", "--jump": "-j", "--goto": "-g",
    "--match": "-m", "--fragment": "-f", "--set-counters": "-c",
}
_CMD_REQ = set("ACDIRNEP")  # commands whose chain argument is required
_CMD_OPT = set("LSFZX")  # commands whose chain argument is optional
_CMD_LETTERS = _CMD_REQ | _CMD_OPT | {"h", "V"}
_SPEC_LETTERS = set("psdiojgmc")
_FLAG_LETTERS = set("nvx46")
LIST_ONLY = {"n": "-n", "x": "-x", "#": "--line-numbers"}


def _usage(msg: str, code: int = 2, prefix: bool = True) -> CommandError:
    text = (PREFIX if prefix else "") + msg
    return CommandError(f"{text}\n{TRY}", code)


def _has_arg(argv: list[str], i: int) -> bool:
    """xshared.c xs_has_arg: the next word exists and does not start with - or !."""
    return i < len(argv) and argv[i][:1] not in ("-", "!") and argv[i] != ""


def _rulenum(text: str) -> int:
    try:
        n = int(text, 10)
    except ValueError:
        n = 0
    if n <= 0 or not text.strip().lstrip("+").isdigit():
        raise _usage(f"Invalid rule number `{text}'")
    return n


@dataclasses.dataclass
class Parsed:
    command: str = ""  # one letter of _CMD_LETTERS
    chain: str | None = None
    rulenum: int | None = None
    newname: str | None = None
    policy: str | None = None
    table: str = "filter"
    numeric: bool = False
    verbose: int = 0
    exact: bool = False
    line_numbers: bool = False
    spec: list[str] = dataclasses.field(default_factory=list)
    list_opts: list[str] = dataclasses.field(default_factory=list)
    zero_too: bool = False


def parse_args(argv: list[str]) -> Parsed:
    """Parse iptables' command line into a ``Parsed``; raises CommandError like iptables."""
    p = Parsed()
    i = 0
    n = len(argv)

    def set_command(letter: str) -> None:
        if p.command:
            if {p.command, letter} == {"L", "Z"}:
                p.zero_too = True
                if letter == "Z":
                    return
            else:
                raise _usage(f"Cannot use -{letter} with -{p.command}")
        p.command = letter

    def handle(letter: str, attached: str | None) -> None:
        """One option letter; ``attached`` is the rest of its short cluster (or =value)."""
        nonlocal i
        if letter in _CMD_REQ:
            if attached:
                arg = attached
            elif i < n:
                arg = argv[i]
                i += 1
            else:
                raise _usage(f'option "-{letter}" requires an argument')
            set_command(letter)
            p.chain = arg
            if letter in ("D",) and _has_arg(argv, i):
                p.rulenum = _rulenum(argv[i])
                i += 1
            elif letter == "I" and _has_arg(argv, i):
                p.rulenum = _rulenum(argv[i])
                i += 1
            elif letter == "R":
                if _has_arg(argv, i):
                    p.rulenum = _rulenum(argv[i])
                    i += 1
                else:
                    raise _usage("-R requires a rule number")
            elif letter == "E":
                if _has_arg(argv, i):
                    p.newname = argv[i]
                    i += 1
                else:
                    raise _usage("-E requires old-chain-name and new-chain-name")
            elif letter == "P":
                if _has_arg(argv, i):
                    p.policy = argv[i]
                    i += 1
                else:
                    raise _usage("-P requires a chain and a policy")
            return
        if letter in _CMD_OPT:
            set_command(letter)
            if attached:
                p.chain = attached
            elif _has_arg(argv, i):
                p.chain = argv[i]
                i += 1
            if letter in ("L", "S", "Z") and p.chain is not None and _has_arg(argv, i):
                p.rulenum = _rulenum(argv[i])
                i += 1
            return
        if letter in ("h", "V"):
            set_command(letter)
            return
        if letter == "t":
            if attached:
                arg = attached
            elif i < n:
                arg = argv[i]
                i += 1
            else:
                raise _usage('option "-t" requires an argument')
            if arg.startswith("!"):
                raise _usage("unexpected ! flag before --table")
            p.table = arg
            return
        if letter == "n":
            p.numeric = True
            p.list_opts.append("-n")
        elif letter == "v":
            p.verbose += 1
        elif letter == "x":
            p.exact = True
            p.list_opts.append("-x")
        elif letter == "#":
            p.line_numbers = True
            p.list_opts.append("--line-numbers")
        elif letter == "w":
            if attached is None and i < n and argv[i].isdigit():
                i += 1
        elif letter == "W":
            if attached is None:
                if i < n:
                    i += 1
                else:
                    raise _usage('option "-W" requires an argument')
        elif letter == "M":
            if attached is None:
                if i < n:
                    i += 1
                else:
                    raise _usage('option "--modprobe" requires an argument')
        # 4 and 6: nothing to do (-6 is refused later)
        elif letter == "6":
            raise _usage("This is the IPv4 version of iptables.")

    def spec_option(name: str, attached: str | None) -> None:
        """A rule-spec option and its words, passed through to the engine."""
        nonlocal i
        p.spec.append(name)
        if name in ("-f",):
            return
        nargs = 2 if name == "-c" else _SPEC_NARGS.get(name, 1 if name.startswith("-") and len(name) == 2 else None)
        if nargs is None:  # a long option nobody knows: the engine will complain about it
            nargs = 1 if (attached is not None or _has_arg(argv, i)) else 0
        if attached is not None:
            p.spec.append(attached)
            nargs -= 1
        for _ in range(max(nargs, 0)):
            if i < n:
                p.spec.append(argv[i])
                i += 1

    while i < n:
        tok = argv[i]
        i += 1
        if tok == "!":
            p.spec.append(tok)
            continue
        if tok.startswith("--") and len(tok) > 2:
            name, eq, val = tok.partition("=")
            attached = val if eq else None
            if name in _LONG_SPEC:
                spec_option(_LONG_SPEC[name], attached)
                continue
            matches = [k for k in _LONG_CMD if k == name] or [
                k for k in _LONG_CMD if k.startswith(name) and len(name) > 2
            ]
            if len(matches) > 1 and name not in _LONG_CMD:
                # getopt_long: an ambiguous abbreviation of our options; a module option
                # of the same spelling wins if it exists (e.g. --set)
                if name in _SPEC_NARGS:
                    spec_option(name, attached)
                    continue
                raise _usage(f"option '{name}' is ambiguous", prefix=False)
            if matches and name not in _SPEC_NARGS:
                handle(_LONG_CMD[matches[0]], attached)
                continue
            if name not in _SPEC_NARGS:  # no loaded extension knows it: getopt_long refuses it
                raise _usage(f'unknown option "{name}"')
            spec_option(name, attached)
            continue
        if tok.startswith("-") and len(tok) > 1:
            k = 1
            while k < len(tok):
                letter = tok[k]
                rest = tok[k + 1:] or None
                if letter in _CMD_REQ or letter in _CMD_OPT or letter in ("t", "W", "M"):
                    handle(letter, rest)
                    break
                if letter in _SPEC_LETTERS:
                    spec_option("-" + letter, rest)
                    break
                if letter in _FLAG_LETTERS or letter in ("h", "V", "w"):
                    if letter == "w" and rest is not None:
                        handle("w", rest)
                        break
                    handle(letter, None)
                    k += 1
                    continue
                if letter == "f":
                    spec_option("-f", None)
                    k += 1
                    continue
                raise _usage(f'unknown option "{tok if k == 1 and len(tok) == 2 else "-" + letter}"')
            continue
        raise _usage(f"Bad argument `{tok}'", prefix=False)

    if not p.command:
        raise _usage("no command specified")
    if p.command not in ("L",) and p.list_opts and p.command != "S":
        raise _usage(f"Illegal option `{p.list_opts[0]}' with this command")
    if p.command not in ("A", "C", "D", "I", "R") and p.spec:
        first = p.spec[0]
        raise _usage(f"Illegal option `{first}' with this command")
    if p.command == "D" and p.rulenum is not None and p.spec:
        raise _usage(f"Bad argument `{p.spec[0]}'", prefix=False)
    return p


HELP = """iptables v1.8.9 (nf_tables)

Usage: iptables -[ACD] chain rule-specification [options]
       iptables -I chain [rulenum] rule-specification [options]
       iptables -R chain rulenum rule-specification [options]
       iptables -D chain rulenum [options]
       iptables -[LS] [chain [rulenum]] [options]
       iptables -[FZ] [chain] [options]
       iptables -[NX] chain
       iptables -E old-chain-name new-chain-name
       iptables -P chain target [options]
       iptables -h (print this help information)

Commands:
Either long or short options are allowed.
  --append  -A chain		Append to chain
  --check   -C chain		Check for the existence of a rule
  --delete  -D chain		Delete matching rule from chain
  --delete  -D chain rulenum
				Delete rule rulenum (1 = first) from chain
  --insert  -I chain [rulenum]
				Insert in chain as rulenum (default 1=first)
  --replace -R chain rulenum
				Replace rule rulenum (1 = first) in chain
  --list    -L [chain [rulenum]]
				List the rules in a chain or all chains
  --list-rules -S [chain [rulenum]]
				Print the rules in a chain or all chains
  --flush   -F [chain]		Delete all rules in  chain or all chains
  --zero    -Z [chain [rulenum]]
				Zero counters in chain or all chains
  --new     -N chain		Create a new user-defined chain
  --delete-chain
	    -X [chain]		Delete a user-defined chain
  --policy  -P chain target
				Change policy on chain to target
  --rename-chain
	    -E old-chain new-chain
				Change chain name, (moving any references)

Options:
    --ipv4	-4		Nothing (line is ignored by ip6tables-restore)
    --ipv6	-6		Error (line is ignored by iptables-restore)
[!] --protocol	-p proto	protocol: by number or name, eg. `tcp'
[!] --source	-s address[/mask][...]
				source specification
[!] --destination -d address[/mask][...]
				destination specification
[!] --in-interface -i input name[+]
				network interface name ([+] for wildcard)
 --jump	-j target
				target for rule (may load target extension)
  --goto      -g chain
			       jump to chain with no return
  --match	-m match
				extended match (may load extension)
  --numeric	-n		numeric output of addresses and ports
[!] --out-interface -o output name[+]
				network interface name ([+] for wildcard)
  --table	-t table	table to manipulate (default: `filter')
  --verbose	-v		verbose mode
  --wait	-w [seconds]	maximum wait to acquire xtables lock before give up
  --line-numbers		print line numbers when listing
  --exact	-x		expand numbers (display exact values)
[!] --fragment	-f		match second or further fragments only
  --modprobe=<command>		try to insert modules using this command
  --set-counters -c PKTS BYTES	set the counter during insert/append
[!] --version	-V		print package version.
"""


def _view(ctx: ShellContext, table: str) -> Ruleset:
    """The node's ruleset for reading; a table it lacks shows as empty built-ins."""
    rs = ctx.sim.counters.view(ctx.host_name, ctx.sim.node_ruleset(ctx.host_name))
    if table not in rs.tables:
        rs = rs.copy()
        rs.table(table)
    return rs


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise CommandError(
            f"{PREFIX}table '{table}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.", 3
        )


def _incompatible(chain: str, table: str) -> CommandError:
    # what iptables 1.8.9 (nf_tables) really prints for -L/-S of a chain that does not exist
    return CommandError(f"{PREFIX}chain `{chain}' in table `{table}' is incompatible, use 'nft' tool.", 1)


def _engine_error(e: IptablesError) -> CommandError:
    msg = e.message
    cut = msg.rfind(' in rule "')
    if cut >= 0:
        msg = msg[:cut]
    m = re.match(r'unsupported match "-m (.*)"$', msg)
    if m:
        return CommandError(f"{PREFIX}Couldn't load match `{m.group(1)}':No such file or directory\n\n{TRY}", 2)
    m = re.match(r'unknown chain or target "([^"]*)"', msg)
    if m:
        return CommandError(f"{PREFIX}Chain '{m.group(1)}' does not exist\n{TRY}", 2)
    if msg.startswith("Bad argument"):
        return CommandError(f"{msg}\n{TRY}", 2)
    if re.match(r"^[A-Za-z]+: ", msg):  # an extension's own check: iptables adds a blank line
        return CommandError(f"{PREFIX}{msg}\n\n{TRY}", 2)
    return CommandError(f"{PREFIX}{msg}\n{TRY}", 2)


#: the kernel's per-command name in "RULE_APPEND failed (...)"
_RULE_OP = {"A": "RULE_APPEND", "I": "RULE_INSERT", "R": "RULE_REPLACE"}
#: targets the kernel accepts only when reached from these built-in chains
_HOOKS = {"DNAT": ("PREROUTING", "OUTPUT"), "REDIRECT": ("PREROUTING", "OUTPUT"),
          "SNAT": ("INPUT", "POSTROUTING"), "MASQUERADE": ("POSTROUTING",),
          "REJECT": ("INPUT", "FORWARD", "OUTPUT")}


def _kernel_refuses(p: Parsed, why: str = "Invalid argument") -> CommandError:
    """What iptables-nft prints when the kernel refuses the rule the command sent
    (a target in a table or hook it does not allow, a loop)."""
    return CommandError(f"{PREFIX} {_RULE_OP.get(p.command, 'RULE_APPEND')} failed ({why}): rule in chain {p.chain}", 4)


def _kernel_check(t: Table, chain: str, rule, p: Parsed) -> None:
    """The checks nf_tables makes when a rule is added: a jump that closes a loop is
    refused (ELOOP, "Too many links"); a NAT or REJECT target (directly or anywhere
    down the jumped-to chains) reached from a hook that does not allow it is refused.
    A chain no built-in chain reaches is not checked (as in the kernel)."""
    callers: dict[str, set[str]] = {}
    for name, c in t.chains.items():
        for r in c.rules:
            if r.target in t.chains:
                callers.setdefault(r.target, set()).add(name)
    hooks: set[str] = set()
    seen = {chain}
    stack = [chain]
    while stack:
        c = stack.pop()
        if t.chains[c].builtin:
            hooks.add(c)
        for caller in callers.get(c, ()):
            if caller not in seen:
                seen.add(caller)
                stack.append(caller)
    # what the new rule leads to: its own target, or everything below the chain it jumps to
    targets: list[str] = []
    if rule.target in t.chains and not t.chains[rule.target].builtin:
        # depth-first with colours: meeting a chain still on the path (or this chain) is a loop
        state: dict[str, int] = {chain: 1}
        path = [(rule.target, iter(t.chains[rule.target].rules))]
        state[rule.target] = 1
        while path:
            name, it = path[-1]
            r = next(it, None)
            if r is None:
                state[name] = 2
                path.pop()
                continue
            if r.target in t.chains:
                st = state.get(r.target)
                if st == 1:
                    if hooks:
                        raise _kernel_refuses(p, "Too many links")
                    return
                if st is None:
                    state[r.target] = 1
                    path.append((r.target, iter(t.chains[r.target].rules)))
            elif r.target:
                targets.append(r.target)
    elif rule.target:
        targets.append(rule.target)
    for tg in targets:
        allowed = _HOOKS.get(tg)
        if allowed is not None and not hooks <= set(allowed):
            raise _kernel_refuses(p)


def _parse_rule(ctx: ShellContext, p: Parsed, rs: Ruleset):
    table = rs.tables.get(p.table)
    exists = table is not None and p.chain in table.chains
    try:
        if exists:
            rule = parse_rule_args(p.spec, p.table, p.chain, ruleset=rs)
            if rule.target == "DROP" and p.table == "nat":  # iptables' own check, before the kernel
                raise CommandError(f'{PREFIX}\nThe "nat" table is not intended for filtering, the use of DROP is '
                                   f"therefore inhibited.\n\n\n{TRY}", 2)
            return rule
        rule = parse_rule_args(p.spec, p.table, p.chain or "")
    except IptablesError as e:
        if exists and "can only be used in the" in e.message:
            # iptables sends the rule; the kernel refuses the target in this table
            if p.command in ("C", "D"):
                raise CommandError("iptables: Bad rule (does a matching rule exist in that chain?).", 1) from None
            raise _kernel_refuses(p) from None
        raise _engine_error(e) from None
    # the chain does not exist: a jump to a missing chain is still a parse error first
    if rule.target and rule.target not in TARGET_OPTIONS and rule.target not in ("QUEUE",):
        if table is None or rule.target not in table.chains:
            raise CommandError(f"{PREFIX}Chain '{rule.target}' does not exist\n{TRY}", 2)
    raise CommandError(NO_CHAIN, 1)


def _refs(t: Table, name: str) -> int:
    return sum(1 for c in t.chains.values() for r in c.rules if r.target == name)


def run_iptables(ctx: ShellContext, argv: list[str]) -> ShellResult:
    p = parse_args(argv)
    if p.command == "h":
        return ShellResult(stdout=HELP)
    if p.command == "V":
        return ShellResult(stdout=VERSION + "\n")
    if not ctx.is_node:
        raise CommandError(PREFIX + NO_PERM, 4)
    _check_table(p.table)
    cmd = p.command
    if cmd in ("L", "S"):
        rs = _view(ctx, p.table)
        t = rs.tables[p.table]
        if p.chain is not None and p.chain not in t.chains:
            raise _incompatible(p.chain, p.table)
        if cmd == "L":
            text = render_list(rs, p.table, p.chain, numeric=p.numeric, verbose=p.verbose > 0,
                               exact=p.exact, line_numbers=p.line_numbers)
            if p.rulenum is not None:
                lines = text.splitlines()
                idx = p.rulenum + 1  # after "Chain X" and the column header
                text = lines[idx] + "\n" if idx < len(lines) and lines[idx] else ""
        else:
            text = render_rules_S(rs, p.table, p.chain, counters=p.verbose > 0)
            if p.rulenum is not None:
                lines = text.splitlines()
                text = lines[p.rulenum] + "\n" if p.rulenum < len(lines) else ""
        if p.zero_too:  # -L -Z: list, then zero (and say so)
            _zero(ctx, p.table, p.chain)
            text += f"Zeroing chain `{p.chain}'\n" if p.chain else "Zeroing all chains\n"
        return ShellResult(stdout=text)

    base = ctx.sim.node_ruleset(ctx.host_name)
    rs = base.copy()
    t = rs.table(p.table)
    chain = p.chain
    if cmd in ("A", "I", "C", "D", "R"):
        if cmd == "D" and p.rulenum is not None:
            if chain not in t.chains:
                raise CommandError(NO_CHAIN, 1)
            c = t.chains[chain]
            if p.rulenum > len(c.rules):
                raise CommandError("iptables: Index of deletion too big.", 1)
            del c.rules[p.rulenum - 1]
        else:
            rule = _parse_rule(ctx, p, rs)
            c = t.chains[chain]
            if cmd in _RULE_OP:
                _kernel_check(t, chain, rule, p)
            if cmd == "A":
                c.rules.append(rule)
            elif cmd == "I":
                pos = p.rulenum or 1
                if pos > len(c.rules) + 1:
                    raise CommandError("iptables: Index of insertion too big.", 1)
                c.rules.insert(pos - 1, rule)
            elif cmd == "R":
                if p.rulenum > len(c.rules):
                    raise CommandError("iptables: Index of replacement too big.", 1)
                c.rules[p.rulenum - 1] = rule
            else:
                want = render_rule(rule)
                for k, r in enumerate(c.rules):
                    if render_rule(r) == want:
                        break
                else:
                    raise CommandError("iptables: Bad rule (does a matching rule exist in that chain?).", 1)
                if cmd == "C":
                    return ShellResult()
                del c.rules[k]
    elif cmd == "N":
        if not chain or len(chain) > MAX_CHAIN_NAME:
            if chain and len(chain) > MAX_CHAIN_NAME:
                raise _usage(f"chain name `{chain}' too long (must be under {MAX_CHAIN_NAME + 1} chars)")
            raise _usage(f"Invalid chain name `{chain}'")
        if chain[0] in "-!" or any(ch.isspace() for ch in chain) or chain in TARGET_OPTIONS:
            raise _usage(f"Invalid chain name `{chain}'")
        if chain in t.chains:
            raise CommandError("iptables: Chain already exists.", 1)
        t.chains[chain] = Chain(chain)
    elif cmd == "X":
        names = [chain] if chain is not None else sorted(n for n, c in t.chains.items() if not c.builtin)
        for name in names:
            c = t.chains.get(name)
            if c is None or c.builtin:
                raise CommandError(NO_CHAIN, 1)
            if c.rules or _refs(t, name):
                raise CommandError(f"{PREFIX} CHAIN_DEL failed (Device or resource busy): chain {name}", 4)
        for name in names:
            del t.chains[name]
    elif cmd == "F":
        if chain is not None:
            if chain not in t.chains:
                raise CommandError(NO_CHAIN, 1)
            t.chains[chain].rules.clear()
        else:
            for c in t.chains.values():
                c.rules.clear()
    elif cmd == "Z":
        if chain is not None and chain not in t.chains:
            raise CommandError(NO_CHAIN, 1)
        _zero(ctx, p.table, chain)
        return ShellResult()
    elif cmd == "E":
        new = p.newname or ""
        if chain not in t.chains or t.chains[chain].builtin:
            raise CommandError(NO_CHAIN, 1)
        if new in t.chains:
            raise CommandError("iptables: File exists.", 1)
        if len(new) > MAX_CHAIN_NAME or not new or new[0] in "-!" or any(ch.isspace() for ch in new):
            raise _usage(f"Invalid chain name `{new}'")
        chains: dict[str, Chain] = {}
        for name, c in t.chains.items():
            rules = [
                r._replace(chain=new if r.chain == chain else r.chain,
                           target=new if r.target == chain else r.target)
                for r in c.rules
            ]
            key = new if name == chain else name
            chains[key] = Chain(key, c.policy, rules, c.packets, c.bytes)
        t.chains = chains
    elif cmd == "P":
        if chain not in BUILTIN_CHAINS.get(p.table, ()) or chain not in t.chains:
            raise CommandError("iptables: Bad built-in chain name.", 1)
        if p.policy not in ("ACCEPT", "DROP"):
            raise CommandError("iptables: Bad policy name. Run `dmesg' for more information.", 1)
        t.chains[chain].policy = p.policy
    ctx.sim.set_ruleset(ctx.host_name, rs)
    return ShellResult()


def _zero(ctx: ShellContext, table: str, chain: str | None) -> None:
    """-Z: the counters of one chain (its rules and policy) or of every chain of the table."""
    rs = ctx.sim.node_ruleset(ctx.host_name)
    t = rs.tables.get(table)
    if t is None:
        return
    for c in t.chains.values():
        if chain is None or c.name == chain:
            ctx.sim.counters.zero(ctx.host_name, table, c)
            if c.packets or c.bytes or any(r.packets or r.bytes for r in c.rules):
                # counters a restore with -c or -A -c set: the rules carry them themselves
                c.packets = c.bytes = 0
                c.rules[:] = [r._replace(packets=0, bytes=0) if r.packets or r.bytes else r for r in c.rules]


SAVE_HELP_ERR = "Look at manual page `iptables-save.8' for more information."


def run_iptables_save(ctx: ShellContext, argv: list[str]) -> ShellResult:
    tables: str | None = None
    counters = False
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok in ("-c", "--counters"):
            counters = True
        elif tok in ("-t", "--table") or tok.startswith("--table=") or (tok.startswith("-t") and len(tok) > 2
                                                                      and not tok.startswith("--")):
            if tok.startswith("--table="):
                tables = tok.split("=", 1)[1]
            elif tok.startswith("-t") and len(tok) > 2:
                tables = tok[2:]
            elif i < len(argv):
                tables = argv[i]
                i += 1
            else:
                raise CommandError(f"iptables-save: option requires an argument -- 't'\n{SAVE_HELP_ERR}", 1)
        elif tok in ("-h", "--help"):
            return ShellResult(stdout="iptables-save v1.8.9 (nf_tables)\n\nUsage: iptables-save [-c] [-t table]\n"
                               "\t[--counters] [--table=table]\n")
        elif tok in ("-V", "--version"):
            return ShellResult(stdout="iptables-save v1.8.9 (nf_tables)\n")
        elif tok.startswith("--"):
            raise CommandError(f"iptables-save: unrecognized option '{tok}'\n{SAVE_HELP_ERR}", 1)
        elif tok.startswith("-") and len(tok) > 1:
            raise CommandError(f"iptables-save: invalid option -- '{tok[1]}'\n{SAVE_HELP_ERR}", 1)
        else:
            raise CommandError("Unknown arguments found on commandline", 1)
    if not ctx.is_node:
        raise CommandError("iptables-save v1.8.9 (nf_tables): " + NO_PERM, 4)
    rs = ctx.sim.counters.view(ctx.host_name, ctx.sim.node_ruleset(ctx.host_name))
    if tables is not None:
        if tables not in TABLES:
            raise CommandError(f"Table `{tables}' does not exist", 1)
        if tables not in rs.tables:
            rs = rs.copy()
            rs.table(tables)
    return ShellResult(stdout=render_save(rs, tables, counters=counters))


def chain_names(ctx: ShellContext, table: str = "filter") -> list[str]:
    if not ctx.is_node:
        return []
    t = ctx.sim.node_ruleset(ctx.host_name).tables.get(table)
    return list(t.chains) if t else list(BUILTIN_CHAINS.get(table, ()))
