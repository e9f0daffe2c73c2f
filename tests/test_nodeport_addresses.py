"""kubeProxy.nodePortAddresses (kube-proxy --nodeport-addresses).

Upstream, iptables mode (pkg/proxy/iptables/proxier.go): ``nodePortAddresses.MatchAll()``
(unset, or 0.0.0.0/0) keeps the catch-all ``-m addrtype --dst-type LOCAL`` jump to
KUBE-NODEPORTS; otherwise one ``-d <ip>`` jump per node address ``GetNodeIPs`` finds in
the CIDRs, a loopback one only with localhost NodePorts, which NewProxier turns off when
the CIDRs hold no loopback address (so no 127.0.0.0/8 nfacct rule and no KUBE-FIREWALL
DROP).  nftables mode: unset means ``primary`` (the node IP); the ``nodeport-ips`` set
holds the node addresses inside the CIDRs, never a loopback one; 0.0.0.0/0 deletes the set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import kube_proxy_restore
from kubeflow_tui.kubeproxy.nftables import generate_nft
from kubeflow_tui.scenario import ScenarioError, load_scenario_text
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "scenarios" / "nodeport-addresses.yaml").read_text()
LAST = '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"'


def scenario(value: str | None):
    if value is None:
        text = TEXT.replace("kubeProxy:\n  nodePortAddresses: [192.168.1.0/24]\n", "")
    else:
        text = TEXT.replace("[192.168.1.0/24]", value)
    return load_scenario_text(text, "np.yaml")


def nodeport_jumps(sc, node="node-b") -> list[str]:
    return [ln for ln in kube_proxy_restore(sc, node).splitlines() if ln.startswith(LAST)]


def test_unset_is_every_local_address_with_localhost_nodeports():
    sc = scenario(None)
    text = kube_proxy_restore(sc, "node-b")
    assert nodeport_jumps(sc) == [f"{LAST} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"]
    assert "-d 127.0.0.0/8 --dport 30080 -m nfacct" in text
    assert '"block incoming localnet connections"' in text
    assert nodeport_jumps(scenario("[0.0.0.0/0]")) == nodeport_jumps(sc)


@pytest.mark.parametrize("value,jumps", [
    ("[192.168.1.0/24]", ["192.168.1.11"]),
    ("[primary]", ["192.168.1.11"]),
    ("[10.244.0.0/16]", ["10.244.2.1"]),  # the pod gateway on node-b's veths
    ("[127.0.0.0/8, 192.168.1.0/24]", ["127.0.0.1", "192.168.1.11"]),
])
def test_one_jump_per_node_address_in_the_cidrs(value, jumps):
    sc = scenario(value)
    assert nodeport_jumps(sc) == [f"{LAST} -d {ip} -j KUBE-NODEPORTS" for ip in jumps]
    text = kube_proxy_restore(sc, "node-b")
    localhost = "127.0.0.1" in jumps
    assert ("-d 127.0.0.0/8 --dport 30080 -m nfacct" in text) is localhost
    assert ('"block incoming localnet connections"' in text) is localhost


@pytest.mark.parametrize("value,elements", [
    (None, "192.168.1.11"),
    ("[10.244.0.0/16]", "10.244.2.1"),
    ("[127.0.0.0/8, 192.168.1.0/24]", "192.168.1.11"),
])
def test_nftables_nodeport_ips(value, elements):
    nft = generate_nft(scenario(value), "node-b")
    assert f"add element ip kube-proxy nodeport-ips {{ {elements} }}" in nft


def test_nftables_match_all_deletes_the_set():
    nft = generate_nft(scenario("[0.0.0.0/0]"), "node-b")
    assert "delete set ip kube-proxy nodeport-ips" in nft
    assert "ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports" in nft


@pytest.mark.parametrize("mode,unset", [("iptables", "delivered"), ("nftables", "rejected")])
def test_the_gateway_address_answers_only_without_the_option(mode, unset):
    # unset: iptables mode takes every local address; nftables mode only the node IP (primary)
    assert ClusterSim(scenario(None), proxy_mode=mode).run_flow("pod-to-its-gateway").ending == unset
    restricted = ClusterSim(scenario("[192.168.1.0/24]"), proxy_mode=mode)
    t = restricted.run_flow("pod-to-its-gateway")
    assert t.ending == "rejected" and t.error == "ECONNREFUSED"
    assert restricted.run_flow("pod-to-node-ip").ending == "delivered"


def test_localhost_nodeport_from_the_node():
    ok = Shell(ClusterSim(scenario(None)), "node-b").run("curl -sS -m 2 127.0.0.1:30080")
    assert ok.stdout.startswith("saw 192.168.1.11:") and ok.stdout.endswith("from web-1\n")
    r = Shell(ClusterSim(scenario("[192.168.1.0/24]")), "node-b").run("curl -sS -m 2 127.0.0.1:30080")
    assert r.exit_code == 7 and "Failed to connect to 127.0.0.1 port 30080" in r.stderr + r.stdout


@pytest.mark.parametrize("value,msg", [
    ("[primary, 10.0.0.0/8]", "'primary' must be the only entry of nodePortAddresses"),
    ("[192.168.1.0/33]", "'192.168.1.0/33' is not a CIDR"),
])
def test_bad_values_are_errors_with_a_position(value, msg):
    with pytest.raises(ScenarioError) as e:
        scenario(value)
    assert "np.yaml:44:" in str(e.value) and msg in str(e.value)
