"""nftables mode against the kernel: every shipped scenario's nftables rules, per node.

kube-proxy's transaction (``generate_nft``) goes into a fresh network namespace with
``nft -f -``; what ``nft list ruleset`` prints back must be, byte for byte, what
``nft_list_ruleset`` renders from our own replay of that transaction.  Upstream's
TestOverallNFTablesRules services (LoadBalancer with source ranges and affinity,
externalIPs, Local policy, no endpoints) are checked the same way.
"""

from __future__ import annotations

import difflib
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import kernel_required, require_kernel
from kubeflow_tui.kubeproxy.nftables import NftProxyConfig, generate_nft, nft_list_ruleset
from kubeflow_tui.scenario import load_scenario

pytestmark = pytest.mark.kernel

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))


def _params() -> list:
    out = []
    for path in SCENARIOS:
        for node in load_scenario(path).cluster.nodes:
            out.append(pytest.param(path, node.name, id=f"{path.stem}/{node.name}"))
    return out


def _run(*argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=30,
                          stdin=None if input is not None else subprocess.DEVNULL)


@pytest.fixture(scope="module")
def nft_ns():
    """One scratch network namespace; each test starts from an empty ruleset."""
    require_kernel()
    if shutil.which("nft") is None:
        reason = "nftables mode kernel tests need nft (apt-get install nftables)"
        if kernel_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    ns = f"kt-{secrets.token_hex(3)}-nft"
    r = _run("ip", "netns", "add", ns)
    assert r.returncode == 0, r.stderr
    try:
        yield ns
    finally:
        _run("ip", "netns", "del", ns)


def kernel_list(ns: str, transaction: str) -> str:
    """``nft list ruleset`` after ``nft -f`` of ``transaction`` on an empty ruleset."""
    r = _run("ip", "netns", "exec", ns, "nft", "flush", "ruleset")
    assert r.returncode == 0, r.stderr
    r = _run("ip", "netns", "exec", ns, "nft", "-f", "-", input=transaction)
    assert r.returncode == 0, f"nft -f refused kube-proxy's transaction: {r.stderr}"
    r = _run("ip", "netns", "exec", ns, "nft", "list", "ruleset")
    assert r.returncode == 0, r.stderr
    return r.stdout


def _diff(kernel: str, ours: str) -> str:
    return "".join(difflib.unified_diff(kernel.splitlines(True), ours.splitlines(True), "kernel", "ours"))


@pytest.mark.parametrize("path, node", _params())
def test_nft_list_ruleset_is_the_kernels(nft_ns: str, path: Path, node: str):
    sc = load_scenario(path)
    kernel = kernel_list(nft_ns, generate_nft(sc, node))
    ours = nft_list_ruleset(sc, node)
    assert kernel == ours, _diff(kernel, ours)


def test_upstream_overall_services_list_as_the_kernel_does(nft_ns: str):
    from test_kubeproxy import upstream_overall_scenario

    sc = upstream_overall_scenario()
    cfg = NftProxyConfig(cluster_cidr="10.0.0.0/8", service_cidrs=("172.30.0.0/16",))
    kernel = kernel_list(nft_ns, generate_nft(sc, "test-node", cfg))
    ours = nft_list_ruleset(sc, "test-node", cfg)
    assert kernel == ours, _diff(kernel, ours)
    assert "ip saddr != 203.0.113.0/25 drop" in kernel  # one source range: no set braces


def test_a_wrong_rendering_is_caught(nft_ns: str):
    sc = load_scenario(SCENARIO_DIR / "clusterip.yaml")
    kernel = kernel_list(nft_ns, generate_nft(sc, "node-a"))
    ours = nft_list_ruleset(sc, "node-a").replace("priority dstnat - 10", "priority -110")
    assert kernel != ours


def test_a_node_with_both_modes_parses_back(nft_ns: str):
    """iptables-restore of the iptables rules and nft -f of the nftables ones on one node:
    the whole ``nft list ruleset`` (iptables-nft tables included) parses and renders back."""
    from kubeflow_tui.kubeproxy import ensure_nfacct_counters, generate_restore
    from kubeflow_tui.netfilter import parse_nft_ruleset, render_nft_ruleset

    sc = load_scenario(SCENARIO_DIR / "clusterip.yaml")
    _run("ip", "netns", "exec", nft_ns, "nft", "flush", "ruleset")
    ensure_nfacct_counters(nft_ns)
    r = _run("ip", "netns", "exec", nft_ns, "iptables-restore", input=generate_restore(sc, "node-a"))
    assert r.returncode == 0, r.stderr
    r = _run("ip", "netns", "exec", nft_ns, "nft", "-f", "-", input=generate_nft(sc, "node-a"))
    assert r.returncode == 0, r.stderr
    listing = _run("ip", "netns", "exec", nft_ns, "nft", "list", "ruleset").stdout
    tables = parse_nft_ruleset(listing, "nft list ruleset")
    assert [t.name for t in tables] == ["filter", "nat", "kube-proxy"]
    assert render_nft_ruleset(tables) == listing
    assert render_nft_ruleset([tables[2]]) == nft_list_ruleset(sc, "node-a")


def _kernel_handles(listing: str) -> dict[str, tuple[int, list[int]]]:
    """``nft -a list ruleset``: every chain's, set's and map's handle, and its rules' handles."""
    import re

    out: dict[str, tuple[int, list[int]]] = {}
    cur = None
    for line in listing.splitlines():
        m = re.match(r"\t(?:chain|set|map) (\S+) \{ # handle (\d+)$", line)
        if m:
            cur = m.group(1)
            out[cur] = (int(m.group(2)), [])
            continue
        m = re.search(r" # handle (\d+)$", line)
        if m and cur and line.startswith("\t\t"):
            out[cur][1].append(int(m.group(1)))
    return out


@pytest.mark.parametrize("path, node", _params())
def test_handles_are_the_kernels(nft_ns: str, path: Path, node: str):
    """The handles ``nft monitor trace`` names (chains, sets, rules, with the anonymous
    sets of a rule numbered before it) are the ones our replay of the transaction gives."""
    from kubeflow_tui.kubeproxy.nftables import nft_transaction

    sc = load_scenario(path)
    kernel_list(nft_ns, generate_nft(sc, node))
    listing = _run("ip", "netns", "exec", nft_ns, "nft", "-a", "list", "ruleset").stdout
    table = nft_transaction(sc, node).apply()
    ours = {c.name: (c.handle, [r.handle for r in c.rules]) for c in table.chains.values()}
    ours.update({s.name: (s.handle, []) for s in table.sets.values()})
    assert _kernel_handles(listing) == ours
