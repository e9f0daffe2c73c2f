"""``traceroute`` (Debian's traceroute 2.1.2, its default UDP method) through the simulated
datapath.

Each probe is a UDP datagram to port 33434 and up (one more per probe) with IP TTL 1, 2, ...
run by the engine (``ClusterSim.run_probe``): a node that would have to forward it with no
hop left drops it before its FORWARD hook and answers with ICMP time exceeded (that hop's
address is the node's address on its route back to the sender); the host it reaches answers
with ICMP port unreachable (nobody listens there), which ends the run; a probe the network
discards prints ``*``.  So a pod's address shows the nodes on the way, a ClusterIP in
iptables mode shows the first node and then only stars (nothing DNATs a datagram to port
33434; it follows the default route to the router, which discards it), and in nftables mode
the first node's ``cluster-ips-check`` reject ends it at that node.

Output recorded from the real tool in network namespaces: ``clusterip-traceroute*.json``.
Round-trip times are the simulator's (no clock runs here).
"""

from __future__ import annotations

import getopt

from .base import CommandError, ShellContext, ShellResult

FIRST_PORT = 33434
#: probes in flight at once (traceroute's -N default)
SIMULTANEOUS = 16
_MARKS = {"ICMP host unreachable": " !H", "ICMP net unreachable": " !N", "ICMP protocol unreachable": " !P",
          "ICMP administratively prohibited": " !X", "ICMP host prohibited": " !X", "ICMP net prohibited": " !X"}
#: traceroute 2.1.2's options (``traceroute --help``): short option -> its argument's name
#: (None: a flag), and the long forms (name -> the short option, or the long name itself)
_SHORT = {"f": "first_ttl", "g": "gate,...", "i": "device", "m": "max_ttl", "N": "squeries", "p": "port",
          "t": "tos", "l": "flow_label", "w": "MAX,HERE,NEAR", "q": "nqueries", "s": "src_addr", "z": "sendwait",
          "M": "name", "O": "OPTS,...", "P": "prot", **dict.fromkeys("46dFITnreAUDV")}
_LONG = {"debug": "d", "dont-fragment": "F", "first=": "f", "gateway=": "g", "icmp": "I", "tcp": "T",
         "interface=": "i", "max-hops=": "m", "sim-queries=": "N", "port=": "p", "tos=": "t",
         "flowlabel=": "l", "wait=": "w", "queries=": "q", "source=": "s", "sendwait=": "z",
         "extensions": "e", "as-path-lookups": "A", "module=": "M", "options=": "O", "sport=": "sport",
         "fwmark=": "fwmark", "udp": "U", "dccp": "D", "protocol=": "P", "mtu": "mtu", "back": "back",
         "version": "V", "help": "help"}
_OPTSTRING = "".join(k + (":" if v else "") for k, v in _SHORT.items())
#: what the simulation runs: the default UDP method with -n -m -q -w -f -p -V
_NOT_SIMULATED = set("gItTFAUDNzMOPils") | {"sport", "fwmark", "mtu", "back", "help"}


def _parse(argv: list[str]) -> tuple[dict[str, tuple[str, str, int]], list[str]]:
    """traceroute's command line through ``getopt.gnu_getopt`` (options anywhere, as
    traceroute reads them; long options only whole, as it wants them): option -> (its
    value, how it was written, argc of the word that held the value), and the operands.
    Errors in traceroute's own words, with the argc of the word at fault."""
    for k, a in enumerate(argv, 1):
        if a == "--":
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name + "=" in _LONG and not eq:  # its value only ever after "=", never the next word
                raise CommandError(f"Option `--{name}' (argc {k}) requires an argument: "
                                   f"`--{name}={_long_meta(name)}'", 2)
            if name in _LONG and eq:
                raise CommandError(f"Bad option `{a}' (with arg `{val}') (argc {k})", 2)
            if name not in _LONG and name + "=" not in _LONG:
                raise CommandError(f"Bad option `{a}' (argc {k})", 2)
    try:
        parsed, pos = getopt.gnu_getopt(argv, _OPTSTRING, list(_LONG))
    except getopt.GetoptError as e:
        k = _argc_of_error(argv, e)
        if "requires argument" in e.msg:
            raise CommandError(f"Option `-{e.opt}' (argc {k}) requires an argument: `-{e.opt} {_SHORT[e.opt]}'",
                               2) from None
        raise CommandError(f"Bad option `-{e.opt}' (argc {k})", 2) from None
    opts: dict[str, tuple[str, str, int]] = {}
    seen = 0
    for opt, val in parsed:
        seen += 1
        key = opt[1:] if len(opt) == 2 else _LONG.get(opt[2:] + "=", _LONG.get(opt[2:], opt[2:]))
        opts[key] = (val, opt, _argc_of_option(argv, seen))
    return opts, pos


def _long_meta(name: str) -> str:
    short = _LONG.get(name + "=", "")
    return _SHORT.get(short) or "num"


def _argc_of_error(argv: list[str], err: getopt.GetoptError) -> int:
    """The word traceroute names: the first prefix of argv that fails the same way ends there."""
    for k in range(1, len(argv) + 1):
        try:
            getopt.gnu_getopt(argv[:k], _OPTSTRING, list(_LONG))
        except getopt.GetoptError as e:
            if (e.opt, e.msg) == (err.opt, err.msg):
                return k
    return len(argv)


def _argc_of_operand(argv: list[str], nth: int) -> int:
    """The word that is the ``nth`` operand (0: the host)."""
    for k in range(1, len(argv) + 1):
        try:
            if len(getopt.gnu_getopt(argv[:k], _OPTSTRING, list(_LONG))[1]) > nth:
                return k
        except getopt.GetoptError:
            continue
    return len(argv)


def _argc_of_option(argv: list[str], nth: int) -> int:
    """The word that held the ``nth`` option's value (the option's own word when attached)."""
    for k in range(1, len(argv) + 1):
        try:
            if len(getopt.gnu_getopt(argv[:k], _OPTSTRING, list(_LONG))[0]) >= nth:
                return k
        except getopt.GetoptError:
            continue
    return len(argv)


def _int(opt: tuple[str, str, int]) -> int:
    val, how, argc = opt
    try:
        return int(val)
    except ValueError:
        raise CommandError(f"Cannot handle `{how}' option with arg `{val}' (argc {argc})", 2) from None


def run_traceroute(ctx: ShellContext, argv: list[str]) -> ShellResult:
    from .net_cmd import resolve

    opts, pos = _parse(argv)
    if "V" in opts:
        return ShellResult(stdout="Modern traceroute for Linux, version 2.1.2\n"
                           "Copyright (c) 2016  Dmitry Butskoy,   License: GPL v2 or any later\n")
    for ch in sorted(set(opts) & _NOT_SIMULATED):
        ch = ch if len(ch) == 1 else f"-{ch}"
        raise CommandError(f"kubeflow-tui: traceroute -{ch} is not simulated here (supported: -n, -m MAX_TTL, "
                           "-q NQUERIES, -w WAIT, -f FIRST_TTL, -p PORT)", 2)
    if not pos and argv:
        raise CommandError('Specify "host" missing argument.', 2)
    if not pos:
        raise CommandError("Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] "
                           "[ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] "
                           "[ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] "
                           "[ --fwmark=num ] host [ packetlen ]", 0)
    max_ttl = _int(opts["m"]) if "m" in opts else 30
    queries = _int(opts["q"]) if "q" in opts else 3
    first = _int(opts["f"]) if "f" in opts else 1
    port = _int(opts["p"]) if "p" in opts else FIRST_PORT
    if "w" in opts:
        val, how, argc = opts["w"]
        try:
            float(val.split(",")[0])
        except ValueError:
            raise CommandError(f"Cannot handle `{how}' option with arg `{val}' (argc {argc})", 2) from None
    if max_ttl < 1 or max_ttl > 255 or first < 1 or first > max_ttl:
        raise CommandError("first hop out of range" if first < 1 or first > max_ttl or max_ttl < 1
                           else "max hops cannot be more than 255", 2)
    if queries < 1 or queries > 10:
        raise CommandError("no more than 10 probes per hop", 2)
    target = pos[0]
    if ctx.host is None:
        raise CommandError(f"{ctx.host_name}: this host no longer exists (it was deleted)", 1)
    ip, _name = resolve(ctx, target)
    if ip is None:
        raise CommandError(f"{target}: Name or service not known\n"
                           f"Cannot handle \"host\" cmdline arg `{target}' on position 1 (argc {_argc_of_operand(argv, 0)})", 2)
    numeric = "n" in opts
    out = [f"traceroute to {target} ({ip}), {max_ttl} hops max, 60 byte packets"]
    sim = ctx.sim
    # traceroute sends its probes 16 at a time (-N 16), TTL by TTL, before any answer is in:
    # probes beyond the hop that reaches the destination still go out (and leave conntrack
    # entries on the nodes they cross), they are just not printed
    total = (max_ttl - first + 1) * queries
    end, sent = total, 0
    traces = []
    while sent < end:
        batch = range(sent, min(end, sent + SIMULTANEOUS))
        for k in batch:
            sim._probe_sport = getattr(sim, "_probe_sport", 45000) + 1
            try:
                t = sim.run_probe(ctx.host_name, ip, port + k, ttl=first + k // queries, sport=sim._probe_sport)
            except Exception as e:  # the engine could not judge it: say so, never a traceback
                raise CommandError(f"kubeflow-tui: the simulator cannot run this probe: {e}", 1) from None
            traces.append(t)
        sent = batch.stop
        for k in batch:
            if _answer(traces[k])[1] and k < end:
                end = (k // queries + 1) * queries
                break
    for hop in range(end // queries):
        line = f"{first + hop:2d} "
        prev = None
        for q in range(queries):
            t = traces[hop * queries + q]
            addr, final, label = _answer(t)
            if not addr:
                line += " *"
                continue
            if addr != prev:
                line += f" {addr}" if numeric else f" {_name_of(ctx, addr)} ({addr})"
                prev = addr
            hops = sum(1 for s in t.steps if s.kind == "link" and s.link[0] != s.link[1])
            line += f"  {0.030 + 0.012 * hops + 0.002 * (q % 3):.3f} ms" + _MARKS.get(label, "")
        out.append(line)
    last_trace = traces[-1] if traces else None
    return ShellResult(stdout="\n".join(out) + "\n", trace=last_trace)


def _answer(t) -> tuple[str, bool, str]:
    """(the address that answered the probe or "", whether it ends the run, the ICMP message)."""
    end = t.steps[-1]
    if end.kind == "socket-error" and end.packet_label.startswith("ICMP"):
        return end.packet.src, end.packet_label != "ICMP time exceeded", end.packet_label
    return "", False, ""


def _name_of(ctx: ShellContext, addr: str) -> str:
    """The reverse lookup traceroute makes without -n: the cluster DNS's PTR, else the address."""
    try:
        from .net_cmd import _records, uses_cluster_dns

        if uses_cluster_dns(ctx):
            for name, ip in _records(ctx).items():
                if ip == addr:
                    return name
    except Exception:  # pragma: no cover - a lookup that fails prints the address
        pass
    return addr
