"""Pilot tests of the flow and lesson screens (fake engine, 80x24 and 160x48)."""

from __future__ import annotations

import pytest
from helpers import press, screen_text, settle, step_until

from kubeflow_tui.tui.screens.common import ConfirmScreen, ErrorScreen, HelpScreen
from kubeflow_tui.tui.screens.quiz import QuizScreen
from kubeflow_tui.tui.screens.flow import FlowScreen
from kubeflow_tui.tui.screens.lesson import LessonScreen
from kubeflow_tui.tui.screens.home import HomeScreen
from kubeflow_tui.tui.screens.ruleset import RulesetScreen
from kubeflow_tui.tui.widgets import ChainWalk, ConntrackTable, Narration, PacketHeader
from kubeflow_tui.tui.widgets.wire import WireView

SIZES = [(80, 24), (160, 48)]
SVC_RULE = ('-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/web:http cluster IP" '
            "-m tcp --dport 8080 -j KUBE-SVC-CDGGSHYLG3RE2FKL")


@pytest.mark.parametrize("size", SIZES)
async def test_header_after_dnat_highlights_new_dst(make_app, size):
    app = make_app("scenario.yaml")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await step_until(pilot, lambda s: s.kind == "dnat")
        header = screen.query_one(PacketHeader)
        assert header.changed_values() == ["10.244.1.5", "8080"]
        assert "dst 10.244.1.5*:8080*" in header.text.plain
        assert "dst 10.96.0.1 → 10.244.1.5" in header.text.plain
        shown = screen_text(app)
        assert "dst 10.244.1.5*" in shown  # visible on screen, whatever the layout
        assert "DNAT" in shown
        # one step back: the header is not highlighted any more
        await press(pilot, "left")
        await settle(pilot)
        assert header.changed_values() == []
        assert "dst 10.96.0.1:8080" in header.text.plain


@pytest.mark.parametrize("size", SIZES)
async def test_chain_walk_highlights_matching_rule(make_app, size):
    app = make_app("scenario.yaml")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await step_until(pilot, lambda s: s.kind == "rule-match" and s.chain == "KUBE-SERVICES")
        walk = screen.query_one(ChainWalk)
        assert walk.current_rule() == SVC_RULE
        plain = walk.text.plain
        assert "nat:KUBE-SERVICES" in plain and "▸ PREROUTING" in plain
        assert "✗ no match" in plain  # db's rule was tried first, dimmed
        # the statistic roll is shown next to its rule
        await step_until(pilot, lambda s: s.roll is not None)
        assert "statistic random p=0.50000000000, rolled" in walk.text.plain
        assert "--probability 0.50000000000" in walk.current_rule()


@pytest.mark.parametrize("size", SIZES)
async def test_conntrack_after_synack(make_app, size):
    app = make_app("scenario.yaml")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await step_until(pilot, lambda s: s.kind == "conntrack-reverse")
        table = screen.query_one(ConntrackTable)
        entry = table.touched_entry()
        assert entry is not None and entry.state == "SYN_RECV"
        hi = "".join(table.highlighted())
        assert "orig  10.244.2.7:40000 → 10.96.0.1:8080" in hi
        assert "reply 10.244.1.5:8080 → 10.244.2.7:40000" in hi
        assert "SYN_RECV" in hi and "UNREPLIED" not in hi
        assert "src=10.244.1.5 dst=10.244.2.7 sport=8080 dport=40000" in table.text.plain
        header = screen.query_one(PacketHeader)
        assert header.changed_values() == ["10.96.0.1", "8080"]
        assert screen.step.packet_label == "SYN-ACK"
        assert "conntrack undoes the DNAT" in screen.query_one(Narration).text.plain


async def test_topology_and_narration(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "2")
        await settle(pilot)
        wire = screen.query_one(WireView)
        assert wire.trace is screen.trace and wire.step == 0
        await step_until(pilot, lambda s: s.kind == "link" and s.link == ("node-b", "node-a"))
        await settle(pilot)
        assert wire.step == screen.index
        assert "node-a" in wire.render().plain
        await press(pilot, "end")
        await settle(pilot)
        assert "DELIVERED" in screen.query_one(Narration).text.plain
        await press(pilot, "home")
        await settle(pilot)
        assert screen.index == 0
        await press(pilot, "G")
        assert screen.index == len(screen.trace.steps) - 1
        await press(pilot, "g")
        assert screen.index == 0


async def test_play_pause_and_speed(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "plus", "plus")  # 8 steps/s
        await press(pilot, "space")
        assert screen.playing
        await pilot.pause(0.6)
        await press(pilot, "space")
        assert not screen.playing
        assert screen.index >= 2


async def test_reroll_endpoint_and_flow(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        first = screen.trace.endpoint
        seen = {first}
        for _ in range(6):
            await press(pilot, "r")
            seen.add(screen.trace.endpoint)
        assert seen == {"web-1", "web-2"}
        await press(pilot, "e")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PickerScreen"
        await press(pilot, "down", "down", "enter")  # random, web-1, web-2
        await settle(pilot)
        assert screen.trace.endpoint == "web-2"
        await press(pilot, "f")
        await settle(pilot)
        await press(pilot, "down", "enter")
        await settle(pilot)
        assert screen.flow == "pod-to-service-web-2"


async def test_ruleset_screen_search(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await step_until(pilot, lambda s: s.host == "node-b")
        await press(pilot, "n")
        await settle(pilot)
        assert isinstance(app.screen, RulesetScreen)
        assert app.screen.node == "node-b"
        await press(pilot, "slash")
        await press(pilot, *"KUBE-SEP-AF")
        await settle(pilot)
        assert len(app.screen.matches) == 4
        await press(pilot, "enter")
        assert app.screen.current == 1
        assert "iptables-save on node-b" in screen_text(app)
        await press(pilot, "escape")
        await settle(pilot)
        assert isinstance(app.screen, FlowScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_help_opens_with_question_mark(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await press(pilot, "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "The lesson list" in text and "Troubleshooting cases" in text  # the keys of where we are
        help_text = app.screen.text  # and of the other places, from their bindings
        assert "Play / pause the flow" in help_text and "Next step of the packet" in help_text
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        await press(pilot, "end")
        await settle(pilot)
        assert "the app only shows them" in screen_text(app)  # the last line can be read
        await press(pilot, "f1")
        assert isinstance(app.screen, HomeScreen)


async def test_small_terminal_asks_to_enlarge(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(50, 15)) as pilot:
        await settle(pilot)
        assert "Please enlarge" in screen_text(app)
        await press(pilot, "right", "n", "escape")
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "Please enlarge" not in screen_text(app)


async def test_bad_scenario_shows_error_not_traceback(make_app):
    app = make_app("bad-scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "cluster.nodes: Field required" in screen_text(app)
        await press(pilot, "enter")
        assert isinstance(app.screen, HomeScreen)


async def test_engine_error_is_a_notification(make_app, lessons_dir):
    (lessons_dir / "03-broken.md").write_text(
        "---\ntitle: Broken\nscenario: x.yaml\nflows: [broken-flow]\nminutes: 1\n---\nbody\n")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        assert any("broken-flow" in str(n.message) for n in app._notifications)
        await press(pilot, "right", "space", "r", "e", "escape")  # nothing to show: no crash
        assert "Nothing to show yet" in screen_text(app)
        await press(pilot, "n")  # the ruleset still opens
        await settle(pilot)
        assert "iptables-save on node-a" in screen_text(app)


async def test_lesson_progress_and_resume(make_app, data_dir):
    app = make_app(start="auto")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "01-clusterip"
        await press(pilot, "right", "right", "right")
        await press(pilot, "q")
    from kubeflow_tui.progress import Progress

    prog = Progress.load(data_dir)
    assert prog.last == "01-clusterip"
    assert prog.lesson("01-clusterip")["step"] == 3
    app2 = make_app(start="auto")
    async with app2.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app2.screen.index == 3
        await press(pilot, "end")
        await press(pilot, "f")
        await settle(pilot)
        assert "✓ pod-to-service" in screen_text(app2)  # seen flows are marked
        await press(pilot, "enter")  # the next flow not seen yet is highlighted
        await settle(pilot)
        assert app2.screen.flow == "pod-to-service-web-2"
        await press(pilot, "end")
        await settle(pilot)
        # all flows seen: the quiz is offered; the lesson is done once it is passed
        assert Progress.load(data_dir).status("01-clusterip") == "started"
        assert isinstance(app2.screen, ConfirmScreen)
        await press(pilot, "enter")
        await settle(pilot)
        quiz = app2.screen
        assert isinstance(quiz, QuizScreen) and quiz.questions
        for q in quiz.questions:
            await press(pilot, *["down"] * q.answer_index, "enter", "enter")
        assert quiz.finished
        assert Progress.load(data_dir).status("01-clusterip") == "done"
        await press(pilot, "escape")
        await settle(pilot)
        await press(pilot, "escape")
        await settle(pilot)
        assert isinstance(app2.screen, HomeScreen)
        assert "✓ 01" in screen_text(app2)


async def test_theme_toggle(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        before = app.theme
        await press(pilot, "t")
        assert app.theme != before
        await press(pilot, "t")
        assert app.theme == before


async def test_command_palette_runs_actions(make_app):
    app = make_app("scenario.yaml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, "ctrl+p")
        await settle(pilot)
        await press(pilot, *"Next step")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.index == 1
