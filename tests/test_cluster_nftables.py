"""ClusterSim in kube-proxy's nftables mode: the same flows, through nftables base chains.

Every shipped flow reaches the same outcome, endpoint and addresses in both modes when
the endpoint is pinned to the same pod (the random pieces differ: numgen draws once per
connection where iptables rolls per rule, and a masquerade port is random in both).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.scenario import load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent


def _flows():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        for f in sc.flows:
            yield pytest.param(sc, f.name, id=f"{path.stem}/{f.name}")


def _port_free(addr: str) -> str:
    return addr.rpartition(":")[0]


# Where the modes really differ: nftables mode's cluster-ips-check rejects a ClusterIP's
# ports that no Service has ("Reject traffic to invalid ports of ClusterIPs"); iptables
# mode has no such rule, so the packet follows the default route and times out.
DIFFERENT = {("no-endpoints", "port-not-in-service"): ("timeout", "refused"),
             ("nftables", "wrong-port"): ("timeout", "refused")}


@pytest.mark.parametrize("sc, flow", list(_flows()))
def test_both_modes_agree_on_every_shipped_flow(sc, flow):
    ipt = ClusterSim(sc, proxy_mode="iptables").run_flow(flow)  # (a scenario may say nftables)
    nft = ClusterSim(sc, proxy_mode="nftables").run_flow(flow, endpoint=ipt.endpoint or None)
    if (sc.name, flow) in DIFFERENT:
        assert (ipt.outcome, nft.outcome) == DIFFERENT[(sc.name, flow)]
        assert any(s.chain == "cluster-ips-check" and s.kind == "reject" for s in nft.steps)
        return
    assert (nft.outcome, nft.endpoint, nft.client_saw) == (ipt.outcome, ipt.endpoint, ipt.client_saw)
    assert _port_free(nft.server_saw) == _port_free(ipt.server_saw)
    # the nftables walk has no iptables table in it, and the iptables walk no nftables chain
    assert not any(s.table in ("nat", "filter", "raw", "mangle") for s in nft.steps)
    assert not any(s.table == "ip kube-proxy" for s in ipt.steps)


def test_a_clusterip_flow_names_chains_handles_and_map_elements():
    sc = load_scenario(ROOT / "scenarios" / "multi-endpoint.yaml")
    trace = ClusterSim(sc, proxy_mode="nftables").run_flow("to-web-3")
    node = [s for s in trace.steps if s.host == "node-b" and s.table == "ip kube-proxy"]  # the client's node
    lookup = next(s for s in node if s.chain == "services")
    assert (lookup.kind, lookup.rule_index) == ("goto", 53)  # handle 53, as `nft -a list ruleset` shows
    assert lookup.rule == "ip daddr . meta l4proto . th dport vmap @service-ips"
    assert lookup.target == "service-SUSTUHLJ-default/web/tcp/http"
    assert "element '10.96.0.1 . tcp . 8080 : goto service-SUSTUHLJ-default/web/tcp/http' matches" in lookup.why
    # the look-up as the front ends show it (Step fields, not the sentence)
    assert (lookup.lookup, lookup.key, lookup.element) == (
        "@service-ips", "10.96.0.1 . tcp . 8080", "10.96.0.1 . tcp . 8080 : goto service-SUSTUHLJ-default/web/tcp/http")
    assert lookup.base_chain == ""  # services is a regular chain
    base = next(s for s in node if s.chain == "nat-prerouting")
    assert base.base_chain == "type nat hook prerouting priority dstnat; policy accept;"
    pre = next(s for s in node if s.chain == "filter-prerouting-pre-dnat")
    assert pre.base_chain == "type filter hook prerouting priority dstnat - 10; policy accept;"
    miss = next(s for s in node if s.chain == "firewall-check" and s.kind == "no-match")
    assert (miss.lookup, miss.key, miss.element) == ("@firewall-ips", "10.96.0.1 . tcp . 8080", "")
    pick = next(s for s in node if s.rule.startswith("numgen random mod 3"))
    assert (pick.lookup, pick.key) == ("numgen random mod 3", "2") and pick.element.startswith("2 : goto endpoint-")
    assert "numgen random mod 3 gave 2 (pinned by the scenario)" in pick.why
    assert pick.target.startswith("endpoint-") and pick.target.endswith("__10.244.2.5/8080")
    dnat = next(s for s in node if s.kind == "dnat")
    assert dnat.rule == "meta l4proto tcp dnat to 10.244.2.5:8080" and dnat.packet.dst == "10.244.2.5"
    # hook order: filter-prerouting-pre-dnat (-110) before nat-prerouting (-100)
    chains = [s.chain for s in node if s.hook == "PREROUTING"]
    assert chains.index("filter-prerouting-pre-dnat") < chains.index("nat-prerouting")


def test_scenario_proxy_mode_and_what_cluster_ips_check_does():
    text = (ROOT / "scenarios" / "clusterip.yaml").read_text().replace("cluster:\n", "cluster:\n  proxyMode: nftables\n", 1)
    sc = load_scenario_text(text, "clusterip-nft.yaml")
    sim = ClusterSim(sc)
    assert sim.proxy_mode == "nftables" and sim.nft_table("node-a") is not None
    assert sim.restore_text("node-a") == ""  # kube-proxy writes no iptables rules in this mode
    svc = sc.services[0]
    client = sc.flows[0].from_
    wrong_port = sim.run_adhoc(client, f"{svc.clusterIP}:9999")
    assert wrong_port.outcome == "refused"
    reject = next(s for s in wrong_port.steps if s.kind == "reject")
    assert (reject.chain, reject.rule) == ("cluster-ips-check", 'ip daddr @cluster-ips reject comment '
                                           '"Reject traffic to invalid ports of ClusterIPs"')
    unallocated = sim.run_adhoc(client, "10.96.0.99:8080")
    drop = next(s for s in unallocated.steps if s.kind == "drop")
    assert drop.chain == "cluster-ips-check" and unallocated.outcome == "timeout"
