"""The pictures without Textual: wire layout and paths, pipeline positions, header card."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from kubeflow_tui.pictures.header import CHANGED, HeaderCard, reply_marks
from kubeflow_tui.pictures.pipeline import PipelinePicture, boxes_taken, chain_walk, locate
from kubeflow_tui.pictures.wire import Site, WireHost, WireLayout, WirePicture

from picture_traces import FLOWS, scenario, trace_of


def plain(renderable, width=80) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, no_color=True, color_system=None).print(renderable)
    return buf.getvalue()


def big_site() -> Site:
    hosts = [WireHost("user", "client", "192.168.1.2"), WireHost("stranger", "client", "192.168.1.50"),
             WireHost("lb", "lb", "192.168.1.100", detail="direct")]
    for i, n in enumerate("abc"):
        hosts.append(WireHost(f"node-{n}", "node", f"192.168.1.{10 + i}", detail=f"10.244.{i + 1}.0/24"))
        hosts += [WireHost(f"web-{n}{k}", "pod", f"10.244.{i + 1}.{5 + k}", node=f"node-{n}") for k in range(4)]
    return Site(tuple(hosts), "192.168.1.0/24")


def test_compact_wire_fits_80x24_with_3_nodes_4_pods_2_clients_and_a_balancer():
    lay = WireLayout(big_site(), 80, 24)
    text = WirePicture(lay, None, 0).canvas().plain()
    lines = text.splitlines()
    assert lay.height <= 24 and len(lines) <= 24 and max(map(len, lines)) <= 80
    for h in big_site().hosts:
        assert h.name in text and h.ip in text, h.name


def test_bigger_terminal_shows_more_detail():
    small = WirePicture(WireLayout(big_site(), 80, 24), None, 0).canvas().plain()
    big = WirePicture(WireLayout(big_site(), 120, 40), None, 0).canvas().plain()
    assert "veth-web-a0" in big and "veth-web-a0" not in small
    assert "pods 10.244.1.0/24" in big


@pytest.mark.parametrize("key", sorted(FLOWS))
def test_every_link_of_every_flow_is_a_continuous_drawn_path(key):
    name, flow = FLOWS[key]
    t = trace_of(name, flow)
    lay = WireLayout(Site.from_scenario(scenario(name)).with_trace_hosts(t), 80, 24)
    for s in t.steps:
        if s.kind != "link":
            continue
        cells = lay.path(*s.link)
        assert cells[0] == lay.anchor[s.link[0]] and cells[-1] == lay.anchor[s.link[1]]
        assert len(cells) >= 3
        for (x1, y1), (x2, y2) in zip(cells, cells[1:]):
            assert abs(x1 - x2) + abs(y1 - y2) == 1, (s.link, (x1, y1), (x2, y2))
        # every cell between the two hosts is a line of the still picture, not blank
        for x, y in cells[1:-1]:
            assert lay.base.get(x, y) not in " ", (s.link, x, y)


def test_packet_moves_along_the_link_and_the_path_so_far_is_heavy():
    t = trace_of("clusterip", "pod-other-node")
    lay = WireLayout(Site.from_scenario(scenario("clusterip")), 80, 24)
    link = next(s for s in t.steps if s.kind == "link" and s.link == ("node-b", "node-a"))
    cells = lay.path("node-b", "node-a")
    seen = [WirePicture(lay, t, link.index, p).position().cell for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert seen[0] == cells[0] and seen[-1] == cells[-1] and len(set(seen)) == 5
    half = WirePicture(lay, t, link.index, 0.5).canvas()
    x, y = seen[2]
    assert half.get(x, y) == "●"
    # behind the packet: heavy; ahead of it: still light
    bx, by = cells[1]
    ax, ay = cells[-2]
    assert half.get(bx, by) in "━┃┳┻╋┏┓┗┛┣┫" and half.get(ax, ay) in "─│┬┴┼═╤╧┌┐└┘├┤"
    assert "10.244.2.7:40000 → 10.244.1.5:8080" in half.plain()  # labelled with the current addresses


def test_pipeline_lights_the_hook_and_table_of_the_step():
    t = trace_of("clusterip", "pod-other-node")
    dnat = next(s for s in t.steps if s.kind == "dnat")
    assert locate(t, dnat.index).box == "PREROUTING" and locate(t, dnat.index).table == "nat"
    text = PipelinePicture(t, dnat.index).canvas(80, 16).plain()
    assert "raw ct mangle NAT" in text  # the current table in capitals (no colour needed)
    assert "KUBE-SEP-" in text and "▶ DNAT" in text  # the chain walk of the current hook
    fwd = next(s for s in t.steps if s.host == dnat.host and s.hook == "FORWARD" and s.index > dnat.index)
    assert boxes_taken(t, fwd.index) == ["in", "PREROUTING", "routing", "FORWARD"]


def test_pipeline_of_a_host_network_process_goes_through_output():
    t = trace_of("clusterip", "node-host-network")
    dnat = next(s for s in t.steps if s.kind == "dnat")
    assert (locate(t, dnat.index).box, locate(t, dnat.index).table) == ("OUTPUT", "nat")
    masq = next(s for s in t.steps if s.kind == "masquerade")
    assert boxes_taken(t, masq.index) == ["socket", "routing-out", "OUTPUT", "reroute", "POSTROUTING"]
    assert chain_walk(t, masq.index, "POSTROUTING")[-1][2] == "MASQUERADE"


def test_header_card_marks_the_rewritten_field_before_and_after():
    t = trace_of("nodeport", "to-other-node")
    masq = next(s for s in t.steps if s.kind == "masquerade")
    text = plain(HeaderCard(t, masq.index))
    src = next(line for line in text.splitlines() if line.startswith("src"))
    assert "192.168.1.2:40000" in src and CHANGED in src and "192.168.1.11:37170" in src
    dst = next(line for line in text.splitlines() if line.startswith("dst"))
    assert CHANGED not in dst
    assert "after (MASQUERADE)" in text and "■ MASQUERADE src 192.168.1.2:40000 → 192.168.1.11:37170" in text


def test_header_card_shows_the_conntrack_tuples_and_what_the_reply_says():
    t = trace_of("nodeport", "to-other-node")
    rev = next(s for s in t.steps if s.kind == "conntrack-reverse" and s.changed)
    ct = rev.conntrack[rev.touched]
    marks = reply_marks(ct)
    assert len(marks) == 2 and "DNAT" in marks[0] and "SNAT" in marks[1]
    text = plain(HeaderCard(t, rev.index))
    assert "matched (reply direction)" in text
    assert f"{ct.orig[0]}:{ct.orig[2]}" in text and f"{ct.reply[0]}:{ct.reply[2]}" in text


def test_header_card_of_a_connection_without_nat():
    t = trace_of("hairpin", "to-its-sibling")
    node_b_new = next(s for s in t.steps if s.kind == "conntrack-new" and s.host == "node-b")
    text = plain(HeaderCard(t, node_b_new.index))
    assert "created" in text and "no NAT on this connection here" in text


def test_wire_without_a_scenario_puts_the_trace_hosts_on_the_wire():
    """A Trace of a real node's iptables-save dump has no scenario: its hosts still show."""
    t = trace_of("clusterip", "pod-other-node")
    lay = WireLayout(Site(()).with_trace_hosts(t), 80, 24)
    text = WirePicture(lay, t, 26).canvas().plain()
    for h in t.hosts:
        assert h in text
    cells = lay.path("node-b", "node-a")
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in zip(cells, cells[1:]))


def _shipped_flows():
    from kubeflow_tui.resources import find_scenario  # noqa: F401
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "scenarios"
    out = []
    for f in sorted(root.glob("*.yaml")):
        try:
            sc = scenario(f.stem)
        except Exception:  # noqa: BLE001 - not a scenario the loader opens by name
            continue
        out += [(f.stem, fl.name) for fl in sc.flows]
    return out


@pytest.mark.parametrize("name,flow", _shipped_flows())
def test_every_picture_draws_every_shipped_flow(name, flow):
    from kubeflow_tui.ladder import build_ladder
    from kubeflow_tui.render_ladder import ladder_text

    t = trace_of(name, flow)
    lad = build_ladder(t)
    assert lad.arrows() and set(lad.hosts) <= set(t.hosts) | {s.host for s in t.steps}
    assert max(len(line) for line in ladder_text(t, width=80).splitlines()) <= 80
    lay = WireLayout(Site.from_scenario(scenario(name)).with_trace_hosts(t), 80, 24)
    for i in range(0, len(t.steps), 5):
        assert "●" in WirePicture(lay, t, i, 0.5).canvas().plain()
        PipelinePicture(t, i).canvas(80, 16)
        plain(HeaderCard(t, i, ladder_rows=lad.rows))


def test_wire_lists_the_packets_hops_with_the_addresses_seen_on_each_link():
    """Under the picture, when there is room: the SYN's path so far, a row per link with
    the addresses on that link, the DNAT between them with the ladder's marker."""
    t = trace_of("clusterip", "pod-other-node")
    dnat = next(s for s in t.steps if s.kind == "dnat")
    link = next(s for s in t.steps if s.kind == "link" and s.index > dnat.index)
    lay = WireLayout(Site.from_scenario(scenario("clusterip")), 120, 40)
    lines = WirePicture(lay, t, link.index, 0.5).canvas().plain().splitlines()
    hops = lines[lay.y_hops:]
    assert hops[0].startswith(" the SYN so far")
    first = next(line for line in hops if "client-b ▶ node-b" in line)
    assert "eth0 ▶ veth-client-b" in first and "10.244.2.7:40000 → 10.96.0.1:8080" in first
    nat = next(line for line in hops if "DNAT" in line)
    assert "◆ DNAT on node-b (nat PREROUTING): dst 10.96.0.1:8080 → 10.244.1.5:8080" in nat
    now = next(line for line in hops if "node-b ▶ node-a" in line)
    assert "●" in now and "10.244.1.5:8080✱" in now  # on this link, rewritten since sent
    assert hops.index(first) < hops.index(nat) < hops.index(now)
    # once the packet has arrived the row is numbered like the others
    arrived = WirePicture(lay, t, link.index, 1.0).canvas().plain().splitlines()[lay.y_hops:]
    assert any(line.startswith("  2  node-b ▶ node-a") for line in arrived)


def test_wire_hop_list_needs_room_and_keeps_the_last_hops():
    t = trace_of("loadbalancer-proxy", "via-other-node")
    site = Site.from_scenario(scenario("loadbalancer-proxy")).with_trace_hosts(t)
    short = WireLayout(site, 80, 11)
    assert short.hop_rows == 0 and short.height <= 11
    assert "so far" not in WirePicture(short, t, 30).canvas().plain()
    # four rows: the title and the last three rows of the path (the current link last)
    small = WireLayout(site, 80, 14)
    assert small.hop_rows == 4 and small.height <= 14
    masq = next(s for s in t.steps if s.kind == "masquerade")
    link = next(s for s in t.steps if s.kind == "link" and s.index > masq.index)
    hops = WirePicture(small, t, link.index, 0.5).canvas().plain().splitlines()[small.y_hops:]
    assert "its last hops" in hops[0] and len(hops) == 4
    assert "MASQUERADE" in hops[-2] and f"{link.link[0]} ▶ {link.link[1]}" in hops[-1]
    lay = WireLayout(site, 80, 24)
    assert lay.height <= 24
    for i in range(len(t.steps)):
        lines = WirePicture(lay, t, i).canvas().plain().split("\n")
        assert len(lines) == lay.height and all(len(x) <= 80 for x in lines)


def test_wire_counts_each_nodes_conntrack_entries():
    t = trace_of("nodeport", "to-other-node")
    lay = WireLayout(Site.from_scenario(scenario("nodeport")), 80, 24)
    end = len(t.steps) - 1
    last_b = next(s for s in reversed(t.steps) if s.host == "node-b")
    pic = WirePicture(lay, t, end)
    assert pic.conntrack_counts(end)["node-b"] == len(last_b.conntrack) >= 1
    n = len(last_b.conntrack)
    assert f"conntrack: {n} {'entry' if n == 1 else 'entries'}" in pic.canvas().plain()
    # before the packet reaches a node, its count is not shown
    first_b = next(s for s in t.steps if s.host == "node-b")
    assert "node-b" not in WirePicture(lay, t, first_b.index - 1).conntrack_counts(first_b.index - 1)


def test_header_card_in_a_narrow_panel_shortens_its_heading_instead_of_wrapping_it():
    t = trace_of("clusterip", "pod-other-node")
    first = next(s.index for s in t.steps if s.host != t.steps[0].host)  # before any rewrite
    wide = plain(HeaderCard(t, first), width=60).splitlines()
    narrow = plain(HeaderCard(t, first), width=42).splitlines()
    assert f"as {t.steps[0].host} sent it" in wide[1]
    assert narrow[1].split() == ["as", "sent", "now"]  # one line, the columns whole
    assert all(len(line.rstrip()) <= 42 for line in narrow)
    assert narrow[2].split() == ["src", "10.244.2.7:40000", "10.244.2.7:40000"]


def test_a_selected_hook_without_a_walk_says_whether_the_packet_gets_there():
    from kubeflow_tui.pictures.pipeline import hook_absent

    t = trace_of("clusterip", "pod-other-node")
    arrive = next(s for s in t.steps if s.host == "node-b" and s.kind == "link")
    fwd = next(s for s in t.steps if s.host == "node-b" and s.hook == "FORWARD" and s.index > arrive.index)
    assert hook_absent(t, arrive.index, "FORWARD").endswith(f"gets here at step {fwd.index + 1}")
    assert hook_absent(t, arrive.index, "INPUT") == "this packet does not pass INPUT on node-b"
    text = PipelinePicture(t, arrive.index, selected="INPUT").canvas(80, 16).plain()
    assert "(this packet does not pass INPUT on node-b)" in text
