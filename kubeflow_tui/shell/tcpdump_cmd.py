"""``tcpdump`` (4.99, libpcap 1.10) over the packets the simulator moved.

A simulated shell runs one command at a time, so ``tcpdump`` shows the packets of the last
connection that crossed this host (curl, nc, wget, a flow played in the app) as tcpdump
prints them, then stops as if interrupted (``-c N``: after N packets).  Each packet is the
one the engine moved on that hop, before or after NAT as it was on that interface; the TCP
fields follow a Linux connection: the SYN's options, relative sequence numbers after the
first packet of each direction, the receiver's immediate ACK of each data segment.

The window sizes and window scale are those recorded from this machine's kernel in network
namespaces (``tests/golden/shell/real``); initial sequence numbers and TCP timestamps are
random in a real kernel and derived from the connection's addresses here.

Options: ``-i IF|any``, ``-n``/``-nn``, ``-c N``, ``-e``, ``-t``, ``-l``, ``-q``-less default
format, and a filter of ``host``/``src``/``dst``/``net``-less address, ``port``, ``tcp``/
``udp``/``icmp``/``ip`` joined by ``and``/``or``/``not``.
"""

from __future__ import annotations

import datetime as _dt
import zlib

from ..cluster.counters import iface_towards
from .base import CommandError, ShellContext, ShellResult

try:
    from ..netfilter.names import SERVICE_BY_PORT
except Exception:  # pragma: no cover
    SERVICE_BY_PORT = {}

#: what this machine's kernel advertised (recorded): MSS, SYN windows, scale, later windows;
#: on lo (MTU 65536) the MSS and the windows are the loopback's (recorded too)
WIN_SYN, WIN_SYNACK, WSCALE, WIN_CLIENT, WIN_SERVER = 64240, 65160, 10, 63, 64
LINK = {"mss": 1460, "syn": WIN_SYN, "synack": WIN_SYNACK, "client": WIN_CLIENT, "server": WIN_SERVER}
LOOPBACK = {"mss": 65495, "syn": 65495, "synack": 65483, "client": 64, "server": 64}
HTTP_PORTS = (80, 8080, 3128)
VERBOSE = "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"


class _Pkt:
    __slots__ = ("src", "dst", "proto", "sport", "dport", "iface", "direction", "text_tail", "ip_len",
                 "src_host", "dst_host")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


def _usage(msg: str) -> CommandError:
    return CommandError(f"tcpdump: {msg}", 1)


# ------------------------------------------------------------------ the filter


def _parse_filter(words: list[str]):
    """A pcap filter (the subset above) -> predicate(packet)."""
    pos = 0

    def peek():
        return words[pos] if pos < len(words) else None

    def take():
        nonlocal pos
        pos += 1
        return words[pos - 1]

    def primary():
        w = peek()
        if w is None:
            raise _usage("syntax error in filter expression")
        if w in ("not", "!"):
            take()
            inner = primary()
            return lambda p: not inner(p)
        if w == "(":
            take()
            inner = disj()
            if take() != ")":
                raise _usage("syntax error in filter expression")
            return inner
        take()
        if w in ("tcp", "udp", "icmp", "sctp"):
            if peek() in ("port", "src", "dst", "host"):  # "tcp port 80": a qualified primitive
                rest = primary()
                return lambda p, w=w: p.proto == w and rest(p)
            return lambda p, w=w: p.proto == w
        if w == "ip":
            return lambda p: True
        direction = ""
        if w in ("src", "dst"):
            direction = w
            w = take() if peek() in ("host", "port") else "host"
        if w == "host":
            addr = take() if peek() is not None else None
            if addr is None:
                raise _usage("syntax error in filter expression")
            if direction == "src":
                return lambda p: p.src == addr
            if direction == "dst":
                return lambda p: p.dst == addr
            return lambda p: addr in (p.src, p.dst)
        if w == "port":
            text = take() if peek() is not None else ""
            if not text.isdigit():
                raise _usage(f"illegal port number {text} in filter expression" if text else
                             "syntax error in filter expression")
            port = int(text)
            if direction == "src":
                return lambda p: p.sport == port
            if direction == "dst":
                return lambda p: p.dport == port
            return lambda p: port in (p.sport, p.dport)
        if w.count(".") == 3 and all(x.isdigit() for x in w.split(".")):
            return lambda p: w in (p.src, p.dst)
        raise _usage(f"syntax error in filter expression")

    def conj():
        left = primary()
        while peek() in ("and", "&&"):
            take()
            right = primary()
            left = (lambda a, b: lambda p: a(p) and b(p))(left, right)
        return left

    def disj():
        left = conj()
        while peek() in ("or", "||"):
            take()
            right = conj()
            left = (lambda a, b: lambda p: a(p) or b(p))(left, right)
        return left

    if not words:
        return lambda p: True
    pred = disj()
    if pos != len(words):
        raise _usage("syntax error in filter expression")
    return pred


# ------------------------------------------------------------------ packets of a connection


def _logical_packets(trace, sizes: tuple[int, int]) -> list[tuple[str, list]]:
    """(kind, link steps) in the order the packets went, with the receiver's immediate
    ACK of each data segment (it takes the path of the data going the other way)."""
    groups: dict[int, list] = {}
    labels: dict[int, str] = {}
    for s in trace.steps:
        if s.kind == "link" and len(s.link) == 2:
            groups.setdefault(s.packet_no, []).append(s)
            labels.setdefault(s.packet_no, s.packet_label)
    by_label = {labels[k]: groups[k] for k in groups}
    out: list[tuple[str, list]] = []
    tcp = bool(trace.steps) and trace.steps[0].packet.proto == "tcp"
    for no in sorted(groups):
        label = labels[no]
        if tcp and label in ("request", "response") and not sizes[0 if label == "request" else 1]:
            continue
        if tcp and label == "response" and "request" in by_label:
            out.append(("ack-request", groups[no]))
        out.append((label, groups[no]))
        if tcp and label == "response" and "request" in by_label:
            out.append(("ack-response", by_label["request"]))
    return out


def _tcp_tail(kind: str, first_dir: bool, c_isn: int, s_isn: int, tc: int, ts: int, req: int, resp: int,
              http: bool, ports: tuple[int, int], link: dict = LINK) -> tuple[str, int]:
    """The text after "a > b: " and the IP length, for one logical TCP packet."""
    WIN_SYN, WIN_SYNACK, WIN_CLIENT, WIN_SERVER, mss = (link["syn"], link["synack"], link["client"],
                                                        link["server"], link["mss"])
    opts = f"options [nop,nop,TS val {{a}} ecr {{b}}]"
    decode = http and (ports[0] in HTTP_PORTS or ports[1] in HTTP_PORTS)
    client = {"a": tc, "b": ts}
    server = {"a": ts, "b": tc}
    if kind == "SYN":
        return (f"Flags [S], seq {c_isn}, win {WIN_SYN}, options [mss {mss},sackOK,TS val {tc} ecr 0,nop,"
                f"wscale {WSCALE}], length 0", 60)
    if kind == "SYN-ACK":
        return (f"Flags [S.], seq {s_isn}, ack {c_isn + 1}, win {WIN_SYNACK}, options [mss {mss},sackOK,TS val "
                f"{ts} ecr {tc},nop,wscale {WSCALE}], length 0", 60)
    if kind == "RST":
        return f"Flags [R.], seq 0, ack {c_isn + 1}, win 0, length 0", 40
    if kind == "ACK":
        return f"Flags [.], ack 1, win {WIN_CLIENT}, " + opts.format(**client) + ", length 0", 52
    if kind == "request":
        tail = f"Flags [P.], seq 1:{1 + req}, ack 1, win {WIN_CLIENT}, " + opts.format(**client) + f", length {req}"
        return tail + (": HTTP: GET / HTTP/1.1" if decode else ""), 52 + req
    if kind == "ack-request":
        return f"Flags [.], ack {1 + req}, win {WIN_SERVER}, " + opts.format(**server) + ", length 0", 52
    if kind == "response":
        tail = (f"Flags [P.], seq 1:{1 + resp}, ack {1 + req}, win {WIN_SERVER}, " + opts.format(**server)
                + f", length {resp}")
        return tail + (": HTTP: HTTP/1.1 200 OK" if decode else ""), 52 + resp
    if kind == "ack-response":
        return f"Flags [.], ack {1 + resp}, win {WIN_CLIENT}, " + opts.format(**client) + ", length 0", 52
    if kind == "FIN":
        return (f"Flags [F.], seq {1 + req}, ack {1 + resp}, win {WIN_CLIENT}, " + opts.format(**client)
                + ", length 0", 52)
    if kind == "FIN-ACK":
        return (f"Flags [F.], seq {1 + resp}, ack {2 + req}, win {WIN_SERVER}, " + opts.format(**server)
                + ", length 0", 52)
    return f"Flags [.], ack {2 + resp}, win {WIN_CLIENT}, " + opts.format(**client) + ", length 0", 52


def _packets(ctx: ShellContext, iface: str) -> tuple[list[_Pkt], float]:
    """The last connection's packets on this host's ``iface`` ("any": all of them)."""
    counters = ctx.sim.counters
    hosts = ctx.sim.topology.hosts
    me = ctx.host_name
    for trace, sizes, when, http in reversed(counters.recent):
        logical = _logical_packets(trace, sizes)
        tcp = trace.steps[0].packet.proto == "tcp" if trace.steps else False
        first = trace.steps[0].packet if trace.steps else None
        seed = f"{first.src}:{first.sport}>{first.dst}:{first.dport}" if first else ""
        c_isn = zlib.crc32(("c" + seed).encode())
        s_isn = zlib.crc32(("s" + seed).encode())
        tc0 = zlib.crc32(("tc" + seed).encode()) % 4_000_000_000
        ts0 = zlib.crc32(("ts" + seed).encode()) % 4_000_000_000
        out: list[_Pkt] = []
        for kind, steps in logical:
            for s in steps:
                a, b = s.link
                if me not in (a, b):
                    continue
                here = hosts.get(me)
                if here is None:
                    continue
                other = b if me == a else a
                dev = iface_towards(here, other)
                if iface != "any" and dev != iface:
                    continue
                pv = s.packet
                looped = a == b  # out of lo and back in: one packet, seen as "In" on lo
                if tcp:
                    tail, ip_len = _tcp_tail(kind, True, c_isn, s_isn, tc0, ts0, sizes[0], sizes[1], http,
                                             (pv.sport, pv.dport), LOOPBACK if looped else LINK)
                else:
                    n = sizes[1] if pv.direction == "reply" else sizes[0]
                    tail, ip_len = (f"UDP, length {n}", 28 + n) if pv.proto == "udp" else (
                        f"{pv.proto.upper()}, length {n}", 28 + n)
                out.append(_Pkt(src=pv.src, dst=pv.dst, proto=pv.proto, sport=pv.sport, dport=pv.dport,
                                iface=dev, direction="Out" if me == a and not looped else "In",
                                text_tail=tail, ip_len=ip_len,
                                src_host=a, dst_host=b))
        if out:
            return out, when
    return [], 0.0


# ------------------------------------------------------------------ the command


def run_tcpdump(ctx: ShellContext, argv: list[str]) -> ShellResult:
    from .net_cmd import _iface_rows, _mac

    iface = None
    numeric = 0
    count: int | None = None
    ether = no_time = False
    expr: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a.startswith("-") and len(a) > 1:  # getopt permutes: options may follow the filter
            k = 1
            while k < len(a):
                ch = a[k]
                rest = a[k + 1:]
                if ch in "ic":
                    val = rest or (argv[i] if i < len(argv) else None)
                    if val is None:
                        raise CommandError(f"tcpdump: option requires an argument -- '{ch}'\n"
                                           "tcpdump version 4.99.3\nUsage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#]", 1)
                    if not rest:
                        i += 1
                    if ch == "i":
                        iface = val
                    else:
                        if not val.isdigit() or int(val) <= 0:
                            raise _usage(f"invalid packet count {val}")
                        count = int(val)
                    break
                if ch == "n":
                    numeric += 1
                elif ch == "e":
                    ether = True
                elif ch == "t":
                    no_time = True
                elif ch in "lSpq":
                    pass
                elif ch in "vAXxw":
                    raise CommandError(f"tcpdump: -{ch} is not simulated: the simulated tcpdump prints its default "
                                       "one-line format", 1)
                else:
                    raise CommandError(f"tcpdump: invalid option -- '{ch}'", 1)
                k += 1
            continue
        expr.append(a)
    if not ctx.host:
        raise CommandError("tcpdump: this host no longer exists", 1)
    names = [n.split("@")[0] for n, _ in _iface_rows(ctx)]
    if iface is None:
        iface = next((n for n in names if n != "lo"), "lo")
    if iface != "any" and iface not in names:
        raise CommandError(f"tcpdump: {iface}: No such device exists\n(No such device exists)", 1)
    words = [w for e in expr for w in e.replace("(", " ( ").replace(")", " ) ").split()]
    pred = _parse_filter(words)
    head = ""
    if iface == "any":
        head = "tcpdump: data link type LINUX_SLL2\n"
        head += VERBOSE + "listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n"
    elif iface == "lo":
        head = VERBOSE + "listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"
    else:
        head = VERBOSE + f"listening on {iface}, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"
    pkts, when = _packets(ctx, iface)
    pkts = [p for p in pkts if pred(p)]
    if count is not None:
        pkts = pkts[:count]
    index = {n: k for k, n in enumerate(names, 1)}
    lines = []
    for k, p in enumerate(pkts):
        t = _dt.datetime.fromtimestamp(when + k * 0.00005, _dt.timezone.utc)
        stamp = "" if no_time else t.strftime("%H:%M:%S.%f") + " "

        def ep(addr: str, port: int) -> str:
            # tcpdump 4.99: -n (as -nn) keeps ports numeric too (recorded); without it ports
            # get their /etc/services names (the simulated hosts' reverse DNS knows no names)
            if numeric or not port:
                return f"{addr}.{port}"
            return f"{addr}.{SERVICE_BY_PORT.get((port, p.proto), port)}"

        body = f"IP {ep(p.src, p.sport)} > {ep(p.dst, p.dport)}: {p.text_tail}"
        if iface == "any":
            prefix = f"{p.iface:<5} {p.direction:<3} "  # print-sll.c: "%-5s %-3s "
            if ether:
                src_mac = _mac(p.src_host + iface_towards(ctx.sim.topology.hosts[p.src_host], p.dst_host))
                prefix += f"ifindex {index.get(p.iface, 0)} {src_mac} ethertype IPv4 (0x0800), length {p.ip_len + 20}: "
                body = body[3:]
            lines.append(stamp + prefix + body)
        else:
            if ether:
                hs = ctx.sim.topology.hosts
                src_mac = _mac(p.src_host + iface_towards(hs[p.src_host], p.dst_host))
                dst_mac = _mac(p.dst_host + iface_towards(hs[p.dst_host], p.src_host))
                body = f"{src_mac} > {dst_mac}, ethertype IPv4 (0x0800), length {p.ip_len + 14}: " + body[3:]
            lines.append(stamp + body)
    tail = "" if count is not None and len(pkts) == count else "^C\n"
    n = len(pkts)
    stats = f"{n} packet{'s' if n != 1 else ''} captured\n{n} packet{'s' if n != 1 else ''} received by filter\n" \
            "0 packets dropped by kernel\n"
    out = "".join(x + "\n" for x in lines)
    return ShellResult(stdout=out, stderr=head + tail + stats, parts=[("err", head), ("out", out), ("err", tail + stats)])
