"""SVG snapshots (pytest-textual-snapshot) of the home and flow screens at 80x24.

Update after an intended change with ``pytest tests/tui --snapshot-update`` and look
at the report.
"""

from __future__ import annotations


def test_home_snapshot(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24))


def test_flow_snapshot_after_dnat(snap_compare, make_app):
    keys = ["right"] * 13 + ["2"]
    assert snap_compare(make_app("scenario.yaml"), terminal_size=(80, 24), press=keys)


def test_flow_snapshot_conntrack_after_synack(snap_compare, make_app):
    app = make_app("scenario.yaml")

    async def run_before(pilot):
        await pilot.pause()
        screen = app.screen
        while screen.step.kind != "conntrack-reverse":
            screen.action_step(1)
        await pilot.press("3")  # the conntrack panel (no lesson tab on the flow screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
