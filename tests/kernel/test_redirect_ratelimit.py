"""Issue 13 (c): a ``vip`` balancer in front of a Service with no ready endpoint.

The balancer routes the client's packet for the LB IP to node-b.  kube-proxy's filter
``KUBE-EXTERNAL-SERVICES`` REJECTs it in FORWARD, yet the client hears no ICMP error.  The
capture in namespaces (``nstat`` on node-b: ``IcmpOutRedirects 1``, ``IcmpOutRateLimitHost
1``) says why: node-b's route for the LB IP is its default route, out of the eth0 the
packet came in on, so ``ip_forward`` first sends the client an ICMP redirect, which stamps
the client's ``inet_peer``; the port unreachable that follows finds its token bucket empty
(``net.ipv4.icmp_ratelimit``) and is suppressed.  The simulator must say the same: UDP hears
nothing, TCP times out.

Captured with tcpdump in the namespaces (``ip netns exec … tcpdump -ni any``): the client
receives one ICMP redirect, from the balancer (it too forwards out of the eth0 the packet
came in on), and nothing from node-b; node-b's own redirect enters its raw OUTPUT (the
referee's trace shows it) but never leaves (``IpOutDiscards 1``, absent from node-b's eth0):
with a nat table loaded (kube-proxy's), ``nf_nat_icmp_reply_translation`` drops a redirect
about a connection whose NAT is not done yet ("If NAT isn't finished, assume it and drop."),
which the request's is, between PREROUTING and POSTROUTING; in bare namespaces with only the
REJECT (no nat table) the redirect goes out and the error is suppressed all the same.
What suppresses the port unreachable is the redirect's bookkeeping, not its delivery:
``ip_rt_send_redirect`` sets ``peer->rate_last = jiffies`` after ``icmp_send`` whatever
became of the packet, and ``inet_peer_xrlim_allow`` then computes ``token = rate_tokens +
(now - rate_last)`` = 0 < ``icmp_ratelimit``.  The random differential generates the case
too (``randomized.py``, seed 37).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.scenario import load_scenario

from .compare import compare_flow
from .netns import KernelCluster, nsexec

pytestmark = pytest.mark.kernel

SCENARIO = load_scenario(Path(__file__).parent / "fixtures" / "vip-no-endpoints.yaml")


@pytest.mark.parametrize("flow", ["via-b", "via-b-tcp"])
def test_the_reject_after_a_redirect_is_rate_limited(flow: str):
    require_kernel()
    with KernelCluster(SCENARIO, generate_restore, timeout=1.0) as kc:
        nb = kc.node_ns("node-b")
        nsexec(nb, "nstat", "-n", check=False)
        res = kc.run_flow(flow)
        counters = nsexec(nb, "nstat", "-az", check=False)
    trace = ClusterSim(SCENARIO).run_flow(flow)
    assert res.outcome == "timeout", res.summary()
    assert trace.outcome == "timeout" and "IcmpOutRateLimitHost" in trace.steps[-1].why
    got = {line.split()[0]: int(line.split()[1]) for line in counters.splitlines()[1:] if line.split()}
    assert got.get("IcmpOutRedirects", 0) >= 1 and got.get("IcmpOutRateLimitHost", 0) >= 1, counters
    assert got.get("IpOutDiscards", 0) >= 1, counters  # the redirect, dropped by NAT on its way out
    mismatches = compare_flow(SCENARIO, flow, res, trace)
    assert mismatches == [], "\n".join(mismatches)
