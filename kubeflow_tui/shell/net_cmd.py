"""Network commands of the simulated shell: curl, nc, ip, hostname, nslookup, dig, and the
things a connection prints besides its answer (xtables-monitor TRACE lines, conntrack -E
events).

``curl``/``nc`` run a real connection through the simulation (``sim.run_adhoc``) and print
what the server answered or the client's error, as curl 7.88.1 / netcat-openbsd do.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
import zlib

from ..trace import Step, Trace
from .base import CommandError, ShellContext, ShellResult
from .conntrack_cmd import PREFIX as CT_PREFIX
from .conntrack_cmd import events_from_trace
from .resolver import ResolvConf, candidates, resolv_conf

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


def pod_resolv_conf(ctx: ShellContext) -> ResolvConf | None:
    """The pod's /etc/resolv.conf as the kubelet writes it (None on nodes and clients)."""
    if ctx.kind != "pod":
        return None
    try:
        pod = ctx.sim.scenario.pod(ctx.host_name)
    except KeyError:
        pod = None
    return resolv_conf(ctx.sim.scenario, pod)


def search_path(ctx: ShellContext) -> list[str]:
    conf = pod_resolv_conf(ctx)
    return list(conf.search) if conf is not None else []


def uses_cluster_dns(ctx: ShellContext) -> bool:
    """Pods resolve through kube-dns (dnsPolicy ClusterFirst).  In a cluster with its
    system Services a node resolves as real nodes do, through its own /etc/resolv.conf
    (the host's resolver, which knows nothing of cluster.local)."""
    if ctx.kind == "node" and getattr(ctx.sim.scenario.cluster, "systemServices", False):
        return False
    return ctx.kind in ("pod", "node")


def dns_query_error(ctx: ShellContext) -> str | None:
    """When the cluster has its DNS Service (``cluster.systemServices``, or a scenario's own
    Service on the tenth Service IP with port 53/UDP) a pod's resolver really asks it: one UDP query from the pod to the Service IP, port 53, through
    kube-proxy's rules (its conntrack entry and counters stay, as a real query's do).
    None when CoreDNS answered; else what the resolver says for each try, as dig 9.18
    prints it: "timed out" (nothing came back), "connection refused" (an ICMP port
    unreachable: kube-dns has no endpoints, or nothing listens)."""
    sc = ctx.sim.scenario
    server = dns_server(ctx)
    has_dns = getattr(sc.cluster, "systemServices", False) or any(
        s.clusterIP == server and any(p.port == 53 and p.protocol == "UDP" for p in s.ports) for s in sc.services)
    if ctx.kind != "pod" or not has_dns:
        return None
    trace = _connect(ctx, dns_server(ctx), 53, "UDP")
    if trace.ending == "delivered":
        return None
    return "connection refused" if trace.ending == "rejected" else "timed out"


def _no_dns_servers(ctx: ShellContext, error: str, tries: int, *, tail: str = "") -> str:
    line = f";; communications error to {dns_server(ctx)}#53: {error}\n"
    return line * tries + tail + ";; no servers could be reached\n"


def _records(ctx: ShellContext) -> dict[str, str]:
    out = {}
    for svc in ctx.sim.scenario.services:
        out[f"{svc.name}.{svc.namespace}.svc.{CLUSTER_DOMAIN}"] = svc.clusterIP
    return out


def srv_records(ctx: ShellContext) -> dict[str, list[tuple[int, str]]]:
    """The SRV records CoreDNS's kubernetes plugin serves for ClusterIP Services:
    ``_<port name>._<proto>.<svc>.<ns>.svc.<zone>`` for each named port, and the Service's
    own name for all its ports; each points at the Service's name (the target of its A)."""
    out: dict[str, list[tuple[int, str]]] = {}
    for svc in ctx.sim.scenario.services:
        if not svc.clusterIP:
            continue
        fq = f"{svc.name}.{svc.namespace}.svc.{CLUSTER_DOMAIN}"
        for port in svc.ports:
            if port.name:
                out.setdefault(f"_{port.name}._{port.protocol.lower()}.{fq}", []).append((port.port, fq))
            out.setdefault(fq, []).append((port.port, fq))
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
    conf = pod_resolv_conf(ctx)
    if search and conf is not None:
        tries = candidates(name, conf)  # glibc's order: search list and ndots
    else:
        tries = [name.rstrip(".")]
    for c in tries:
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
            if not s.chain or s.kind == "no-match" or s.table.startswith("legacy-"):
                continue  # (iptables-legacy's x_tables send no nf_tables trace events)
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


def _connect(ctx: ShellContext, ip: str, port: int, proto: str, payload=None) -> Trace:
    if ctx.host is None:
        raise CommandError(f"{ctx.host_name}: this host no longer exists (it was deleted)", 1)
    try:
        return ctx.sim.run_adhoc(source=ctx.host_name, to=f"{ip}:{port}", protocol=proto, payload=payload)
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


def _http_headers(body: str) -> list[str]:
    """The simulated servers' HTTP answer: status line and two headers."""
    return ["HTTP/1.1 200 OK", "Content-Type: text/plain; charset=utf-8", f"Content-Length: {len(body)}"]


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
    method = "HEAD" if opts["head"] else (opts.get("-X") or opts.get("--request") or "GET")
    hostport = host if port == 80 else f"{host}:{port}"
    request = f"{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nUser-Agent: {CURL_VERSION}\r\nAccept: */*\r\n\r\n"

    def payload(t: Trace) -> tuple[int, int]:  # the HTTP exchange's bytes, for the counters
        body = answer(t)
        head = _http_headers(body)
        return len(request), len("".join(h + "\r\n" for h in head) + "\r\n") + (0 if method == "HEAD" else len(body))

    payload.http = True
    trace = _connect(ctx, ip, port, "TCP", payload)
    side_out = side_err = ""  # TRACE lines / conntrack events: added by the shell (core.py)
    vpre = [f"*   Trying {ip}:{port}..."]
    timeout_opt = opts.get("--connect-timeout")
    max_time = opts.get("-m") or opts.get("--max-time")
    if trace.outcome == "delivered":
        body = answer(trace)
        headers = _http_headers(body)
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
            # curl -v shows the request and response headers as they went over the wire,
            # each with its "\r\n"; the body goes to stdout between the headers and the last line
            err = "".join(x + "\n" for x in vpre + [f"* Connected to {host} ({ip}) port {port} (#0)"])
            wire = [f"> {method} {path} HTTP/1.1", f"> Host: {hostport}", f"> User-Agent: {CURL_VERSION}",
                    "> Accept: */*", "> "] + ["< " + h for h in headers] + ["< "]
            err += "".join(x + "\r\n" for x in wire)
            err_tail = f"* Connection #0 to host {host} left intact\n"
        else:
            err_tail = ""
        return ShellResult(stdout=side_out + out, stderr=err + err_tail + side_err, trace=trace,
                           parts=[("out", side_out), ("err", err), ("out", out), ("err", err_tail + side_err)])
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
    if not args:
        raise CommandError(NC_USAGE, 1)
    if len(args) < 2:
        raise CommandError("nc: missing port number", 1)
    host = args[0]
    ports: list[int] = []
    for port_text in args[1:]:
        lo, dash, hi = port_text.partition("-")
        if not lo.isdigit() or not 0 < int(lo) < 65536 or (dash and (not hi.isdigit() or not 0 < int(hi) < 65536)):
            raise CommandError(f"nc: port number invalid: {port_text}" if not dash else
                               f"nc: port range not valid", 1)
        a, b = int(lo), int(hi) if dash else int(lo)
        ports += list(range(min(a, b), max(a, b) + 1))
    proto = "udp" if udp else "tcp"
    ip, _ = resolve(ctx, host)
    if ip is None:
        raise CommandError(f"nc: getaddrinfo for host \"{host}\" port {ports[0]}: Name or service not known", 1)
    out = err = ""
    code = 1
    trace = None
    for port in ports:
        # -z: connect and close, no data (the counters see no data segments)
        trace = _connect(ctx, ip, port, proto.upper(), (lambda t: (0, 0)) if zero and not udp else None)
        ok_line = f"Connection to {host} {port} port [{proto}/{_service_name(port, proto)}] succeeded!\n"
        # OpenBSD nc says what happened only with -v; the exit code is 0 if any port answered
        if udp:
            if trace.outcome == "delivered":
                code = 0
                if verbose:
                    err += ok_line
                if not zero:
                    out += answer(trace)
            elif trace.outcome != "refused":
                code = 0
                if verbose and zero:
                    err += ok_line  # nothing came back: UDP cannot tell
        elif trace.outcome == "delivered":
            code = 0
            if verbose:
                err += ok_line
            if not zero:
                out += answer(trace)
        elif verbose:
            if trace.outcome in ("refused", "unreachable") and not _error_too_late(trace, wait):
                reason = "Connection refused" if trace.outcome == "refused" else "No route to host"
                err += f"nc: connect to {host} port {port} ({proto}) failed: {reason}\n"
            elif wait is not None:
                err += f"nc: connect to {host} port {port} ({proto}) timed out: Operation now in progress\n"
            else:
                err += f"nc: connect to {host} port {port} ({proto}) failed: Connection timed out\n"
        if code == 0 and not zero:
            break  # without -z nc talks to the first port that answers
    return ShellResult(stdout=out, stderr=err, exit_code=code, trace=trace)


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


def _local_table(ctx: ShellContext) -> str:
    """``ip route show table local``: what the kernel adds for each address (a ``local``
    route, and a ``broadcast`` one for a subnet wider than /31), in the fib's order."""
    h = ctx.host
    rows: list[tuple[int, int, int, str]] = []

    def add(kind: str, dst: str, prefix: int, dev: str, scope: str, src: str) -> None:
        net = ipaddress.IPv4Network(f"{dst}/{prefix}", strict=False)
        shown = dst if prefix == 32 else str(net)
        rows.append((int(net.network_address), prefix, len(rows),
                     f"{kind} {shown} dev {dev} proto kernel scope {scope} src {src} "))

    add("local", "127.0.0.0", 8, "lo", "host", "127.0.0.1")
    add("local", "127.0.0.1", 32, "lo", "host", "127.0.0.1")
    add("broadcast", "127.255.255.255", 32, "lo", "link", "127.0.0.1")
    for extra in h.extra_local:
        add("local", extra, 32, "lo", "host", extra)
    for iface in h.interfaces:
        add("local", iface.address, 32, iface.name, "host", iface.address)
        if iface.prefix < 31:
            bcast = ipaddress.IPv4Network(f"{iface.address}/{iface.prefix}", strict=False).broadcast_address
            add("broadcast", str(bcast), 32, iface.name, "link", iface.address)
    return "".join(r[3] + "\n" for r in sorted(rows))


def _link_stats(ctx: ShellContext, dev: str) -> list[str]:
    """The ``ip -s link`` block: what crossed the interface in the connections run so far."""
    rx_b, rx_p, tx_b, tx_p = ctx.sim.counters.interface(ctx.host_name, dev)
    return ["    RX:  bytes packets errors dropped  missed   mcast           ",
            f"    {rx_b:>10} {rx_p:>7} {0:>6} {0:>7} {0:>7} {0:>7} ",
            "    TX:  bytes packets errors dropped carrier collsns           ",
            f"    {tx_b:>10} {tx_p:>7} {0:>6} {0:>7} {0:>7} {0:>7} "]


def _neigh_text(ctx: ShellContext, brief: bool) -> str:
    """``ip neigh``: the hosts this one resolved with ARP to send the connections run so
    far, most recent first; REACHABLE (a moment after use, before the kernel's timers
    make it STALE)."""
    hosts = ctx.sim.topology.hosts
    out = []
    for dev, other in reversed(list(ctx.sim.counters.neighbours.get(ctx.host_name, {}))):
        h = hosts.get(other)
        if h is None:
            continue
        their = next((i for i in h.interfaces if i.peer == ctx.host_name), None) or next(
            (i for i in h.interfaces if i.name == "eth0"), None)
        if their is None:
            continue
        addr = their.address
        mac = _mac(h.name + their.name)
        out.append(f"{addr:<16} {dev:<16} {mac} REACHABLE " if brief else f"{addr} dev {dev} lladdr {mac} REACHABLE ")
    return "".join(x + "\n" for x in out)


IP_RULES = "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n"


def run_ip(ctx: ShellContext, argv: list[str]) -> ShellResult:
    args = list(argv)
    brief = stats = False
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-s", "-stats", "-statistics"):
            stats = True
            continue
        if opt in ("-4", "-d", "-c", "-color", "--color", "-details"):
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
            "link": ("l", "li", "lin", "link"), "help": ("help",),
            "rule": ("ru", "rul", "rule"), "neighbour": ("n", "ne", "nei", "neig", "neigh", "neighbor", "neighbour")}
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
    if which == "rule":
        if sub not in ("show", "list", "ls", "s", "sh", "l", "lst"):
            if sub in ("add", "del", "delete", "flush"):
                raise CommandError("RTNETLINK answers: Operation not permitted", 2)
            raise CommandError(f'Command "{sub}" is unknown, try "ip rule help".', 255)
        return ShellResult(stdout=IP_RULES)
    if which == "neighbour":
        if sub not in ("show", "list", "ls", "s", "sh", "l", "lst"):
            if sub in ("add", "del", "delete", "flush", "change", "replace"):
                raise CommandError("RTNETLINK answers: Operation not permitted", 2)
            raise CommandError(f'Command "{sub}" is unknown, try "ip neigh help".', 255)
        return ShellResult(stdout=_neigh_text(ctx, brief))
    if which == "link":
        if sub not in ("show", "list", "ls", "s", "sh", "l", "lst"):
            if sub in ("add", "del", "delete", "set", "change"):
                raise CommandError("RTNETLINK answers: Operation not permitted", 2)
            args = [sub] + args
        dev = None
        if args:
            dev = args[1] if args[0] == "dev" and len(args) > 1 else args[0]
            if dev not in ["lo"] + [i.name for i in ctx.host.interfaces]:
                raise CommandError(f'Device "{dev}" does not exist.', 1)
        out = []
        for n, (name, lines) in enumerate(_iface_rows(ctx), 1):
            if dev is not None and name.split("@")[0] != dev:
                continue
            if name == "lo":
                flags, state, mtu = "<LOOPBACK,UP,LOWER_UP>", "UNKNOWN", 65536
            else:
                flags, state, mtu = "<BROADCAST,MULTICAST,UP,LOWER_UP>", "UP", 1500
            if brief:
                mac = lines[0].split()[1]
                out.append(f"{name:<16} {state:<14} {mac} {flags} ")
                continue
            out.append(f"{n}: {name}: {flags} mtu {mtu} qdisc noqueue state {state} mode DEFAULT group default qlen 1000")
            out.append(lines[0])
            if stats:
                out += _link_stats(ctx, name.split("@")[0])
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
    if args[:1] == ["table"]:
        if len(args) < 2:
            raise CommandError('Command line is not complete. Try option "help"', 255)
        table = args[1]
        if table in ("local", "255"):
            return ShellResult(stdout=_local_table(ctx))
        if table == "default" or table == "253":
            return ShellResult()
        if table not in ("main", "254"):
            if table.isdigit():
                return ShellResult()
            raise CommandError(f'Error: argument "{table}" is wrong: table id value is invalid\n', 255)
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
    failed = dns_query_error(ctx)
    if failed:
        return ShellResult(stdout=_no_dns_servers(ctx, failed, 3) + "\n", exit_code=1)
    server = dns_server(ctx)
    head = f"Server:\t\t{server}\nAddress:\t{server}#53\n\n"
    # nslookup (bind 9.18) says so for every reply without "recursion available": CoreDNS's
    # own answers (the kubernetes plugin's), not the upstream's it relays
    warn = f";; Got recursion not available from {server}\n"
    if is_ip:
        rev = ".".join(reversed(name.split("."))) + ".in-addr.arpa"
        for fq, ip in _records(ctx).items():
            if ip == name:
                return ShellResult(stdout=warn + f"{rev}\tname = {fq}.\n\n")
        # no Service's: falls through (kubeadm's Corefile) to the upstream, which knows none
        return ShellResult(stdout=f"** server can't find {rev}: NXDOMAIN\n\n", exit_code=1)
    out = ""
    records = _records(ctx)
    for cand in _nslookup_candidates(ctx, name):
        if _in_cluster_zone(cand):
            out += warn
            ip = records.get(cand.rstrip(".").lower())
            if ip is not None:  # then its AAAA query, which CoreDNS answers too (no data)
                return ShellResult(stdout=out + head + f"Name:\t{cand.rstrip('.')}\nAddress: {ip}\n" + warn + "\n")
            continue
        status, answers, _ = _forwarded(ctx, cand, "A")
        if answers:
            return ShellResult(stdout=out + head + "Non-authoritative answer:\n"
                               + "".join(f"Name:\t{n.rstrip('.')}\nAddress: {d}\n" for n, _, d, _ in answers) + "\n")
    return ShellResult(stdout=out + head + f"** server can't find {name}: NXDOMAIN\n\n", exit_code=1)


def _nslookup_candidates(ctx: ShellContext, name: str) -> list[str]:
    """The names the resolver asks, in order, fully qualified: glibc's order over the pod's
    resolv.conf (resolver.candidates: its search list and ndots); without one, the name as it is."""
    conf = pod_resolv_conf(ctx)
    if conf is None:
        return [name if name.endswith(".") else name + "."]
    return [c + "." for c in candidates(name, conf)]


DIG_VERSION = "9.18.49-1~deb12u3-Debian"


def _dig_field(cols: list[tuple[str, int]]) -> str:
    """BIND's master-file columns: each field then, before the next, tabs to that field's
    column (tab stops every 8), or one column on when the text already reaches it
    (masterdump.c's indent(): that one column is a tab when it lands on a tab stop)."""
    out = ""
    col = 0
    for k, (text, to) in enumerate(cols):
        if k:
            if col >= to:
                out += "\t" if (col + 1) % 8 == 0 else " "
                col += 1
            else:
                n = to // 8 - col // 8
                out += "\t" * n
                col = (to // 8) * 8
        out += text
        col += len(text)
    return out


def _dig_rr(name: str, rtype: str, data: str) -> str:
    return _dig_field([(name, 0), ("30", 24), ("IN", 32), (rtype, 40), (data, 48)])


def _wire_len(name: str) -> int:
    return len(name.rstrip(".")) + 2


#: The root zone's SOA as a recursive resolver returns it with NXDOMAIN for a name under no
#: zone it knows (RFC 2308: the SOA of the closest enclosing zone; the upstream's world is
#: the scenario's upstreamDNS.records, so that zone is the root).
ROOT_SOA = "a.root-servers.net. nstld.verisign-grs.com. 2026120300 1800 900 604800 86400"
COREDNS_CACHE_TTL = 30  # kubeadm's Corefile: cache 30 (caps the TTL of what it forwards)


def _in_cluster_zone(qname: str) -> bool:
    n = qname.rstrip(".").lower()
    return n == CLUSTER_DOMAIN or n.endswith("." + CLUSTER_DOMAIN)


def _forwarded(ctx: ShellContext, qname: str, qtype: str) -> tuple[str, list, list]:
    """A name outside cluster.local: CoreDNS's kubernetes plugin does not own it, so
    ``forward . /etc/resolv.conf`` asks the node network's resolver and relays its answer
    (a recursive resolver's: ``ra``, no ``aa``), TTLs capped by ``cache 30``.
    (status, answers, authority)."""
    up = ctx.sim.scenario.cluster.upstreamDNS
    ip = up.records.get(qname.rstrip(".").lower())
    if ip is None:
        return "NXDOMAIN", [], [(".", "SOA", ROOT_SOA, min(86400, COREDNS_CACHE_TTL))]
    if qtype != "A":  # the name exists, with an A record only: NODATA
        return "NOERROR", [], [(".", "SOA", ROOT_SOA, min(86400, COREDNS_CACHE_TTL))]
    return "NOERROR", [(qname, "A", ip, min(up.ttl, COREDNS_CACHE_TTL))], []


def _compressed_size(names: list[str]) -> int:
    """Wire bytes of domain names written in this order with message compression (a name,
    or its longest suffix already written, becomes a 2-byte pointer)."""
    seen: set[tuple[str, ...]] = set()
    size = 0
    for name in names:
        labels = tuple(x.lower() for x in name.rstrip(".").split(".") if x)
        for k in range(len(labels) + 1):
            suffix = labels[k:]
            if not suffix:
                size += sum(len(x) + 1 for x in labels) + 1
                break
            if suffix in seen:
                size += sum(len(x) + 1 for x in labels[:k]) + 2
                break
        for k in range(len(labels)):
            seen.add(labels[k:])
    return size


def _dig_forwarded(ctx: ShellContext, qname: str, qtype: str, banner: list[str], sections: dict[str, bool],
                   short: bool) -> ShellResult:
    """dig's output for a forwarded name, as the recorded dig 9.18 prints the relayed answer."""
    status, answers, authority = _forwarded(ctx, qname, qtype)
    if short:
        return ShellResult(stdout="".join(d + "\n" for _, _, d, _ in answers))
    server = dns_server(ctx)
    lines: list[str] = []
    if sections["cmd"]:
        lines += banner
    if sections["comments"]:
        lines += [";; Got answer:",
                  f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {zlib.crc32(qname.encode()) & 0xFFFF}",
                  f";; flags: qr rd ra; QUERY: 1, ANSWER: {len(answers)}, AUTHORITY: {len(authority)}, ADDITIONAL: 1",
                  "", ";; OPT PSEUDOSECTION:", "; EDNS: version: 0, flags:; udp: 1232"]
    if sections["question"]:
        if sections["comments"]:
            lines.append(";; QUESTION SECTION:")
        lines.append(";" + _dig_field([(qname, 0), ("IN", 32), (qtype, 40)]))
        if sections["comments"]:
            lines.append("")
    for title, rows in (("ANSWER", answers), ("AUTHORITY", authority)):
        if rows and sections[title.lower()]:
            if sections["comments"]:
                lines.append(f";; {title} SECTION:")
            lines += [_dig_field([(n, 0), (str(ttl), 24), ("IN", 32), (t, 40), (d, 48)]) for n, t, d, ttl in rows]
            if sections["comments"]:
                lines.append("")
    if sections["stats"]:
        names = [qname]
        size = 12 + 4 + 11
        for n, t, d, _ in answers + authority:
            names.append(n)
            size += 10 + (4 if t == "A" else 20)
            if t == "SOA":
                names += d.split()[:2]
        size += _compressed_size(names)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
        lines += [";; Query time: 0 msec", f";; SERVER: {server}#53({server}) (UDP)", f";; WHEN: {stamp}",
                  f";; MSG SIZE  rcvd: {size}", ""]
    return ShellResult(stdout="".join(x + "\n" for x in lines))


def run_dig(ctx: ShellContext, argv: list[str]) -> ShellResult:
    """dig 9.18 against the cluster DNS, as CoreDNS's kubernetes plugin answers:
    authoritative, no recursion, TTL 30, NXDOMAIN with the zone's SOA, names compressed."""
    short = search = reverse = False
    sections = {"question": True, "answer": True, "authority": True, "additional": True, "comments": True,
                "cmd": True, "stats": True}
    names = []
    qtype = "A"
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "+short":
            short = True
        elif a in ("+search", "+nosearch"):
            search = a == "+search"
        elif a == "+noall":
            sections = dict.fromkeys(sections, False)
        elif a == "+all":
            sections = dict.fromkeys(sections, True)
        elif a.startswith("+no") and a[3:] in sections:
            sections[a[3:]] = False
        elif a.startswith("+") and a[1:] in sections:
            sections[a[1:]] = True
        elif a.startswith("+") or a.startswith("@"):
            continue
        elif a == "-x" and i < len(argv):
            reverse = True
            names.append(argv[i])
            i += 1
        elif a.upper() in ("A", "AAAA", "SRV", "PTR", "ANY", "CNAME", "TXT", "MX", "NS", "SOA"):
            qtype = a.upper()
        elif a.startswith("-"):
            if a in ("-t", "-p", "-b", "-c", "-q") and i < len(argv):
                if a == "-t":
                    qtype = argv[i].upper()
                i += 1
            continue
        else:
            names.append(a)
    name = names[0] if names else "."
    banner = ["", f"; <<>> DiG {DIG_VERSION} <<>> {' '.join(argv)}", ";; global options: +cmd"]
    if not uses_cluster_dns(ctx):
        msg = ";; communications error to 127.0.0.53#53: timed out\n" * 3
        return ShellResult(stdout=msg + ("" if short or not sections["cmd"] else "\n".join(banner) + "\n")
                           + ";; no servers could be reached\n", exit_code=9)
    failed = dns_query_error(ctx)
    if failed:
        head = "" if short or not sections["cmd"] else "\n".join(banner) + "\n"
        return ShellResult(stdout=_no_dns_servers(ctx, failed, 3, tail=head), exit_code=9)
    records = _records(ctx)
    answers: list[tuple[str, str, str]] = []
    additional: list[tuple[str, str, str]] = []  # (SRV targets' addresses)
    if reverse:
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise CommandError(f"Invalid IP address {name}", 10) from None
        qname = ".".join(reversed(name.split("."))) + ".in-addr.arpa."
        qtype = "PTR"
        owners = sorted(n for n, ip in records.items() if ip == name and n.count(".") >= 4)
        if owners:
            answers.append((qname, "PTR", owners[0] + "."))
        else:  # no Service's address: "fallthrough in-addr.arpa" hands it to forward
            return _dig_forwarded(ctx, qname, qtype, banner, sections, short)
        exists = True
    else:
        ip, fq = resolve(ctx, name, search=search)
        qname = (fq if ip else name).rstrip(".") + "."
        if not ip and not _in_cluster_zone(qname) and qtype in ("A", "AAAA", "MX", "TXT", "NS", "CNAME"):
            return _dig_forwarded(ctx, qname, qtype, banner, sections, short)
        if ip and qtype == "A":
            answers.append((qname, "A", ip))
        srv = srv_records(ctx)
        if qtype == "SRV":
            found = srv.get(qname.rstrip(".").lower())
            if found is None and search and not name.endswith(".") and name.count(".") < 5:
                for suffix in search_path(ctx):
                    found = srv.get(f"{name}.{suffix}".lower())
                    if found is not None:
                        qname = f"{name}.{suffix}."
                        break
            for port, target in found or ():
                answers.append((qname, "SRV", f"0 {100 // len(found)} {port} {target}."))
                additional.append((target + ".", "A", records[target]))
        # the name exists (NOERROR) when it has an address or SRV records, whatever was asked
        exists = bool(answers) or ip is not None or qname.rstrip(".").lower() in srv
    status = "NOERROR" if exists else "NXDOMAIN"
    if short:
        return ShellResult(stdout="".join(a[2] + "\n" for a in answers))
    server = dns_server(ctx)
    qid = zlib.crc32(qname.encode()) & 0xFFFF
    zone = CLUSTER_DOMAIN + "."
    # a name outside the cluster's zone: CoreDNS's forward plugin asks the upstream
    # resolvers and relays their answer (recursive: ra, not authoritative); the upstream
    # knows none of the scenario's names, so the root zone's SOA comes back with the NXDOMAIN
    # (its TTL capped at 30 s by kubeadm's `cache 30`)
    upstream = not reverse and not qname.lower().endswith("." + zone) and qname.lower() != zone
    today = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d")
    soa = ((".", f"a.root-servers.net. nstld.verisign-grs.com. {today}00 1800 900 604800 86400") if upstream
           else (zone, f"ns.dns.{zone} hostmaster.{zone} 1700000000 7200 1800 86400 30"))
    lines: list[str] = []
    if sections["cmd"]:
        lines += banner
    if sections["comments"]:
        lines.append(";; Got answer:")
        if qname.lower().endswith(".local."):
            lines += [";; WARNING: .local is reserved for Multicast DNS",
                      ";; You are currently testing what happens when an mDNS query is leaked to DNS"]
        lines += [f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {qid}",
                  f";; flags: {'qr rd ra' if upstream else 'qr aa rd'}; QUERY: 1, ANSWER: {len(answers)}, "
                  f"AUTHORITY: {0 if answers else 1}, ADDITIONAL: {1 + len(additional)}"]
        if not upstream:
            lines.append(";; WARNING: recursion requested but not available")
        lines += ["", ";; OPT PSEUDOSECTION:", "; EDNS: version: 0, flags:; udp: 1232"]

    def section(title: str, rows: list[str]) -> None:
        # dig frames each section with its title and a blank line, unless +nocomments
        if sections["comments"]:
            lines.append(f";; {title} SECTION:")
        lines.extend(rows)
        if sections["comments"]:
            lines.append("")

    if sections["question"]:
        section("QUESTION", [";" + _dig_field([(qname, 0), ("IN", 32), (qtype, 40)])])
    if answers and sections["answer"]:
        section("ANSWER", [_dig_rr(n, t, d) for n, t, d in answers])
    if additional and sections["additional"]:
        section("ADDITIONAL", [_dig_rr(n, t, d) for n, t, d in additional])
    if not answers and sections["authority"]:
        section("AUTHORITY", [_dig_rr(soa[0], "SOA", soa[1])])
    if sections["stats"]:
        size = 12 + _wire_len(qname) + 4 + 11
        for n, t, d in answers:
            # (an SRV target goes uncompressed after priority, weight and port)
            size += 2 + 10 + (4 if t == "A" else 6 + _wire_len(d.split()[-1]) if t == "SRV" else _wire_len(d))
        size += (2 + 10 + 4) * len(additional)
        if not answers and upstream:  # owner "." (1 byte), names in full
            size += 1 + 10 + _wire_len("a.root-servers.net") + _wire_len("nstld.verisign-grs.com") + 20
        elif not answers:
            size += 2 + 10 + (len("ns.dns") + 1 + 2) + (len("hostmaster") + 1 + 2) + 20
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
        lines += [";; Query time: 0 msec", f";; SERVER: {server}#53({server}) (UDP)", f";; WHEN: {stamp}",
                  f";; MSG SIZE  rcvd: {size}", ""]
    return ShellResult(stdout="".join(x + "\n" for x in lines))


def run_host(ctx: ShellContext, argv: list[str]) -> ShellResult:
    """``host NAME|IP`` (bind9-host 9.18): A (then AAAA and MX, which the cluster DNS has
    none of), or the PTR of an address."""
    args = [a for a in argv if not a.startswith("-")]
    if not args:
        raise CommandError("Usage: host [-aCdilrTvVw] [-c class] [-N ndots] [-t type] [-W time]\n"
                           "            [-R number] [-m flag] [-p port] hostname [server]", 1)
    name = args[0]
    if not uses_cluster_dns(ctx):
        return ShellResult(stdout=";; communications error to 127.0.0.53#53: timed out\n" * 2
                           + ";; no servers could be reached\n", exit_code=1)
    failed = dns_query_error(ctx)
    if failed:
        return ShellResult(stdout=_no_dns_servers(ctx, failed, 2), exit_code=1)
    try:
        ipaddress.IPv4Address(name)
        is_ip = True
    except ValueError:
        is_ip = False
    records = _records(ctx)
    if is_ip:
        rev = ".".join(reversed(name.split("."))) + ".in-addr.arpa"
        owners = sorted(n for n, ip in records.items() if ip == name and n.count(".") >= 4)
        if not owners:
            return ShellResult(stdout=f"Host {rev}. not found: 3(NXDOMAIN)\n", exit_code=1)
        return ShellResult(stdout=f"{rev} domain name pointer {owners[0]}.\n")
    ip, fq = resolve(ctx, name)
    if ip is None:
        for cand in _nslookup_candidates(ctx, name):  # a name CoreDNS forwards, if its upstream knows it
            if not _in_cluster_zone(cand):
                answers = _forwarded(ctx, cand, "A")[1]
                if answers:
                    return ShellResult(stdout="".join(f"{n.rstrip('.')} has address {d}\n" for n, _, d, _ in answers))
        return ShellResult(stdout=f"Host {name} not found: 3(NXDOMAIN)\n", exit_code=1)
    return ShellResult(stdout=f"{fq} has address {ip}\n")


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
