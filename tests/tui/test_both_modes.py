"""kube-proxy's two modes in the app (real engine, scenarios/clusterip.yaml): the flow
screen's mode switch (m), its chain panel in nftables mode, the side-by-side view (b),
and --proxy-mode for the app."""

from __future__ import annotations

import pytest
from helpers import press, screen_text, settle, step_until

from kubeflow_tui.tui.screens.both_modes import BothModesScreen
from kubeflow_tui.tui.screens.flow import FlowScreen
from kubeflow_tui.tui.widgets.chain_walk import ChainWalk

from conftest import REPO

CLUSTERIP = str(REPO / "scenarios" / "clusterip.yaml")
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def test_m_switches_the_mode_and_the_chain_panel_shows_the_nft_walk(make_real_app):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FlowScreen)
        assert screen.heading.endswith(" · iptables")
        assert any(s.table == "nat" and s.chain == "KUBE-SERVICES" for s in screen.trace.steps)
        await press(pilot, "m")
        assert screen.proxy_mode == "nftables"
        assert screen.heading == "clusterip › pod-same-node (seed 1, → web-1) · nftables"
        assert "(seed 1, → web-1) · nftables" in screen_text(app)
        assert not any(s.table == "nat" for s in screen.trace.steps)  # no iptables rule of kube-proxy's
        # the services chain's look-up in @service-ips, as the chain panel shows it
        await step_until(pilot, lambda s: s.chain == "services" and s.kind == "goto")
        walk = screen.query_one(ChainWalk).text.plain
        assert "  ip kube-proxy nat-prerouting\n    type nat hook prerouting priority dstnat; policy accept;\n" in walk
        assert "    ip daddr . meta l4proto . th dport vmap @service-ips # handle 53\n" in walk
        assert "      key 10.96.0.1 . tcp . 8080 looked up in @service-ips\n" in walk
        assert "      element 10.96.0.1 . tcp . 8080 : goto service-SUSTUHLJ-default/web/tcp/http\n" in walk
        # the ruleset view is the node's nft list ruleset
        await press(pilot, "n")
        assert "nft list ruleset on node-a" in screen_text(app)
        assert "table ip kube-proxy {" in app.screen.ruleset
        await press(pilot, "escape")
        # back to iptables: the same cluster object as before the switch (its own live cluster)
        first = screen.scenario
        await press(pilot, "m")
        assert screen.proxy_mode == "iptables"
        await press(pilot, "m")
        assert screen.scenario is first


async def test_both_modes_side_by_side_keys(make_real_app):
    app = make_real_app(CLUSTERIP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "b")
        screen = app.screen
        assert isinstance(screen, BothModesScreen)
        c = screen.comparison
        assert c is not None and c.same_result
        text = screen_text(app)
        assert "packet 1 of 8: SYN 10.244.1.7:40000 → 10.96.0.1:8080" in text
        assert "15 this packet, 50 in the flow" in text and "15 this packet, 36 in the flow" in text
        assert [r.text() for r in c.rewrites("iptables")][:1] == ["node-a: dnat 10.96.0.1:8080 → 10.244.1.5:8080"]
        assert "node-a: dnat 10.96.0.1:8080" in text  # (the rest wraps in the iptables column)
        assert "the same result" in text
        assert "nat:KUBE-SERVICES" in text  # 80 columns: the iptables column first
        await press(pilot, "m")
        assert screen.shown == "nftables"
        text = screen_text(app)
        assert "ip kube-proxy filter-prerouting-pre-dnat" in text and "nat:KUBE-SERVICES" not in text
        await press(pilot, "right")
        assert screen.packet == 1
        assert "packet 2 of 8: SYN-ACK 10.244.1.5:8080 → 10.244.1.7:40000" in screen_text(app)
        assert [r.text() for r in screen.walks()[1].rewrites] == [
            "node-a: conntrack-reverse 10.244.1.5:8080 → 10.96.0.1:8080"]
        assert "node-a: conntrack-reverse" in screen_text(app)
        await press(pilot, "left", "left")
        assert screen.packet == 0
        await press(pilot, "escape")
        assert isinstance(app.screen, FlowScreen)


async def test_the_app_opens_in_the_mode_asked(make_real_app, data_dir):
    from kubeflow_tui.progress import Progress
    from kubeflow_tui.tui.app import KubeflowApp

    app = KubeflowApp(CLUSTERIP, proxy_mode="nftables", lessons_dir=REPO / "lessons",
                      progress=Progress.load(data_dir), start="home")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.proxy_mode == "nftables"
        assert any(s.table == "ip kube-proxy" for s in app.screen.trace.steps)


class TestBothModesSnapshots:
    @pytest.mark.parametrize("size", SIZES)
    def test_both_modes(self, snap_compare, make_real_app, size):
        async def run_before(pilot):
            await settle(pilot)
            await press(pilot, "b")
            await settle(pilot, 0.05)

        assert snap_compare(make_real_app(CLUSTERIP), terminal_size=size, run_before=run_before)
