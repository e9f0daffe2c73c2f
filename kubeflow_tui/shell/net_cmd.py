"""Network commands of the simulated shell: curl, nc, ip, hostname, nslookup, dig, and the
things a connection prints besides its answer (xtables-monitor TRACE lines, conntrack -E
events).

``curl``/``nc`` run a real connection through the simulation (``sim.run_adhoc``) and print
what the server answered or the client's error, as curl 7.88.1 / netcat-openbsd do.
"""

from __future__ import annotations

import ipaddress
import re
import zlib

from ..trace import Step, Trace
from .base import CommandError, ShellContext, ShellResult
from .conntrack_cmd import PREFIX as CT_PREFIX
from .conntrack_cmd import events_from_trace

try:
    from ..netfilter.names import SERVICE_BY_PORT
except Exception:  # pragma: no cover
    SERVICE_BY_PORT = {}

CLUSTER_DOMAIN = "cluster.local"
CURL_VERSION = "curl/7.88.1"
#: what a real client printed when nobody answered its SYNs (kernel default: 6 retries)
KERNEL_CONNECT_TIMEOUT_MS = 135157


# ------------------------------------------------------------------ DNS


def dns_server(ctx: ShellContext) -> str:
    """kube-dns' ClusterIP: the 10th address of the service CIDR (10.96.0.10)."""
    net = ipaddress.IPv4Network(ctx.sim.scenario.cluster.serviceCIDR)
    return str(net.network_address + 10)


def search_path(ctx: ShellContext) -> list[str]:
    if ctx.kind == "pod":
        try:
            ns = ctx.sim.scenario.pod(ctx.host_name).namespace
        except KeyError:
            ns = "default"
        return [f"{ns}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
    return []


def uses_cluster_dns(ctx: ShellContext) -> bool:
    return ctx.kind in ("pod", "node")


def _records(ctx: ShellContext) -> dict[str, str]:
    out = {}
    for svc in ctx.sim.scenario.services:
        out[f"{svc.name}.{svc.namespace}.svc.{CLUSTER_DOMAIN}"] = svc.clusterIP
    return out


def resolve(ctx: ShellContext, name: str, *, search: bool = True) -> tuple[str | None, str]:
    """(address or None, the name that answered).  Literal IPs resolve to themselves."""
    try:
        return str(ipaddress.IPv4Address(name)), name
    except ValueError:
        pass
    if name in ("localhost", "localhost."):
        return "127.0.0.1", "localhost"
    if name.rstrip(".") == ctx.host_name:
        h = ctx.host
        if h is not None and h.interfaces:
            return h.primary_ip, ctx.host_name
    if not uses_cluster_dns(ctx):
        return None, name
    records = _records(ctx)
    candidates = []
    if name.endswith("."):
        candidates = [name[:-1]]
    else:
        if search and name.count(".") < 5:
            candidates += [f"{name}.{s}" for s in search_path(ctx)]
        candidates.append(name)
    for c in candidates:
        if c.lower() in records:
            return records[c.lower()], c.lower()
    return None, name


# ------------------------------------------------------------------ trace helpers


def _trace_id(trace: Trace) -> str:
    key = f"{trace.seed}:{trace.meta}:{trace.server_saw}".encode()
    return f"{zlib.crc32(key) & 0xFFFFFFFF:08x}"


def _handles(ctx: ShellContext) -> dict[tuple[str, str, int], int]:
    """nf_tables rule handles as iptables-restore would allocate them (chains first)."""
    rs = ctx.sim.node_ruleset(ctx.host_name)
    out = {}
    for tname, t in rs.tables.items():
        h = len(t.chains)
        for cname, c in t.chains.items():
            for i, _ in enumerate(c.rules, 1):
                h += 1
                out[(tname, cname, i)] = h
    return out


_FLAG_ORDER = ("CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN")


def _packet_line(tid: str, s: Step, in_if: str, out_if: str, ip_id: int) -> str:
    p = s.packet
    parts = [f"PACKET: 2 {tid}"]
    if in_if:
        parts.append(f"IN={in_if}")
    if out_if:
        parts.append(f"OUT={out_if}")
    length = 60 if "SYN" in p.flags else 52
    parts.append(f"SRC={p.src} DST={p.dst} LEN={length} TOS=0x0 TTL=64 ID={ip_id} DF")
    if p.proto in ("tcp", "udp"):
        parts.append(f"SPORT={p.sport} DPORT={p.dport}")
    if p.proto == "udp":
        parts[-2] = parts[-2].replace(" DF", "")
    flags = [f for f in _FLAG_ORDER if f in p.flags]
    if flags:
        parts.append(" ".join(flags))
    if p.mark:
        parts.append(f"MARK=0x{p.mark:x}")
    return " ".join(parts)


def trace_lines(ctx: ShellContext, trace: Trace) -> list[str]:
    """``xtables-monitor --trace`` lines for the packets of ``trace`` that a raw-table
    TRACE rule on this node marked (derived from the Trace steps of this host)."""
    if not ctx.is_node:
        return []
    steps = [s for s in trace.steps if s.host == ctx.host_name]
    traced = sorted({s.packet_no for s in steps if s.kind == "trace" or (s.target == "TRACE" and s.chain)})
    if not traced:
        return []
    tid = _trace_id(trace)
    handles = _handles(ctx)
    out: list[str] = []
    for no in traced:
        pkt_steps = [s for s in steps if s.packet_no == no]
        started = False
        base = None
        in_if = out_if = ""
        for k, s in enumerate(trace.steps):
            if s.packet_no != no:
                continue
            if s.kind == "link" and s.host == ctx.host_name:
                m = re.search(r"→ \S+ \(([^)]+)\)", s.why)
                in_if = m.group(1) if m else ""
            if s.host != ctx.host_name:
                continue
            if s.kind == "route":
                m = re.search(r"out of (\S+?)(?:[ ,.(]|$)", s.why)
                if m:
                    out_if = m.group(1)
            if s not in pkt_steps:
                continue
            if not started:
                if s.kind == "trace" or s.target == "TRACE":
                    started = True
                else:
                    continue
            if not s.chain or s.kind == "no-match":
                continue
            hook_key = (s.hook, s.table)
            if hook_key != base:
                base = hook_key
                iif = in_if if s.hook in ("PREROUTING", "INPUT", "FORWARD") or (s.hook == "POSTROUTING" and in_if) else ""
                oif = out_if if s.hook in ("FORWARD", "OUTPUT", "POSTROUTING") else ""
                out.append(_packet_line(tid, s, iif, oif, 40000 + no))
            where = f"{s.table}:{s.chain}"
            handle = handles.get((s.table, s.chain, s.rule_index), 0)
            if s.kind == "policy":
                ev = f"{where}:policy:{s.target or 'ACCEPT'}"
            elif s.kind == "return" and not s.rule_index:
                ev = f"{where}:return:"
            else:
                verdict = {
                    "jump": f"JUMP:{s.target}", "goto": f"GOTO:{s.target}", "accept": "ACCEPT",
                    "dnat": "ACCEPT", "snat": "ACCEPT", "masquerade": "ACCEPT", "drop": "DROP",
                    "reject": "DROP", "return": "RETURN",
                }.get(s.kind, "CONTINUE")
                ev = f"{where}:rule:0x{handle:x}:{verdict}"
            line = f" TRACE: 2 {tid} {ev}"
            if s.rule and s.kind != "policy" and not (s.kind == "return" and not s.rule_index):
                line += f"  -4 -t {s.table} {s.rule}"
            out.append(line)
    return out


def side_output(ctx: ShellContext, trace: Trace) -> tuple[str, str]:
    """What else the connection printed: TRACE lines and armed conntrack events."""
    lines = trace_lines(ctx, trace)
    extra_err = ""
    if ctx.state.ct_events and ctx.is_node:
        ev = events_from_trace(trace, ctx.host_name, ctx.state.ct_event_filter)
        lines += ev
        extra_err = f"{CT_PREFIX}{len(ev)} flow events have been shown.\n"
        ctx.state.ct_events = False
        ctx.state.ct_event_filter = {}
    return ("".join(line + "\n" for line in lines), extra_err)


def _served_by(trace: Trace) -> str:
    if trace.endpoint:
        return trace.endpoint
    for s in reversed(trace.steps):
        if s.kind == "deliver":
            return s.host
    return ""


def answer(trace: Trace) -> str:
    """What the test servers answer: who saw the client as what."""
    return f"saw {trace.server_saw} from {_served_by(trace)}\n"


def _connect(ctx: ShellContext, ip: str, port: int, proto: str) -> Trace:
    if ctx.host is None:
        raise CommandError(f"{ctx.host_name}: this host no longer exists (it was deleted)", 1)
    try:
        return ctx.sim.run_adhoc(source=ctx.host_name, to=f"{ip}:{port}", protocol=proto)
    except CommandError:
        raise
    except Exception as e:  # the engine could not judge it: say so, never a traceback
        raise CommandError(f"kubeflow-tui: the simulator cannot run this connection: {e}", 1) from None


# ------------------------------------------------------------------ curl

CURL_TRY = "curl: try 'curl --help' or 'curl --manual' for more information"
_CURL_ARG = {"-o", "--output", "-m", "--max-time", "--connect-timeout", "-X", "--request", "-H", "--header",
             "-d", "--data", "-w", "--write-out", "-A", "--user-agent", "-u", "--user", "-e", "--referer",
             "--resolve", "-x", "--proxy", "--retry", "-b", "--cookie", "--data-raw", "--interface",
             "--local-port", "-T", "--upload-file", "-r", "--range", "-c", "--cookie-jar"}
_CURL_FLAGS = set("vsSIkLf4iNnqG")


def _parse_url(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path)."""
    m = re.match(r"^(?:([A-Za-z][A-Za-z0-9+.-]*)://)?([^/:?#]*)(?::([^/?#]*))?([/?#].*)?$", url)
    if not m:
        return "", "", None, "/"
    scheme = (m.group(1) or "http").lower()
    host = m.group(2)
    port = m.group(3)
    path = m.group(4) or "/"
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandError("curl: (3) URL using bad/illegal format or missing URL", 3)
        p = int(port)
    else:
        p = None
    return scheme, host, p, path


def run_curl(ctx: ShellContext, argv: list[str]) -> ShellResult:
    opts: dict = {"verbose": False, "silent": False, "show_error": False, "head": False, "include": False,
                  "fail": False}
    urls: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok.startswith("--"):
            name, eq, val = tok.partition("=")
            if name in _CURL_ARG:
                if eq:
                    v = val
                elif i < len(argv):
                    v = argv[i]
                    i += 1
                else:
                    raise CommandError(f"curl: option {name}: requires parameter\n{CURL_TRY}", 2)
                opts[name] = v
            elif name in ("--verbose",):
                opts["verbose"] = True
            elif name in ("--silent",):
                opts["silent"] = True
            elif name in ("--show-error",):
                opts["show_error"] = True
            elif name in ("--head",):
                opts["head"] = True
            elif name in ("--include",):
                opts["include"] = True
            elif name in ("--fail",):
                opts["fail"] = True
            elif name in ("--insecure", "--location", "--ipv4", "--no-buffer", "--http1.1", "--compressed",
                          "--get", "--globoff"):
                pass
            elif name == "--url":
                if i < len(argv):
                    urls.append(argv[i])
                    i += 1
            elif name in ("--help", "--version"):
                if name == "--version":
                    return ShellResult(stdout="curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.11\n"
                                       "Protocols: http https\nFeatures: IPv6 Largefile\n")
                return ShellResult(stdout="Usage: curl [options...] <url>\n -v, --verbose  Make the operation more talkative\n"
                                   " -m, --max-time <seconds>  Maximum time allowed for transfer\n"
                                   "     --connect-timeout <seconds>  Maximum time allowed for connection\n")
            else:
                raise CommandError(f"curl: option {name}: is unknown\n{CURL_TRY}", 2)
            continue
        if tok.startswith("-") and len(tok) > 1:
            k = 1
            while k < len(tok):
                ch = tok[k]
                if "-" + ch in _CURL_ARG:
                    rest = tok[k + 1:]
                    if rest:
                        v = rest
                    elif i < len(argv):
                        v = argv[i]
                        i += 1
                    else:
                        raise CommandError(f"curl: option -{ch}: requires parameter\n{CURL_TRY}", 2)
                    opts["-" + ch] = v
                    break
                if ch not in _CURL_FLAGS:
                    raise CommandError(f"curl: option -{ch}: is unknown\n{CURL_TRY}", 2)
                key = {"v": "verbose", "s": "silent", "S": "show_error", "I": "head", "i": "include",
                       "f": "fail"}.get(ch)
                if key:
                    opts[key] = True
                k += 1
            continue
        urls.append(tok)
    if not urls:
        raise CommandError(f"curl: no URL specified!\n{CURL_TRY}", 2)
    url = urls[0]
    scheme, host, port, path = _parse_url(url)
    if scheme not in ("http", "https"):
        raise CommandError(f'curl: (1) Protocol "{scheme}" not supported or disabled in libcurl', 1)
    if not host:
        raise CommandError("curl: (3) URL using bad/illegal format or missing URL", 3)
    if port is None:
        port = 443 if scheme == "https" else 80
    quiet_err = opts["silent"] and not opts["show_error"]

    def fail(msg: str, code: int, verbose_lines: list[str] = ()) -> ShellResult:
        err = "".join(v + "\n" for v in verbose_lines) if opts["verbose"] else ""
        if not quiet_err:
            err += msg + "\n"
        return ShellResult(stderr=err, exit_code=code)

    ip, _ = resolve(ctx, host)
    if ip is None:
        return fail(f"curl: (6) Could not resolve host: {host}", 6,
                    [f"* Could not resolve host: {host}", "* Closing connection 0"])
    trace = _connect(ctx, ip, port, "TCP")
    side_out = side_err = ""  # TRACE lines / conntrack events: added by the shell (core.py)
    vpre = [f"*   Trying {ip}:{port}..."]
    timeout_opt = opts.get("--connect-timeout")
    max_time = opts.get("-m") or opts.get("--max-time")
    if trace.outcome == "delivered":
        body = answer(trace)
        status = "HTTP/1.1 200 OK"
        headers = [status, "Content-Type: text/plain; charset=utf-8", f"Content-Length: {len(body)}"]
        if scheme == "https":
            r = fail("curl: (35) OpenSSL/3.0.11: error:0A00010B:SSL routines::wrong version number", 35,
                     vpre + [f"* Connected to {host} ({ip}) port {port} (#0)"])
            r.stdout = side_out + r.stdout
            r.stderr += side_err
            r.trace = trace
            return r
        out = ""
        if opts["head"]:
            out = "".join(h + "\r\n" for h in headers) + "\r\n"
        else:
            if opts["include"]:
                out = "".join(h + "\r\n" for h in headers) + "\r\n"
            out += body
        if opts.get("-o") or opts.get("--output"):
            out = ""
        wfmt = opts.get("-w") or opts.get("--write-out")
        if wfmt:
            src_port = trace.steps[0].packet.sport if trace.steps else 0
            out += (wfmt.replace("%{http_code}", "200").replace("%{remote_ip}", ip)
                    .replace("%{remote_port}", str(port)).replace("%{local_port}", str(src_port))
                    .replace("\\n", "\n"))
        err = ""
        if opts["verbose"]:
            method = "HEAD" if opts["head"] else (opts.get("-X") or opts.get("--request") or "GET")
            hostport = host if port == 80 else f"{host}:{port}"
            v = vpre + [f"* Connected to {host} ({ip}) port {port} (#0)", f"> {method} {path} HTTP/1.1",
                        f"> Host: {hostport}", f"> User-Agent: {CURL_VERSION}", "> Accept: */*", "> "]
            v += ["< " + h for h in headers] + ["< "]
            err = "".join(x + "\n" for x in v)
            err_tail = f"* Connection #0 to host {host} left intact\n"
        else:
            err_tail = ""
        return ShellResult(stdout=side_out + out, stderr=err + err_tail + side_err, trace=trace)
    limit = timeout_opt if timeout_opt is not None else max_time
    if trace.outcome in ("refused", "unreachable") and not _error_too_late(trace, limit):
        reason = "Connection refused" if trace.outcome == "refused" else "No route to host"
        after = trace.meta.get("fails_after_ms", 0)
        after = after + 71 if after else 0
        r = fail(f"curl: (7) Failed to connect to {host} port {port} after {after} ms: Couldn't connect to server", 7,
                 vpre + [f"* connect to {ip} port {port} failed: {reason}",
                         f"* Failed to connect to {host} port {port} after {after} ms: Couldn't connect to server",
                         "* Closing connection 0"])
    else:
        if timeout_opt is not None or max_time is not None:
            try:
                secs = float(timeout_opt if timeout_opt is not None else max_time)
            except ValueError:
                return fail("curl: option --connect-timeout: expected a proper numerical parameter", 2)
            if timeout_opt is not None and (max_time is None or float(timeout_opt) <= float(max_time)):
                ms = int(secs * 1000) + 2
                msg = f"curl: (28) Failed to connect to {host} port {port} after {ms} ms: Timeout was reached"
            else:
                ms = int(secs * 1000) + 1
                msg = f"curl: (28) Connection timed out after {ms} milliseconds"
        else:
            msg = (f"curl: (28) Failed to connect to {host} port {port} after {KERNEL_CONNECT_TIMEOUT_MS} ms: "
                   "Couldn't connect to server")
        r = fail(msg, 28, vpre + [msg[len("curl: (28) "):].join(["* ", ""]), "* Closing connection 0"])
    r.stdout = side_out + r.stdout
    r.stderr += side_err
    r.trace = trace
    return r


# ------------------------------------------------------------------ nc


def _service_name(port: int, proto: str) -> str:
    return SERVICE_BY_PORT.get((port, proto), "*")


def run_nc(ctx: ShellContext, argv: list[str]) -> ShellResult:
    zero = verbose = udp = False
    wait: str | None = None
    args: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok.startswith("-") and len(tok) > 1 and not args:
            k = 1
            while k < len(tok):
                ch = tok[k]
                if ch == "z":
                    zero = True
                elif ch == "v":
                    verbose = True
                elif ch == "u":
                    udp = True
                elif ch in "n4Nd":
                    pass
                elif ch in "wqpsW":
                    rest = tok[k + 1:]
                    if rest:
                        v = rest
                    elif i < len(argv):
                        v = argv[i]
                        i += 1
                    else:
                        raise CommandError(f"nc: option requires an argument -- '{ch}'\n" + NC_USAGE, 1)
                    if ch == "w":
                        wait = v
                    break
                elif ch == "h":
                    return ShellResult(stderr="OpenBSD netcat (Debian patchlevel 1.219-1)\n" + NC_USAGE)
                else:
                    raise CommandError(f"nc: invalid option -- '{ch}'\n" + NC_USAGE, 1)
                k += 1
            continue
        args.append(tok)
    if len(args) < 2:
        raise CommandError(NC_USAGE, 1)
    host, port_text = args[0], args[1]
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise CommandError(f"nc: port number invalid: {port_text}", 1)
    port = int(port_text)
    proto = "udp" if udp else "tcp"
    ip, _ = resolve(ctx, host)
    if ip is None:
        raise CommandError(f"nc: getaddrinfo for host \"{host}\" port {port}: Name or service not known", 1)
    trace = _connect(ctx, ip, port, proto.upper())
    side_out = side_err = ""  # TRACE lines / conntrack events: added by the shell (core.py)
    ok_line = f"Connection to {host} {port} port [{proto}/{_service_name(port, proto)}] succeeded!\n"
    out = err = ""
    code = 0
    if udp:
        if trace.outcome == "delivered":
            if verbose:
                err = ok_line
            if not zero:
                out = answer(trace)
        elif trace.outcome == "refused":
            code = 1
        else:
            if verbose and zero:
                err = ok_line  # nothing came back: UDP cannot tell
    else:
        if trace.outcome == "delivered":
            if verbose:
                err = ok_line
            if not zero:
                out = answer(trace)
        elif trace.outcome in ("refused", "unreachable") and not _error_too_late(trace, wait):
            reason = "Connection refused" if trace.outcome == "refused" else "No route to host"
            err = f"nc: connect to {host} port {port} ({proto}) failed: {reason}\n"
            code = 1
        else:
            if wait is not None:
                err = f"nc: connect to {host} port {port} ({proto}) timed out: Operation now in progress\n"
            else:
                err = f"nc: connect to {host} port {port} ({proto}) failed: Connection timed out\n"
            code = 1
    return ShellResult(stdout=side_out + out, stderr=err + side_err, exit_code=code, trace=trace)


NC_USAGE = """usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
	  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
	  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
	  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
	  [destination] [port]"""


# ------------------------------------------------------------------ ip


def _mac(seed: str) -> str:
    h = zlib.crc32(seed.encode())
    b = [0x02, 0x42] + [(h >> s) & 0xFF for s in (24, 16, 8, 0)]
    return ":".join(f"{x:02x}" for x in b)


def _iface_rows(ctx: ShellContext) -> list[tuple[str, list[str]]]:
    """(name with @peer, lines) per interface, as `ip addr` numbers them."""
    h = ctx.host
    rows: list[tuple[str, list[str]]] = []
    lo = ["    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
          "    inet 127.0.0.1/8 scope host lo", "       valid_lft forever preferred_lft forever"]
    for extra in h.extra_local:
        lo += [f"    inet {extra}/32 scope global lo", "       valid_lft forever preferred_lft forever"]
    rows.append(("lo", lo))
    for k, iface in enumerate(h.interfaces):
        name = iface.name
        if iface.peer:
            name = f"{iface.name}@if{2 if h.kind == 'node' else 3 + k}"
        link = f"    link/ether {_mac(h.name + iface.name)} brd ff:ff:ff:ff:ff:ff"
        if iface.peer:
            link += f" link-netns {iface.peer}"
        inet = [f"    inet {iface.address}/{iface.prefix} scope global {iface.name}",
                "       valid_lft forever preferred_lft forever"] if iface.address else []
        rows.append((name, [link, *inet]))
    return rows


def _addr_text(ctx: ShellContext, dev: str | None, brief: bool) -> str:
    out = []
    for n, (name, lines) in enumerate(_iface_rows(ctx), 1):
        base = name.split("@")[0]
        if dev is not None and base != dev:
            continue
        if name == "lo":
            flags, mtu, state = "<LOOPBACK,UP,LOWER_UP>", 65536, "UNKNOWN"
        else:
            flags, mtu, state = "<BROADCAST,MULTICAST,UP,LOWER_UP>", 1500, "UP"
        if brief:
            addrs = [ln.split()[1] for ln in lines if ln.strip().startswith("inet ")]
            out.append(f"{name:<16} {state:<14} {' '.join(addrs)} ")
            continue
        out.append(f"{n}: {name}: {flags} mtu {mtu} qdisc noqueue state {state} group default qlen 1000")
        out += lines
    return "".join(line + "\n" for line in out)


def _route_key(r):
    return (int(r.dst.network_address), r.dst.prefixlen)


def run_ip(ctx: ShellContext, argv: list[str]) -> ShellResult:
    args = list(argv)
    brief = False
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-4", "-s", "-d", "-c", "-color", "--color", "-details"):
            continue
        if opt in ("-br", "-brief", "--brief"):
            brief = True
            continue
        if opt in ("-V", "-Version"):
            return ShellResult(stdout="ip utility, iproute2-6.1.0, libbpf 1.1.0\n")
        if opt in ("-6",):
            return ShellResult()
        raise CommandError(f'Option "{opt}" is unknown, try "ip -help".', 255)
    if ctx.host is None:
        raise CommandError("Cannot open netlink socket: No such process", 1)
    if not args:
        raise CommandError(IP_USAGE, 255)
    obj = args.pop(0)
    objs = {"address": ("a", "ad", "add", "addr", "addre", "addres", "address"),
            "route": ("r", "ro", "rou", "rout", "route"),
            "link": ("l", "li", "lin", "link"), "help": ("help",)}
    which = next((k for k, v in objs.items() if obj in v), None)
    if which is None:
        raise CommandError(f'Object "{obj}" is unknown, try "ip help".', 255)
    if which == "help":
        return ShellResult(stderr=IP_USAGE + "\n", exit_code=255)
    sub = args.pop(0) if args else "show"
    if which == "address":
        if sub not in ("show", "s", "sh", "list", "ls", "l", "lst"):
            if sub in ("dev",) and args:
                args = ["dev"] + args
            elif sub in ("add", "del", "delete", "flush", "change", "replace"):
                raise CommandError("RTNETLINK answers: Operation not permitted", 2)
            else:
                args = [sub] + args
        dev = None
        if args:
            dev = args[1] if args[0] == "dev" and len(args) > 1 else args[0]
            if dev not in ["lo"] + [i.name for i in ctx.host.interfaces]:
                raise CommandError(f'Device "{dev}" does not exist.', 1)
        return ShellResult(stdout=_addr_text(ctx, dev, brief))
    if which == "link":
        out = []
        for n, (name, lines) in enumerate(_iface_rows(ctx), 1):
            if name == "lo":
                out.append(f"{n}: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000")
            else:
                out.append(f"{n}: {name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000")
            out.append(lines[0])
        return ShellResult(stdout="".join(x + "\n" for x in out))
    # route
    if sub == "get":
        if not args:
            raise CommandError('need at least a destination address', 1)
        target = args[1] if args[0] == "to" and len(args) > 1 else args[0]
        try:
            dst = str(ipaddress.IPv4Address(target))
        except ValueError:
            raise CommandError(f'Error: any valid prefix is expected rather than "{target}".', 1) from None
        h = ctx.host
        if dst in h.local_addrs:
            return ShellResult(stdout=f"local {dst} dev lo src {dst if dst != '127.0.0.1' else '127.0.0.1'} uid 0 \n    cache <local> \n")
        r = h.route(dst)
        if r is None:
            raise CommandError("RTNETLINK answers: Network is unreachable", 2)
        via = f" via {r.via}" if r.via else ""
        return ShellResult(stdout=f"{dst}{via} dev {r.dev} src {h.source_for(r)} uid 0 \n    cache \n")
    if sub not in ("show", "list", "ls", "s", "sh", "l"):
        if sub in ("add", "del", "delete", "flush", "change", "replace", "append"):
            raise CommandError("RTNETLINK answers: Operation not permitted", 2)
        raise CommandError(f'Command "{sub}" is unknown, try "ip route help".', 255)
    routes = sorted(ctx.host.routes, key=_route_key)
    return ShellResult(stdout="".join(r.text() + "\n" for r in routes))


IP_USAGE = """Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}"""


# ------------------------------------------------------------------ hostname


def run_hostname(ctx: ShellContext, argv: list[str]) -> ShellResult:
    h = ctx.host
    if not argv:
        return ShellResult(stdout=ctx.host_name + "\n")
    if argv[0] in ("-I", "--all-ip-addresses"):
        addrs = [i.address for i in h.interfaces if i.address] + list(h.extra_local) if h else []
        return ShellResult(stdout="".join(a + " " for a in addrs) + "\n")
    if argv[0] in ("-i", "--ip-address"):
        return ShellResult(stdout=(h.primary_ip if h and h.interfaces else "127.0.1.1") + "\n")
    if argv[0] in ("-s", "--short", "-f", "--fqdn", "--long"):
        return ShellResult(stdout=ctx.host_name + "\n")
    if argv[0].startswith("-"):
        raise CommandError(f"hostname: invalid option -- '{argv[0].lstrip('-')[:1]}'\n"
                           "Usage: hostname [-b] {hostname|-F file}         set host name (from file)", 4)
    raise CommandError("hostname: you must be root to change the host name", 4)


# ------------------------------------------------------------------ nslookup / dig


def run_nslookup(ctx: ShellContext, argv: list[str]) -> ShellResult:
    names = [a for a in argv if not a.startswith("-")]
    if not names:
        raise CommandError("nslookup: interactive mode is not available here; give a name", 1)
    name = names[0]
    try:
        ipaddress.IPv4Address(name)
        is_ip = True
    except ValueError:
        is_ip = False
    if not uses_cluster_dns(ctx):
        return ShellResult(stdout=";; connection timed out; no servers could be reached\n\n", exit_code=1)
    server = dns_server(ctx)
    head = f"Server:\t\t{server}\nAddress:\t{server}#53\n\n"
    if is_ip:
        rev = ".".join(reversed(name.split("."))) + ".in-addr.arpa"
        for fq, ip in _records(ctx).items():
            if ip == name:
                return ShellResult(stdout=head + f"{rev}\tname = {fq}.\n\n")
        return ShellResult(stdout=head + f"** server can't find {rev}: NXDOMAIN\n\n", exit_code=1)
    ip, fq = resolve(ctx, name)
    if ip is None:
        return ShellResult(stdout=head + f"** server can't find {name}: NXDOMAIN\n\n", exit_code=1)
    return ShellResult(stdout=head + f"Name:\t{fq}\nAddress: {ip}\n\n")


def run_dig(ctx: ShellContext, argv: list[str]) -> ShellResult:
    short = search = False
    names = []
    qtype = "A"
    for a in argv:
        if a == "+short":
            short = True
        elif a == "+search":
            search = True
        elif a.startswith("+") or a.startswith("@"):
            continue
        elif a.upper() in ("A", "AAAA", "SRV", "PTR", "ANY", "CNAME", "TXT", "MX", "NS"):
            qtype = a.upper()
        elif a.startswith("-"):
            continue
        else:
            names.append(a)
    name = names[0] if names else "."
    if not uses_cluster_dns(ctx):
        msg = ";; communications error to 127.0.0.53#53: timed out\n" * 3
        return ShellResult(stdout=("" if short else "\n; <<>> DiG 9.18.24-1-Debian <<>> " + " ".join(argv) + "\n;; global options: +cmd\n")
                           + msg + ";; no servers could be reached\n", exit_code=9)
    ip, fq = resolve(ctx, name, search=search)
    if qtype != "A":
        ip = None
    if short:
        return ShellResult(stdout=f"{ip}\n" if ip else "")
    server = dns_server(ctx)
    qname = (fq if ip else name).rstrip(".") + "."
    status = "NOERROR" if ip else "NXDOMAIN"
    qid = zlib.crc32(qname.encode()) & 0xFFFF
    lines = ["", f"; <<>> DiG 9.18.24-1-Debian <<>> {' '.join(argv)}", ";; global options: +cmd", ";; Got answer:",
             f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {qid}",
             f";; flags: qr aa rd; QUERY: 1, ANSWER: {1 if ip else 0}, AUTHORITY: {0 if ip else 1}, ADDITIONAL: 1",
             ";; WARNING: recursion requested but not available", "", ";; OPT PSEUDOSECTION:",
             "; EDNS: version: 0, flags:; udp: 1232", ";; QUESTION SECTION:", f";{qname}\t\t\tIN\t{qtype}", ""]
    if ip:
        lines += [";; ANSWER SECTION:", f"{qname} 30\tIN\tA\t{ip}", ""]
    else:
        lines += [";; AUTHORITY SECTION:",
                  f"{CLUSTER_DOMAIN}.\t\t30\tIN\tSOA\tns.dns.{CLUSTER_DOMAIN}. hostmaster.{CLUSTER_DOMAIN}. "
                  "1700000000 7200 1800 86400 30", ""]
    lines += [";; Query time: 0 msec", f";; SERVER: {server}#53({server}) (UDP)",
              ";; WHEN: Mon Jan 01 00:00:00 UTC 2024", f";; MSG SIZE  rcvd: {len(qname) + (62 if ip else 120)}", ""]
    return ShellResult(stdout="\n".join(lines) + "\n")


def _error_too_late(trace, limit) -> bool:
    """An error the network sends only after a while (ARP gives up after about 3 s) never
    reaches a client whose own time limit ends first: it sees a timeout instead."""
    after = trace.meta.get("fails_after_ms", 0)
    if not after or limit is None:
        return False
    try:
        return float(limit) * 1000 < after
    except (TypeError, ValueError):
        return False
