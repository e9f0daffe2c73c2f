"""cases/23, a node's legacy iptables backend, in the real kernel.

The referee builds the cluster, loads node-b's ``legacyRules`` with
``iptables-legacy-restore`` (the boot script), then kube-proxy's rules through iptables-nft:
both backends' FORWARD hooks run, kube-proxy's (the newer) first.  The kernel must drop the SYN forwarded to web-2 (the client
times out) although kube-proxy's nf_tables chains accept it, deliver web-1's connection,
agree with the simulator on every nf_tables chain (``xtables-monitor --trace`` does not see
the legacy table: the simulator's ``legacy-filter`` steps are left out of the path
comparison), count the drop on the legacy FORWARD policy, and print the warnings the
simulated shell prints.  After ``iptables-legacy -P FORWARD ACCEPT`` the SYN goes through.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import require_kernel
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.shell import Shell

from .compare import compare_flow
from .netns import KernelCluster

pytestmark = pytest.mark.kernel

SCENARIO = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "cases" / "legacy-forward-drop.yaml")


def _ns(kc: KernelCluster, *argv: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", kc.node_ns("node-b"), *argv], input=input, text=True,
                          capture_output=True, timeout=20)


def test_a_legacy_forward_drop_kills_what_kube_proxy_accepts():
    require_kernel()
    with KernelCluster(SCENARIO, None, timeout=1.0) as kc:
        # the boot script's legacy table first, kube-proxy's rules after it: among hooks of
        # one priority the kernel runs the newer first, so kube-proxy's FORWARD chain sees
        # the SYN before the legacy policy drops it (loaded the other way round, the
        # legacy table comes first and kube-proxy's chain never sees it)
        r = _ns(kc, "iptables-legacy-restore", input=SCENARIO.node("node-b").legacyRules)
        assert r.returncode == 0, r.stderr
        for n in SCENARIO.cluster.nodes:
            kc.load_rules(n.name, generate_restore(SCENARIO, n.name))
        dropped = kc.run_chain(["frontend-to-web-2"])[-1]
        for _ in range(30):  # a pin repeats only delivered runs: a try that hit web-2 timed out
            delivered = kc.run_chain(["frontend-to-web-1"])[-1]
            if delivered.outcome == "delivered":
                break
        listing = _ns(kc, "iptables", "-L", "FORWARD", "-n")
        save = _ns(kc, "iptables-save", "-t", "filter")
        legacy = _ns(kc, "iptables-legacy", "-L", "FORWARD", "-n", "-v", "-x")
        assert _ns(kc, "iptables-legacy", "-P", "FORWARD", "ACCEPT").returncode == 0
        fixed = kc.run_chain(["frontend-to-web-2"])[-1]
    assert dropped.outcome == "timeout", dropped.summary()
    assert delivered.outcome == "delivered" and delivered.server == "web-1", delivered.summary()
    assert fixed.outcome == "delivered" and fixed.server == "web-2", fixed.summary()
    # the legacy policy counted the dropped SYNs (the client's first one and its retries)
    policy = legacy.stdout.splitlines()[0]
    assert policy.startswith("Chain FORWARD (policy DROP ") and " 0 packets" not in policy, legacy.stdout

    for flow, res in (("frontend-to-web-2", dropped), ("frontend-to-web-1", delivered)):
        trace = ClusterSim(SCENARIO).run_flow(flow)
        assert trace.outcome == res.outcome
        mismatches = compare_flow(SCENARIO, flow, res, trace)
        assert mismatches == [], f"{flow}:\n" + "\n".join(mismatches)
    trace = ClusterSim(SCENARIO).run_flow("frontend-to-web-2")
    last = [s for s in trace.steps if s.host == "node-b" and s.table == "legacy-filter"][-1]
    assert (last.kind, last.chain) == ("policy", "FORWARD") and "policy DROP" in last.why

    # the simulated shell's warnings are the kernel's tools' own
    sim = Shell(ClusterSim(SCENARIO), "node-b")
    assert sim.run("iptables -L FORWARD -n").stderr == listing.stderr
    assert sim.run("iptables-save -t filter").stderr == save.stderr
    assert listing.stderr == "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n"


def test_a_legacy_table_loaded_after_kube_proxy_runs_first():
    """Loaded from the shell after kube-proxy's chains, the legacy table is the newer hook:
    the kernel runs it first, and kube-proxy's FORWARD chain never sees the dropped SYN."""
    require_kernel()
    plain = SCENARIO.model_copy(update={"cluster": SCENARIO.cluster.model_copy(update={"nodes": [
        n.model_copy(update={"legacyRules": None}) for n in SCENARIO.cluster.nodes]})})
    rule = ["-A", "FORWARD", "-d", "10.244.2.5/32", "-p", "tcp", "-j", "DROP"]
    with KernelCluster(plain, generate_restore, timeout=1.0) as kc:
        assert _ns(kc, "iptables-legacy", *rule).returncode == 0
        res = kc.run_chain(["frontend-to-web-2"])[-1]
    assert res.outcome == "timeout", res.summary()
    sim = ClusterSim(plain)
    assert Shell(sim, "node-b").run("iptables-legacy " + " ".join(rule)).exit_code == 0
    trace = sim.run_flow("frontend-to-web-2")
    mismatches = compare_flow(plain, "frontend-to-web-2", res, trace)
    assert mismatches == [], "\n".join(mismatches)
    forward = [s.table for s in trace.steps if s.host == "node-b" and s.hook == "FORWARD" and s.packet_no == 0]
    assert forward and set(forward) == {"legacy-filter"}
