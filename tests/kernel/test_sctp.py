"""SCTP through the datapath, held against the kernel (``tests/kernel/fixtures/sctp.yaml``).

The INIT that opens an association is sent as a raw IP packet (protocol 132, a correct
CRC32c, verification tag 0) from the client pod's namespace to the Service's ClusterIP, so
it runs even where the kernel has no SCTP stack: only netfilter and conntrack judge it.  On
each node the kernel's chain path for it (``xtables-monitor --trace`` / ``nft monitor trace``)
must be the simulator's, and the conntrack entry it leaves the same (``sctp 132 … CLOSED
src=… [UNREPLIED] …``: nf_conntrack_proto_sctp moves a new entry from NONE to CLOSED on an
INIT; the timeout is compared within a second).

A whole association (INIT ... SHUTDOWN COMPLETE, with real SCTP sockets) needs the kernel's
SCTP: where ``socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)`` fails, that test is skipped and
says why.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.kubeproxy.nftables import generate_nft
from kubeflow_tui.scenario import load_scenario

from .compare import kernel_path, render_side_by_side, sim_path
from .netns import KernelCluster, _Monitor, nsexec, _Proc, _wait_ready
from .test_nft_flows import NftKernelCluster

pytestmark = pytest.mark.kernel

SCENARIO = load_scenario(Path(__file__).parent / "fixtures" / "sctp.yaml")
FLOW = SCENARIO.flow("pod-other-node")

#: an SCTP INIT as a raw IP packet: argv dst, dport, sport
INIT_PY = r"""
import socket, struct, sys
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
dst, dport, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# INIT chunk: type 1, length 20, initiate tag, a_rwnd, streams out/in, initial TSN
init = struct.pack("!BBHIIHHI", 1, 0, 20, 0x1234ABCD, 65536, 10, 10, 1)
hdr = struct.pack("!HHII", sport, dport, 0, 0)  # verification tag 0 (RFC 9260 8.5.1)
pkt = hdr[:8] + struct.pack("<I", crc32c(hdr + init)) + init  # the CRC32c as Linux stores it
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
s.sendto(pkt, (dst, 0))
"""


class _NoSctpServers:
    """The referee's test servers speak TCP and UDP; an SCTP port gets none."""

    def _server_ports(self, pod):
        return [(proto, port) for proto, port in super()._server_ports(pod) if proto != "sctp"]


class SctpKernelCluster(_NoSctpServers, KernelCluster):
    pass


class SctpNftKernelCluster(_NoSctpServers, NftKernelCluster):
    pass


def _entries(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == "sctp":
            out.append(" ".join(words[:2] + words[3:]))  # the seconds left apart
    return sorted(out)


def _seconds(text: str) -> list[int]:
    return sorted(int(line.split()[2]) for line in text.splitlines() if line.startswith("sctp"))


@pytest.fixture(scope="module", params=["iptables", "nftables"])
def cluster(request):
    require_kernel()
    if request.param == "iptables":
        kc = SctpKernelCluster(SCENARIO, generate_restore, timeout=1.0)
    else:
        kc = SctpNftKernelCluster(SCENARIO, lambda sc, node: generate_nft(sc, node), timeout=1.0)
    with kc:
        yield request.param, kc


def test_sctp_init_agrees_with_the_kernel(cluster):
    mode, kc = cluster
    kc.reset()
    monitors = {n: _Monitor(kc.node_ns(n), "trace", kc.trace_argv) for n in kc.nodes}
    try:
        _wait_ready(list(monitors.values()))
        nsexec(kc.pod_ns(FLOW.from_), "python3", "-c", INIT_PY, FLOW.dst_ip, str(FLOW.dst_port),
                str(FLOW.sourcePort))
        ct = {n: nsexec(kc.node_ns(n), "conntrack", "-L", "-p", "sctp", check=False) for n in kc.nodes}
    finally:
        texts = {n: m.stop() for n, m in monitors.items()}

    trace = ClusterSim(SCENARIO, proxy_mode=mode).run(FLOW)
    client = SCENARIO.pod(FLOW.from_).ip
    problems = []
    for node in kc.nodes:
        init_steps = [s for s in trace.steps_on(node) if s.packet_no == 0]
        # xtables-monitor names no protocol (an SCTP header prints as SPORT/DPORT): the
        # INIT is the packet from the client's address and port
        kps = [p for p in kc.parse_trace_text(texts[node]) if p.headers and p.first.src == client
               and p.first.sport == FLOW.sourcePort]
        kpath = kernel_path(kps[0]) if kps else []
        spath = sim_path(init_steps)
        if [e.label for e in kpath] != [e.label for e in spath]:
            problems.append(render_side_by_side(f"{node} INIT", kpath, spath))
        views = init_steps[-1].conntrack if init_steps else ()
        have_text = "\n".join(v.line for v in views if v.proto == "sctp")
        if _entries(ct[node]) != _entries(have_text):
            problems.append(f"{node} conntrack after the INIT:\n  kernel {_entries(ct[node])}\n"
                            f"  simulator {_entries(have_text)}")
        for k, s in zip(_seconds(ct[node]), _seconds(have_text)):
            if abs(k - s) > 1:
                problems.append(f"{node}: seconds left, kernel {k}, simulator {s}")
    assert not problems, "\n".join(problems)


SERVER_PY = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8)
print("ready", flush=True)
c, a = s.accept()
c.recv(100); c.send(b"saw %s:%d" % (a[0].encode(), a[1])); c.recv(100); c.close()
"""
CLIENT_PY = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
s.bind(("0.0.0.0", int(sys.argv[3]))); s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2]))); s.send(b"hello"); print(s.recv(100).decode()); s.close()
"""


@pytest.mark.kernel_feature("SCTP")
def test_an_sctp_association_agrees_with_the_kernel(cluster):
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP).close()
    except OSError as e:
        pytest.skip(f"this kernel has no SCTP (socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP): {e.strerror}): "
                    "a whole association cannot run here; test_sctp_init_agrees_with_the_kernel checks "
                    "the INIT against netfilter and conntrack")
    mode, kc = cluster
    kc.reset()
    server = _Proc(kc.pod_ns("sig-1"), SERVER_PY, "3868")
    try:
        server.expect_ready("sctp server in sig-1")
        saw = nsexec(kc.pod_ns(FLOW.from_), "python3", "-c", CLIENT_PY, FLOW.dst_ip, str(FLOW.dst_port),
                      str(FLOW.sourcePort)).strip()
    finally:
        server.stop()
    sim = ClusterSim(SCENARIO, proxy_mode=mode)
    trace = sim.run(FLOW)
    assert trace.ending == "delivered" and saw == f"saw {trace.server_saw}"
    for node in kc.nodes:
        real = nsexec(kc.node_ns(node), "conntrack", "-L", "-p", "sctp", check=False)
        assert _entries(real) == _entries("\n".join(e.line() for e in sim.conntrack(node).entries)), node
