"""The error a rejected connection gets back, as the kernel sends it.

For each rejected flow, a raw ICMP socket in the client's namespace records the ICMP
errors that arrive while the kernel runs the flow; the simulator's last step (kind
``socket-error``) must name the same packet (source, destination, ICMP type 3 code 3 =
port unreachable) and the errno the kernel's client reported (ECONNREFUSED).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import run_flow
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.scenario import load_scenario

from .netns import KernelCluster

pytestmark = pytest.mark.kernel

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

LISTEN = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(3)
print("ready", flush=True)
try:
    while True:
        d, a = s.recvfrom(2000)
        ih = (d[0] & 15) * 4
        print(a[0], d[16:20] and socket.inet_ntoa(d[16:20]), d[ih], d[ih + 1], flush=True)
except socket.timeout:
    pass
"""

CODES = {"ICMP port unreachable": (3, 3), "ICMP host unreachable": (3, 1), "ICMP net unreachable": (3, 0)}


@pytest.mark.parametrize("scenario, flow", [
    ("no-endpoints", "no-backend"),
    ("lesson-one-host", "pod-to-empty-service"),
    ("cases/not-ready", "client-to-web"),
])
def test_the_icmp_error_the_client_gets_is_the_simulators(scenario, flow):
    require_kernel()
    sc = load_scenario(SCENARIOS / f"{scenario}.yaml")
    tr = run_flow(sc, flow)
    end = tr.steps[-1]
    assert (tr.ending, end.kind, end.packet.proto) == ("rejected", "socket-error", "icmp")
    with KernelCluster(sc, generate_restore) as kc:
        ns, _ = kc._source(sc.flow(flow))
        listener = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LISTEN],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "ready"
        res = kc.run_flow(flow)
        got = [line.split() for line in listener.communicate(timeout=10)[0].splitlines()]
    assert res.outcome == "refused" and tr.error == "ECONNREFUSED"
    want = [end.packet.src, end.packet.dst, *map(str, CODES[end.packet_label])]
    assert got and got[0] == want, f"kernel: {got}, simulator: {want}"
