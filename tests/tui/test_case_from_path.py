"""``kubeflow-tui cases/X.yaml`` opens the incident (not a "missing key 'name'" error about
scenarios); escape then lands on the lesson list, however fast it is typed."""

from __future__ import annotations

from conftest import REPO
from helpers import press, screen_text, settle

from kubeflow_tui.tui.screens.case import CaseScreen
from kubeflow_tui.tui.screens.common import ErrorScreen
from kubeflow_tui.tui.screens.home import HomeScreen


async def test_a_case_path_opens_the_incident(make_real_app):
    app = make_real_app(str(REPO / "cases" / "03-refused-endpoint-listed.yaml"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert "web refuses, though its endpoint is listed" in screen_text(app)
        await pilot.press("escape", "escape")  # faster than the UI
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_a_broken_case_file_says_where(make_real_app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nscenario: clusterip\nsymptom: {flow: nope, outcome: refused, text: t}\n"
                   "diagnosis: {question: q, options: [a, b], answer: 5, explanation: e}\n", encoding="utf-8")
    app = make_real_app(str(bad))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(20):  # the error is shown once the lesson list is up
            if isinstance(app.screen, ErrorScreen):
                break
            await pilot.pause(0.1)
        error = app.screen
        assert isinstance(error, ErrorScreen)
        assert error.title_text == "Cannot open this case" and error.message.startswith(f"{bad}:")
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
