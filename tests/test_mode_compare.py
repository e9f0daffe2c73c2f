"""One flow in both of kube-proxy's modes, packet by packet (kubeflow_tui.mode_compare),
over every shipped scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.mode_compare import compare_modes
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def _flows():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        for f in sc.flows:
            yield pytest.param(sc, f.name, id=f"{path.stem}/{f.name}")


def _compare(sc, flow):
    ipt = ClusterSim(sc, proxy_mode="iptables").run_flow(flow)
    nft = ClusterSim(sc, proxy_mode="nftables").run_flow(flow, endpoint=ipt.endpoint or None)
    return compare_modes(ipt, nft)


@pytest.mark.parametrize("sc, flow", list(_flows()))
def test_every_shipped_flow_has_the_same_result_in_both_modes(sc, flow):
    c = _compare(sc, flow)
    if (sc.name, flow) in {("no-endpoints", "port-not-in-service"), ("nftables", "wrong-port")}:
        # the one real difference, in two scenarios: nftables mode's cluster-ips-check rejects
        # a ClusterIP's unserved port, iptables mode lets it go to the default route, whose
        # router drops it
        assert not c.same_result
        assert (c.iptables.ending, c.nftables.ending) == ("dropped", "rejected")
        return
    assert c.same_result
    for mode in ("iptables", "nftables"):
        # every rule line is a rule of that mode's tables, and the counts are the lines
        walks = [p[0 if mode == "iptables" else 1] for p in c.packets]
        lines = [ln for w in walks if w is not None for ln in w.lines]
        assert all((" " in ln.table) == (mode == "nftables") for ln in lines)
        assert c.rules(mode) == sum(1 for ln in lines if ln.rule)


def test_a_clusterip_syn_rule_by_rule():
    sc = load_scenario(ROOT / "scenarios" / "clusterip.yaml")
    c = _compare(sc, "pod-other-node")
    ipt, nft = c.packets[0]
    assert (ipt.label, ipt.sent) == ("SYN", "10.244.2.7:40000 → 10.96.0.1:8080")
    node_b = [ln for ln in ipt.lines if ln.host == "node-b" and ln.table == "nat" and ln.hook == "PREROUTING"]
    assert [(ln.chain, ln.handle, ln.did) for ln in node_b] == [
        ("PREROUTING", 1, "jump KUBE-SERVICES"),
        ("KUBE-SERVICES", 1, "jump KUBE-SVC-CDGGSHYLG3RE2FKL"),
        ("KUBE-SVC-CDGGSHYLG3RE2FKL", 1, "no match"),
        ("KUBE-SVC-CDGGSHYLG3RE2FKL", 2, "jump KUBE-SEP-AFGSLHOD2HFNCBX4"),
        ("KUBE-SEP-AFGSLHOD2HFNCBX4", 1, "no match"),
        ("KUBE-SEP-AFGSLHOD2HFNCBX4", 2, "DNAT --to-destination 10.244.1.5:8080"),
    ]
    services = next(ln for ln in nft.lines if ln.host == "node-b" and ln.chain == "services")
    assert services.handle == 53 and services.did == "goto service-SUSTUHLJ-default/web/tcp/http"
    assert services.lookup == ("key 10.96.0.1 . tcp . 8080 in @service-ips: element 10.96.0.1 . tcp . 8080 : "
                               "goto service-SUSTUHLJ-default/web/tcp/http")
    policy = next(ln for ln in nft.lines if ln.chain == "filter-prerouting-pre-dnat" and not ln.rule)
    assert policy.did == "policy accept"
    assert policy.base_chain == "type filter hook prerouting priority dstnat - 10; policy accept;"
    assert [r.text() for r in ipt.rewrites] == [r.text() for r in nft.rewrites] == [
        "node-b: dnat 10.96.0.1:8080 → 10.244.1.5:8080"]
    assert (c.rules("iptables"), c.rules("nftables")) == (97, 69)
