"""`kubeflow-tui open-dump`'s screens: a packet typed (and checked) or picked, played through
a node's dump on the flow screen; snapshots at 80x24 and 120x40."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import press, screen_text, settle

from conftest import REPO
from kubeflow_tui.importer.opendump import load_node_dump
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.progress import Progress
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.tui.screens.open_dump import DumpFlowScreen, OpenDumpScreen, dump_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

# recorded from the real conntrack (conntrack-tools 1.4.7), entries made with `conntrack -I`
CONNTRACK_L = """\
tcp      6 431999 ESTABLISHED src=10.244.2.3 dst=10.96.0.1 sport=40000 dport=8080 src=10.244.1.5 dst=10.244.2.3 sport=8080 dport=40000 [ASSURED] mark=0 use=1
udp      17 29 src=10.244.1.2 dst=10.96.0.10 sport=40001 dport=53 [UNREPLIED] src=10.244.2.6 dst=10.244.1.2 sport=53 dport=40001 mark=0 use=1
"""


@pytest.fixture()
def app(tmp_path, data_dir):
    s = load_scenario(REPO / "scenarios" / "nodeport.yaml")
    save = tmp_path / "node.save"
    save.write_text(generate_restore(s, "node-a"))
    ct = tmp_path / "ct.txt"
    ct.write_text(CONNTRACK_L)
    dump = load_node_dump(str(save), conntrack=str(ct))
    return dump_app(dump, progress=Progress.load(data_dir))


async def _type(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector)
    field.focus()
    field.value = ""
    await pilot.press(*list(text))


async def test_typing_a_packet_plays_it_through_the_dump(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OpenDumpScreen)
        await _type(pilot, "#dump-src", "10.244.2.9")
        await _type(pilot, "#dump-dst", "192.168.1.10:30080")
        await press(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, DumpFlowScreen)
        trace = app.screen.trace
        assert trace.flow == "tcp 10.244.2.9:40000 -> 192.168.1.10:30080"
        assert trace.steps[-1].packet.dst == "10.244.1.5" and trace.steps[-1].packet.dport == 8080
        assert any(s.kind == "masquerade" for s in trace.steps)  # a nodePort from outside is masqueraded
        text = screen_text(app)
        assert "node.save › tcp 10.244.2.9:40000 -> 192.168.1.10:30080" in text
        await press(pilot, "end")
        await settle(pilot, 0.1)
        text = screen_text(app)
        assert "conntrack confirms the entry with DNAT to 10.244.1.5:8080" in text, text
        await press(pilot, "escape")
        assert isinstance(app.screen, OpenDumpScreen)


async def test_a_bad_packet_says_what_is_wrong_and_where(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _type(pilot, "#dump-dst", "10.96.0.1")
        await press(pilot, "enter")
        assert isinstance(app.screen, OpenDumpScreen)
        assert "destination: '10.96.0.1' needs a port: IP:PORT" in screen_text(app)
        assert app.focused is app.screen.query_one("#dump-dst")
        await _type(pilot, "#dump-src", "10.244.300.1")
        await _type(pilot, "#dump-dst", "10.96.0.1:8080")
        await press(pilot, "enter")
        assert "source: '10.244.300.1' is not an IPv4 address" in screen_text(app)
        assert app.focused is app.screen.query_one("#dump-src")
        assert isinstance(app.screen, OpenDumpScreen)


async def test_a_known_connection_picked_takes_the_conntrack_path(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one("#dump-targets")
        known = next(i for i, o in enumerate(listing.options) if o.id == "k0")
        listing.highlighted = known
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(app.screen, DumpFlowScreen)
        kinds = [s.kind for s in app.screen.trace.steps]
        assert "conntrack-hit" in kinds and "dnat" not in kinds
        await press(pilot, "x")  # the first NAT/conntrack event
        assert "Conntrack knows this connection" in screen_text(app)
        await press(pilot, "7")  # the shell tab: no cluster behind a dump
        assert isinstance(app.screen, DumpFlowScreen)
        await press(pilot, "n")
        assert "KUBE-SERVICES" in screen_text(app)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_open_dump(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False
        listing = pilot.app.screen.query_one("#dump-targets")
        for _ in range(50):  # the list has the focus and its first destination highlighted
            if pilot.app.focused is listing and listing.highlighted is not None:
                break
            await settle(pilot, 0.02)
        for _ in range(3):  # (the layout settles: long options wrapped at their final width)
            await settle(pilot, 0.05)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_dump_flow_known_connection(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        listing = pilot.app.screen.query_one("#dump-targets")
        listing.highlighted = next(i for i, o in enumerate(listing.options) if o.id == "k0")
        await settle(pilot)
        await press(pilot, "enter", "x")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_predict_mode_asks_about_the_known_connection(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one("#dump-targets")
        listing.highlighted = next(i for i, o in enumerate(listing.options) if o.id == "k0")
        await settle(pilot)
        await press(pilot, "enter", "y", "right")
        text = screen_text(app)
        assert "Predict: what happens next?" in text
        assert "A later packet of the same connection, the ACK 10.244.2.3:40000" in text
        assert "1) Conntrack finds the connection and rewrites the destination" in text, text


async def test_the_reply_of_a_known_connection_is_un_dnatted_by_conntrack(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one("#dump-targets")
        listing.highlighted = next(i for i, o in enumerate(listing.options) if o.id == "r0")
        await settle(pilot)
        screen = app.screen
        assert (screen.query_one("#dump-src").value, screen.query_one("#dump-dst").value,
                screen.query_one("#dump-sport").value) == ("10.244.1.5", "10.244.2.3:40000", "8080")
        await press(pilot, "enter")
        trace = app.screen.trace
        assert [s.kind for s in trace.steps if s.kind.startswith("conntrack")] == [
            "conntrack-reverse", "conntrack-reverse"]
        last = trace.steps[-1].packet
        assert (last.src, last.sport, last.dst, last.dport) == ("10.96.0.1", 8080, "10.244.2.3", 40000)
