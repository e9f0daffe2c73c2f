#!/usr/bin/env python3
"""kube-proxy's nftables mode at scale: run by hand (as root for the nft reference).

    python benchmarks/bench_nft.py [--services 10000] [--out FILE]

Prints one JSON object:

* ``parse_s`` / ``nft_check_s``: ``parse_nft_ruleset`` of the ``nft list ruleset`` text of
  a node with N Services x 3 endpoints, against ``nft -c -f`` of the same text in a scratch
  network namespace (one run each, as the issue asks; ``parse_ratio`` = ours / nft).
* ``packet_ms``: one ClusterIP SYN through every nftables base chain of prerouting
  (``NftEvaluator``), median of 200, rules already compiled.
* ``rules_evaluated``: the rules the kernel looks at for that first packet, counted as the
  engine walks them (every rule of every chain entered, up to the one that decided), in
  nftables mode and in iptables mode, at 10 and at N Services.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from kubeflow_tui.kubeproxy import generate_restore  # noqa: E402
from kubeflow_tui.kubeproxy.nftables import nft_transaction  # noqa: E402
from kubeflow_tui.netfilter import parse_iptables_save, parse_nft_ruleset, render_nft_ruleset  # noqa: E402
from kubeflow_tui.netfilter.eval import EvalContext, Evaluator  # noqa: E402
from kubeflow_tui.netfilter.nft_eval import NftContext, NftEvaluator  # noqa: E402
from kubeflow_tui.netfilter.packet import Packet  # noqa: E402
from kubeflow_tui.scenario.models import Cluster, Node, Pod, Scenario, Service, ServicePort  # noqa: E402


def big_table(services: int):
    """kube-proxy's table on node-a for N ClusterIP Services x 3 endpoints, built from
    kube-proxy's own view (service ports, endpoints) as kube-proxy builds it."""
    from kubeflow_tui.kubeproxy import Endpoint, ServicePortInfo, ServicePortName
    from kubeflow_tui.kubeproxy.nftables import transaction_for

    infos, eps = [], {}
    for s in range(services):
        name = ServicePortName("default", f"s{s}", "http", "TCP")
        infos.append(ServicePortInfo(name=name, cluster_ip=f"10.96.{s >> 8}.{s & 0xff}", port=80))
        eps[name] = sorted((Endpoint(f"10.244.{((s * 3 + e) >> 8) & 0xff}.{(s * 3 + e) & 0xff}", 8080,
                                     f"p{s * 3 + e}", "node-a" if e % 2 else "node-b")
                            for e in range(3)), key=lambda ep: ep.address)
    return transaction_for(infos, eps, "node-a", "192.168.1.10", "10.244.0.0/16", ("10.96.0.0/12",),
                           ("192.168.1.10",)).apply()


def big_scenario(services: int) -> Scenario:
    """N ClusterIP Services, each selecting 3 pods (unvalidated: built for speed)."""
    nodes = [Node(name="node-a", ip="192.168.1.10", podCIDR="10.244.0.0/17"),
             Node(name="node-b", ip="192.168.1.11", podCIDR="10.244.128.0/17")]
    pods, svcs = [], []
    for s in range(services):
        for e in range(3):
            n = s * 3 + e
            pods.append(Pod.model_construct(
                name=f"p{n}", namespace="default", node="node-a" if n % 2 else "node-b",
                ip=f"10.244.{(n >> 8) & 0xff}.{n & 0xff}", labels={"app": f"s{s}"}, ports=[],
                ready=True, terminating=False, deployment=None))
        svcs.append(Service.model_construct(
            name=f"s{s}", namespace="default", type="ClusterIP", clusterIP=f"10.96.{s >> 8}.{s & 0xff}",
            selector={"app": f"s{s}"}, externalIPs=[], loadBalancerIP=None, loadBalancerSourceRanges=[],
            sessionAffinity="None", sessionAffinityTimeoutSeconds=10800, externalTrafficPolicy="Cluster",
            internalTrafficPolicy="Cluster", healthCheckNodePort=None,
            ports=[ServicePort.model_construct(name="http", port=80, targetPort=8080, nodePort=None,
                                               protocol="TCP")]))
    return Scenario.model_construct(name=f"big-{services}", cluster=Cluster(nodes=nodes), pods=pods,
                                    services=svcs, clients=[], loadBalancer=None, flows=[], timeline=[])


def _positions(hits, chain_attr: str, index_attr: str) -> int:
    """Rules looked at: for each chain entered, the position of the last rule reached."""
    seen: dict[tuple[str, int], int] = {}
    visit = 0
    last = None
    for h in hits:
        chain = getattr(h, chain_attr)
        if chain != last:
            visit += 1
            last = chain
        idx = getattr(h, index_attr)
        if idx:
            seen[(chain, visit)] = max(seen.get((chain, visit), 0), idx)
    return sum(seen.values())


def nft_rules_evaluated(sc: Scenario, dst: str) -> int:
    table = nft_transaction(sc, "node-a").apply()
    ev = NftEvaluator(table)
    ctx = NftContext("prerouting", local_addrs=frozenset({"192.168.1.10"}), numgen=lambda c, h, n, e: (0, None))
    pkt = Packet("10.244.0.7", dst, "tcp", 40000, 80, flags=("SYN",))
    total = 0
    for chain in ev.base_chains("prerouting"):
        out = ev.run(chain.name, pkt, ctx)
        position = {r.handle: i + 1 for c in table.chains.values() for i, r in enumerate(c.rules)}
        hits = [type("H", (), {"chain": h.chain, "index": position.get(h.handle, 0)}) for h in out.hits]
        total += _positions(hits, "chain", "index")
        pkt = out.packet
    return total


def ipt_rules_evaluated(sc: Scenario, dst: str) -> int:
    rs = parse_iptables_save(generate_restore(sc, "node-a"))
    ev = Evaluator(rs)
    ctx = EvalContext(hook="PREROUTING", local_addrs=frozenset({"192.168.1.10"}),
                      statistic=lambda rule, p: (True, None))
    pkt = Packet("10.244.0.7", dst, "tcp", 40000, 80, flags=("SYN",))
    out = ev.run("nat", "PREROUTING", pkt, ctx)
    return _positions(out.hits, "chain", "rule_index")


def nft_check(text: str) -> float | None:
    if os.geteuid() != 0 or shutil.which("nft") is None:
        return None
    ns = f"kt-{secrets.token_hex(3)}-bench"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".nft", delete=False) as f:
            f.write(text)
        t0 = time.perf_counter()
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-c", "-f", f.name], check=True)
        return time.perf_counter() - t0
    finally:
        subprocess.run(["ip", "netns", "del", ns])
        os.unlink(f.name)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--out")
    args = ap.parse_args()
    n = args.services
    t0 = time.perf_counter()
    listing = render_nft_ruleset([big_table(n)])
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    (table,) = parse_nft_ruleset(listing, "big")
    parse_s = time.perf_counter() - t0
    check_s = nft_check(listing)

    ev = NftEvaluator(table)
    last = max(range(n), key=lambda s: f"default/s{s}:http")  # KUBE-SERVICES' last rule
    dst = f"10.96.{last >> 8}.{last & 0xff}"  # the worst case for iptables
    chains = ev.base_chains("prerouting")
    times = []
    for i in range(220):
        ctx = NftContext("prerouting", local_addrs=frozenset({"192.168.1.10"}),
                         numgen=lambda c, h, m, e: (0, None))
        pkt = Packet("10.244.0.7", dst, "tcp", 40000 + i, 80, flags=("SYN",))
        t1 = time.perf_counter()
        for c in chains:
            pkt = ev.run(c.name, pkt, ctx).packet
        times.append(time.perf_counter() - t1)
    packet_ms = statistics.median(times[20:]) * 1000

    small = big_scenario(10)
    rules_big = big_scenario(n)
    last_small = max(range(10), key=lambda s: f"default/s{s}:http")
    last_rb = last
    small_dst = f"10.96.0.{last_small}"
    rb_dst = f"10.96.{last_rb >> 8}.{last_rb & 0xff}"
    result = {
        "services": n,
        "listing_lines": listing.count("\n"),
        "generate_and_render_s": round(gen_s, 3),
        "parse_s": round(parse_s, 3),
        "nft_check_s": None if check_s is None else round(check_s, 3),
        "parse_ratio": None if not check_s else round(parse_s / check_s, 3),
        "packet_ms": round(packet_ms, 4),
        "rules_evaluated": {
            "nftables": {"10": nft_rules_evaluated(small, small_dst),
                         str(n): nft_rules_evaluated(rules_big, rb_dst)},
            "iptables": {"10": ipt_rules_evaluated(small, small_dst),
                         str(n): ipt_rules_evaluated(rules_big, rb_dst)},
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
