"""ICMP echo (ping) through the datapath, held against the kernel.

In network namespaces built from the ``clusterip`` scenario, the real ``ping -c 1 -W 1``
runs from a pod or a node while every node traces its packets (``xtables-monitor --trace``
in iptables mode, ``nft monitor trace`` in nftables mode).  The simulator's
``ClusterSim.run_ping`` must predict, for each address:

* what ping reports: a reply, nothing (the echo request discarded somewhere), or an ICMP
  error (``From <addr> … Destination Port Unreachable``) and from which address;
* on each node, the echo request's and the echo reply's ordered ``table:chain:verdict``
  path (the same comparison ``compare.py`` makes for TCP and UDP flows);
* each node's conntrack entries for the exchange (``icmp 1 … type=8 code=0 id=…``), with
  the echo id masked (iputils picks it at random).

The facts it pins: a ClusterIP does not answer ping in iptables mode (kube-proxy's rules
match only the Service's protocol and port, so nothing DNATs the echo request and it
follows the default route to the node network's router, which discards it); in nftables
mode ``cluster-ips-check`` rejects it (ICMP port unreachable from the node: its pod-side
veth address for a pod's ping, its own eth0 address for its own ping); an unallocated
address of the Service CIDR is dropped there without a word.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.kubeproxy.nftables import generate_nft
from kubeflow_tui.scenario import load_scenario

from .compare import kernel_path, render_side_by_side, sim_path
from .netns import KernelCluster, _Monitor, nsexec, _wait_ready
from .test_nft_flows import NftKernelCluster

pytestmark = pytest.mark.kernel

SCENARIO = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "clusterip.yaml")
PINGS = [
    ("client-b", "10.244.1.5"),  # a pod on the other node: answers
    ("client-b", "10.96.0.1"),  # the ClusterIP
    ("node-b", "192.168.1.10"),  # the other node: answers
    ("node-b", "10.96.0.1"),  # the ClusterIP from a node's own process
    ("node-b", "10.244.2.7"),  # a pod on the node itself
    ("client-a", "10.244.1.5"),  # a pod on the same node
    ("client-b", "10.96.0.99"),  # an address of the Service CIDR that no Service has
    ("client-b", "10.244.1.99"),  # no such pod
]
_FROM = re.compile(r"^From (\S+) icmp_seq=1 (.*)$", re.M)
_ID = re.compile(r"\bid=\d+")


def _ping(kc: KernelCluster, src: str, dst: str) -> tuple[str, dict[str, list], dict[str, str]]:
    """Run one real ping; (what it printed, traced packets per node, conntrack per node)."""
    kc.reset()
    monitors = {n: _Monitor(kc.node_ns(n), "trace", kc.trace_argv) for n in kc.nodes}
    try:
        _wait_ready(list(monitors.values()))
        ns = kc.ns.get(f"pod:{src}") or kc.ns[f"node:{src}"]
        printed = nsexec(ns, "ping", "-c", "1", "-W", "1", dst, check=False)
    finally:
        texts = {n: m.stop() for n, m in monitors.items()}
    packets = {n: [p for p in kc.parse_trace_text(t) if p.headers and p.first.proto == "icmp"]
               for n, t in texts.items()}
    ct = {n: nsexec(kc.node_ns(n), "conntrack", "-L", "-p", "icmp", check=False) for n in kc.nodes}
    return printed, packets, ct


def _compare(kc: KernelCluster, mode: str, src: str, dst: str) -> list[str]:
    printed, kpackets, kct = _ping(kc, src, dst)
    sim = ClusterSim(SCENARIO, proxy_mode=mode)
    trace = sim.run_ping(src, dst, ident=4321)
    out = []
    got = _FROM.search(printed)
    if "1 received" in printed:
        kernel = "reply"
    elif got:
        kernel = f"error from {got.group(1)}: {got.group(2)}"
    else:
        kernel = "nothing"
    end = trace.steps[-1]
    if trace.ending == "delivered":
        simulated = "reply"
    elif end.kind == "socket-error" and end.packet_label.startswith("ICMP"):
        simulated = f"error from {end.packet.src}: {end.packet_label}"
    else:
        simulated = "nothing"
    words = {"ICMP port unreachable": "Destination Port Unreachable"}
    for k, v in words.items():
        simulated = simulated.replace(k, v)
    if kernel != simulated:
        out.append(f"ping {dst} from {src}: kernel {kernel}, simulator {simulated}\n{printed}")
    for node in kc.nodes:
        steps = trace.steps_on(node)
        for no in (0, 1):
            psteps = [s for s in steps if s.packet_no == no and s.kind != "socket-error"]
            kps = [p for p in kpackets[node] if kernel_path(p)]
            label = "echo request" if no == 0 else "echo reply"
            spath = sim_path(psteps)
            # the kernel's packet on this node with the same addresses as it arrives (the
            # kernel also traces the ICMP errors a reject sends, which are other packets)
            client = trace.steps[0].packet.src
            want = ((psteps[0].packet.src, psteps[0].packet.dst) if psteps else
                    (dst, client) if no == 1 else (client, dst))
            kp = next((p for p in kps if (p.first.src, p.first.dst) == want), None)
            if kp is None:
                if spath:
                    out.append(f"{node} {label}: the kernel traced no such packet; the simulator walks "
                               f"{[e.label for e in spath]}")
                continue
            kpath = kernel_path(kp)
            if [e.label for e in kpath] != [e.label for e in spath]:
                out.append(f"{node} {label}: chain path differs\n"
                           + render_side_by_side(f"{node} {label}", kpath, spath))
        want = sorted(_ID.sub("id=ID", " ".join(line.split()[:1] + line.split()[3:]))
                      for line in kct[node].splitlines() if line.startswith("icmp"))
        have = sorted(_ID.sub("id=ID", " ".join(e.line().split()[:1] + e.line().split()[3:]))
                      for e in sim.conntrack(node).entries)
        if want != have:
            out.append(f"{node} conntrack: kernel {want}, simulator {have}")
    return out


@pytest.fixture(scope="module")
def iptables_cluster():
    require_kernel()
    with KernelCluster(SCENARIO, generate_restore, timeout=1.0) as kc:
        yield kc


@pytest.fixture(scope="module")
def nft_cluster():
    require_kernel()
    with NftKernelCluster(SCENARIO, lambda sc, node: generate_nft(sc, node), timeout=1.0) as kc:
        yield kc


@pytest.mark.parametrize("src,dst", PINGS, ids=[f"{s}-{d}" for s, d in PINGS])
def test_ping_agrees_with_the_kernel_iptables(iptables_cluster: KernelCluster, src: str, dst: str):
    assert _compare(iptables_cluster, "iptables", src, dst) == []


@pytest.mark.parametrize("src,dst", PINGS, ids=[f"{s}-{d}" for s, d in PINGS])
def test_ping_agrees_with_the_kernel_nftables(nft_cluster: KernelCluster, src: str, dst: str):
    assert _compare(nft_cluster, "nftables", src, dst) == []


TRACEROUTES = [("client-b", "10.96.0.1", 3), ("client-b", "10.244.1.5", 5), ("node-b", "10.244.1.5", 4),
               ("client-a", "10.96.0.1", 2)]
_SPORT = re.compile(r"\b(sport|dport)=(\d+)")


def _udp_entries(text: str, client_sports: bool = True) -> list[str]:
    """conntrack -L lines, one word per field, the probes' source ports masked (the kernel
    picks them); sorted (-L lists in hash order)."""
    out = []
    for line in text.splitlines():
        if not line.startswith("udp"):
            continue
        words = line.split()
        words = [w for i, w in enumerate(words) if i != 2]  # the seconds left
        masked = " ".join(words)
        masked = re.sub(r"sport=\d+ dport=(\d+)( \[UNREPLIED\])? src=(\S+) dst=(\S+) sport=\1 dport=\d+",
                        r"sport=S dport=\1\2 src=\3 dst=\4 sport=\1 dport=S", masked)
        out.append(masked)
    return sorted(out)


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
@pytest.mark.parametrize("src,dst,max_ttl", TRACEROUTES, ids=[f"{s}-{d}" for s, d, _ in TRACEROUTES])
def test_traceroute_agrees_with_the_kernel(request, mode: str, src: str, dst: str, max_ttl: int):
    """The hops traceroute prints and the conntrack entries its probes leave on each node (a
    probe whose TTL ran out on a node was never confirmed there)."""
    from kubeflow_tui.shell import Shell

    kc = request.getfixturevalue("iptables_cluster" if mode == "iptables" else "nft_cluster")
    kc.reset()
    ns = kc.ns.get(f"pod:{src}") or kc.ns[f"node:{src}"]
    line = f"traceroute -n -q 1 -w 1 -m {max_ttl} {dst}"
    import time
    time.sleep(2)  # the ICMP error rate limit (record_shell.PAUSE)
    real = nsexec(ns, *line.split(), check=False)
    sim = ClusterSim(SCENARIO, proxy_mode=mode)
    got = Shell(sim, src).run(line).stdout
    hops = re.compile(r"\d+\.\d{3} ms")
    assert hops.sub("RTT", got) == hops.sub("RTT", real)
    for node in kc.nodes:
        want = _udp_entries(nsexec(kc.node_ns(node), "conntrack", "-L", "-p", "udp", check=False))
        have = _udp_entries("\n".join(e.line() for e in sim.conntrack(node).entries))
        assert have == want, node
