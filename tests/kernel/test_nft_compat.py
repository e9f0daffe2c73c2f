"""kube-proxy in iptables mode, seen through nft: every shipped scenario's iptables rules,
per node, loaded with ``iptables-nft-restore`` into a fresh network namespace; what the real
``nft list ruleset`` (nftables 1.0.6) prints of iptables-nft's ``ip filter``/``ip nat`` tables
must be, byte for byte, what ``render_compat`` renders (the simulated shell's ``nft list
ruleset`` on such a node), and nft's warnings on stderr what ``compat_warnings`` says."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import ensure_nfacct_counters, generate_restore
from kubeflow_tui.netfilter.nft_compat import compat_warnings, render_compat
from kubeflow_tui.scenario import load_scenario

from .netns import scratch_netns

pytestmark = pytest.mark.kernel

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


def _params() -> list:
    return [pytest.param(path, node.name, id=f"{path.stem}/{node.name}")
            for path in SCENARIOS for node in load_scenario(path).cluster.nodes]


def _run(*argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=30,
                          stdin=None if input is not None else subprocess.DEVNULL)


@pytest.fixture
def ns():
    """A fresh network namespace per node (iptables-nft's tables start from nothing)."""
    with scratch_netns("ipnft", "nft", "iptables-nft-restore") as name:
        yield name


@pytest.mark.parametrize("path, node", _params())
def test_nft_lists_kube_proxys_iptables_rules_as_we_render_them(ns: str, path: Path, node: str):
    sc = load_scenario(path)
    ensure_nfacct_counters(ns)
    r = _run("ip", "netns", "exec", ns, "iptables-nft-restore", input=generate_restore(sc, node))
    assert r.returncode == 0, r.stderr
    r = _run("ip", "netns", "exec", ns, "nft", "list", "ruleset")
    assert r.returncode == 0, r.stderr
    # the node in iptables mode, whatever the scenario's cluster.proxyMode: the iptables rules
    # loaded above are what such a node holds
    rs = ClusterSim(sc, proxy_mode="iptables").node_ruleset(node)
    ours = render_compat(rs)
    assert ours == r.stdout, "".join(difflib.unified_diff(r.stdout.splitlines(True), ours.splitlines(True),
                                                          "kernel", "ours"))
    assert compat_warnings(rs) == r.stderr
