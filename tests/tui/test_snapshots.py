"""SVG snapshots (pytest-textual-snapshot) of every screen and dialog, at 80x24 and 120x40,
grouped per feature.  The fake engine draws the flows (hand-built traces: stable).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at every changed SVG (the report lists them) before committing.

The interview is not here: its head counts the seconds down, so no two runs draw it alike
(``test_whole_screens.py`` drives it).
"""

from __future__ import annotations

import pytest
from helpers import press, settle

from conftest import REPO

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def _steady(pilot) -> None:
    """No blinking cursor (its phase would differ from run to run), and the logs rewrapped
    to their final width."""
    for field in pilot.app.screen.query("Input"):
        field.cursor_blink = False
    for _ in range(3):
        await settle(pilot, 0.05)


async def _lesson_text_loaded(pilot) -> None:
    for _ in range(100):
        await settle(pilot, 0.02)
        if pilot.app.screen.query("MarkdownBlock") and not pilot.app.screen.query("LoadingIndicator"):
            break
    await settle(pilot)


class TestHomeAndHelp:
    @pytest.mark.parametrize("size", SIZES)
    def test_home(self, snap_compare, make_app, size):
        assert snap_compare(make_app(), terminal_size=size, run_before=settle)

    @pytest.mark.parametrize("size", SIZES)
    def test_help_on_the_flow_screen(self, snap_compare, make_app, size):
        async def run_before(pilot):
            await settle(pilot)
            await press(pilot, "question_mark")

        assert snap_compare(make_app("scenario.yaml"), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_error(self, snap_compare, make_app, size):
        assert snap_compare(make_app("bad-scenario.yaml"), terminal_size=size, run_before=settle)


class TestLesson:
    @pytest.mark.parametrize("size", SIZES)
    def test_lesson_first_open(self, snap_compare, make_app, size):
        assert snap_compare(make_app(start="auto"), terminal_size=size, run_before=_lesson_text_loaded)


class TestFlowPanels:
    """The flow screen (a scenario: no lesson tab) on each panel, after the DNAT."""

    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize("panel", ["1", "6"], ids=["chain", "conntrack"])
    def test_flow_panel(self, snap_compare, make_app, size, panel):
        async def run_before(pilot):
            await settle(pilot)
            screen = pilot.app.screen
            while screen.step.kind != "dnat":
                await press(pilot, "right")
            await press(pilot, panel)

        assert snap_compare(make_app("scenario.yaml"), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_ruleset(self, snap_compare, make_app, size):
        async def run_before(pilot):
            await settle(pilot)
            await press(pilot, "right", "n")

        assert snap_compare(make_app("scenario.yaml"), terminal_size=size, run_before=run_before)


class TestFlowPictures:
    """The pictures as panels (wire, hooks, header card, ladder) on the clusterip scenario's
    first flow, at its DNAT."""

    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize("panel", ["2", "3", "4", "5"], ids=["wire", "hooks", "card", "ladder"])
    def test_picture_panel(self, snap_compare, make_real_app, size, panel):
        async def run_before(pilot):
            await settle(pilot)
            screen = pilot.app.screen
            screen.index = next(i for i, s in enumerate(screen.trace.steps) if s.kind == "dnat")
            await press(pilot, panel)
            await _steady(pilot)

        app = make_real_app(str(REPO / "scenarios" / "clusterip.yaml"))
        assert snap_compare(app, terminal_size=size, run_before=run_before)


class TestShell:
    # At 120x40 the shell is the docked pane shown on demand; in a headless run its log
    # keeps the wrap width it had when first written (no Resize reaches it when shown), so
    # the SVG wraps the long rules a little narrower than a real terminal, which re-wraps
    # them to the pane's width (looked at in tmux at 120x40).
    @pytest.mark.parametrize("size", SIZES)
    def test_shell_pane(self, snap_compare, make_real_app, size):
        async def run_before(pilot):
            await settle(pilot)
            await press(pilot, "s")
            pilot.app.focused.value = "iptables -t nat -S KUBE-SERVICES"
            await press(pilot, "enter")
            await _steady(pilot)

        app = make_real_app(str(REPO / "scenarios" / "clusterip.yaml"))
        assert snap_compare(app, terminal_size=size, run_before=run_before)


class TestQuiz:
    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize("answered", [False, True], ids=["question", "feedback"])
    def test_quiz(self, snap_compare, make_app, size, answered):
        async def run_before(pilot):
            await settle(pilot)
            await press(pilot, "z")
            if answered:
                q = pilot.app.screen.questions[0]
                await press(pilot, str((q.answer_index + 1) % len(q.options) + 1))  # a wrong answer

        assert snap_compare(make_app(start="auto"), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize("state", ["incident", "answered", "gave-up"])
    def test_case(self, snap_compare, make_app, size, state):
        """The incident as reported (title, the user's report, the shell), then revealed."""
        async def run_before(pilot):
            from kubeflow_tui.tui.screens.case import CaseScreen

            await settle(pilot)
            pilot.app.push_screen(CaseScreen(REPO / "cases" / "01-web-refuses.yaml", seed=1))
            await settle(pilot)
            if state == "answered":
                await press(pilot, "f2")
                q = pilot.app.screen.session.question
                await press(pilot, str(q.answer_index + 1))
            elif state == "gave-up":
                await press(pilot, "f4")
            await _steady(pilot)

        assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
