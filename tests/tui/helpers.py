"""Small helpers shared by the TUI tests."""

from __future__ import annotations

from textual.worker import WorkerState

from kubeflow_tui.tui.screens.flow import FlowScreen


def screen_text(app) -> str:
    """The whole screen as plain text (what a learner sees)."""
    import io

    from rich.console import Console

    width = app.size.width
    con = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    con.print(app.screen._compositor.render_update(full=True))
    return con.file.getvalue()


async def settle(pilot, delay: float | None = None) -> None:
    """Wait until the app is idle and its workers (the engine) are done, and the messages
    they sent are handled."""
    app = pilot.app
    await pilot.pause(delay)
    for _ in range(100):
        running = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not running:
            break
        await app.workers.wait_for_complete(running)
        await pilot.pause()
    await pilot.pause()


async def press(pilot, *keys: str) -> None:
    """``pilot.press`` one key at a time, each waiting for the engine (a patient learner)."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def step_until(pilot, predicate, limit: int = 200) -> FlowScreen:
    screen = pilot.app.screen
    assert isinstance(screen, FlowScreen), type(screen)
    for _ in range(limit):
        if screen.step is not None and predicate(screen.step):
            await pilot.pause()
            return screen
        await press(pilot, "right")
    raise AssertionError("no such step")


async def fast_press(pilot, keys, every: int = 25) -> None:
    """Send keys like ``pilot.press`` but without waiting for idle after each one
    (a fast typist); waits for the app every ``every`` keys."""
    import asyncio
    import unicodedata

    from textual import events
    from textual.app import _character_to_key, _get_unicode_name_from_key
    from textual.keys import REPLACED_KEYS

    app = pilot.app
    for n, key in enumerate(keys, 1):
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
        await asyncio.sleep(0)
        if n % every == 0:
            await pilot.pause()
    await pilot.pause()


def flat(text: str) -> str:
    """``text`` with its wrapping undone: words joined by single spaces."""
    return " ".join(text.split())


async def enter_line(pilot, screen, line: str) -> None:
    """Put ``line`` in ``screen``'s input and press enter, as a learner who typed it would."""
    from textual.widgets import Input

    field = screen.query_one(Input)
    field.focus()
    field.value = line
    await press(pilot, "enter")
