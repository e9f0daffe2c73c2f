"""The nftables evaluator on kube-proxy's nftables rules: what each base chain decides
for a packet, which rules (by handle) and which map element decided it."""

from __future__ import annotations

import pytest

from kubeflow_tui.kubeproxy.nftables import nft_transaction
from kubeflow_tui.netfilter import Transaction, parse_nft_ruleset, render_nft_ruleset
from kubeflow_tui.netfilter.nft_eval import NftContext, NftEvalError, NftEvaluator
from kubeflow_tui.netfilter.packet import Packet
from kubeflow_tui.scenario import load_scenario


def _ev(name: str, node: str = "node-a", listed: bool = False) -> NftEvaluator:
    sc = load_scenario(f"scenarios/{name}.yaml")
    table = nft_transaction(sc, node).apply()
    if listed:  # the same rules, read back from `nft list ruleset`
        (table,) = parse_nft_ruleset(render_nft_ruleset([table]))
    return NftEvaluator(table)


def _ctx(hook: str, pick: int = 0, **kw) -> NftContext:
    kw.setdefault("local_addrs", frozenset({"192.168.1.10", "10.244.1.1", "127.0.0.1"}))
    return NftContext(hook, numgen=lambda chain, handle, n, elements: (pick % n, None), **kw)


def _walk(ev: NftEvaluator, hook: str, pkt: Packet, ctx: NftContext):
    """Every base chain of the hook in priority order, as the kernel runs them."""
    outs = []
    for chain in ev.base_chains(hook):
        out = ev.run(chain.name, pkt, ctx)
        outs.append((chain.name, out))
        if out.verdict != "accept":
            break
        pkt = out.packet
    return outs


SYN = ("SYN",)


@pytest.mark.parametrize("listed", [False, True], ids=["transaction", "listing"])
def test_clusterip_is_dnatted_through_the_service_map(listed):
    ev = _ev("multi-endpoint", listed=listed)
    pkt = Packet("10.244.1.7", "10.96.0.1", "tcp", 40000, 8080, flags=SYN)
    outs = _walk(ev, "prerouting", pkt, _ctx("prerouting", pick=2))
    assert [name for name, _ in outs] == ["filter-prerouting-pre-dnat", "nat-prerouting"]
    nat = outs[1][1]
    assert nat.nat == ("DNAT", "10.244.2.5", 8080)
    services = next(h for h in nat.hits if h.chain == "services")
    assert (services.kind, services.lookup, services.key) == ("goto", "@service-ips", "10.96.0.1 . tcp . 8080")
    assert services.element == "10.96.0.1 . tcp . 8080 : goto service-SUSTUHLJ-default/web/tcp/http"
    if not listed:  # (a listing without -a has no handles)
        assert services.handle == 53  # what `nft -a list ruleset` shows in the kernel
    pick = next(h for h in nat.hits if h.modulus)
    assert (pick.modulus, pick.key, pick.pinned) == (3, "2", True)
    assert pick.element.startswith("2 : goto endpoint-") and pick.element.endswith("__10.244.2.5/8080")
    # a pod of the cluster: no masquerade mark
    assert nat.packet.mark == 0


def test_off_cluster_source_is_marked_and_masqueraded():
    ev = _ev("clusterip")
    pkt = Packet("192.168.1.2", "10.96.0.1", "tcp", 40000, 8080, flags=SYN)
    nat = ev.run("nat-prerouting", pkt, _ctx("prerouting"))
    assert nat.packet.mark == 0x4000
    assert any(h.kind == "jump" and h.target == "mark-for-masquerade" for h in nat.hits)
    post = ev.run("nat-postrouting", nat.packet.with_(dst="10.244.1.5"),
                  _ctx("postrouting", masquerade_source=lambda: "10.244.1.1"))
    assert post.nat == ("MASQUERADE", "10.244.1.1", None)
    assert post.packet.mark == 0  # the xor cleared the bit before masquerading


def test_wrong_port_of_a_clusterip_is_rejected_and_unallocated_ip_dropped():
    ev = _ev("clusterip")
    wrong_port = Packet("10.244.1.7", "10.96.0.1", "tcp", 40000, 9999, flags=SYN)
    out = ev.run("filter-output", wrong_port, _ctx("output"))
    assert out.verdict == "reject"
    assert [h.chain for h in out.hits if h.kind == "reject"] == ["cluster-ips-check"]
    unallocated = Packet("10.244.1.7", "10.96.0.99", "tcp", 40000, 8080, flags=SYN)
    out = ev.run("filter-forward", unallocated, _ctx("forward"))
    assert out.verdict == "drop"
    assert out.hits[-1].rule.startswith("ip daddr 10.96.0.0/12 drop")
    # an established connection never enters cluster-ips-check
    out = ev.run("filter-forward", wrong_port, _ctx("forward", ct_state="established"))
    assert out.verdict == "accept"


def test_no_endpoints_rejects_through_the_no_endpoint_map():
    ev = _ev("no-endpoints")
    sc = load_scenario("scenarios/no-endpoints.yaml")
    svc = sc.services[0]
    pkt = Packet("10.244.1.7", svc.clusterIP, "tcp", 40000, svc.ports[0].port, flags=SYN)
    out = ev.run("filter-output", pkt, _ctx("output"))
    assert out.verdict == "reject"
    hit = next(h for h in out.hits if h.lookup == "@no-endpoint-services")
    assert hit.element.endswith(": goto reject-chain") and hit.kind == "goto"


def test_source_ranges_drop_other_sources():
    sc = load_scenario("scenarios/source-ranges.yaml")
    svc = next(s for s in sc.services if s.loadBalancerSourceRanges)
    ev = NftEvaluator(nft_transaction(sc, sc.cluster.nodes[0].name).apply())
    blocked = Packet("198.51.100.7", svc.loadBalancerIP, "tcp", 40000, svc.ports[0].port, flags=SYN)
    out = ev.run("filter-prerouting-pre-dnat", blocked, _ctx("prerouting"))
    assert out.verdict == "drop"
    assert any(h.lookup == "@firewall-ips" and h.element for h in out.hits)
    allowed_src = svc.loadBalancerSourceRanges[0].split("/")[0]
    out = ev.run("filter-prerouting-pre-dnat", blocked.with_(src=allowed_src), _ctx("prerouting"))
    assert out.verdict == "accept"


def test_affinity_set_is_updated_and_then_used():
    sc = load_scenario("scenarios/affinity.yaml")
    svc = sc.services[0]
    ev = NftEvaluator(nft_transaction(sc, "node-a").apply())
    ctx = _ctx("prerouting", pick=1)
    pkt = Packet("10.244.1.7", svc.clusterIP, "tcp", 40000, svc.ports[0].port, flags=SYN)
    first = ev.run("nat-prerouting", pkt, ctx)
    assert any(h.kind == "update" for h in first.hits)
    # the next connection: the affinity set sends it to the same endpoint, whatever numgen says
    again = ev.run("nat-prerouting", pkt.with_(sport=40001),
                   NftContext("prerouting", local_addrs=ctx.local_addrs, dynamic=ctx.dynamic,
                              numgen=lambda c, h, n, e: (0, None)))
    assert again.nat == first.nat
    assert not any(h.modulus for h in again.hits)
    # after the timeout the set has forgotten the client
    later = NftContext("prerouting", local_addrs=ctx.local_addrs, dynamic=ctx.dynamic, now=1e9,
                       numgen=lambda c, h, n, e: (0, None))
    assert any(h.modulus for h in ev.run("nat-prerouting", pkt, later).hits)


def test_verdict_semantics_jump_goto_return_policy():
    tx = Transaction("ip", "t")
    tx.add_table()
    tx.add_chain("base", type="filter", hook="input", priority=0)
    tx.add_chain("a")
    tx.add_chain("b")
    tx.add_rule("base", "jump a")
    tx.add_rule("base", "tcp dport 22 drop")
    tx.add_rule("a", "goto b")
    tx.add_rule("a", "accept")  # never reached: goto does not come back to a
    tx.add_rule("b", "meta mark set 0x1")
    tx.add_rule("b", "return")
    ev = NftEvaluator(tx.apply())
    out = ev.run("base", Packet("1.1.1.1", "2.2.2.2", "tcp", 1, 22), NftContext("input"))
    assert out.verdict == "drop" and out.packet.mark == 1
    assert [(h.kind, h.chain) for h in out.hits] == [("jump", "base"), ("goto", "a"), ("mark", "b"),
                                                      ("return", "b"), ("drop", "base")]
    out = ev.run("base", Packet("1.1.1.1", "2.2.2.2", "udp", 1, 22), NftContext("input"))
    assert (out.verdict, out.hits[-1].kind) == ("accept", "policy")


def test_unknown_expression_is_named():
    tx = Transaction("ip", "t")
    tx.add_table()
    tx.add_chain("c", type="filter", hook="input", priority=0)
    tx.add_rule("c", "ether saddr 00:11:22:33:44:55 drop")
    with pytest.raises(NftEvalError, match="unsupported expression 'ether saddr'"):
        NftEvaluator(tx.apply()).run("c", Packet("1.1.1.1", "2.2.2.2", "tcp", 1, 2), NftContext("input"))
