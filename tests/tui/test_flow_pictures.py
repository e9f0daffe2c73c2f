"""The pictures as flow-screen panels (wire, hooks, header card, ladder) and navigation at a
learner's scale (packet, NAT event, host, the event list, playback's pace), with pilot.press."""

from __future__ import annotations

import pytest
from helpers import press, settle

from conftest import REPO
from kubeflow_tui.tui.screens.common import PickerScreen
from kubeflow_tui.tui.screens.flow.screen import (
    DEFAULT_SPEED,
    FLOW_SECONDS,
    NAT_KINDS,
    RULE_KINDS,
    play_count,
    play_rate,
)
from kubeflow_tui.tui.widgets.header_card import HeaderCardView
from kubeflow_tui.tui.widgets.ladder_view import LadderView
from kubeflow_tui.tui.widgets.pipeline import PipelineView
from kubeflow_tui.tui.widgets.wire import WireView

PICTURES = [("2", "wire", WireView), ("3", "hooks", PipelineView), ("4", "card", HeaderCardView),
            ("5", "ladder", LadderView)]


@pytest.mark.parametrize("key,panel,cls", PICTURES, ids=[p[1] for p in PICTURES])
async def test_panel_key_shows_the_picture_bound_to_the_step(make_app, key, panel, cls):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "right", "right", key)
        assert screen.panel == panel
        picture = screen.query_one(cls)
        assert picture.display and picture.region.width > 0 and picture.region.height > 0
        assert picture.trace is screen.trace and picture.step == screen.index == 2
        await press(pilot, "right")
        assert picture.step == 3


async def test_wide_shows_the_picture_beside_its_companion(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        wire, card = app.screen.query_one("#wire"), app.screen.query_one("#card")
        assert wire.region.width > 0 and card.region.width > 0 and wire.region.x < card.region.x
        await press(pilot, "4")  # the card chosen: the wire is its companion
        assert wire.region.width > 0 and card.region.width > 0


async def test_ladder_arrow_jumps_to_its_step(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "5")
        ladder = screen.query_one(LadderView)
        assert app.focused is ladder  # shown: its keys work at once
        await press(pilot, "down", "down", "down", "enter")
        row = ladder.ladder.rows[ladder.cursor if ladder.cursor >= 0 else 3]
        assert screen.index == row.step > 0
        assert ladder.step == screen.index


async def test_hook_selected_moves_to_its_first_step(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        steps = screen.trace.steps
        first = next(i for i, s in enumerate(steps) if s.hook == "POSTROUTING")
        await press(pilot, "3")
        screen.index = next(i for i, s in enumerate(steps) if s.host == steps[first].host
                            and s.packet_no == steps[first].packet_no)
        await settle(pilot)
        screen.query_one(PipelineView).action_select_hook("POSTROUTING")
        await settle(pilot)
        assert screen.index == first and screen.step.hook == "POSTROUTING"


async def test_hook_keys_in_the_hooks_panel(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        steps = screen.trace.steps
        start = next(i for i, s in enumerate(steps) if s.hook == "PREROUTING")
        screen.index = start
        await press(pilot, "3")
        assert isinstance(app.focused, PipelineView)
        await press(pilot, "down")  # the first hook: PREROUTING, this host, this packet
        assert screen.step.hook == "PREROUTING" and screen.step.host == steps[start].host
        assert app.focused.selected_hook == "PREROUTING"
        await press(pilot, "escape")  # back to following the packet; the screen stays
        assert app.focused.selected_hook == "" and app.screen is screen


async def test_next_and_previous_packet(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "full_stop")
        assert screen.step.packet_no == 1 and screen.trace.steps[screen.index - 1].packet_no == 0
        await press(pilot, "right", "comma")
        assert screen.index == 0


async def test_next_nat_event_and_back(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "x")
        first = screen.index
        assert screen.step.kind in NAT_KINDS
        assert not any(s.kind in NAT_KINDS for s in screen.trace.steps[:first])
        await press(pilot, "x")
        assert screen.index > first and screen.step.kind in NAT_KINDS
        await press(pilot, "X")
        assert screen.index == first


async def test_next_and_previous_host(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        host0 = screen.step.host
        await press(pilot, "j")
        assert screen.step.host != host0 and screen.step.kind != "link"
        second = screen.index
        await press(pilot, "j", "k")
        assert screen.index == second


async def test_event_list_picks_a_step(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "v")
        assert isinstance(app.screen, PickerScreen)
        assert len(app.screen.choices) == len(app.screen_stack[-2].trace.steps)
        await press(pilot, "down", "down", "down", "enter")
        assert app.screen.index == 3


async def test_speed_keys_change_the_rate(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        rate = screen.rate
        await press(pilot, "plus")
        assert screen.rate > rate
        await press(pilot, "minus", "minus")
        assert screen.rate < rate


async def test_playback_passes_over_rules_unless_the_chain_shows(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "2")
        for _ in range(len(screen.trace.steps)):
            nxt = screen.play_next(screen.index)
            assert all(s.kind in RULE_KINDS for s in screen.trace.steps[screen.index + 1:nxt])
            if nxt >= len(screen.trace.steps) - 1:
                break
            screen.index = nxt
        await press(pilot, "1")
        assert screen.play_next(screen.index) == screen.index + 1  # rule by rule: one key away


def test_every_shipped_flow_plays_in_thirty_seconds_at_the_default_speed():
    from kubeflow_tui.tui.engine import RealEngine

    engine = RealEngine()
    for name in ("lesson-one-host", "lesson-masquerade", "clusterip", "loadbalancer-proxy", "nodeport"):
        scenario = engine.load(str(REPO / "scenarios" / f"{name}.yaml"))
        for flow in scenario.flows:
            steps = engine.run_flow(scenario, flow.name, seed=None, endpoint=None).steps
            shown = play_count(steps, rules=False)
            seconds = (shown - 1) / play_rate(steps, DEFAULT_SPEED, rules=False)
            assert seconds <= FLOW_SECONDS + 1e-9, (name, flow.name, shown)
            assert shown < len(steps) or len(steps) < 10


@pytest.mark.parametrize("key,cls", [("3", PipelineView), ("5", LadderView)], ids=["hooks", "ladder"])
async def test_footer_keeps_help_and_quit_at_80_columns_with_a_picture_focused(make_app, key, cls):
    """The focused panel's keys come first in the footer; its ↑↓ are one item, so help and
    quit still fit left of the palette at 80 columns."""
    from textual.widgets import Footer

    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, key)
        assert isinstance(app.focused, cls)
        footer = app.screen.query_one(Footer)
        items = {k.key: k for k in footer.query("FooterKey")}
        palette = next(k for k in footer.query("FooterKey") if k.has_class("-command-palette"))
        for shown in ("up", "question_mark", "q"):
            assert shown in items, shown
            assert 0 < items[shown].region.right <= palette.region.x, shown


def test_event_list_rows_name_the_hops_and_rewrites_with_the_ladders_markers():
    """Each row says where and what; hops carry the addresses on the link, rewrites what
    they made of the address, with the ladder's markers (◆ DNAT, ■ MASQUERADE, ◇/□ by
    conntrack) so they read without colour."""
    from kubeflow_tui.cluster import run_flow
    from kubeflow_tui.resources import find_scenario
    from kubeflow_tui.scenario import load_scenario
    from kubeflow_tui.tui.screens.flow.events import event_label

    t = run_flow(load_scenario(find_scenario("nodeport")), "to-other-node", seed=None, endpoint=None)
    labels = [event_label(t, i) for i in range(len(t.steps))]

    def row(kind, **where):
        i = next(s.index for s in t.steps if s.kind == kind and all(getattr(s, k) == v for k, v in where.items()))
        return t.steps[i], labels[i]

    step, text = row("dnat")
    assert f"{step.host}  ◆ dnat  dst → {step.packet.endpoint_text('dst')}" in text
    step, text = row("masquerade")
    assert f"■ masquerade  src → {step.packet.endpoint_text('src')}" in text
    step, text = row("link")
    assert f"{step.link[0]} → {step.link[1]}  link  " in text
    assert text.endswith(f"{step.packet.endpoint_text('src')} → {step.packet.endpoint_text('dst')}")
    rev = next(s for s in t.steps if s.kind == "conntrack-reverse" and "src" in s.changed)
    assert f"◇ conntrack-reverse  src → {rev.packet.endpoint_text('src')}" in labels[rev.index]
    rule = next(s for s in t.steps if s.kind == "jump" and s.chain)
    assert labels[rule.index].startswith(f"{rule.index + 1:>3} ") and f"jump  {rule.table} {rule.chain}" in labels[rule.index]
