"""Build a scenario's cluster in real network namespaces and run its flows.

The topology is CONVENTIONS.md's, exactly:

* ``kt-<id>-net``: a bridge ``br0``: the node network (one L2 segment).
* ``kt-<id>-n-<node>``: a node; ``eth0`` = ``<node ip>/<prefix>`` on the bridge, default route
  via the first host of the node network, ``<other podCIDR> via <other node ip>``; one
  routed point-to-point veth per pod, ``veth-<pod>`` (15 chars) carrying the pod gateway /32
  (with ``cluster.hostVethAddress: false``: no address, ``proxy_arp=1``) and a
  ``<pod ip> dev veth-<pod> scope link`` route; ``ip_forward=1``.
* ``kt-<id>-p-<pod>``: a pod; ``eth0`` = ``<pod ip>/32``, ``<gateway> dev eth0 scope link``,
  ``default via <gateway>``.  A server (Python subprocess) listens on its ports.
* ``kt-<id>-c-<client>``: an external client on the node network (routes to LoadBalancer IPs
  via the balancer).  Node and pod clients run in the node's / pod's namespace.
* ``kt-<id>-lb``: the load balancer: a router (``vip``) or a TCP/UDP proxy (``proxy``).
* ``kt-<id>-r``: the node network's default router at its first host: ``ip_forward=1`` and
  ``blackhole default`` as its only off-link route, so it answers ARP and silently discards
  whatever the nodes send it (a ClusterIP nobody DNATed, a deleted pod's IP).

Everywhere: loopback up, ``rp_filter=0`` on every interface.  A node's rules go in with
``iptables-restore``; the referee then appends ``-j TRACE`` rules to raw PREROUTING and
OUTPUT and records, per node, ``xtables-monitor --trace``, ``conntrack -E`` and two
``conntrack -L`` snapshots (connection open / after close).

Traffic only ever goes to addresses inside these namespaces.  Namespaces and processes are
removed in ``close()`` whatever happened (and at interpreter exit as a last resort).
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from kubeflow_tui.scenario.models import Flow, Pod, Scenario

try:
    # tests/conftest.py: pytest has tests/ on sys.path, and while the kernel tests are collected
    # `conftest` is still that module (later it may name tests/tui's: look it up now, not in a test)
    from conftest import kernel_required, require_kernel
except ImportError:  # a recording script run on its own: no pytest session to skip or fail

    def kernel_required() -> bool:
        return True

    def require_kernel() -> None:
        return None
from kubeflow_tui.scenario.system import node_listeners
from kubeflow_tui.trace import ConntrackView

from .capture import KPacket, parse_conntrack, parse_trace
from .netpol import ingress_restore

RulesSource = Callable[[Scenario, str], str] | Mapping[str, str] | None

TCP_SETTLED = ("TIME_WAIT", "CLOSE")  # a closed TCP connection's final conntrack states
PROXY_SOURCE_PORT = 50000  # a proxy balancer's own connection (the simulator's choice too)


class KernelError(RuntimeError):
    """A command the referee ran in a namespace failed (the message has its stderr)."""


# ---------------------------------------------------------------------------------------
# small helpers


def _run(argv: list[str], *, input: str | None = None, check: bool = True, timeout: float = 20) -> str:
    r = subprocess.run(
        argv,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if check and r.returncode != 0:
        raise KernelError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


def _parallel(argvs: list[list[str]], timeout: float = 20) -> None:
    """Run commands side by side; raise if one failed."""
    procs = [(argv, subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)) for argv in argvs]
    failed = []
    for argv, p in procs:
        _, err = p.communicate(timeout=timeout)
        if p.returncode != 0:
            failed.append(f"{' '.join(argv)} failed ({p.returncode}): {err.strip()}")
    if failed:
        raise KernelError("; ".join(failed))


def nsexec(ns: str, *argv: str, input: str | None = None, check: bool = True) -> str:
    return _run(["ip", "netns", "exec", ns, *argv], input=input, check=check)


def _ip_batch(ns: str | None, lines: list[str]) -> None:
    if not lines:
        return
    argv = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
    _run(argv, input="\n".join(lines) + "\n")


def _ensure_nfacct(ns: str, restore_text: str) -> None:
    """kube-proxy's rules use ``-m nfacct``; the kernel refuses them unless the counters
    exist (kube-proxy creates them at startup): create them in ``ns`` first."""
    if "nfacct" not in restore_text:
        return
    from kubeflow_tui.kubeproxy import ensure_nfacct_counters

    try:
        ensure_nfacct_counters(ns)
    except subprocess.CalledProcessError as exc:
        raise KernelError(f"creating nfacct counters in {ns} failed: {exc.stderr.strip()}") from None


@contextlib.contextmanager
def scratch_netns(suffix: str, *tools: str) -> Iterator[str]:
    """A fresh, empty network namespace ``kt-<id>-<suffix>`` for one test, deleted after it.

    The test is skipped where kernel tests cannot run, and where one of ``tools`` is not
    installed (with KUBEFLOW_TUI_REQUIRE_KERNEL=1, as in CI, either fails it instead)."""
    import pytest

    require_kernel()
    for tool in tools:
        if shutil.which(tool) is None:
            reason = f"this kernel test needs {tool} (apt-get install nftables iptables conntrack)"
            if kernel_required():
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
    name = f"kt-{secrets.token_hex(3)}-{suffix}"
    _run(["ip", "netns", "add", name])
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, stdin=subprocess.DEVNULL)


def veth_name(pod: str) -> str:
    """The node-side veth of a pod (CONVENTIONS.md: ``veth-<pod>`` cut to 15 characters)."""
    return f"veth-{pod}"[:15]


def first_host(cidr: str) -> str:
    return str(next(ipaddress.IPv4Network(cidr).hosts()))


_LIVE: dict[int, "KernelCluster"] = {}


@atexit.register
def _cleanup_at_exit() -> None:  # last resort: a crash between build() and close()
    for cluster in list(_LIVE.values()):
        cluster.close()


# ---------------------------------------------------------------------------------------
# the programs that run inside namespaces (python -c, so nothing to install)

SERVER_PY = r"""
import json, socket, sys, threading
pod = sys.argv[1]
socks = []
for proto, port in json.loads(sys.argv[2]):
    if proto == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(64)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
    socks.append((proto, s))

def conn(c, a):
    # reply to the request line, then wait for the client's FIN (EOF) and close
    try:
        c.settimeout(30)
        f = c.makefile("rb")
        f.readline()
        c.sendall(("saw %s:%d from %s\n" % (a[0], a[1], pod)).encode())
        while True:
            line = f.readline()
            if not line or line.strip() == b"bye":
                break
    except OSError:
        pass
    finally:
        c.close()

def tcp(s):
    while True:
        c, a = s.accept()
        threading.Thread(target=conn, args=(c, a), daemon=True).start()

def udp(s):
    while True:
        data, a = s.recvfrom(65535)
        s.sendto(("saw %s:%d from %s\n" % (a[0], a[1], pod)).encode(), a)

for proto, s in socks:
    threading.Thread(target=tcp if proto == "tcp" else udp, args=(s,), daemon=True).start()
print("ready", flush=True)
sys.stdin.read()  # the harness holds our stdin; when it goes away, so do we
"""

CLIENT_PY = r"""
import errno, json, socket, sys
proto, dst, dport, sport, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
def out(**kw):
    sys.stdout.write(json.dumps(kw) + "\n"); sys.stdout.flush()
stage = "socket"
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    stage = "bind"
    s.bind(("0.0.0.0", sport))
    s.settimeout(timeout)
    stage = "connect"
    s.connect((dst, dport))
    local = "%s:%d" % s.getsockname()
    if proto == "tcp":
        # connected: a dropped SYN was the short timeout's job; a busy machine may take
        # its time to schedule the server, which must not look like a drop
        s.settimeout(max(timeout, 5.0))
        stage = "send"
        s.sendall(b"hello\n")
        stage = "reply"
        f = s.makefile("rb")
        line = f.readline()
        if not line:
            out(event="error", outcome="closed", stage=stage, local=local,
                error="the server closed the connection without a reply")
            sys.exit(0)
        peer = "%s:%d" % s.getpeername()
    else:
        stage = "send"
        s.send(b"hello\n")
        stage = "reply"
        line, addr = s.recvfrom(65535)
        peer = "%s:%d" % addr
    out(event="reply", reply=line.decode(errors="replace").strip(), peer=peer, local=local)
    sys.stdin.readline()  # the harness snapshots conntrack while the connection is open
    if proto == "tcp":
        # the client closes first (FIN), as the simulator's script has it: FIN, the
        # server's FIN-ACK, the last ACK (the TIME_WAIT socket is here; a retry with the
        # same source port may reuse it: bind() + connect() with TCP timestamps)
        stage = "close"
        s.shutdown(socket.SHUT_WR)
        while f.read(65536):
            pass
    s.close()
    out(event="closed")
except socket.timeout:
    out(event="error", outcome="timeout", stage=stage,
        error="no answer within %ss (%s to %s:%d)" % (timeout, stage, dst, dport))
except ConnectionRefusedError:
    out(event="error", outcome="refused", stage=stage,
        error="connection refused (%s to %s:%d)" % (stage, dst, dport))
except OSError as e:
    kind = ("unreachable" if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else
            "eperm" if e.errno == errno.EPERM else "error")
    out(event="error", outcome=kind, stage=stage, error="%s (%s to %s:%d)" % (e, stage, dst, dport))
"""

PROXY_PY = r"""
import socket, sys, threading
proto, listen_ip, port, up_ip, up_port, bind_ip = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
BACKEND_PORT = int(sys.argv[7])  # the simulator's proxy opens its connection from this port

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def serve_tcp(c):
    u = socket.socket(); u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        u.bind((bind_ip, BACKEND_PORT)); u.settimeout(5); u.connect((up_ip, up_port)); u.settimeout(None)
    except OSError:
        c.close(); return
    t = threading.Thread(target=pipe, args=(u, c), daemon=True); t.start()
    pipe(c, u); t.join(10); c.close(); u.close()

if proto == "tcp":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((listen_ip, port)); s.listen(16)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_tcp, args=(c,), daemon=True).start()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((listen_ip, port))
    print("ready", flush=True)
    while True:
        data, a = s.recvfrom(65535)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); u.bind((bind_ip, BACKEND_PORT)); u.settimeout(5)
        try:
            u.sendto(data, (up_ip, up_port)); r, _ = u.recvfrom(65535); s.sendto(r, a)
        except OSError:
            pass
        u.close()
"""


# ---------------------------------------------------------------------------------------
# results


@dataclass
class HostCapture:
    """What the kernel reported on one node during one flow."""

    host: str
    netns: str
    trace_text: str = ""  # xtables-monitor --trace output, verbatim
    packets: list[KPacket] = field(default_factory=list)
    events_text: str = ""  # conntrack -E output, verbatim
    events: list[ConntrackView] = field(default_factory=list)
    conntrack_open_text: str = ""  # conntrack -L while the connection was open
    conntrack_open: list[ConntrackView] = field(default_factory=list)
    conntrack_text: str = ""  # conntrack -L after the connection closed
    conntrack: list[ConntrackView] = field(default_factory=list)
    tables: tuple[str, ...] = ()  # tables the loaded ruleset declared (raw may be the referee's)
    referee_raw: bool = True  # the raw table exists only for the referee's TRACE rules


@dataclass
class KernelResult:
    """One flow as the kernel ran it."""

    scenario: str
    flow: str
    protocol: str  # "tcp" | "udp"
    source: str  # namespace role of the sender: "client laptop", "pod client-1", "node node-a"
    to: str  # "ip:port" the client connected to
    outcome: str  # delivered | refused | timeout | unreachable | closed | error
    error: str = ""  # the client's own words when it was not delivered
    reply: str = ""  # the server's reply line: "saw 10.244.2.7:40000 from web-1"
    server: str = ""  # the pod that answered
    server_saw: str = ""  # "ip:port" the server saw as the client
    client_local: str = ""  # "ip:port" the client's socket had
    client_saw: str = ""  # "ip:port" the reply came from, as the client saw it
    attempts: int = 1  # tries until the kernel chose the pinned endpoint
    seconds: float = 0.0  # wall time of the last attempt
    hosts: dict[str, HostCapture] = field(default_factory=dict)  # node name -> capture

    def packets(self, host: str) -> list[KPacket]:
        return self.hosts[host].packets

    def summary(self) -> str:
        if self.outcome == "delivered":
            return f"{self.flow}: {self.source} -> {self.to}: {self.reply} (reply from {self.client_saw})"
        return f"{self.flow}: {self.source} -> {self.to}: {self.outcome}: {self.error}"


# ---------------------------------------------------------------------------------------
# background capture processes


class _Monitor:
    """A capture process (xtables-monitor / conntrack -E) in a namespace, output to a file."""

    GROUPS = {"trace": 0x100, "ctevents": 0x7}  # netlink groups it must have joined

    def __init__(self, ns: str, kind: str, trace_argv: tuple[str, ...] = ("xtables-monitor", "--trace")):
        self.kind = kind
        argv = list(trace_argv) if kind == "trace" else ["conntrack", "-E"]
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv],
            stdout=self.out,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _netlink_rows(self) -> list[list[str]]:
        """This process's NETLINK_NETFILTER sockets, from /proc/<pid>/net/netlink."""
        pid = self.proc.pid
        try:
            inodes = set()
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
            with open(f"/proc/{pid}/net/netlink") as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except OSError:
            return []
        return [r for r in rows if len(r) >= 10 and r[1] == "12" and r[9] in inodes]

    def ready(self) -> bool:
        want = self.GROUPS[self.kind]
        return any(int(r[3], 16) & want == want for r in self._netlink_rows())

    def drained(self) -> bool:
        rows = self._netlink_rows()
        return bool(rows) and all(r[4] == "0" for r in rows)  # Rmem: nothing left unread

    def stop(self) -> str:
        # let it read what the kernel already queued, then stop it
        deadline = time.monotonic() + 1.0
        last = -1
        while time.monotonic() < deadline and self.proc.poll() is None:
            size = os.fstat(self.out.fileno()).st_size
            if self.drained() and size == last:
                break
            last = size
            time.sleep(0.01)
        self.kill()
        self.out.seek(0)
        text = self.out.read()
        self.out.close()
        return text

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(1)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(1)


def _wait_ready(monitors: list[_Monitor], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(monitors)
    while waiting:
        waiting = [m for m in waiting if not m.ready()]
        if not waiting:
            return
        for m in waiting:
            if m.proc.poll() is not None:
                raise KernelError(f"{m.kind} monitor exited early with {m.proc.returncode}")
        if time.monotonic() > deadline:
            raise KernelError(f"{', '.join(m.kind for m in waiting)} monitor not listening after {timeout}s")
        time.sleep(0.005)


class _Proc:
    """A Python program in a namespace that says ``ready`` (or JSON lines) on stdout."""

    def __init__(self, ns: str, source: str, *args: str):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-u", "-c", source, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def readline(self, timeout: float) -> str:
        """The next stdout line, or "" on EOF / timeout."""
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return ""
        return self.proc.stdout.readline()

    def expect_ready(self, what: str, timeout: float = 5.0) -> None:
        line = self.readline(timeout)
        if line.strip() != "ready":
            try:
                self.proc.wait(1)  # its last words, if it ended (a program still running says nothing)
                err = self.proc.stderr.read() if self.proc.stderr else ""
            except subprocess.TimeoutExpired:
                err = ""
            self.stop()
            raise KernelError(f"{what} did not start: {line.strip() or 'no output'} {err.strip()}")

    def send(self, text: str) -> None:
        try:
            self.proc.stdin.write(text)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: this program only
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if f:
                    f.close()
            except OSError:
                pass


# ---------------------------------------------------------------------------------------
# the cluster


class KernelCluster:
    """A scenario's cluster in network namespaces.  Use as a context manager.

    ``rules``: a callable ``(scenario, node) -> iptables-restore text`` (e.g.
    ``kubeflow_tui.kubeproxy.generate_restore``), a mapping node -> text, or None (no rules).
    """

    #: the trace monitor and its parser (nftables mode swaps in ``nft monitor trace``)
    trace_argv: tuple[str, ...] = ("xtables-monitor", "--trace")

    @staticmethod
    def parse_trace_text(text: str) -> list[KPacket]:
        return parse_trace(text)

    def __init__(self, scenario: Scenario, rules: RulesSource = None, *, timeout: float = 2.0):
        self.scenario = scenario
        self.rules = rules
        self.timeout = timeout
        self.run_id = secrets.token_hex(3)
        self.prefix = f"kt-{self.run_id}"
        self.namespaces: list[str] = []  # every namespace we created, in order
        self.ns: dict[str, str] = {}  # "node:<n>", "pod:<p>", "client:<c>", "lb", "net" -> netns
        self.tables: dict[str, tuple[str, ...]] = {}
        self._servers: list[_Proc] = []
        self._closed = False

    # -- naming ---------------------------------------------------------------------------

    def node_ns(self, node: str) -> str:
        return self.ns[f"node:{node}"]

    def pod_ns(self, pod: str) -> str:
        return self.ns[f"pod:{pod}"]

    @property
    def nodes(self) -> list[str]:
        return [n.name for n in self.scenario.cluster.nodes]

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self) -> "KernelCluster":
        try:
            self.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _add_ns(self, key: str, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        _run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        self.ns[key] = name
        return name

    def build(self) -> None:
        _LIVE[id(self)] = self
        sc = self.scenario
        net = ipaddress.IPv4Network(sc.cluster.nodeNetwork)
        prefix = net.prefixlen
        router = first_host(sc.cluster.nodeNetwork)
        lb = sc.loadBalancer

        self._add_ns("net", "net")
        for n in sc.cluster.nodes:
            self._add_ns(f"node:{n.name}", f"n-{n.name}")
        for p in sc.pods:
            self._add_ns(f"pod:{p.name}", f"p-{p.name}")
        externals = [c for c in sc.clients if c.kind == "external"]
        for c in externals:
            self._add_ns(f"client:{c.name}", f"c-{c.name}")
        if lb is not None:
            self._add_ns("lb", "lb")
        self._add_ns("router", "r")

        # links (created from the root namespace straight into their namespaces)
        on_segment: list[tuple[str, str]] = [(self.node_ns(n.name), n.ip) for n in sc.cluster.nodes]
        on_segment += [(self.ns[f"client:{c.name}"], c.ip) for c in externals]
        if lb is not None:
            on_segment.append((self.ns["lb"], lb.ip))
        on_segment.append((self.ns["router"], router))
        links = [
            f"link add eth0 netns {ns} type veth peer name h{i} netns {self.ns['net']}"
            for i, (ns, _) in enumerate(on_segment)
        ]
        links += [
            f"link add {veth_name(p.name)} netns {self.node_ns(p.node)} type veth peer name eth0 netns {self.pod_ns(p.name)}"
            for p in sc.pods
        ]
        _ip_batch(None, links)

        # the node network: a bridge
        bridge = ["link set lo up", "link add br0 type bridge", "link set br0 up"]
        bridge += [f"link set h{i} master br0 up" for i in range(len(on_segment))]
        _ip_batch(self.ns["net"], bridge)

        lb_ips = [s.loadBalancerIP for s in sc.services if s.type == "LoadBalancer" and s.loadBalancerIP]
        for n in sc.cluster.nodes:
            cmds = ["link set lo up", f"addr add {n.ip}/{prefix} dev eth0", "link set eth0 up",
                    f"route add default via {router} dev eth0"]
            gw = first_host(n.podCIDR)
            for p in sc.pods:
                if p.node == n.name:
                    v = veth_name(p.name)
                    if sc.cluster.hostVethAddress:
                        cmds.append(f"addr add {gw}/32 dev {v}")
                    cmds += [f"link set {v} up", f"route add {p.ip} dev {v} scope link"]
            for other in sc.cluster.nodes:
                if other.name != n.name:
                    cmds.append(f"route add {other.podCIDR} via {other.ip} dev eth0")
            _ip_batch(self.node_ns(n.name), cmds)
        for p in sc.pods:
            gw = first_host(sc.node(p.node).podCIDR)
            _ip_batch(self.pod_ns(p.name), [
                "link set lo up", f"addr add {p.ip}/32 dev eth0", "link set eth0 up",
                f"route add {gw} dev eth0 scope link", f"route add default via {gw} dev eth0",
            ])
        for c in externals:
            cmds = ["link set lo up", f"addr add {c.ip}/{prefix} dev eth0", "link set eth0 up"]
            if lb is not None:
                cmds += [f"route add {ip}/32 via {lb.ip} dev eth0" for ip in lb_ips]
            _ip_batch(self.ns[f"client:{c.name}"], cmds)
        if lb is not None:
            cmds = ["link set lo up", f"addr add {lb.ip}/{prefix} dev eth0", "link set eth0 up"]
            if lb.style == "proxy":
                cmds += [f"addr add {ip}/32 dev lo" for ip in lb_ips]
            _ip_batch(self.ns["lb"], cmds)

        _ip_batch(self.ns["router"], ["link set lo up", f"addr add {router}/{prefix} dev eth0",
                                      "link set eth0 up", "route add blackhole default"])

        forwarding = {self.node_ns(n.name) for n in sc.cluster.nodes} | {self.ns["router"]}
        if lb is not None:
            forwarding.add(self.ns["lb"])
        _parallel([
            ["ip", "netns", "exec", ns, "sh", "-c",
             "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done; "
             f"echo {1 if ns in forwarding else 0} > /proc/sys/net/ipv4/ip_forward"]
            for ns in self.namespaces
        ])
        if not sc.cluster.hostVethAddress:
            # Calico-like veths: no address on the node's end; the node answers the pod's
            # ARP for its gateway by proxy ARP (the gateway is routed out of eth0, not the
            # veth), at once (proxy_delay 0, as Calico sets it; the default delays the
            # answer by up to 0.8 s)
            _parallel([
                ["ip", "netns", "exec", self.node_ns(p.node), "sh", "-c",
                 f"echo 1 > /proc/sys/net/ipv4/conf/{veth_name(p.name)}/proxy_arp; "
                 f"echo 0 > /proc/sys/net/ipv4/neigh/{veth_name(p.name)}/proxy_delay"]
                for p in sc.pods
            ])

        for n in sc.cluster.nodes:
            self.load_rules(n.name, self._rules_for(n.name))
        for p in sc.pods:  # NetworkPolicy ingress, on the pod's side (tests/kernel/netpol.py)
            text = ingress_restore(sc, p)
            if text:
                nsexec(self.pod_ns(p.name), "iptables-restore", input=text)
        self._start_servers()

    def _rules_for(self, node: str) -> str:
        if self.rules is None:
            return ""
        if callable(self.rules):
            return self.rules(self.scenario, node)
        return self.rules.get(node, "")

    def load_rules(self, node: str, text: str) -> None:
        """``iptables-restore`` the node's rules, then add the referee's TRACE rules."""
        ns = self.node_ns(node)
        tables = tuple(
            line[1:].strip() for line in text.splitlines() if line.startswith("*")
        )
        self.tables[node] = tables
        trace = ["*raw"]
        if "raw" not in tables:
            trace += [":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
        for chain in ("PREROUTING", "OUTPUT"):
            for proto in ("tcp", "udp", "icmp", "sctp"):
                trace.append(f"-A {chain} -p {proto} -j TRACE")
        trace.append("COMMIT")
        trace_text = "\n".join(trace) + "\n"
        if text.strip():
            _ensure_nfacct(ns, text)
            if "raw" not in tables:  # one restore: the node's tables and the referee's raw
                nsexec(ns, "iptables-restore", input=text.rstrip("\n") + "\n" + trace_text)
                return
            nsexec(ns, "iptables-restore", input=text)
        nsexec(ns, "iptables-restore", "--noflush", input=trace_text)

    def saved_rules(self, node: str) -> str:
        """``iptables-save`` of a node as its rules left it: without ``#`` lines, chain
        counters zeroed, and without the referee's raw table (when the rules had none)."""
        text = _normalise_save(nsexec(self.node_ns(node), "iptables-save"))
        if "raw" in self.tables.get(node, ()):
            return text
        out, skip = [], False
        for line in text.splitlines():
            if line.startswith("*"):
                skip = line == "*raw"
            if not skip:
                out.append(line)
            if line == "COMMIT":
                skip = False
        return "\n".join(out) + "\n"

    def _server_ports(self, pod: Pod) -> list[tuple[str, int]]:
        """The simulator's rule (cluster/topology.py): the declared containerPorts; a pod
        that declares none listens on the numeric targetPorts of the Services selecting it;
        an exited pod (its container stopped at SIGTERM) on none."""
        if pod.exited:
            return []
        ports = {(cp.protocol.lower(), cp.containerPort) for cp in pod.ports}
        for svc in self.scenario.services if not pod.ports else ():
            if svc.selector and all(pod.labels.get(k) == v for k, v in svc.selector.items()):
                for sp in svc.ports:
                    tp = sp.targetPort if sp.targetPort is not None else sp.port
                    if isinstance(tp, int):
                        ports.add((sp.protocol.lower(), tp))
        return sorted(ports)

    def _start_servers(self) -> None:
        procs = []
        for p in self.scenario.pods:
            ports = self._server_ports(p)
            if ports:
                procs.append((p.name, _Proc(self.pod_ns(p.name), SERVER_PY, p.name, json.dumps(ports))))
        # servers in a node's host network (the API server behind default/kubernetes):
        # the simulator's node listeners (kubeflow_tui/scenario/system.py)
        for n in self.scenario.cluster.nodes:
            ports = sorted(node_listeners(self.scenario, n.name))
            if ports:
                procs.append((n.name, _Proc(self.node_ns(n.name), SERVER_PY, n.name, json.dumps(ports))))
        self._servers += [proc for _, proc in procs]
        for name, proc in procs:
            proc.expect_ready(f"server in {name}")

    def restart_servers(self) -> None:
        """Stop every server and start them afresh: a server left half-open (its SYN-ACK
        went astray or was dropped) keeps retransmitting into the next flow's capture."""
        for proc in self._servers:
            proc.stop()
        self._servers.clear()
        self._start_servers()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _LIVE.pop(id(self), None)
        for proc in self._servers:
            proc.stop()
        self._servers.clear()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, stdin=subprocess.DEVNULL)
        self.namespaces.clear()

    # -- flows ----------------------------------------------------------------------------

    def _source(self, flow: Flow) -> tuple[str, str]:
        """(namespace, description) of the process that opens the connection."""
        sc = self.scenario
        name = flow.from_
        for c in sc.clients:
            if c.name == name:
                if c.kind == "external":
                    return self.ns[f"client:{c.name}"], f"client {c.name}"
                if c.kind == "node":
                    return self.node_ns(c.node), f"node {c.node}"
                return self.pod_ns(c.pod), f"pod {c.pod}"
        if f"pod:{name}" in self.ns:
            return self.pod_ns(name), f"pod {name}"
        if f"node:{name}" in self.ns:
            return self.node_ns(name), f"node {name}"
        raise KeyError(f"flow {flow.name}: from {name!r} is no client, pod or node")

    def _lb_setup(self, flow: Flow) -> _Proc | None:
        """Point the load balancer at the flow's node (``via``); a proxy is started."""
        sc, lb = self.scenario, self.scenario.loadBalancer
        if lb is None:
            return None
        svc, port = None, None
        for s in sc.services:
            if s.type == "LoadBalancer" and s.loadBalancerIP == flow.dst_ip:
                for sp in s.ports:
                    if sp.port == flow.dst_port and sp.protocol == flow.protocol:
                        svc, port = s, sp
        if svc is None:
            return None
        via = flow.via or (lb.nodes[0] if lb.nodes else sc.cluster.nodes[0].name)
        node_ip = sc.node(via).ip
        if lb.style == "vip":
            _ip_batch(self.ns["lb"], [f"route replace {flow.dst_ip}/32 via {node_ip} dev eth0"])
            return None
        if port.nodePort is None:
            raise KernelError(f"flow {flow.name}: proxy load balancer needs a nodePort on {svc.key}")
        proxy = _Proc(self.ns["lb"], PROXY_PY, flow.protocol.lower(), flow.dst_ip, str(flow.dst_port),
                      node_ip, str(port.nodePort), lb.ip, str(PROXY_SOURCE_PORT))
        proxy.expect_ready("load balancer proxy")
        return proxy

    def _conntrack(self, node: str) -> str:
        return nsexec(self.node_ns(node), "conntrack", "-L", check=False)

    def reset(self) -> None:
        """Forget every connection and every ``-m recent`` list on every node (a fresh start
        for the next flow; the rules stay)."""
        script = ("conntrack -F >/dev/null 2>&1; "
                  "for f in /proc/net/xt_recent/*; do [ -e \"$f\" ] && echo / > \"$f\"; done; true")
        for node in self.nodes:
            nsexec(self.node_ns(node), "sh", "-c", script, check=False)

    def run_flow(self, name: str, *, endpoint: str | None = None, max_attempts: int = 30) -> KernelResult:
        """Run flow ``name`` once in the kernel and capture what every node did.

        With a pinned endpoint (``endpoint`` or the flow's own), the connection is repeated
        (state flushed in between) until the kernel's own random choice lands on that pod.
        """
        return self.run_chain([name], {name: endpoint} if endpoint else None, max_attempts=max_attempts)[-1]

    def run_chain(self, names: list[str], pins: Mapping[str, str | None] | None = None, *,
                  max_attempts: int = 30) -> list[KernelResult]:
        """Run flows one after the other on the same state (``flow.after``: what the first
        ones leave behind -- conntrack entries, ``-m recent`` lists -- is what the last
        meets).  State is reset before the first only.  Every pinned flow (``pins`` or the
        flow's own ``endpoint``) must land on its pod: otherwise the whole chain is
        repeated, from a reset, until the kernel's own random choices agree."""
        flows = [self.scenario.flow(n) for n in names]
        results: list[KernelResult] = []
        for attempt in range(1, max_attempts + 1):
            self.reset()
            results = []
            missed = ""
            for flow in flows:
                want = (pins or {}).get(flow.name) or flow.endpoint
                res = self._attempt(flow)
                res.attempts = attempt
                results.append(res)
                if want and res.outcome == "delivered" and res.server != want:
                    missed = f"{flow.name}: {res.server}, not {want}"
                    break
            if not missed:
                return results
        res = results[-1]
        res.error = f"the kernel did not choose the pinned endpoints in {max_attempts} attempts (last: {missed})"
        return results

    def _attempt(self, flow: Flow) -> KernelResult:
        t0 = time.monotonic()
        proto = flow.protocol.lower()
        src_ns, source = self._source(flow)
        res = KernelResult(
            scenario=self.scenario.name, flow=flow.name, protocol=proto, source=source,
            to=flow.to, outcome="error",
        )
        monitors: dict[str, tuple[_Monitor, _Monitor]] = {}
        proxy = client = None
        try:
            for node in self.nodes:
                ns = self.node_ns(node)
                monitors[node] = (_Monitor(ns, "trace", self.trace_argv), _Monitor(ns, "ctevents"))
            _wait_ready([m for pair in monitors.values() for m in pair])
            proxy = self._lb_setup(flow)
            client = _Proc(src_ns, CLIENT_PY, proto, flow.dst_ip, str(flow.dst_port),
                           str(flow.sourcePort), str(self.timeout))
            opened: dict[str, str] = {}
            deadline = self.timeout * 2 + 3
            msg = self._client_msg(client, deadline)
            if msg.get("event") == "reply":
                res.outcome = "delivered"
                res.reply = msg["reply"]
                res.client_saw = msg["peer"]
                res.client_local = msg["local"]
                words = res.reply.split()
                if len(words) >= 4 and words[0] == "saw" and words[2] == "from":
                    res.server_saw, res.server = words[1], words[3]
                for node in self.nodes:
                    opened[node] = self._conntrack(node)
                client.send("\n")
                msg = self._client_msg(client, deadline)
                if msg.get("event") != "closed":
                    res.error = f"closing: {msg.get('error', msg)}"
            else:
                res.outcome = msg.get("outcome", "error")
                res.error = msg.get("error", "") or str(msg)
            client.proc.wait(2)
            closed = {node: self._settled_conntrack(node, proto) for node in self.nodes}
        finally:
            if client is not None:
                client.stop()
            if proxy is not None:
                proxy.stop()
            texts = {node: (t.stop(), e.stop()) for node, (t, e) in monitors.items()}
        for node in self.nodes:
            trace_text, events_text = texts[node]
            tables = self.tables.get(node, ())
            res.hosts[node] = HostCapture(
                host=node,
                netns=self.node_ns(node),
                trace_text=trace_text,
                packets=self.parse_trace_text(trace_text),
                events_text=events_text,
                events=parse_conntrack(events_text),
                conntrack_open_text=opened.get(node, closed[node]),
                conntrack_open=parse_conntrack(opened.get(node, closed[node])),
                conntrack_text=closed[node],
                conntrack=parse_conntrack(closed[node]),
                tables=tables,
                referee_raw="raw" not in tables,
            )
        res.seconds = time.monotonic() - t0
        return res

    def _client_msg(self, client: _Proc, timeout: float) -> dict:
        line = client.readline(timeout)
        if not line:
            err = ""
            if client.proc.poll() is not None and client.proc.stderr:
                err = client.proc.stderr.read().strip()
            return {"event": "error", "outcome": "error", "error": f"client gave no answer {err}".strip()}
        return json.loads(line)

    def _settled_conntrack(self, node: str, proto: str, timeout: float = 0.5) -> str:
        """``conntrack -L`` once the closing handshake has gone through (TCP)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self._conntrack(node)
            if proto != "tcp" or time.monotonic() > deadline:
                return text
            if all(ct.state in TCP_SETTLED for ct in parse_conntrack(text) if ct.proto == "tcp"):
                return text
            time.sleep(0.01)


# ---------------------------------------------------------------------------------------
# iptables round trip


def kernel_save(restore_text: str) -> str:
    """What the kernel makes of ``restore_text``: restore it into a scratch namespace and
    return ``iptables-save`` without ``#`` lines and with chain counters zeroed."""
    ns = f"kt-{secrets.token_hex(3)}-save"
    _run(["ip", "netns", "add", ns])
    try:
        _ensure_nfacct(ns, restore_text)
        nsexec(ns, "iptables-restore", input=restore_text)
        saved = nsexec(ns, "iptables-save")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, stdin=subprocess.DEVNULL)
    return _normalise_save(saved)


def _normalise_save(saved: str) -> str:
    """``iptables-save`` output without ``#`` lines, every chain counter ``[0:0]``."""
    out = []
    for line in saved.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith(":"):
            head, _, counters = line.rpartition(" ")
            if counters.startswith("[") and counters.endswith("]"):
                line = f"{head} [0:0]"
        out.append(line)
    return "\n".join(out) + "\n"
