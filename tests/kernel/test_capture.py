"""The parsers on real kernel output recorded in fixtures/ (no root needed).

Recorded with ``python -m tests.kernel.record_fixtures`` on kernel 6.18, iptables 1.8.9
(nf_tables), conntrack 1.4.7 (fixtures/VERSIONS.txt).
"""

from __future__ import annotations

from pathlib import Path

from .capture import parse_conntrack, parse_conntrack_line, parse_trace, parse_trace_line
from .compare import kernel_path
from .handmade import SEP_DNS, SEP_WEB, SVC_DNS, SVC_WEB, EXT_WEB

FIXTURES = Path(__file__).with_name("fixtures")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def labels(packet) -> list[str]:
    return [e.label for e in kernel_path(packet)]


def test_trace_line_fields():
    ev = parse_trace_line(
        " TRACE: 2 c78542ae nat:KUBE-SERVICES:rule:0x13:JUMP:KUBE-NODEPORTS  -4 -t nat -A KUBE-SERVICES "
        '-m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
    )
    assert (ev.table, ev.chain, ev.kind, ev.handle, ev.verdict, ev.target) == (
        "nat", "KUBE-SERVICES", "rule", 0x13, "JUMP", "KUBE-NODEPORTS")
    assert ev.rule.startswith("-A KUBE-SERVICES -m comment")
    pol = parse_trace_line(" TRACE: 2 3c084be9 nat:INPUT:policy:ACCEPT ")
    assert (pol.kind, pol.verdict, pol.rule) == ("policy", "ACCEPT", "")
    ret = parse_trace_line(" TRACE: 2 6c753db6 nat:KUBE-POSTROUTING:rule:0x11:0xfffffffb  -4 -t nat "
                           "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN")
    assert ret.verdict == "RETURN"
    old = parse_trace_line(" TRACE: 2 3c084be9 filter:KUBE-FORWARD:return:")
    assert (old.kind, old.verdict) == ("return", "RETURN")
    assert parse_trace_line("PACKET: 2 3c084be9 IN=eth0 SRC=1.2.3.4") is None


def test_clusterip_tcp_trace():
    packets = parse_trace(fixture("pod-to-clusterip.trace.txt"))
    flags = [" ".join(p.flags) for p in packets]
    assert flags == ["SYN", "SYN ACK", "ACK", "ACK PSH", "ACK", "ACK PSH", "ACK", "ACK PSH",
                     "ACK FIN", "ACK FIN", "ACK"]
    syn = packets[0]
    assert syn.base_chains == [("raw", "PREROUTING"), ("nat", "PREROUTING"), ("filter", "FORWARD"),
                               ("nat", "POSTROUTING")]
    assert labels(syn) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES",
        f"nat:KUBE-SERVICES:JUMP:{SVC_WEB}",
        f"nat:{SVC_WEB}:JUMP:{SEP_WEB}",
        f"nat:{SEP_WEB}:ACCEPT",
        "filter:FORWARD:JUMP:KUBE-FORWARD",
        "filter:FORWARD:policy:ACCEPT",  # KUBE-FORWARD fell off its end: no line for that
        "nat:POSTROUTING:JUMP:KUBE-POSTROUTING",
        "nat:KUBE-POSTROUTING:RETURN",
        "nat:POSTROUTING:policy:ACCEPT",
    ]
    # the headers: DNAT visible from the FORWARD chain on; the interfaces
    assert (syn.first.src_text, syn.first.dst_text, syn.first.iif) == ("10.244.1.2:40000", "10.96.0.1:8080", "veth-client")
    assert (syn.last.dst_text, syn.last.oif, syn.last.ip_id) == ("10.244.1.5:8080", "veth-web-1", syn.first.ip_id)
    assert kernel_path(syn)[3].rule.endswith("-j DNAT --to-destination 10.244.1.5:8080")
    synack = packets[1]
    assert synack.first.src_text == "10.244.1.5:8080" and synack.first.dst_text == "10.244.1.2:40000"
    assert labels(synack) == ["filter:FORWARD:JUMP:KUBE-FORWARD", "filter:KUBE-FORWARD:ACCEPT"]


def test_trace_ids_are_reused_but_packets_are_not_merged():
    packets = parse_trace(fixture("pod-to-clusterip.trace.txt"))
    ids = [p.trace_id for p in packets]
    assert len(set(ids)) < len(ids), "the recording should show the kernel reusing a trace id"
    for p in packets:
        assert len({h.ip_id for h in p.headers}) == 1  # one packet, one IP ID


def test_nodeport_trace_mark_and_masquerade():
    syn = parse_trace(fixture("external-to-nodeport.trace.txt"))[0]
    assert labels(syn) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES",
        "nat:KUBE-SERVICES:JUMP:KUBE-NODEPORTS",
        f"nat:KUBE-NODEPORTS:JUMP:{EXT_WEB}",
        f"nat:{EXT_WEB}:JUMP:KUBE-MARK-MASQ",
        "nat:KUBE-MARK-MASQ:CONTINUE",
        f"nat:{EXT_WEB}:JUMP:{SVC_WEB}",
        f"nat:{SVC_WEB}:JUMP:{SEP_WEB}",
        f"nat:{SEP_WEB}:ACCEPT",
        "filter:FORWARD:JUMP:KUBE-FORWARD",
        "filter:KUBE-FORWARD:ACCEPT",
        "nat:POSTROUTING:JUMP:KUBE-POSTROUTING",
        "nat:KUBE-POSTROUTING:CONTINUE",
        "nat:KUBE-POSTROUTING:ACCEPT",
    ]
    assert kernel_path(syn)[4].rule == "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"
    assert kernel_path(syn)[-1].rule.endswith("-j MASQUERADE --random-fully")
    assert syn.first.mark == 0 and syn.last.mark == 0x4000


def test_node_client_trace_starts_in_output():
    packets = parse_trace(fixture("node-to-clusterip.trace.txt"))
    syn, synack = packets[0], packets[1]
    assert syn.hooks() == ["OUTPUT", "POSTROUTING"]
    assert labels(syn)[:2] == ["nat:OUTPUT:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{SVC_WEB}"]
    assert "filter:OUTPUT:policy:ACCEPT" in labels(syn)
    assert synack.hooks() == ["PREROUTING", "INPUT"]
    assert labels(synack) == ["filter:INPUT:policy:ACCEPT"]


def test_udp_trace():
    packets = parse_trace(fixture("pod-to-dns.trace.txt"))
    assert [p.first.proto for p in packets] == ["udp", "udp"]
    assert packets[0].flags == ()
    assert f"nat:{SEP_DNS}:ACCEPT" in labels(packets[0])
    assert f"nat:{SVC_DNS}:JUMP:{SEP_DNS}" in labels(packets[0])
    assert packets[0].last.dst_text == "10.244.1.5:5353"


def test_conntrack_tcp_time_wait():
    (ct,) = parse_conntrack(fixture("pod-to-clusterip.conntrack.txt"))
    assert (ct.proto, ct.state, ct.status) == ("tcp", "TIME_WAIT", ("ASSURED",))
    assert ct.orig == ("10.244.1.2", "10.96.0.1", 40000, 8080)
    assert ct.reply == ("10.244.1.5", "10.244.1.2", 8080, 40000)  # the DNAT, undone on replies
    (open_,) = parse_conntrack(fixture("pod-to-clusterip.conntrack-open.txt"))
    assert open_.state == "ESTABLISHED"


def test_conntrack_design_line_and_udp():
    ct = parse_conntrack_line(
        "tcp      6 119 TIME_WAIT src=192.168.1.2 dst=192.168.1.10 sport=48900 dport=30080 "
        "src=10.244.1.5 dst=10.244.1.1 sport=8080 dport=58336 [ASSURED] mark=0 use=1")
    assert ct.reply == ("10.244.1.5", "10.244.1.1", 8080, 58336)
    udp = parse_conntrack_line(
        "udp      17 29 src=10.244.1.2 dst=10.96.0.10 sport=40001 dport=53 [UNREPLIED] "
        "src=10.244.1.5 dst=10.244.1.2 sport=5353 dport=40001 mark=0 use=1")
    assert (udp.proto, udp.state, udp.status) == ("udp", "", ("UNREPLIED",))
    assert udp.reply == ("10.244.1.5", "10.244.1.2", 5353, 40001)
    (rec,) = parse_conntrack(fixture("pod-to-dns.conntrack.txt"))
    assert (rec.proto, rec.state, rec.status) == ("udp", "", ())  # replied, not yet ASSURED
    assert parse_conntrack("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n") == []


def test_conntrack_events():
    evs = parse_conntrack(fixture("pod-to-clusterip.events.txt"))
    assert [(e.event, e.state) for e in evs] == [
        ("new", "SYN_SENT"), ("update", "SYN_RECV"), ("update", "ESTABLISHED"),
        ("update", "FIN_WAIT"), ("update", "LAST_ACK"), ("update", "TIME_WAIT")]
    assert evs[0].status == ("UNREPLIED",)
    # a RST answering a SYN: the kernel destroys the entry at once
    rst = parse_conntrack(fixture("pod-to-closed-port.events.txt"))
    assert [(e.event, e.state) for e in rst] == [("new", "SYN_SENT"), ("destroy", "CLOSE")]
