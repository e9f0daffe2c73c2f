"""``nft`` on a node whose kube-proxy runs in nftables mode: the listings of nftables 1.0.6.

What is modelled, each recorded from the real ``nft`` 1.0.6 on kube-proxy's own
transaction loaded with ``nft -f`` in a network namespace (``tests/kernel/record_nft_shell.py``,
``tests/golden/shell/real/clusterip-nft.json``):

* ``nft [-a] list ruleset [FAMILY]``, ``list tables [FAMILY]``, ``list table [FAMILY] NAME``,
  ``list chain [FAMILY] TABLE CHAIN``, ``list set|map [FAMILY] TABLE NAME``, ``list
  chains|sets|maps [FAMILY]``; ``-a``/``--handle`` adds `` # handle N``; ``-s`` (stateless)
  changes nothing here (kube-proxy's rules hold no counters); ``-v``;
* nft's errors: ``Error: No such file or directory`` with the command echoed and the
  missing object underlined (the table when the table is missing), ``syntax error,
  unexpected newline, expecting string`` with a caret after the last word, ``unexpected
  string, expecting end of file or newline or semicolon`` under a surplus word, options
  after the command (whose marks nft prints to stdout), ``nft: no command specified``;
  exit code 1.

nft joins its arguments with spaces and parses the result, so ``nft 'list chain ip
kube-proxy services'`` is the same command.  Changing the ruleset (``add``, ``delete``,
``flush`` …), ``-n``, ``-j`` and ``monitor`` are not modelled: the shell says so.

On a node in iptables mode the real ``nft list ruleset`` prints iptables-nft's ``ip
filter``/``ip nat`` tables (counters, ``xt match …`` compat expressions, comments dropped,
and a "managed by iptables-nft" warning on stderr for each table it printed a rule of):
``nft [-s] list ruleset|table|chain|chains|sets|maps`` print them as nft 1.0.6 does
(:mod:`kubeflow_tui.netfilter.nft_compat`; recorded in ``*-iptables-nft.json``, and every
shipped scenario's nodes in ``tests/kernel/test_nft_compat.py``), the rules' counters as
``iptables -L -v`` counts them; so do ``nft list tables``, the errors for a table, chain, set
or map that does not exist, and the empty listings of other families.  A rule of a form
never recorded (one added in the shell with an interface match, say), and ``-a`` (the
kernel's handles of iptables-nft's rules), are declined plainly.
"""

from __future__ import annotations

from .base import CommandError, ShellContext, ShellResult

VERSION = "nftables v1.0.6 (Lester Gooch #5)"
FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
NOT_PERMITTED = ("Operation not permitted (you must be root)\n"
                 "netlink: Error: cache initialization failed: Operation not permitted")
ENOENT = "Error: No such file or directory"
UNEXPECTED_NEWLINE = "Error: syntax error, unexpected newline, expecting string"
UNEXPECTED_STRING = "Error: syntax error, unexpected string, expecting end of file or newline or semicolon"
CHANGES = ("add", "create", "insert", "replace", "delete", "destroy", "flush", "reset", "rename", "import",
           "export", "monitor", "describe", "get")
OBJECTS = ("ruleset", "tables", "table", "chain", "chains", "set", "sets", "map", "maps")


def _caret(command: str, words: list[tuple[int, str]], index: int | None) -> str:
    """``command`` and the line under it: ``^`` after its end (index None) or under word ``index``."""
    if index is None:
        return f"{command}\n{' ' * len(command)}^"
    start, word = words[index]
    return f"{command}\n{' ' * start}{'^' * len(word)}"


def _words(command: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(command):
        if command[i].isspace():
            i += 1
            continue
        j = i
        while j < len(command) and not command[j].isspace():
            j += 1
        out.append((i, command[i:j]))
        i = j
    return out


def run_nft(ctx: ShellContext, argv: list[str]) -> ShellResult:
    handles = stateless = False
    i = 0
    while i < len(argv) and argv[i].startswith("-") and len(argv[i]) > 1:
        opt = argv[i]
        if opt in ("-v", "--version"):
            return ShellResult(stdout=VERSION + "\n")
        if opt in ("-a", "--handle"):
            handles = True
        elif opt in ("-s", "--stateless"):
            stateless = True
        elif opt.startswith("--"):
            raise CommandError(f"nft: unrecognized option '{opt}'", 1)
        elif all(ch in "as" for ch in opt[1:]):
            handles = handles or "a" in opt
            stateless = stateless or "s" in opt
        else:
            raise CommandError(f"nft: option {opt} is not modelled by the simulated shell "
                               "(modelled: -a, -s, -v and the list commands)", 1)
        i += 1
    rest = argv[i:]
    if not rest:
        raise CommandError("nft: no command specified", 1)
    for k, tok in enumerate(rest):
        if tok.startswith("-") and len(tok) > 1:
            line = "nft " + " ".join(rest) + " "
            start = len("nft " + " ".join(rest[:k]) + " ")
            # nft 1.0.6 prints the command to stderr and the marks under it to stdout
            return ShellResult(stderr=f"Error: syntax error, options must be specified before commands\n{line}",
                               stdout=f"\n   ^{' ' * (start - 4)}{'~' * len(tok)}\n", exit_code=1)
    command = " ".join(rest)
    words = _words(command)
    names = [w for _, w in words]
    verb = names[0]
    if verb in CHANGES:
        raise CommandError(f"nft: the simulated shell lists kube-proxy's rules but does not change them "
                           f"('nft {verb}' is not modelled); kube-proxy owns its table and rewrites it on "
                           "every sync", 1)
    if verb != "list":
        raise CommandError((UNEXPECTED_NEWLINE if len(names) == 1 else "Error: syntax error, unexpected newline")
                           + "\n" + _caret(command, words, None), 1)
    if len(names) == 1:
        raise CommandError("Error: syntax error, unexpected newline\n" + _caret(command, words, None), 1)
    what = names[1]
    if what not in OBJECTS:
        raise CommandError("Error: syntax error, unexpected string\n" + _caret(command, words, 1), 1)

    if not ctx.is_node:
        raise CommandError(NOT_PERMITTED, 1)
    table = ctx.sim.nft_table(ctx.host_name) if ctx.sim.proxy_mode == "nftables" else None
    if table is None:
        return _iptables_mode(ctx, what, command, words, names, handles=handles, stateless=stateless)
    table = _with_dynamic_elements(ctx, table)
    from ..netfilter.nft_list import (render_nft_chain, render_nft_objects, render_nft_ruleset,
                                      render_nft_set)

    family, args = _arguments(what, command, words, names)
    if what in ("ruleset", "tables", "chains", "sets", "maps"):
        tables = [table] if family in (None, table.family) else []
        if what == "ruleset":
            return ShellResult(stdout=render_nft_ruleset(tables, handles))
        if what == "tables":
            return ShellResult(stdout="".join(f"table {t.family} {t.name}\n" for t in tables))
        return ShellResult(stdout="".join(render_nft_objects(t, what, handles) for t in tables))

    if family != table.family or names[args[0]] != table.name:
        raise CommandError(ENOENT + "\n" + _caret(command, words, args[0]), 1)
    if what == "table":
        return ShellResult(stdout=render_nft_ruleset([table], handles))
    name = names[args[1]]
    if what == "chain":
        chain = table.chains.get(name)
        if chain is None:
            raise CommandError(ENOENT + "\n" + _caret(command, words, args[1]), 1)
        return ShellResult(stdout=render_nft_chain(table, chain, handles))
    s = table.sets.get(name)
    if s is None or s.is_map != (what == "map"):
        raise CommandError(ENOENT + "\n" + _caret(command, words, args[1]), 1)
    return ShellResult(stdout=render_nft_set(table, s, handles))


def _arguments(what: str, command: str, words: list[tuple[int, str]], names: list[str]) -> tuple[str | None, list[int]]:
    """(family or None when not given to a listing of many, the word indexes of the names)
    after ``list OBJECT``; nft's syntax errors for too few or too many words."""
    args = list(range(2, len(names)))
    if what in ("ruleset", "tables", "chains", "sets", "maps"):
        family = None
        if args and names[args[0]] in FAMILIES:
            family = names[args[0]]
            args = args[1:]
        if args:
            raise CommandError(UNEXPECTED_STRING + "\n" + _caret(command, words, args[0]), 1)
        return family, args
    family = "ip"
    need = {"table": 1, "chain": 2, "set": 2, "map": 2}[what]
    if args and names[args[0]] in FAMILIES and len(args) > need:
        family = names[args[0]]
        args = args[1:]
    elif args and names[args[0]] in FAMILIES and len(args) == need:
        # `list table ip`: "ip" is a family, the name is still missing
        raise CommandError(UNEXPECTED_NEWLINE + "\n" + _caret(command, words, None), 1)
    if len(args) < need:
        raise CommandError(UNEXPECTED_NEWLINE + "\n" + _caret(command, words, None), 1)
    if len(args) > need:
        raise CommandError(UNEXPECTED_STRING + "\n" + _caret(command, words, args[need]), 1)
    return family, args


NOT_RENDERED = ("nft: kube-proxy runs in iptables mode on this node: its rules are iptables-nft's, which "
                "the real nft lists with counters and xt compat expressions; the simulated shell renders "
                "them as nft does for the rules kube-proxy writes, but not {what}, so it prints none: use "
                "iptables-save or iptables -L (or a shell with --proxy-mode nftables for kube-proxy's own "
                "nftables table)")


def _compat(ctx: ShellContext, what: str, tables: list[str], chain: str | None, *, handles: bool,
            stateless: bool) -> ShellResult:
    """iptables-nft's tables as nft lists them, with nft's warnings on stderr."""
    from ..netfilter.nft_compat import NotTranslated, compat_warnings, render_compat

    if handles and what not in ("sets", "maps"):
        raise CommandError(NOT_RENDERED.format(what="the kernel's handles of its rules (-a)"), 1)
    rs = ctx.sim.counters.view(ctx.host_name, ctx.sim.node_ruleset(ctx.host_name))
    try:
        text = render_compat(rs, tables, chain=chain, rules=what != "chains", chains=what not in ("sets", "maps"),
                             stateless=stateless)
    except NotTranslated as exc:
        raise CommandError(NOT_RENDERED.format(what=f"a rule with {exc}"), 1) from None
    rules = what in ("ruleset", "table", "chain")
    return ShellResult(stdout=text, stderr=compat_warnings(rs, tables, chain=chain) if rules else "")


def _iptables_mode(ctx: ShellContext, what: str, command: str, words: list[tuple[int, str]],
                   names: list[str], *, handles: bool = False, stateless: bool = False) -> ShellResult:
    """A node in iptables mode: the tables iptables-nft created (``ip filter``, ``ip nat`` …,
    in creation order) listed as nft lists them, and a missing table, chain, set or map
    is nft's own error."""
    family, args = _arguments(what, command, words, names)
    tables = list(ctx.sim.node_ruleset(ctx.host_name).tables)
    if what == "tables":
        return ShellResult(stdout="".join(f"table ip {t}\n" for t in tables) if family in (None, "ip") else "")
    if what in ("ruleset", "chains", "sets", "maps"):
        if family not in (None, "ip") or not tables:
            return ShellResult()
        return _compat(ctx, what, tables, None, handles=handles, stateless=stateless)
    if family != "ip" or names[args[0]] not in tables:
        raise CommandError(ENOENT + "\n" + _caret(command, words, args[0]), 1)
    if what in ("set", "map"):  # iptables-nft's tables hold no named sets or maps
        raise CommandError(ENOENT + "\n" + _caret(command, words, args[1]), 1)
    if what == "chain" and names[args[1]] not in ctx.sim.node_ruleset(ctx.host_name).tables[names[args[0]]].chains:
        raise CommandError(ENOENT + "\n" + _caret(command, words, args[1]), 1)
    return _compat(ctx, what, [names[args[0]]], names[args[1]] if what == "chain" else None, handles=handles,
                   stateless=stateless)


def _with_dynamic_elements(ctx: ShellContext, table):
    """The table as the kernel lists it now: the elements the packet path added to its
    dynamic sets (session affinity's ``update @affinity-… { ip saddr }``) that have not
    expired yet, each with its time left."""
    import dataclasses

    from ..netfilter.nft import NftElement

    dynamic = getattr(ctx.sim.nodes[ctx.host_name], "nft_dynamic", None) or {}
    now = ctx.sim.now
    live = {name: {k: exp for k, exp in keys.items() if exp > now} for name, keys in dynamic.items()}
    live = {name: keys for name, keys in live.items() if keys and name in table.sets}
    if not live:
        return table
    sets = dict(table.sets)
    for name, keys in live.items():
        elements = dict(sets[name].elements)
        for key, exp in keys.items():
            elements[key] = NftElement(key, expires=exp - now)
        sets[name] = dataclasses.replace(sets[name], elements=elements)
    return dataclasses.replace(table, sets=sets)
