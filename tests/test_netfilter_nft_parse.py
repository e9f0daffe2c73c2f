"""Reading ``nft list ruleset`` back: every listing we render parses and renders to the
same bytes; a real node's listing (iptables-nft tables beside kube-proxy's nftables
table, recorded from nft 1.0.6 in a network namespace) does too; bad input is one
``file:line:col`` error."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.kubeproxy.nftables import nft_list_ruleset
from kubeflow_tui.netfilter import NftParseError, parse_nft_ruleset, render_nft_ruleset
from kubeflow_tui.netfilter.nft_parse import parse_priority, parse_time
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
# kubeflow-tui rules clusterip --format restore | iptables-restore, then
# kubeflow-tui rules clusterip --proxy-mode nftables --format restore | nft -f -,
# then nft list ruleset (nftables 1.0.6, iptables 1.8.9 nf_tables) in a fresh netns
BOTH_MODES = ROOT / "tests" / "fixtures" / "nft" / "clusterip-node-a-both-modes.nft"


def _listings():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        for node in sc.cluster.nodes:
            yield pytest.param(sc, node.name, id=f"{path.stem}/{node.name}")


@pytest.mark.parametrize("sc, node", list(_listings()))
def test_round_trip_of_every_shipped_scenario(sc, node):
    text = nft_list_ruleset(sc, node)
    assert render_nft_ruleset(parse_nft_ruleset(text)) == text


def test_a_real_node_listing_with_iptables_nft_tables():
    text = BOTH_MODES.read_text()
    tables = parse_nft_ruleset(text, str(BOTH_MODES))
    assert [(t.family, t.name) for t in tables] == [("ip", "filter"), ("ip", "nat"), ("ip", "kube-proxy")]
    kp = tables[2]
    assert kp.comment == "rules for kube-proxy"
    assert kp.chains["filter-prerouting-pre-dnat"].priority == -110
    assert (kp.chains["nat-postrouting"].hook, kp.chains["nat-postrouting"].priority) == ("postrouting", 100)
    svc = kp.sets["service-ips"]
    assert svc.is_map and svc.elements[("10.96.0.1", "tcp", "8080")].value == \
        ("goto service-SUSTUHLJ-default/web/tcp/http",)
    assert kp.sets["nodeport-ips"].elements.keys() == {("192.168.1.10",)}
    rule = kp.chains["cluster-ips-check"].rules[0]
    assert (rule.expr, rule.comment) == ("ip daddr @cluster-ips reject", "Reject traffic to invalid ports of ClusterIPs")
    # iptables-nft's comment-match rules print with odd spaces: kept as printed
    assert tables[0].chains["INPUT"].rules[2].printed == " counter packets 0 bytes 0 jump KUBE-NODEPORTS"
    assert render_nft_ruleset(tables) == text


def test_priorities_and_times():
    assert parse_priority("dstnat - 10") == -110
    assert parse_priority("filter + 10") == 10
    assert parse_priority("srcnat") == 100
    assert parse_priority("-110") == -110
    assert parse_time("3h") == 10800 and parse_time("1m30s") == 90
    for bad in ("dnat", "dstnat-10", ""):
        with pytest.raises(ValueError):
            parse_priority(bad)


@pytest.mark.parametrize("text, where, message", [
    ("table ip t {\n\tchain c {\n\t\ttype filter hook input priority fliter; policy accept;\n\t}\n}\n",
     "dump:3:35", "bad priority 'fliter'"),
    ("table ip t {\n\tchain c {\n\t\taccept\n", "dump:3:1", "chain c is not closed"),
    ("tabel ip t {\n}\n", "dump:1:1", "expected 'table FAMILY NAME {'"),
    ("table ipx t {\n}\n", "dump:1:7", "unknown family 'ipx'"),
    ("table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\ttimeout 3x\n\t}\n}\n", "dump:4:11", "timeout '3x'"),
    ("table ip t {\n\tmap m {\n\t\ttype ipv4_addr\n\t}\n}\n", "dump:3:8", "a map's type needs ' : VALUE'"),
    ("table ip t {\n\tmap m {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 1.2.3.4 }\n\t}\n}\n",
     "dump:4:3", "map element '1.2.3.4' has no ' : VALUE'"),
    ("table ip t {\n\tchain c {\n\t\tip daddr { 1.2.3.4 drop\n\t}\n}\n", "dump:3:3", "unbalanced braces"),
    ("table ip t {\n\tfoo x {\n", "dump:2:2", "expected a set, map or chain"),
])
def test_errors_point_at_line_and_column(text, where, message):
    with pytest.raises(NftParseError) as exc:
        parse_nft_ruleset(text, "dump")
    assert str(exc.value).startswith(f"{where}: "), str(exc.value)
    assert message in str(exc.value)


def test_handles_of_nft_dash_a():
    text = ("table ip kube-proxy { # handle 35\n\tmap service-ips { # handle 51\n"
            "\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t}\n\n"
            "\tchain services { # handle 26\n"
            "\t\tip daddr . meta l4proto . th dport vmap @service-ips # handle 53\n\t}\n}\n")
    (t,) = parse_nft_ruleset(text)
    assert (t.sets["service-ips"].handle, t.chains["services"].handle) == (51, 26)
    assert [(r.handle, r.expr) for r in t.chains["services"].rules] == \
        [(53, "ip daddr . meta l4proto . th dport vmap @service-ips")]
