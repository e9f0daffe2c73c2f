"""``conntrack`` (conntrack-tools 1.4.7) over a node's live conntrack table.

``-L``/``-D``/``-F``/``-C``/``-G`` act on the table at once; ``-E`` arms the shell so the
next connection run from it (curl, nc) prints the events the kernel would have sent for
this node's entries, derived from that connection's Trace steps.
"""

from __future__ import annotations

import ipaddress

from ..netfilter.conntrack import PROTO_NUMBERS, TCP_TIMEOUTS, UDP_TIMEOUT, ConntrackEntry
from ..trace import ConntrackView, Trace
from .base import CommandError, ShellContext, ShellResult

VERSION = "conntrack v1.4.7 (conntrack-tools)"
PREFIX = VERSION + ": "
TRY = "Try `conntrack -h' or 'conntrack --help' for more information."
NO_PERM = PREFIX + "Operation failed: sorry, you must be root or get CAP_NET_ADMIN capability to do this"

HELP = """Command line interface for the connection tracking system. Version 1.4.7
Usage: conntrack [commands] [options]

Commands:
  -L [table] [options]		List conntrack or expectation table
  -G [table] parameters		Get conntrack or expectation
  -D [table] parameters		Delete conntrack or expectation
  -I [table] parameters		Create a conntrack or expectation
  -U [table] parameters		Update a conntrack
  -E [table] [options]		Show events
  -F [table]			Flush table
  -C [table]			Show counter
  -S				Show statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip			source NAT ip
  -g, --dst-nat ip			destination NAT ip
  -j, --any-nat ip			source or destination NAT ip
  -m, --mark mark			Set mark
  -c, --secmark secmark			Set selinux secmark
  -e, --event-mask eventmask		Event mask, eg. NEW,DESTROY
  -z, --zero 				Zero counters while listing
  -o, --output type[,...]		Output format, eg. xml
  -l, --label label[,...]		conntrack labels

Expectation parameters and options:
  --tuple-src ip	Source address in expect tuple
  --tuple-dst ip	Destination address in expect tuple

Updating parameters and options:
  --label-add label	Add label
  --label-del label	Delete label

Common parameters and options:
  -s, --src, --orig-src ip		Source address from original direction
  -d, --dst, --orig-dst ip		Destination address from original direction
  -r, --reply-src ip		Source addres from reply direction
  -q, --reply-dst ip		Destination address from reply direction
  -p, --protonum proto		Layer 4 Protocol, eg. 'tcp'
  -f, --family proto		Layer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout		Set timeout
  -u, --status status		Set status, eg. ASSURED
  -w, --zone value		Set conntrack zone
  --orig-zone value		Set zone for original direction
  --reply-zone value		Set zone for reply direction
  -b, --buffer-size		Netlink socket buffer size
  --mask-src ip			Source mask address
  --mask-dst ip			Destination mask address

"""

_COMMANDS = {
    "-L": "L", "--dump": "L", "-G": "G", "--get": "G", "-D": "D", "--delete": "D",
    "-I": "I", "--create": "I", "-U": "U", "--update": "U", "-E": "E", "--event": "E",
    "-F": "F", "--flush": "F", "-C": "C", "--count": "C", "-S": "S", "--stats": "S",
    "-h": "h", "--help": "h", "-V": "V", "--version": "V",
}
_ADDR = {
    "-s": "src", "--src": "src", "--orig-src": "src",
    "-d": "dst", "--dst": "dst", "--orig-dst": "dst",
    "-r": "reply_src", "--reply-src": "reply_src",
    "-q": "reply_dst", "--reply-dst": "reply_dst",
}
_WITH_ARG = {
    "-p": "proto", "--protonum": "proto", "--proto": "proto",
    "-f": "family", "--family": "family", "-o": "output", "--output": "output",
    "-m": "mark", "--mark": "mark", "-t": "timeout", "--timeout": "timeout",
    "-u": "status", "--status": "status", "-w": "zone", "--zone": "zone",
    "-e": "event_mask", "--event-mask": "event_mask", "-b": "buffer", "--buffer-size": "buffer",
    "-c": "secmark", "--secmark": "secmark", "-l": "label", "--label": "label",
    "--orig-zone": "zone", "--reply-zone": "zone", "--mask-src": "mask", "--mask-dst": "mask",
    "--tuple-src": "tuple", "--tuple-dst": "tuple", "--label-add": "label", "--label-del": "label",
}
_NAT = {"-n": "snat", "--src-nat": "snat", "-g": "dnat", "--dst-nat": "dnat", "-j": "anynat",
        "--any-nat": "anynat"}
#: options of the protocol module (only after -p)
_PROTO_OPTS = {
    "--sport": "sport", "--orig-port-src": "sport", "--dport": "dport", "--orig-port-dst": "dport",
    "--reply-port-src": "reply_sport", "--reply-port-dst": "reply_dport", "--state": "state",
}
_PROTOS = ("tcp", "udp", "icmp", "udplite", "sctp", "dccp", "gre", "icmpv6")
_TABLES = ("conntrack", "expect", "expectation", "dying", "unconfirmed")


def _err(msg: str, code: int = 2) -> CommandError:
    return CommandError(f"{PREFIX}{msg}\n{TRY}", code)


#: CPUs of a simulated node (``conntrack -S`` prints one line each)
CPUS = 2
#: option -> the commands it may be given with (conntrack.c's commands_v_options: "x")
_ONLY_WITH = {"timeout": ("I", "U"), "--timeout": ("I", "U")}
_LONG_NAMES = {"timeout": "--timeout"}


def parse(argv: list[str]) -> tuple[str, dict]:
    cmd = ""
    opts: dict = {}
    i = 0
    n = len(argv)
    while i < n:
        tok = argv[i]
        i += 1
        name, eq, val = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        attached = val if eq else None
        if not name.startswith("--") and name.startswith("-") and len(name) > 2:
            attached, name = name[2:], name[:2]
        if name in _COMMANDS:
            letter = _COMMANDS[name]
            if cmd:
                raise _err("Invalid commands combination")
            cmd = letter
            table = attached
            if table is None and letter in "LGDIUEFC" and i < n and argv[i][:1] not in ("-", ""):
                table = argv[i]
                i += 1
            if table is not None and table not in _TABLES:
                raise _err(f"unknown type `{table}'")
            if table not in (None, "conntrack"):
                opts["table"] = table
            continue

        def value() -> str:
            nonlocal i
            if attached is not None:
                return attached
            if i < n:
                i += 1
                return argv[i - 1]
            raise _err(f"option `{tok}' requires an argument")

        if name in _ADDR:
            v = value()
            try:
                v = str(ipaddress.IPv4Address(v))
            except ValueError:
                raise _err(f"Invalid IP address `{v}'") from None
            opts[_ADDR[name]] = v
        elif name in _WITH_ARG:
            key = _WITH_ARG[name]
            v = value()
            if key == "proto":
                lv = v.lower()
                if lv.isdigit():
                    lv = {"6": "tcp", "17": "udp", "1": "icmp"}.get(lv, lv)
                if lv not in _PROTOS:
                    raise _err(f"`{v}' unsupported protocol")
                opts["proto"] = lv
            elif key == "family":
                if v not in ("ipv4", "ipv6"):
                    raise _err(f"`{v}' unsupported protocol")
                opts["family"] = v
            elif key == "output":
                for part in v.split(","):
                    if part not in ("xml", "extended", "timestamp", "id", "ktimestamp", "labels", "userspace"):
                        raise _err(f"Bad parameter `{part}'")
                opts["output"] = v.split(",")
            elif key == "mark":
                try:
                    opts["mark"] = int(v.split("/")[0], 0)
                except ValueError:
                    raise _err(f"Bad parameter `{v}'") from None
            else:
                opts[key] = v
            if key in _ONLY_WITH:
                opts.setdefault("_illegal", []).append(key)
        elif name in _NAT:
            v = attached
            if v is None and i < n and argv[i][:1] not in ("-", ""):
                v = argv[i]
                i += 1
            if v is not None:
                try:
                    v = str(ipaddress.IPv4Address(v))
                except ValueError:
                    raise _err(f"Invalid IP address `{v}'") from None
            opts[_NAT[name]] = v or ""
        elif name in ("-z", "--zero"):
            opts["zero"] = True
        elif name in _PROTO_OPTS and "proto" in opts:
            key = _PROTO_OPTS[name]
            v = value()
            if key == "state":
                opts["state"] = [s.upper() for s in v.split(",")]
                for s in opts["state"]:
                    if opts["proto"] == "tcp" and s not in TCP_TIMEOUTS and s not in ("NONE", "SYN_SENT2"):
                        raise _err(f"Bad parameter `{s}'")
            else:
                try:
                    opts[key] = int(v)
                except ValueError:
                    raise _err(f"Bad parameter `{v}'") from None
        elif name.startswith("-") and name != "-":
            raise _err(f"unknown option `{name}'")
        else:
            raise _err(f"unknown option `{tok}'") if False else _err(f"Bad parameter `{tok}'")
    for key in opts.pop("_illegal", []):
        if cmd and cmd not in _ONLY_WITH[key]:
            raise _err(f"Illegal option `{_LONG_NAMES[key]}' with this command")
    return cmd, opts


def _matches(e: ConntrackEntry, o: dict) -> bool:
    if o.get("family") == "ipv6":
        return False
    if not e.matches_filter(proto=o.get("proto"), src=o.get("src"), dst=o.get("dst"),
                            reply_src=o.get("reply_src"), reply_dst=o.get("reply_dst"),
                            sport=o.get("sport"), dport=o.get("dport")):
        return False
    if "reply_sport" in o and e.reply[2] != o["reply_sport"]:
        return False
    if "reply_dport" in o and e.reply[3] != o["reply_dport"]:
        return False
    if "state" in o and e.state not in o["state"]:
        return False
    if "mark" in o and e.mark != o["mark"]:
        return False
    if "snat" in o and not (e.snat and (not o["snat"] or e.reply[1] == o["snat"])):
        return False
    if "dnat" in o and not (e.dnat and (not o["dnat"] or e.reply[0] == o["dnat"])):
        return False
    if "anynat" in o:
        ip = o["anynat"]
        ok = (e.snat and (not ip or e.reply[1] == ip)) or (e.dnat and (not ip or e.reply[0] == ip))
        if not ok:
            return False
    return True


def _xml(e: ConntrackEntry) -> str:
    """One entry as ``conntrack -o xml`` prints it (libnetfilter_conntrack's XML)."""
    num = PROTO_NUMBERS.get(e.proto, 0)

    def meta(direction: str, t) -> str:
        l4 = f'<layer4 protonum="{num}" protoname="{e.proto}">'
        if e.proto in ("tcp", "udp", "sctp"):
            l4 += f"<sport>{t[2]}</sport><dport>{t[3]}</dport>"
        return (f'<meta direction="{direction}"><layer3 protonum="2" protoname="ipv4"><src>{t[0]}</src>'
                f"<dst>{t[1]}</dst></layer3>{l4}</layer4></meta>")

    ind = '<meta direction="independent">'
    if e.state:
        ind += f"<state>{e.state}</state>"
    ind += f"<timeout>{max(e.timeout - 1, 0)}</timeout><mark>{e.mark}</mark><use>1</use><id>{e.id}</id>"
    if e.assured:
        ind += "<assured/>"
    if not e.seen_reply:
        ind += "<unreplied/>"
    return f"<flow>{meta('original', e.orig)}{meta('reply', e.reply)}{ind}</meta></flow>"


def _listing(entries: list[ConntrackEntry], o: dict) -> str:
    if "xml" in o.get("output", []):
        if not entries:
            return ""
        return ('<?xml version="1.0" encoding="utf-8"?>\n<conntrack>\n' + "".join(_xml(e) + "\n" for e in entries)
                + "</conntrack>\n")
    return "".join(_line(e, o) + "\n" for e in entries)


def _line(e: ConntrackEntry, o: dict) -> str:
    text = e.line()
    out = o.get("output", [])
    if "id" in out:
        text += f" id={e.id}"
    if "extended" in out:
        text = f"ipv4     2 {text}"
    return text


def run_conntrack(ctx: ShellContext, argv: list[str]) -> ShellResult:
    cmd, o = parse(argv)
    if not cmd:
        return ShellResult(stdout=HELP)
    if cmd == "h":
        return ShellResult(stdout=HELP)
    if cmd == "V":
        return ShellResult(stdout=VERSION + "\n")
    table = ctx.sim.conntrack(ctx.host_name) if ctx.is_node else None
    if table is None:
        if cmd == "F":
            raise CommandError(f"{PREFIX}connection tracking table has been emptied.\n{NO_PERM}", 1)
        if cmd == "C":
            raise CommandError(NO_PERM, 1, stdout="0\n")
        raise CommandError(NO_PERM, 1)
    if o.get("table") in ("expect", "expectation", "dying", "unconfirmed"):
        # nothing ever sits in these tables here
        if cmd == "L":
            kind = "expectations" if o["table"].startswith("expect") else "flow entries"
            return ShellResult(stderr=f"{PREFIX}0 {kind} have been shown.\n")
        if cmd == "C":
            return ShellResult(stdout="0\n")
        if cmd == "F":
            return ShellResult(stderr=f"{PREFIX}expectation table has been emptied.\n")
    entries = [e for e in table.entries if _matches(e, o)]
    if cmd == "L":
        body = _listing(entries, o)
        return ShellResult(stdout=body, stderr=f"{PREFIX}{len(entries)} flow entries have been shown.\n")
    if cmd == "C":
        return ShellResult(stdout=f"{len(table.entries)}\n")
    if cmd == "F":
        table.flush()
        return ShellResult(stderr=f"{PREFIX}connection tracking table has been emptied.\n")
    if cmd == "D":
        body = "".join(_line(e, o) + "\n" for e in entries)
        gone = set(map(id, entries))
        table.entries = [e for e in table.entries if id(e) not in gone]
        return ShellResult(stdout=body, stderr=f"{PREFIX}{len(entries)} flow entries have been deleted.\n",
                           exit_code=0 if entries else 1)
    if cmd == "G":
        if not entries:
            raise CommandError(f"{PREFIX}Operation failed: such conntrack doesn't exist", 1)
        return ShellResult(stdout=_line(entries[0], o) + "\n",
                           stderr=f"{PREFIX}1 flow entries have been shown.\n")
    if cmd == "E":
        ctx.state.ct_events = True
        ctx.state.ct_event_filter = dict(o)
        return ShellResult()
    if cmd == "S":
        # one line per CPU; a simulated node has CPUS of them (as the machine the goldens
        # were recorded on).  Of the kernel's per-CPU counters (trouble: drops, clashes,
        # restarts) the simulation meets one: a full table.  __nf_conntrack_alloc first tries
        # early_drop, which evicts an unassured entry only if it finds one in the 8 hash
        # buckets next to the new tuple's (NF_CT_EVICTION_RANGE): in a table of far more
        # buckets than entries it finds none, the allocation fails and nf_conntrack_in
        # counts the packet as "drop" and drops it ("nf_conntrack: table full, dropping
        # packet").  Which CPU counts it is the one that handled the packet; the simulation
        # has one, cpu=0.  insert_failed (a clash at confirmation) and early_drop stay 0; the
        # garbage collector's early evictions in a table over 95% full count in no statistic.
        ct = ctx.sim.conntrack(ctx.host_name) if ctx.is_node else None
        dropped = ct.drop if ct is not None else 0
        return ShellResult(stdout="".join(
            f"cpu={k:<4}\tfound=0 invalid=0 insert=0 insert_failed=0 drop={dropped if k == 0 else 0} early_drop=0 "
            "error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n" for k in range(CPUS)))
    if cmd in ("I", "U"):
        raise _err("Operation failed: invalid parameters", 1) if False else CommandError(
            f"{PREFIX}Operation failed: Invalid argument", 1)
    return ShellResult()


# ------------------------------------------------------------------- events (-E)


def _timeout_full(v: ConntrackView) -> int:
    if v.proto == "tcp":
        return TCP_TIMEOUTS.get(v.state, 120)
    return UDP_TIMEOUT


def event_line(kind: str, v: ConntrackView) -> str:
    """One ``conntrack -E`` line (full timeout, no mark/use, as the kernel's events)."""
    num = PROTO_NUMBERS.get(v.proto, 0)
    parts = [f"{'[' + kind + ']':>9} {v.proto:<8} {num} {_timeout_full(v)}"]
    if v.state:
        parts.append(v.state)
    parts.append("src={} dst={} sport={} dport={}".format(*v.orig))
    if "UNREPLIED" in v.status:
        parts.append("[UNREPLIED]")
    parts.append("src={} dst={} sport={} dport={}".format(*v.reply))
    if "ASSURED" in v.status:
        parts.append("[ASSURED]")
    return " ".join(parts)


def _view_matches(v: ConntrackView, o: dict) -> bool:
    if o.get("proto") and v.proto != o["proto"]:
        return False
    for key, val in (("src", v.orig[0]), ("dst", v.orig[1]), ("reply_src", v.reply[0]), ("reply_dst", v.reply[1])):
        if o.get(key) and val != o[key]:
            return False
    if o.get("sport") and v.orig[2] != o["sport"]:
        return False
    if o.get("dport") and v.orig[3] != o["dport"]:
        return False
    if o.get("event_mask"):
        pass  # filtered by the caller per event kind
    return True


def events_from_trace(trace: Trace, host: str, o: dict | None = None) -> list[str]:
    """The NEW/UPDATE events ``conntrack -E`` on ``host`` prints while ``trace`` ran.

    The kernel reports NEW when an entry is confirmed (so it already shows the NAT'ed
    reply tuple) and UPDATE whenever a later packet changes its state or status.
    """
    o = o or {}
    mask = {m.strip().upper() for m in o.get("event_mask", "").split(",") if m.strip()} or {"ALL"}
    seen: dict[tuple, tuple] = {}  # orig tuple -> (state, status) last reported
    out: list[str] = []
    for s in trace.steps:
        if s.host != host or s.touched < 0 or s.touched >= len(s.conntrack):
            continue
        v = s.conntrack[s.touched]
        key = (v.proto, v.orig)
        if s.kind == "conntrack-new":
            continue  # not confirmed yet: the kernel says nothing until it is
        if key not in seen:
            if s.kind != "conntrack-confirm":
                continue
            seen[key] = (v.state, v.status)
            kind = "NEW"
        else:
            now = (v.state, v.status)
            if now == seen[key]:
                continue
            seen[key] = now
            kind = "UPDATE"
        if not _view_matches(v, o):
            continue
        if "ALL" not in mask and kind not in mask:
            continue
        out.append(event_line(kind, v))
    return out
