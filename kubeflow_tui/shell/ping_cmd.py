"""``ping`` (iputils 20221126) through the simulated datapath.

Each probe is an ICMP echo request run by the engine (``ClusterSim.run_ping``): it crosses
the same hooks and rules as any packet, so a pod or node address answers, while a ClusterIP
does not in iptables mode (kube-proxy's rules match only its Service's protocol and port,
nothing DNATs ICMP, and the address belongs to nobody: the request follows the default
route to the node network's router, which discards it) and in nftables mode is answered by
``cluster-ips-check``'s reject with an ICMP port unreachable.  The probes of one ping share
its echo id, hence one conntrack entry (``icmp 1 29 src=… type=8 code=0 id=…``).

What ping prints was recorded from the real tool in network namespaces
(``tests/golden/shell/real/clusterip-ping*.json``): the reply lines (TTL 64 less one per
router crossed), ``From <addr> icmp_seq=N Destination Port Unreachable`` for an ICMP error,
``ping: sendmsg: Operation not permitted`` when the sender's own OUTPUT hook rejected the
probe (a drop there fails sendmsg() too, and ping says nothing), the statistics.  Times are
the simulator's: no clock runs here, so a round trip is a plausible fraction of a
millisecond, growing with the hops.
"""

from __future__ import annotations

import getopt
import math

from ..trace import Trace
from .base import CommandError, ShellContext, ShellResult

USAGE = """
Usage
  ping [options] <destination>

Options:
  <destination>      dns name or ip address
  -a                 use audible ping
  -A                 use adaptive ping
  -B                 sticky source address
  -c <count>         stop after <count> replies
  -C                 call connect() syscall on socket creation
  -D                 print timestamps
  -d                 use SO_DEBUG socket option
  -e <identifier>    define identifier for ping session, default is random for
                     SOCK_RAW and kernel defined for SOCK_DGRAM
                     Imply using SOCK_RAW (for IPv4 only for identifier 0)
  -f                 flood ping
  -h                 print help and exit
  -I <interface>     either interface name or address
  -i <interval>      seconds between sending each packet
  -L                 suppress loopback of multicast packets
  -l <preload>       send <preload> number of packages while waiting replies
  -m <mark>          tag the packets going out
  -M <pmtud opt>     define mtu discovery, can be one of <do|dont|want>
  -n                 no dns name resolution
  -O                 report outstanding replies
  -p <pattern>       contents of padding byte
  -q                 quiet output
  -Q <tclass>        use quality of service <tclass> bits
  -s <size>          use <size> as number of data bytes to be sent
  -S <size>          use <size> as SO_SNDBUF socket option value
  -t <ttl>           define time to live
  -U                 print user-to-user latency
  -v                 verbose output
  -V                 print version and exit
  -w <deadline>      reply wait <deadline> in seconds
  -W <timeout>       time to wait for response

IPv4 options:
  -4                 use IPv4
  -b                 allow pinging broadcast
  -R                 record route
  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

IPv6 options:
  -6                 use IPv6
  -F <flowlabel>     define flow label, default is random
  -N <nodeinfo opt>  use icmp6 node info query, try <help> as argument

For more details see ping(8).
"""

#: options that take a value; the ones the simulation honours are read below
_WITH_ARG = set("cWiwIstmMlpQSTeFN")
_FLAGS = set("aABCDdfhLnOqUvV46bR")
_OPTSTRING = "".join(sorted(_FLAGS)) + "".join(f"{c}:" for c in sorted(_WITH_ARG))
#: without -c, ping runs until Ctrl-C: the simulated shell presses it after this many probes
PROBES_BEFORE_CTRL_C = 4

_ICMP_TEXT = {
    "ICMP port unreachable": "Destination Port Unreachable",
    "ICMP host unreachable": "Destination Host Unreachable",
    "ICMP net unreachable": "Destination Net Unreachable",
    "ICMP protocol unreachable": "Destination Protocol Unreachable",
    "ICMP net prohibited": "Destination Net Prohibited",
    "ICMP host prohibited": "Destination Host Prohibited",
    "ICMP administratively prohibited": "Packet filtered",
}


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """ping's command line through ``getopt.gnu_getopt``, as iputils reads it with glibc's
    getopt (options anywhere; no long options, so ``--x`` is the invalid option ``-``):
    option -> value ("" for a flag, the last one wins), and the operands."""
    for a in argv:
        if a == "--":
            break
        if a.startswith("--"):
            raise CommandError(f"ping: invalid option -- '-'\n{USAGE}", 2)
    try:
        parsed, pos = getopt.gnu_getopt(argv, _OPTSTRING)
    except getopt.GetoptError as e:
        if "requires argument" in e.msg:
            raise CommandError(f"ping: option requires an argument -- '{e.opt}'\n{USAGE}", 2) from None
        raise CommandError(f"ping: invalid option -- '{e.opt}'\n{USAGE}", 2) from None
    return {opt[1:]: val for opt, val in parsed}, pos


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise CommandError(f"ping: invalid argument: '{text}'", 1) from None
    if n < 1:
        raise CommandError(f"ping: invalid argument: '{text}': out of range: 1 <= value <= 9223372036854775807", 1)
    return n


def _seconds(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise CommandError(f"ping: bad {what}: {text}", 1) from None
    return v


def _hops(trace: Trace, packet_no: int) -> int:
    """Routers the packet crossed: the links it took, less the last, not counting ``lo``."""
    links = [s for s in trace.steps if s.kind == "link" and s.packet_no == packet_no and s.link[0] != s.link[1]]
    return max(len(links) - 1, 0)


def run_ping(ctx: ShellContext, argv: list[str]) -> ShellResult:
    from .net_cmd import resolve

    opts, pos = _parse(argv)
    if "V" in opts:
        return ShellResult(stdout="ping from iputils 20221126\nlibcap: yes, IDN: yes, NLS: no, error.h: yes, "
                           "getrandom(): yes, __fpending(): yes\n")
    if "h" in opts:
        return ShellResult(stdout=USAGE.lstrip("\n"), exit_code=2)
    if not pos:
        raise CommandError("ping: usage error: Destination address required", 1)
    for unsupported in "fwIltmMpQSTeFNRsb6":
        if unsupported in opts:
            raise CommandError(f"kubeflow-tui: ping -{unsupported} is not simulated here "
                               "(supported: -c COUNT, -i INTERVAL, -W TIMEOUT, -q, -n, -V)", 2)
    count = _count(opts["c"]) if "c" in opts else None
    interval = _seconds(opts.get("i", "1"), "timing interval") if "i" in opts else 1.0
    if "W" in opts:
        _seconds(opts["W"], "linger time")
    target = pos[-1]
    if ctx.host is None:
        raise CommandError(f"{ctx.host_name}: this host no longer exists (it was deleted)", 1)
    ip, _name = resolve(ctx, target)
    if ip is None:
        raise CommandError(f"ping: {target}: Name or service not known", 2)
    probes = count or PROBES_BEFORE_CTRL_C
    quiet = "q" in opts
    ctx.sim._ping_id = ident = (getattr(ctx.sim, "_ping_id", 0x3a11) * 75 + 74) % 65537 or 1
    out = [f"PING {target} ({ip}) 56(84) bytes of data."]
    err: list[str] = []
    rtts: list[float] = []
    errors = 0
    last: Trace | None = None
    for seq in range(1, probes + 1):
        try:
            t = ctx.sim.run_ping(ctx.host_name, ip, ident=ident)
        except Exception as e:  # the engine could not judge it: say so, never a traceback
            raise CommandError(f"kubeflow-tui: the simulator cannot run this ping: {e}", 1) from None
        last = t
        if t.ending == "delivered":
            hops = _hops(t, 0) + _hops(t, 1)
            rtt = 0.045 + 0.021 * hops + 0.003 * ((seq * 7 + ident) % 5)
            rtts.append(rtt)
            if not quiet:
                out.append(f"64 bytes from {ip}: icmp_seq={seq} ttl={64 - _hops(t, 1)} time={_ms(rtt)} ms")
            continue
        end = t.steps[-1]
        if end.kind == "socket-error" and end.packet_label in _ICMP_TEXT:
            errors += 1
            if not quiet:
                out.append(f"From {end.packet.src} icmp_seq={seq} {_ICMP_TEXT[end.packet_label]}")
            if t.error == "EPERM":  # the sender's OUTPUT rejected it: sendmsg() failed as well
                err.append("ping: sendmsg: Operation not permitted")
        elif end.kind == "socket-error" and t.error == "ENETUNREACH":
            raise CommandError("ping: connect: Network is unreachable", 2)
    received = len(rtts)
    if count is None:
        out.append("^C")
    out.append("")
    out.append(f"--- {target} ping statistics ---")
    loss = (probes - received) * 100.0 / probes
    errs = f"+{errors} errors, " if errors else ""
    elapsed = int(round((probes - 1) * interval * 1000 + (probes - 1) * (1 if interval >= 1 else 0)))
    out.append(f"{probes} packets transmitted, {received} received, {errs}{loss:g}% packet loss, time {elapsed}ms")
    if rtts:
        avg = sum(rtts) / len(rtts)
        mdev = math.sqrt(max(sum(r * r for r in rtts) / len(rtts) - avg * avg, 0.0))
        out.append(f"rtt min/avg/max/mdev = {_ms(min(rtts))}/{_ms(avg)}/{_ms(max(rtts))}/{_ms(mdev)} ms")
    else:
        out.append("")
    return ShellResult(stdout="\n".join(out) + "\n", stderr="".join(line + "\n" for line in err),
                       exit_code=0 if received else 1, trace=last)


def _ms(v: float) -> str:
    return f"{v:.3f}"
