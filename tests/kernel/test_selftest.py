"""The referee checks itself: hand-written kube-proxy-style rules (``handmade.py``) in a real
node namespace, real TCP and UDP flows, assertions on what the kernel did, and
``compare_flow`` against hand-written Traces (what a correct simulator would say).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from kubeflow_tui.trace import ConntrackView, PacketView, Step, Trace

from .capture import parse_conntrack_line
from .compare import STATS, compare_flow, kernel_path
from .handmade import EXT_WEB, RULES, SCENARIO, SEP_DNS, SEP_WEB, SVC_DNS, SVC_WEB
from .netns import kernel_save

pytestmark = pytest.mark.kernel

NODE = "node-a"


# ---------------------------------------------------------------------------------------
# hand-written Traces


@pytest.fixture(scope="module")
def saved() -> dict[tuple[str, str], list[str]]:
    """The kernel's own text of every rule: (table, chain) -> rules in order."""
    out: dict[tuple[str, str], list[str]] = {}
    table = ""
    for line in kernel_save(RULES).splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith("-A "):
            out.setdefault((table, line.split()[1]), []).append(line)
    return out


def pkt(src: str, dst: str, proto: str = "tcp", flags=(), direction="original") -> PacketView:
    (s, sp), (d, dp) = src.split(":"), dst.split(":")
    return PacketView(src=s, dst=d, proto=proto, sport=int(sp), dport=int(dp), flags=tuple(flags),
                      direction=direction)


def ct(line: str) -> ConntrackView:
    return parse_conntrack_line(line)


class TraceBuilder:
    """Steps the way the simulator writes them: rule-match then its jump/dnat, no-match
    steps, implicit returns, policies, a link in and out."""

    def __init__(self, saved):
        self.saved = saved
        self.steps: list[Step] = []

    def packet(self, no: int, label: str, arriving: PacketView, leaving: PacketView,
               path: list[tuple], conntrack=()) -> None:
        add = lambda **kw: self.steps.append(  # noqa: E731
            Step(index=len(self.steps), host=NODE, why="", packet_no=no, packet_label=label, **kw))
        add(kind="link", packet=arriving)
        for kind, table, chain, idx in path:
            if kind == "policy":
                add(kind="policy", packet=arriving, table=table, chain=chain, target="ACCEPT")
                continue
            if kind == "return" and not idx:
                add(kind="return", packet=arriving, table=table, chain=chain)
                continue
            rule = self.saved[(table, chain)][idx - 1]
            target = rule.split(" -j ")[-1].split()[0]
            if kind != "no-match":
                add(kind="rule-match", packet=arriving, table=table, chain=chain, rule_index=idx,
                    rule=rule, target=target)
            add(kind=kind, packet=arriving, table=table, chain=chain, rule_index=idx, rule=rule,
                target=target)
        add(kind="deliver", packet=leaving, conntrack=tuple(conntrack))

    def trace(self, flow: str, outcome="delivered", **kw) -> Trace:
        return Trace(scenario=SCENARIO.name, flow=flow, hosts=(NODE,), steps=tuple(self.steps),
                     outcome=outcome, summary="hand-written", **kw)


def clusterip_trace(saved) -> Trace:
    b = TraceBuilder(saved)
    b.packet(0, "SYN", pkt("10.244.1.2:40000", "10.96.0.1:8080", flags=("SYN",)),
             pkt("10.244.1.2:40000", "10.244.1.5:8080", flags=("SYN",)), [
                 ("jump", "nat", "PREROUTING", 1),
                 ("jump", "nat", "KUBE-SERVICES", 1),
                 ("no-match", "nat", SVC_WEB, 1),
                 ("jump", "nat", SVC_WEB, 2),
                 ("no-match", "nat", SEP_WEB, 1),
                 ("dnat", "nat", SEP_WEB, 2),
                 ("jump", "filter", "FORWARD", 1),
                 ("return", "filter", "KUBE-FORWARD", 0),
                 ("policy", "filter", "FORWARD", 0),
                 ("jump", "nat", "POSTROUTING", 1),
                 ("return", "nat", "KUBE-POSTROUTING", 1),
                 ("policy", "nat", "POSTROUTING", 0),
             ])
    b.packet(1, "SYN-ACK", pkt("10.244.1.5:8080", "10.244.1.2:40000", flags=("SYN", "ACK"), direction="reply"),
             pkt("10.96.0.1:8080", "10.244.1.2:40000", flags=("SYN", "ACK"), direction="reply"), [
                 ("jump", "filter", "FORWARD", 1),
                 ("accept", "filter", "KUBE-FORWARD", 3),
             ], conntrack=[ct(
                 "tcp      6 431999 ESTABLISHED src=10.244.1.2 dst=10.96.0.1 sport=40000 dport=8080 "
                 "src=10.244.1.5 dst=10.244.1.2 sport=8080 dport=40000 [ASSURED] mark=0 use=1")])
    return b.trace("pod-to-clusterip", endpoint="web-1", server_saw="10.244.1.2:40000",
                   client_saw="10.96.0.1:8080")


def dns_trace(saved) -> Trace:
    b = TraceBuilder(saved)
    b.packet(0, "request", pkt("10.244.1.2:40001", "10.96.0.10:53", "udp"),
             pkt("10.244.1.2:40001", "10.244.1.5:5353", "udp"), [
                 ("jump", "nat", "PREROUTING", 1),
                 ("no-match", "nat", "KUBE-SERVICES", 1),
                 ("jump", "nat", "KUBE-SERVICES", 2),
                 ("no-match", "nat", SVC_DNS, 1),
                 ("jump", "nat", SVC_DNS, 2),
                 ("dnat", "nat", SEP_DNS, 2),
                 ("jump", "filter", "FORWARD", 1),
                 ("policy", "filter", "FORWARD", 0),
                 ("jump", "nat", "POSTROUTING", 1),
                 ("return", "nat", "KUBE-POSTROUTING", 1),
                 ("policy", "nat", "POSTROUTING", 0),
             ])
    b.packet(1, "reply", pkt("10.244.1.5:5353", "10.244.1.2:40001", "udp", direction="reply"),
             pkt("10.96.0.10:53", "10.244.1.2:40001", "udp", direction="reply"), [
                 ("jump", "filter", "FORWARD", 1),
                 ("accept", "filter", "KUBE-FORWARD", 3),
             ], conntrack=[ct(
                 "udp      17 29 src=10.244.1.2 dst=10.96.0.10 sport=40001 dport=53 "
                 "src=10.244.1.5 dst=10.244.1.2 sport=5353 dport=40001 mark=0 use=1")])
    return b.trace("pod-to-dns", endpoint="web-1", server_saw="10.244.1.2:40001", client_saw="10.96.0.10:53")


def node_masq_trace(saved) -> Trace:
    """The node itself connects to the ClusterIP: marked, DNATed, masqueraded to the veth's
    address with a port the simulator rolled (33333): the kernel's is random."""
    b = TraceBuilder(saved)
    b.packet(0, "SYN", pkt("192.168.1.10:40002", "10.96.0.1:8080", flags=("SYN",)),
             pkt("10.244.1.1:33333", "10.244.1.5:8080", flags=("SYN",)), [
                 ("jump", "nat", "OUTPUT", 1),
                 ("jump", "nat", "KUBE-SERVICES", 1),
                 ("jump", "nat", SVC_WEB, 1),
                 ("mark", "nat", "KUBE-MARK-MASQ", 1),
                 ("return", "nat", "KUBE-MARK-MASQ", 0),
                 ("jump", "nat", SVC_WEB, 2),
                 ("dnat", "nat", SEP_WEB, 2),
                 ("policy", "filter", "OUTPUT", 0),
                 ("jump", "nat", "POSTROUTING", 1),
                 ("mark", "nat", "KUBE-POSTROUTING", 2),
                 ("masquerade", "nat", "KUBE-POSTROUTING", 3),
             ])
    b.packet(1, "SYN-ACK", pkt("10.244.1.5:8080", "10.244.1.1:33333", flags=("SYN", "ACK"), direction="reply"),
             pkt("10.96.0.1:8080", "192.168.1.10:40002", flags=("SYN", "ACK"), direction="reply"), [
                 ("policy", "filter", "INPUT", 0),
             ], conntrack=[ct(
                 "tcp      6 120 TIME_WAIT src=192.168.1.10 dst=10.96.0.1 sport=40002 dport=8080 "
                 "src=10.244.1.5 dst=10.244.1.1 sport=8080 dport=33333 [ASSURED] mark=0 use=1")])
    return b.trace("node-to-clusterip", endpoint="web-1", server_saw="10.244.1.1:33333",
                   client_saw="10.96.0.1:8080")


# ---------------------------------------------------------------------------------------
# the kernel, directly


def test_clusterip_tcp_in_the_kernel(selftest_cluster):
    res = selftest_cluster.run_flow("pod-to-clusterip")
    assert res.outcome == "delivered", res.error
    assert res.reply == "saw 10.244.1.2:40000 from web-1"
    assert (res.server, res.server_saw, res.client_saw) == ("web-1", "10.244.1.2:40000", "10.96.0.1:8080")
    cap = res.hosts[NODE]
    syn = cap.packets[0]
    assert syn.flags == ("SYN",)
    assert [e.label for e in kernel_path(syn, cap)] == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES",
        f"nat:KUBE-SERVICES:JUMP:{SVC_WEB}",
        f"nat:{SVC_WEB}:JUMP:{SEP_WEB}",
        f"nat:{SEP_WEB}:ACCEPT",
        "filter:FORWARD:JUMP:KUBE-FORWARD",
        "filter:FORWARD:policy:ACCEPT",
        "nat:POSTROUTING:JUMP:KUBE-POSTROUTING",
        "nat:KUBE-POSTROUTING:RETURN",
        "nat:POSTROUTING:policy:ACCEPT",
    ]
    assert syn.last.dst_text == "10.244.1.5:8080"  # after DNAT
    # later packets never see the nat table: conntrack translates them
    assert all(not any(e.table == "nat" for e in p.events) for p in cap.packets[1:])
    (open_,) = cap.conntrack_open
    assert (open_.state, open_.status) == ("ESTABLISHED", ("ASSURED",))
    (entry,) = cap.conntrack
    assert entry.state == "TIME_WAIT"
    assert entry.orig == ("10.244.1.2", "10.96.0.1", 40000, 8080)
    assert entry.reply == ("10.244.1.5", "10.244.1.2", 8080, 40000)
    assert res.seconds < 2


def test_clusterip_udp_in_the_kernel(selftest_cluster):
    res = selftest_cluster.run_flow("pod-to-dns")
    assert res.outcome == "delivered", res.error
    assert (res.server_saw, res.client_saw) == ("10.244.1.2:40001", "10.96.0.10:53")
    cap = res.hosts[NODE]
    assert [p.first.proto for p in cap.packets] == ["udp", "udp"]
    assert f"nat:{SEP_DNS}:ACCEPT" in [e.label for e in kernel_path(cap.packets[0], cap)]
    (entry,) = cap.conntrack
    assert (entry.proto, entry.state, entry.status) == ("udp", "", ())
    assert entry.reply == ("10.244.1.5", "10.244.1.2", 5353, 40001)
    assert [e.status for e in cap.events] == [("UNREPLIED",), ()]


def test_nodeport_masquerade_in_the_kernel(selftest_cluster):
    res = selftest_cluster.run_flow("external-to-nodeport")
    assert res.outcome == "delivered", res.error
    ip, _, port = res.server_saw.partition(":")
    assert ip == "10.244.1.1"  # MASQUERADE to the outgoing veth's address
    (entry,) = res.hosts[NODE].conntrack
    assert entry.reply[:3] == ("10.244.1.5", "10.244.1.1", 8080)
    assert entry.reply[3] == int(port)  # the random port, as the server saw it
    assert res.client_saw == "192.168.1.10:30080"
    path = [e.label for e in kernel_path(res.hosts[NODE].packets[0], res.hosts[NODE])]
    assert f"nat:{EXT_WEB}:JUMP:KUBE-MARK-MASQ" in path and path[-1] == "nat:KUBE-POSTROUTING:ACCEPT"


def test_refused_is_reported_precisely(selftest_cluster):
    res = selftest_cluster.run_flow("pod-to-closed-port")
    assert res.outcome == "refused"
    assert "connection refused" in res.error and "10.244.1.5:9999" in res.error
    cap = res.hosts[NODE]
    assert [" ".join(p.flags) for p in cap.packets] == ["SYN", "ACK RST"]
    assert cap.conntrack == []  # the RST destroyed the entry at once
    assert [e.event for e in cap.events] == ["new", "destroy"]


def test_pinned_endpoint_is_the_kernels_choice(selftest_cluster):
    res = selftest_cluster.run_flow("pod-to-clusterip", endpoint="web-1")
    assert res.server == "web-1" and res.attempts == 1


# ---------------------------------------------------------------------------------------
# compare_flow


@pytest.mark.parametrize(
    "flow, build",
    [("pod-to-clusterip", clusterip_trace), ("pod-to-dns", dns_trace), ("node-to-clusterip", node_masq_trace)],
)
def test_compare_agrees_with_a_correct_trace(selftest_cluster, saved, flow, build):
    res = selftest_cluster.run_flow(flow)
    mismatches = compare_flow(SCENARIO, flow, res, build(saved))
    assert mismatches == [], "\n".join(mismatches)


def test_compare_reports_what_differs(selftest_cluster, saved):
    """A simulator that forgot KUBE-MARK-MASQ, so never masqueraded."""
    res = selftest_cluster.run_flow("node-to-clusterip")
    good = node_masq_trace(saved)
    unmasq = ct("tcp      6 120 TIME_WAIT src=192.168.1.10 dst=10.96.0.1 sport=40002 dport=8080 "
                "src=10.244.1.5 dst=192.168.1.10 sport=8080 dport=40002 [ASSURED] mark=0 use=1")
    steps = []
    for s in good.steps:
        if s.chain == "KUBE-MARK-MASQ" or s.kind in ("mark", "masquerade") or (s.chain == SVC_WEB and s.rule_index == 1):
            continue
        if s.kind == "deliver" and s.packet_no == 0:
            s = replace(s, packet=replace(s.packet, src="192.168.1.10", sport=40002))
        if s.conntrack:
            s = replace(s, conntrack=(unmasq,))
        steps.append(replace(s, index=len(steps)))
    bad = replace(good, steps=tuple(steps), server_saw="192.168.1.10:40002")
    before = dict(STATS)
    text = "\n".join(compare_flow(SCENARIO, "node-to-clusterip", res, bad, record=False))
    assert dict(STATS) == before  # record=False leaves the session count alone
    assert "server saw: kernel 10.244.1.1:" in text
    assert "chain path differs" in text
    assert f"! nat:{SVC_WEB}:JUMP:KUBE-MARK-MASQ" in text  # side by side, the kernel's extra row
    # the kernel's random port is '*'; this simulator masqueraded nothing, so its port is real
    assert "source leaving node-a: kernel 10.244.1.1:*, simulator 192.168.1.10:40002" in text
    assert ("node-a conntrack (after the close): kernel tcp TIME_WAIT 192.168.1.10:40002>10.96.0.1:8080 "
            "reply 10.244.1.5:8080>10.244.1.1:* [ASSURED]; simulator tcp TIME_WAIT 192.168.1.10:40002>"
            "10.96.0.1:8080 reply 10.244.1.5:8080>192.168.1.10:40002 [ASSURED]") in text


def test_compare_reports_a_missing_packet_and_outcome(selftest_cluster, saved):
    res = selftest_cluster.run_flow("pod-to-closed-port")
    b = TraceBuilder(saved)
    b.packet(0, "SYN", pkt("10.244.1.2:40000", "10.244.1.5:9999", flags=("SYN",)),
             pkt("10.244.1.2:40000", "10.244.1.5:9999", flags=("SYN",)), [("policy", "filter", "FORWARD", 0)])
    out = compare_flow(SCENARIO, "pod-to-closed-port", res, b.trace("pod-to-closed-port", outcome="timeout"),
                       record=False)
    assert out[0] == "outcome: kernel refused (connection refused (connect to 10.244.1.5:9999)), simulator timeout"
    assert "chain path differs" in out[1]


# ---------------------------------------------------------------------------------------
# kernel_save


def test_kernel_save_normalises_like_design_md():
    text = kernel_save(RULES)
    assert not any(line.startswith("#") for line in text.splitlines())
    assert "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000" in text
    assert "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0" in text
    assert (f'-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/web:http cluster IP" '
            f"-m tcp --dport 8080 -j {SVC_WEB}") in text
    decls = [line.split()[0][1:] for line in text.split("*nat")[1].splitlines() if line.startswith(":")]
    builtins, user = decls[:4], decls[4:]
    assert builtins == ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]
    assert user == sorted(user)
    assert ":PREROUTING ACCEPT [0:0]" in text
    assert kernel_save(text) == text  # a fixed point


def test_kernel_save_reject_gains_its_default():
    text = kernel_save("*filter\n:INPUT ACCEPT [7:42]\n-A INPUT -p tcp --dport 9 -j REJECT\nCOMMIT\n")
    assert text == ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                    "-A INPUT -p tcp -m tcp --dport 9 -j REJECT --reject-with icmp-port-unreachable\n"
                    "COMMIT\n")
