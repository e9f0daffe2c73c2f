"""The ladder diagram: model (rows read from the Trace), text, SVG and the CLI."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kubeflow_tui import cli
from kubeflow_tui.ladder import build_ladder
from kubeflow_tui.render_ladder import ladder_text

from picture_traces import trace_of

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "ladder"
UPDATE = os.environ.get("KFT_UPDATE_GOLDEN", "") not in ("", "0")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def arrows(ladder, label=None):
    return [r for r in ladder.arrows() if label is None or r.label == label]


def test_golden_clusterip_pod_other_node_at_80_columns():
    text = ladder_text(trace_of("clusterip", "pod-other-node"), width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    check_golden("clusterip-pod-other-node.txt", text)


def test_clusterip_columns_follow_the_path_and_dnat_is_on_node_b():
    lad = build_ladder(trace_of("clusterip", "pod-other-node"))
    assert lad.hosts == ("client-b", "node-b", "node-a", "web-1")
    syn = arrows(lad, "SYN")
    assert [(a.host, a.to_host) for a in syn] == [("client-b", "node-b"), ("node-b", "node-a"), ("node-a", "web-1")]
    # The SYN leaves client-b for the ClusterIP, and crosses the node network already DNATed.
    assert syn[0].addresses == "10.244.2.7:40000 → 10.96.0.1:8080" and not syn[0].nats
    assert syn[1].addresses == "10.244.2.7:40000 → 10.244.1.5:8080"
    (dnat,) = [lad.rows[i] for i in syn[1].nats]
    assert (dnat.nat, dnat.marker, dnat.host, dnat.where) == ("DNAT", "◆", "node-b", "nat PREROUTING")
    assert (dnat.before, dnat.after) == ("10.96.0.1:8080", "10.244.1.5:8080")
    # node-a only forwards: no NAT point there, for any packet.
    assert not [r for r in lad.nat_rows() if r.host == "node-a"]
    # The reply's source turns back into the ClusterIP on node-b: conntrack undoes the DNAT.
    synack = arrows(lad, "SYN-ACK")
    assert [a.to_host for a in synack] == ["node-a", "node-b", "client-b"]
    assert synack[1].src == "10.244.1.5:8080"
    assert synack[2].src == "10.96.0.1:8080" and synack[2].changed == ("src",)
    (undnat,) = [lad.rows[i] for i in synack[2].nats]
    assert (undnat.nat, undnat.marker, undnat.host) == ("un-DNAT (conntrack)", "◇", "node-b")
    # Later packets: conntrack applies the same DNAT (hollow marker), no rule involved.
    ack = arrows(lad, "ACK")
    (hit,) = [lad.rows[i] for i in ack[1].nats]
    assert (hit.nat, hit.marker) == ("DNAT (conntrack)", "◇")
    assert [a.label for a in lad.arrows() if a.host == "client-b"] == ["SYN", "ACK", "request", "FIN", "last ACK"]


def test_nodeport_dnat_and_masquerade_on_the_receiving_node():
    lad = build_ladder(trace_of("nodeport", "to-other-node"))
    assert lad.hosts == ("user", "node-b", "node-a", "web-1")
    syn = arrows(lad, "SYN")
    assert syn[0].addresses == "192.168.1.2:40000 → 192.168.1.11:30080"
    assert syn[1].addresses == "192.168.1.11:37170 → 10.244.1.5:8080"
    assert syn[1].changed == ("src", "dst")
    nats = [lad.rows[i] for i in syn[1].nats]
    assert [(n.nat, n.marker, n.host, n.field) for n in nats] == [
        ("DNAT", "◆", "node-b", "dst"),
        ("MASQUERADE", "■", "node-b", "src"),
    ]
    assert nats[1].where == "nat POSTROUTING" and nats[1].after == "192.168.1.11:37170"
    back = arrows(lad, "SYN-ACK")[-1]
    assert (back.host, back.to_host) == ("node-b", "user")
    assert back.addresses == "192.168.1.11:30080 → 192.168.1.2:40000"
    assert [lad.rows[i].nat for i in back.nats] == ["un-SNAT (conntrack)", "un-DNAT (conntrack)"]


def test_direct_load_balancer_forwards_without_nat_and_reply_skips_it():
    lad = build_ladder(trace_of("loadbalancer", "via-other-node"))
    assert lad.hosts == ("user", "lb", "node-b", "node-a", "web-1")
    syn = arrows(lad, "SYN")
    assert (syn[1].host, syn[1].addresses) == ("lb", "192.168.1.2:40000 → 203.0.113.5:8080")
    assert not syn[1].nats and not [r for r in lad.nat_rows() if r.host == "lb"]
    assert [lad.rows[i].nat for i in syn[2].nats] == ["DNAT", "MASQUERADE"]
    back = arrows(lad, "SYN-ACK")[-1]
    assert (back.host, back.to_host, back.src) == ("node-b", "user", "203.0.113.5:8080")


def test_proxy_load_balancer_is_two_connections():
    lad = build_ladder(trace_of("loadbalancer-proxy", "via-other-node"))
    (conn,) = [r for r in lad.rows if r.kind == "connection"]
    assert conn.host == "lb" and (conn.src, conn.dst) == ("192.168.1.100:50000", "192.168.1.11:30080")
    first = lad.rows[: lad.rows.index(conn)]
    # The client's connection ends at the balancer: no NAT at all on it.
    assert {r.kind for r in first} == {"arrow"} and {r.to_host for r in first} <= {"lb", "user"}
    after = lad.rows[lad.rows.index(conn) + 1 :]
    syn = [r for r in after if r.kind == "arrow" and r.label == "SYN"]
    assert syn[0].addresses == "192.168.1.100:50000 → 192.168.1.11:30080"
    assert [(lad.rows[i].nat, lad.rows[i].host) for i in syn[1].nats] == [("DNAT", "node-b"), ("MASQUERADE", "node-b")]


def test_hairpin_goes_back_to_the_same_pod_masqueraded():
    lad = build_ladder(trace_of("hairpin", "back-to-itself"))
    assert lad.hosts == ("web-1", "node-a")
    syn = arrows(lad, "SYN")
    assert [(a.host, a.to_host) for a in syn] == [("web-1", "node-a"), ("node-a", "web-1")]
    assert syn[1].addresses == "10.244.1.1:37170 → 10.244.1.5:8080"
    assert [lad.rows[i].nat for i in syn[1].nats] == ["DNAT", "MASQUERADE"]
    back = arrows(lad, "SYN-ACK")[-1]
    assert back.addresses == "10.96.0.1:8080 → 10.244.1.5:40000"
    text = ladder_text(trace_of("hairpin", "back-to-itself"), width=80)
    assert "│◀─────┤  SYN      10.244.1.1:37170 → 10.244.1.5:8080" in text


def test_rejected_flow_draws_the_icmp_error_dashed():
    t = trace_of("no-endpoints", "no-backend")
    lad = build_ladder(t)
    kinds = [r.kind for r in lad.rows]
    assert kinds == ["arrow", "end", "icmp"]
    end, icmp = lad.rows[1], lad.rows[2]
    assert (end.marker, end.text, end.host) == ("✗", "REJECT", "node-b")
    assert (icmp.host, icmp.to_host) == ("node-b", "client")
    # the ICMP error as the Trace's socket-error step carries it: from the node's address
    # on the client's veth, answered to the client, failing its connect()
    assert icmp.text == "10.244.2.1 → 10.244.2.9 port unreachable (ECONNREFUSED)"
    assert lad.ending == "rejected"
    text = ladder_text(t, width=80)
    assert "◀┄┄┄┄┄┤" in text and "✗ REJECT on node-b" in text
    assert text.splitlines()[0] == "no-endpoints / no-backend: rejected"


def test_timed_out_flow_ends_with_the_sender_waiting():
    lad = build_ladder(trace_of("source-ranges", "blocked-client"))
    assert [(r.kind, r.host, r.text) for r in lad.rows if r.kind == "end"] == [
        ("end", "node-a", "DROP"),
        ("end", "stranger", "no answer: timeout"),
    ]


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_every_line_fits_the_width_and_more_width_is_used(width):
    for name, flow in [("loadbalancer-proxy", "via-other-node"), ("nodeport", "to-other-node")]:
        text = ladder_text(trace_of(name, flow), width=width)
        assert max(len(line) for line in text.splitlines()) <= width
    narrow = ladder_text(trace_of("nodeport", "to-other-node"), width=80)
    wide = ladder_text(trace_of("nodeport", "to-other-node"), width=140)
    assert len(wide.splitlines()) < len(narrow.splitlines())  # nothing wraps at 140


def test_row_for_step_points_at_the_last_row_shown():
    t = trace_of("clusterip", "pod-other-node")
    lad = build_ladder(t)
    assert lad.row_for_step(0) == -1
    dnat = next(i for i, r in enumerate(lad.rows) if r.nat == "DNAT")
    assert lad.row_for_step(lad.rows[dnat].step) == dnat
    assert lad.row_for_step(len(t) - 1) == len(lad.rows) - 1


def test_cli_ladder_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(["trace", "clusterip", "pod-other-node", "--format", "ladder", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "◆ DNAT dst 10.96.0.1:8080 → 10.244.1.5:8080" in out


def test_cli_svg_is_xml_with_the_ladder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    out = tmp_path / "ladder.svg"
    assert cli.main(["trace", "nodeport", "to-other-node", "--svg", str(out)]) == 0
    assert f"wrote {out} (ladder, 100 columns)" in capsys.readouterr().err
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    words = "".join(root.itertext()).replace("\xa0", " ")
    assert "MASQUERADE" in words and "192.168.1.11:37170" in words


def test_cli_svg_to_a_missing_folder_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["trace", "nodeport", "to-other-node", "--svg", str(tmp_path / "no" / "x.svg")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "x.svg" in err


def test_cli_svg_without_colour_keeps_the_markers(tmp_path, capsys):
    out = tmp_path / "grey.svg"
    assert cli.main(["trace", "hairpin", "back-to-itself", "--svg", str(out), "--no-color"]) == 0
    svg = out.read_text()
    root = ET.fromstring(svg)
    words = "".join(root.itertext()).replace("\xa0", " ")
    assert "◆" in words and "■" in words and "MASQUERADE" in words
    assert cli.main(["trace", "hairpin", "back-to-itself", "--svg", str(tmp_path / "c.svg")]) == 0
    # the coloured picture uses more fills than the grey one
    fills = lambda text: set(re.findall(r"fill: (#[0-9a-f]{6})", text))  # noqa: E731
    assert len(fills((tmp_path / "c.svg").read_text())) > len(fills(svg))
