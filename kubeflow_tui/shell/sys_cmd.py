"""``sysctl``, ``ss`` and ``wget`` over a host of the simulation (procps 4.0.2, iproute2 6.1,
GNU Wget 1.21.3), their formats as recorded in network namespaces
(``tests/kernel/record_shell.py``).

* ``sysctl`` knows the keys the Service datapath depends on: a node's values are the ones
  kube-proxy leaves (``route_localnet=1`` for localhost NodePorts, forwarding on).
* ``ss`` lists a host's listening sockets (the pods' servers); the simulator keeps no
  process table, so ``-p`` has nothing to add, and no socket outlives its connection.
* ``wget`` fetches through the datapath like ``curl`` (the same simulated servers).
"""

from __future__ import annotations

from .base import CommandError, ShellContext, ShellResult

# ------------------------------------------------------------------ sysctl

#: keys ``sysctl -w`` changes on a node (root's shell): what the simulated kernel reads
WRITABLE = frozenset({"net.netfilter.nf_conntrack_max"})


def _sysctl_values(ctx: ShellContext) -> dict[str, str]:
    h = ctx.host
    node = ctx.is_node
    vals = {
        "net.ipv4.ip_forward": "1" if h is not None and h.forwarding else "0",
        "net.ipv4.conf.all.route_localnet": "1" if node else "0",
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.ip_local_port_range": "32768\t60999",
        "net.ipv4.tcp_timestamps": "1",
        "net.core.somaxconn": "4096",
    }
    if node:
        ct = ctx.sim.conntrack(ctx.host_name)
        vals.update({
            "net.netfilter.nf_conntrack_count": str(len(ct.entries)),
            "net.netfilter.nf_conntrack_max": str(ct.max_entries),
            "net.netfilter.nf_conntrack_tcp_timeout_established": "432000",
            "net.netfilter.nf_conntrack_tcp_timeout_time_wait": "120",
            "net.netfilter.nf_conntrack_tcp_timeout_close_wait": "60",
            "net.netfilter.nf_conntrack_udp_timeout": "30",
            "net.netfilter.nf_conntrack_udp_timeout_stream": "120",
            "net.netfilter.nf_conntrack_tcp_be_liberal": "0",
            "net.bridge.bridge-nf-call-iptables": "1",
        })
    return vals


def run_sysctl(ctx: ShellContext, argv: list[str]) -> ShellResult:
    values_only = write = show_all = quiet = False
    keys: list[str] = []
    for a in argv:
        if a.startswith("-") and len(a) > 1 and not keys:
            for ch in a[1:]:
                if ch == "n":
                    values_only = True
                elif ch == "w":
                    write = True
                elif ch in "aAX":
                    show_all = True
                elif ch == "q":
                    quiet = True
                elif ch in "eN":
                    pass
                else:
                    raise CommandError(f"sysctl: invalid option -- '{ch}'\n"
                                       "Usage:\n sysctl [options] [variable[=value] ...]\n", 255)
            continue
        keys.append(a)
    vals = _sysctl_values(ctx)
    if show_all:
        keys = sorted(vals)
    if not keys:
        raise CommandError("sysctl: no variables specified\nTry `sysctl --help' for more information.", 255)
    out = err = ""
    code = 0
    for k in keys:
        name, eq, value = k.partition("=")
        name = name.replace("/", ".")
        if eq or write:
            if not eq:
                err += f'sysctl: "{k}" must be of the form name=value\n'
                code = 255
                continue
            if name not in vals:
                err += f"sysctl: cannot stat /proc/sys/{name.replace('.', '/')}: No such file or directory\n"
                code = 255
                continue
            if name in WRITABLE and ctx.is_node:
                if not value.strip().isdigit():
                    err += f'sysctl: setting key "{name}": Invalid argument\n'
                    code = 255
                    continue
                # the one key the datapath reads back: the size of the node's conntrack table
                ctx.sim.conntrack(ctx.host_name).max_entries = int(value)
                if not quiet:
                    out += f"{name} = {int(value)}\n"
                continue
            # a shell on a simulated host changes nothing else the datapath reads from here
            err += f"sysctl: permission denied on key \"{name}\"\n"
            code = 255
            continue
        if name not in vals:
            err += f"sysctl: cannot stat /proc/sys/{name.replace('.', '/')}: No such file or directory\n"
            code = 1
            continue
        out += f"{vals[name]}\n" if values_only else f"{name} = {vals[name]}\n"
    return ShellResult(stdout=out, stderr=err, exit_code=code)


# ------------------------------------------------------------------ ss

_SS_NAMES = {8080: "http-alt", 80: "http", 443: "https", 53: "domain", 22: "ssh", 9153: "9153"}


def run_ss(ctx: ShellContext, argv: list[str]) -> ShellResult:
    tcp = udp = listening = all_ = numeric = False
    for a in argv:
        if a.startswith("--"):
            long = {"--tcp": "t", "--udp": "u", "--listening": "l", "--all": "a", "--numeric": "n",
                    "--processes": "p"}.get(a)
            if long is None:
                raise CommandError(f"ss: unrecognized option '{a}'", 255)
            flags = long
        elif a.startswith("-"):
            flags = a[1:]
        else:
            raise CommandError(f'ss: bad state or filter "{a}": only options are simulated', 255)
        for ch in flags:
            if ch == "t":
                tcp = True
            elif ch == "u":
                udp = True
            elif ch == "l":
                listening = True
            elif ch == "a":
                all_ = True
            elif ch == "n":
                numeric = True
            elif ch in "p4eiom":
                pass
            else:
                raise CommandError(f"ss: invalid option -- '{ch}'", 255)
    if not tcp and not udp:
        tcp = udp = True
    h = ctx.host
    if h is None:
        raise CommandError("Cannot open netlink socket: No such process", 1)
    rows: list[tuple[str, str, str, str, str, str, str, str]] = []
    if listening or all_:
        for proto, port in sorted(h.listeners, key=lambda x: (x[0] != "tcp", x[1])):
            if (proto == "tcp" and tcp) or (proto == "udp" and udp):
                state = "LISTEN" if proto == "tcp" else "UNCONN"
                backlog = "4096" if proto == "tcp" else "0"
                shown = str(port) if numeric else _SS_NAMES.get(port, str(port))
                rows.append((proto, state, "0", backlog, "0.0.0.0", shown, "0.0.0.0", "*"))
    if tcp and all_:
        # the client closes first: its socket waits in TIME-WAIT for 60 s (tcp_fin_timeout
        # is not it: TCP_TIMEWAIT_LEN); `ss -tn` without -a does not list TIME-WAIT
        import time as _time

        now = _time.time()
        for trace, _sizes, when, _http in ctx.sim.counters.recent:
            first = trace.steps[0] if trace.steps else None
            if (first is None or first.host != ctx.host_name or first.packet.proto != "tcp"
                    or trace.outcome != "delivered" or now - when > 60):
                continue
            pk = first.packet
            rows.append(("tcp", "TIME-WAIT", "0", "0", pk.src, str(pk.sport), pk.dst,
                         str(pk.dport) if numeric else _SS_NAMES.get(pk.dport, str(pk.dport))))
    netid = tcp and udp
    ws = max([5] + [len(r[1]) for r in rows])
    wla = max([13] + [len(r[4]) for r in rows])
    wlp = max([4] + [len(r[5]) for r in rows])
    wpa = max([12] + [len(r[6]) for r in rows])
    wpp = max([4] + [len(r[7]) for r in rows])
    head = f"{'State':<{ws}} {'Recv-Q':<6} {'Send-Q':<6} {'Local Address':>{wla}}:{'Port':<{wlp}} " \
           f"{'Peer Address':>{wpa}}:{'Port':<{wpp}}Process"
    if netid:
        head = f"{'Netid':<5} " + head
    lines = [head]
    for r in rows:
        line = f"{r[1]:<{ws}} {r[2]:<6} {r[3]:<6} {r[4]:>{wla}}:{r[5]:<{wlp}} {r[6]:>{wpa}}:{r[7]:<{wpp}}" + " " * 7
        if netid:
            line = f"{r[0]:<5} " + line
        lines.append(line)
    return ShellResult(stdout="".join(x + "\n" for x in lines))


# ------------------------------------------------------------------ wget


def run_wget(ctx: ShellContext, argv: list[str]) -> ShellResult:
    from .net_cmd import _connect, _parse_url, answer, resolve

    quiet = False
    to_stdout = False
    urls: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a in ("-O", "--output-document"):
            if i >= len(argv):
                raise CommandError("wget: option requires an argument -- 'O'\nUsage: wget [OPTION]... [URL]...\n\n"
                                   "Try `wget --help' for more options.", 2)
            to_stdout = argv[i] == "-"
            i += 1
            continue
        if a.startswith("--output-document="):
            to_stdout = a.split("=", 1)[1] == "-"
            continue
        if a in ("-T", "--timeout") or a.startswith("--timeout="):
            if "=" not in a:
                i += 1
            continue
        if a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            k = 1
            while k < len(a):
                ch = a[k]
                if ch == "q":
                    quiet = True
                elif ch == "O":
                    rest = a[k + 1:]
                    if rest:
                        to_stdout = rest == "-"
                    elif i < len(argv):
                        to_stdout = argv[i] == "-"
                        i += 1
                    break
                elif ch == "T":
                    if not a[k + 1:]:
                        i += 1
                    break
                elif ch not in "S4":
                    raise CommandError(f"wget: invalid option -- '{ch}'\nUsage: wget [OPTION]... [URL]...\n\n"
                                       "Try `wget --help' for more options.", 2)
                k += 1
            continue
        if a in ("--quiet",):
            quiet = True
            continue
        urls.append(a)
    if not urls:
        raise CommandError("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.", 1)
    if not quiet:
        raise CommandError("wget: the simulated wget prints its transfer report only with -q "
                           "(its dates and speeds belong to a real clock): try wget -qO- URL", 1)
    scheme, host, port, path = _parse_url(urls[0])
    if port is None:
        port = 80
    ip, _ = resolve(ctx, host)
    if ip is None:
        return ShellResult(exit_code=4)
    request = (f"GET {path} HTTP/1.1\r\nHost: {host if port == 80 else f'{host}:{port}'}\r\n"
               "User-Agent: Wget/1.21.3\r\nAccept: */*\r\nAccept-Encoding: identity\r\n"
               "Connection: Keep-Alive\r\n\r\n")

    def payload(t) -> tuple[int, int]:
        body = answer(t)
        return len(request), len(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                 f"Content-Length: {len(body)}\r\n\r\n") + len(body)

    payload.http = True
    trace = _connect(ctx, ip, port, "TCP", payload)
    if trace.outcome != "delivered":
        return ShellResult(exit_code=4, trace=trace)
    body = answer(trace)
    if not to_stdout:
        return ShellResult(stderr="wget: the simulated host has no file system to save index.html in: "
                                  "use -O- to print the page\n", exit_code=3, trace=trace)
    return ShellResult(stdout=body, trace=trace)
