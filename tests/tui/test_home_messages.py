"""The lesson list posts a message for each entry and the app decides where it goes
(messages up): each key or entry still lands on its screen."""

from __future__ import annotations

import pytest
from helpers import press, settle

from kubeflow_tui.tui import messages
from kubeflow_tui.tui.screens.common import OpenScenarioScreen, PickerScreen
from kubeflow_tui.tui.screens.home import HomeScreen
from kubeflow_tui.tui.screens.interview import InterviewScreen
from kubeflow_tui.tui.screens.lesson import LessonScreen


@pytest.mark.parametrize("key,message,lands_on", [
    ("c", messages.OpenCases, PickerScreen),
    ("i", messages.OpenInterview, InterviewScreen),
    ("o", messages.OpenScenarioFile, OpenScenarioScreen),
    ("enter", messages.OpenLesson, LessonScreen),
], ids=["cases", "interview", "open-file", "lesson"])
async def test_home_entries_post_a_message_the_app_acts_on(make_app, key, message, lands_on):
    app = make_app()
    posted: list[type] = []
    async with app.run_test(size=(80, 24), message_hook=lambda m: posted.append(type(m))) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await press(pilot, key)
        await settle(pilot)
        assert message in posted
        assert isinstance(app.screen, lands_on), type(app.screen).__name__
