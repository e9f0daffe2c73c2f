"""`kubeflow-tui open-dump`'s engine: a node's dump (iptables-save or nft list ruleset) and its
`conntrack -L`, the destinations its rules answer, a typed packet checked, and the trace,
where a connection the table lists takes the conntrack path."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cli import main
from kubeflow_tui.importer import DumpError
from kubeflow_tui.importer.opendump import (
    PacketError,
    check_packet,
    load_node_dump,
    nft_owner,
    parse_conntrack,
)
from kubeflow_tui.kubeproxy import generate_restore, nft_transaction
from kubeflow_tui.netfilter.nft_list import render_nft_table
from kubeflow_tui.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]

# as the real conntrack (conntrack-tools 1.4.7) printed them here, entries made with
# `conntrack -I` in a network namespace; the first line is its summary on stderr (2>&1)
CONNTRACK_L = """\
conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.
tcp      6 431999 ESTABLISHED src=10.244.2.3 dst=10.96.0.1 sport=40000 dport=8080 src=10.244.1.5 dst=10.244.2.3 sport=8080 dport=40000 [ASSURED] mark=0 use=1
udp      17 29 src=10.244.1.2 dst=10.96.0.10 sport=40001 dport=53 [UNREPLIED] src=10.244.2.6 dst=10.244.1.2 sport=53 dport=40001 mark=0 use=1
"""


@pytest.fixture()
def dumps(tmp_path):
    s = load_scenario(REPO / "scenarios" / "nodeport.yaml")
    save = tmp_path / "node.save"
    save.write_text(generate_restore(s, "node-a"))
    nft = tmp_path / "node.nft"
    nft.write_text(render_nft_table(nft_transaction(s, "node-a").apply()))
    ct = tmp_path / "ct.txt"
    ct.write_text(CONNTRACK_L)
    return save, nft, ct


def test_conntrack_lines_read_back_as_printed():
    entries, notes = parse_conntrack(CONNTRACK_L)
    assert [e.line() for e in entries] == CONNTRACK_L.splitlines()[1:]
    tcp, udp = entries
    assert (tcp.orig, tcp.reply, tcp.state, tcp.assured, tcp.seen_reply) == (
        ("10.244.2.3", "10.96.0.1", 40000, 8080), ("10.244.1.5", "10.244.2.3", 8080, 40000), "ESTABLISHED",
        True, True)
    assert (udp.seen_reply, udp.assured, udp.dnat) == (False, False, True)
    assert notes == []


def test_conntrack_extended_and_id_forms_and_other_protocols():
    text = ("ipv4     2 tcp      6 299 ESTABLISHED src=10.244.1.2 dst=10.96.0.10 sport=40000 dport=80 "
            "src=10.244.2.5 dst=10.244.1.2 sport=8080 dport=40000 [ASSURED] mark=0 use=1\n"
            "udp      17 29 src=10.244.1.2 dst=10.96.0.10 sport=40001 dport=53 [UNREPLIED] src=10.244.2.6 "
            "dst=10.244.1.2 sport=53 dport=40001 mark=0 use=1 id=72087561\n"
            "icmp     1 29 src=10.244.1.2 dst=10.244.2.6 type=8 code=0 id=7 src=10.244.2.6 dst=10.244.1.2 "
            "type=0 code=0 id=7 mark=0 use=1\n")
    entries, notes = parse_conntrack(text)
    assert [e.proto for e in entries] == ["tcp", "udp"]
    assert notes == ["1 icmp entry left out (only IPv4 TCP and UDP connections are followed)"]


@pytest.mark.parametrize(("line", "where", "says"), [
    ("Chain KUBE-SERVICES (2 references)", "ct.txt:2:1", "not a line of `conntrack -L` output"),
    ("tcp      6 10 BOGUS src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 "
     "mark=0 use=1", "ct.txt:2:15", "unknown TCP state 'BOGUS'"),
    ("tcp      6 10 CLOSE src=1.1.1.300 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 "
     "mark=0 use=1", "ct.txt:2:25", "'1.1.1.300' is not an IPv4 address"),
])
def test_a_bad_conntrack_line_is_named_by_file_line_col(line, where, says):
    with pytest.raises(DumpError) as e:
        parse_conntrack(CONNTRACK_L.splitlines()[1] + "\n" + line + "\n", "ct.txt")
    assert str(e.value).startswith(f"{where}: {says}")


@pytest.mark.parametrize(("args", "field", "says"), [
    (("", "10.96.0.1:80"), "src", "source: type an IPv4 address"),
    (("10.244.1", "10.96.0.1:80"), "src", "source: '10.244.1' is not an IPv4 address"),
    (("10.244.1.2", "10.96.0.1"), "dst", "destination: '10.96.0.1' needs a port: IP:PORT"),
    (("10.244.1.2", "10.96.0.1:0"), "dst", "destination port: '0' is not a port (1-65535)"),
    (("10.244.1.2", "web:80"), "dst", "destination: 'web' is not an IPv4 address"),
    (("10.244.1.2", "10.96.0.1:80", "icmp"), "proto", "protocol: 'icmp'"),
    (("10.244.1.2", "10.96.0.1:80", "tcp", "70000"), "sport", "source port: '70000' is not a port"),
])
def test_a_typed_packet_is_checked_field_by_field(args, field, says):
    with pytest.raises(PacketError) as e:
        check_packet(*args)
    assert e.value.field == field
    assert str(e.value).startswith(says)


def test_targets_are_what_the_rules_answer(dumps):
    save, nft, _ = dumps
    for path, is_nft in ((save, False), (nft, True)):
        d = load_node_dump(str(path), nft=is_nft)
        assert [(t.dst, t.dport, t.proto, t.owner, t.what) for t in d.targets] == [
            ("10.96.0.1", 8080, "tcp", "default/web:http", "cluster IP"),
            ("192.168.1.10", 30080, "tcp", "default/web:http", "nodePort"),
        ]
    # nftables: the node IP is in the set nodeport-ips; iptables-save does not say it
    assert load_node_dump(str(nft), nft=True).notes == [
        "node IP 192.168.1.10: the first address of the set nodeport-ips"]
    assert "--node-ip gives the real one" in load_node_dump(str(save)).notes[0]


def test_nft_chain_owner():
    assert nft_owner("service-SUSTUHLJ-default/web/tcp/http") == "default/web:http"
    assert nft_owner("endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080") == "default/web:http"
    assert nft_owner("services") == ""


@pytest.mark.parametrize("is_nft", [False, True], ids=["iptables", "nftables"])
def test_a_known_connection_takes_the_conntrack_path(dumps, is_nft):
    save, nft, ct = dumps
    d = load_node_dump(str(nft if is_nft else save), nft=is_nft, conntrack=str(ct))
    known = d.trace(check_packet("10.244.2.3", "10.96.0.1:8080", "tcp", "40000"))
    kinds = [s.kind for s in known.steps]
    assert "conntrack-hit" in kinds and "dnat" not in kinds and "conntrack-new" not in kinds
    # the nat table's rules are not walked (the filter table's still are)
    assert not any(s.table == "nat" or (s.chain or "").startswith(("KUBE-SVC-", "KUBE-SEP-", "service-", "endpoint-"))
                   for s in known.steps)
    assert known.steps[-1].packet.dst == "10.244.1.5" and known.steps[-1].packet.flags == ("ACK",)
    assert known.meta["known_connection"].startswith("tcp      6 431999 ESTABLISHED src=10.244.2.3")
    # another source port: a new connection, the nat table decides (SYN)
    new = d.trace(check_packet("10.244.2.3", "10.96.0.1:8080", "tcp", "40001"))
    kinds = [s.kind for s in new.steps]
    assert "conntrack-new" in kinds and "dnat" in kinds and "conntrack-hit" not in kinds
    assert new.steps[-1].packet.dst == "10.244.1.5" and new.steps[-1].packet.flags == ("SYN",)


def test_the_nodes_own_address_sends_from_the_node(dumps):
    save, _, _ = dumps
    d = load_node_dump(str(save))
    t = d.trace(check_packet("192.168.1.10", "10.96.0.1:8080"))
    assert any(s.hook == "OUTPUT" for s in t.steps)
    assert not any(s.hook == "PREROUTING" for s in t.steps)


@pytest.mark.parametrize(("make", "extra", "says"), [
    (lambda p: p.write_text(""), [], "node.save:1:1: the iptables-save output is empty"),
    (lambda p: p.write_text("table ip kube-proxy {\n}\n"), [], "node.save:1:1: this is `nft list ruleset` output: "
     "add --nft-ruleset"),
    (lambda p: p.write_text("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"), [], "node.save:1:1: no *nat table"),
    (lambda p: p.write_text("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOPE\nCOMMIT\n"), [],
     "node.save:3:"),
    (lambda p: p.write_bytes(b"*nat\n\xff\n"), [], "node.save:2:1: not UTF-8 text"),
    (lambda p: p.write_text("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"), ["--nft-ruleset"],
     "node.save:1:1: this is iptables-save output, not `nft list ruleset`"),
    (lambda p: p.write_text("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"), ["--node-ip", "node-a"],
     "--node-ip: 'node-a' is not an IPv4 address"),
])
def test_bad_dumps_are_a_clear_error_and_no_app(tmp_path, capsys, make, extra, says):
    p = tmp_path / "node.save"
    make(p)
    rc = main(["open-dump", str(p), *extra])
    _, err = capsys.readouterr()
    assert rc == 2
    assert f"kubeflow-tui: error: {tmp_path}/{says}" in err or f"kubeflow-tui: error: {says}" in err, err
    assert "Traceback" not in err


def test_a_bad_conntrack_file_is_a_clear_error(dumps, tmp_path, capsys):
    save, _, _ = dumps
    ct = tmp_path / "ct.txt"
    ct.write_text(CONNTRACK_L.replace("ESTABLISHED", "ESTABLISHED_", 1))
    rc = main(["open-dump", str(save), "--conntrack", str(ct)])
    _, err = capsys.readouterr()
    assert rc == 2
    assert f"{ct}:2:19: unknown TCP state 'ESTABLISHED_'" in err
