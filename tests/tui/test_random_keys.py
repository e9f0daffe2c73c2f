"""1,000 random keys on each screen: no exception, the app still answers."""

from __future__ import annotations

import random

import pytest
from helpers import fast_press, settle

from kubeflow_tui.tui.screens.lesson import LessonScreen
from kubeflow_tui.tui.screens.home import HomeScreen

# every key the app binds, plus noise; not q / ctrl+q / ctrl+c (they quit, by design), and
# not ctrl+p: Textual's own command palette has races when keys arrive faster than it
# mounts (NoMatches 'CommandList', double dismiss); it is tested in test_flow_screen.py.
KEYS = (
    ["right", "left", "l", "h", "space", "plus", "minus", "home", "end", "g", "G", "r", "e", "f", "n", "N",
     "1", "2", "3", "4", "question_mark", "t", "o", "escape", "enter", "tab", "shift+tab", "up", "down",
     "pageup", "pagedown", "slash", "left_square_bracket", "right_square_bracket", "backspace",
     "j", "k", "s", "y", "z", "p", "c", "i", "f3"]
    + list("abcxyz09.-/")
)

STARTS = {
    "home": (None, lambda app: None),
    "lesson": (None, "lesson"),
    "flow": ("scenario.yaml", None),
    "ruleset": ("scenario.yaml", "n"),
}


@pytest.mark.parametrize(
    "start, size", [("home", (80, 24)), ("lesson", (160, 48)), ("flow", (80, 24)), ("ruleset", (160, 48))]
)
async def test_random_keys(make_app, start, size):
    path, then = STARTS[start]
    app = make_app(path, start="auto" if then == "lesson" else "home")
    rng = random.Random(f"{start}-{size}")
    keys = [rng.choice(KEYS) for _ in range(1000)]
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        if then == "lesson":
            assert isinstance(app.screen, LessonScreen)
        if then == "n":
            await pilot.press("right", "n")
        await fast_press(pilot, keys, every=50)
        assert app.is_running
        # still answers: help opens and closes
        for _ in range(6):
            await pilot.press("escape")
        assert app.is_running
        if isinstance(app.screen, HomeScreen):
            await pilot.press("question_mark")
            assert app.screen.__class__.__name__ == "HelpScreen"
