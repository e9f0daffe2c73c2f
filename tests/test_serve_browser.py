"""`kubeflow-tui serve` in a real browser (Debian's Chromium, headless).

A classroom serves the app from one machine to browsers that may have no internet access.
These tests start ``kubeflow-tui serve`` on a free port of 127.0.0.1, open the page in
headless Chromium, and check that

* the terminal in the page shows the lesson list (lesson 1's title, read from the lessons
  at test time), read from xterm.js's own screen buffer;
* the page asked for nothing outside 127.0.0.1 (every request and websocket in the
  browser's DevTools network log), and the HTML it was served names no outside URL;
* ``--no-color`` and ``NO_COLOR`` reach the served app: the page then shows only greys.

They need ``chromium`` (apt-get) and textual-serve (the ``serve`` extra); without them they
are skipped with the reason, unless ``KUBEFLOW_TUI_REQUIRE_BROWSER=1`` (CI sets it), which
turns the skip into a failure.  See tests/serve_helpers.py for how the page is driven.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.serve_helpers import (
    READ_SCREEN,
    REQUIRE_ENV,
    XTERM_TRAP,
    Chromium,
    ServeProcess,
    browser_required,
    browser_unavailable_reason,
    is_grey,
)

ROOT = Path(__file__).resolve().parent.parent

# Each test starts one server and one browser; every wait below is bounded, and they add
# up to less than the 60 s a test may take (~3 s on an idle machine, ~15 s on a busy one).
SERVER_READY_S = 12
BROWSER_READY_S = 60  # a cold start of Chromium on a busy 2-CPU machine can take tens of seconds
SCREEN_S = 30
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def browser_available() -> None:
    reason = browser_unavailable_reason()
    if reason is None:
        return
    if browser_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def lesson_one_title() -> str:
    from kubeflow_tui.lessons import discover

    lessons, errors = discover()
    assert lessons, f"no lessons found ({errors})"
    return lessons[0].title


def serve_env(tmp_path: Path, *, no_color: bool) -> dict[str, str]:
    """The server's environment: fresh progress (so the app opens on the lesson list),
    caches and logs under tmp_path, colour as asked."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.pop("KUBEFLOW_TUI_CONTENT_DIR", None)
    if no_color:
        env["NO_COLOR"] = "1"
    env["KUBEFLOW_TUI_DATA_DIR"] = str(tmp_path / "data")
    for var in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env[var] = str(tmp_path / var.lower())
    return env


def outside(url: str) -> bool:
    """True for a URL that would leave this machine (anything with a host but 127.0.0.1)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-error"):
        return False
    return parts.hostname != "127.0.0.1"


def external_urls_in_html(html: str) -> list[str]:
    """URLs in the served page that a browser would fetch: src/href attributes, CSS url(),
    @import.  (An SVG's xmlns names a namespace and is never fetched.)"""
    found = re.findall(r"""\b(?:src|href|data-[\w-]+)\s*=\s*["']([^"']+)["']""", html)
    found += re.findall(r"""url\(\s*["']?([^"')]+)""", html)
    found += re.findall(r"""@import\s+["']([^"']+)""", html)
    return [u for u in found if re.match(r"^(?:[a-z]+:)?//", u, re.I) and outside(u)]


def screen_text(screen: dict | None) -> str:
    if not screen:
        return (
            "(no xterm Terminal caught in the page: did textual.js stop storing it as "
            "`this.terminal`? see XTERM_TRAP in tests/serve_helpers.py)"
        )
    return "\n".join(screen["lines"])


async def open_page(browser: Chromium, url: str, want: str) -> dict:
    """Open url and wait until the page's terminal shows ``want``; return the screen."""
    await browser.connect(BROWSER_READY_S)
    await browser.send("Network.enable")
    await browser.send("Runtime.enable")
    await browser.send("Page.enable")
    await browser.send("Page.addScriptToEvaluateOnNewDocument", source=XTERM_TRAP)
    await browser.send("Page.navigate", url=url)
    deadline = time.monotonic() + SCREEN_S
    screen = None
    while time.monotonic() < deadline:
        screen = await browser.evaluate(READ_SCREEN)
        if screen and want in screen_text(screen):
            # One more frame, so the colours checked are those of a settled screen.
            await asyncio.sleep(0.3)
            return await browser.evaluate(READ_SCREEN)
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"the page's terminal did not show {want!r} within {SCREEN_S}s.\n"
        f"screen:\n{screen_text(screen)}\npage errors: {browser.page_errors()}\n"
        f"requests: {browser.requested_urls()}"
    )


def run_in_browser(tmp_path: Path, server: ServeProcess, want: str) -> tuple[dict, list[str]]:
    """Open the served page in a fresh headless Chromium; the screen and every URL requested."""
    browser = Chromium(tmp_path)
    try:
        browser.start()

        async def go() -> dict:
            try:
                return await open_page(browser, server.url, want)
            finally:
                await browser.close()

        try:
            screen = asyncio.run(asyncio.wait_for(go(), BROWSER_READY_S + SCREEN_S))
        except BaseException:
            print(f"--- serve log ---\n{server.log()}\n--- chromium log ---\n{browser.log()}")
            raise
        return screen, browser.requested_urls()
    finally:
        browser.stop()


def test_served_page_shows_the_lessons_and_stays_on_this_machine(
    browser_available: None, lesson_one_title: str, tmp_path: Path
) -> None:
    with ServeProcess(tmp_path, env=serve_env(tmp_path, no_color=False), cwd=ROOT) as server:
        html = server.wait_ready(SERVER_READY_S)
        assert external_urls_in_html(html) == [], "the served page names outside URLs"
        assert "fonts.googleapis.com" not in html

        screen, urls = run_in_browser(tmp_path, server, lesson_one_title)

    text = screen_text(screen)
    assert lesson_one_title in text
    # The request log is real: it holds the page, its script and the app's websocket.
    assert urls and urls[0] == server.url, urls
    assert any(u.endswith("/static/js/textual.js") for u in urls), urls
    assert any(u.startswith(f"ws://127.0.0.1:{server.port}/ws") for u in urls), urls
    assert [u for u in urls if outside(u)] == [], f"the page asked for outside URLs: {urls}"
    # In colour: the app's theme shows colours, not only greys.
    assert [c for c in screen["colours"] if not is_grey(c)], screen["colours"]


@pytest.mark.parametrize("how", ["--no-color", "NO_COLOR=1"])
def test_serve_respects_no_color(
    browser_available: None, lesson_one_title: str, tmp_path: Path, how: str
) -> None:
    env = serve_env(tmp_path, no_color=how == "NO_COLOR=1")
    args = ("--no-color",) if how == "--no-color" else ()
    with ServeProcess(tmp_path, *args, env=env, cwd=ROOT) as server:
        server.wait_ready(SERVER_READY_S)
        screen, urls = run_in_browser(tmp_path, server, lesson_one_title)

    assert [u for u in urls if outside(u)] == [], urls
    assert screen["colours"], "no coloured cells at all: the screen was not read"
    colourful = [c for c in screen["colours"] if not is_grey(c)]
    assert colourful == [], f"{how}: the served app still shows colours {colourful}"


def test_a_students_link_types_their_name_and_leaves_the_passphrase(
    browser_available: None, lesson_one_title: str, tmp_path: Path
) -> None:
    """``?student=NAME``: the form shows the name; the student types the passphrase only."""
    from kubeflow_tui.classroom import Classroom

    env = serve_env(tmp_path, no_color=False)
    with ServeProcess(tmp_path, "--class", "net101", env=env, cwd=ROOT) as server:
        server.wait_ready(SERVER_READY_S)
        browser = Chromium(tmp_path)
        try:
            browser.start()

            async def go() -> tuple[dict, dict]:
                try:
                    # an escape character in the link is dropped: what follows is text
                    form = await open_page(browser, server.url + "?student=Ann%20Lee%1b%5b2J",
                                           "Ann Lee[2J")
                    # what the student types: the passphrase and Enter, into the page
                    await browser.evaluate("window.__kftTerminal.focus()")
                    await browser.send("Input.insertText", text="apple-pie")
                    for kind in ("keyDown", "keyUp"):
                        await browser.send("Input.dispatchKeyEvent", type=kind, key="Enter",
                                           code="Enter", windowsVirtualKeyCode=13,
                                           **({"text": "\r"} if kind == "keyDown" else {}))
                    deadline = time.monotonic() + SCREEN_S
                    while time.monotonic() < deadline:
                        screen = await browser.evaluate(READ_SCREEN)
                        if "One Linux host" in screen_text(screen):
                            return form, screen
                        await asyncio.sleep(0.2)
                    raise AssertionError(f"no lesson after the passphrase:\n{screen_text(screen)}")
                finally:
                    await browser.close()

            try:
                form, lesson = asyncio.run(asyncio.wait_for(go(), BROWSER_READY_S + 2 * SCREEN_S))
            except BaseException:
                print(f"--- serve log ---\n{server.log()}\n--- chromium log ---\n{browser.log()}")
                raise
            urls = browser.requested_urls()
        finally:
            browser.stop()

    text = screen_text(form)
    assert "Sign in to class net101" in text
    # the name is in the name field, the passphrase field still empty (its placeholder)
    rows = [line.strip(" ▊▎") for line in form["lines"]]
    assert rows.index("Ann Lee[2J") < rows.index("passphrase")
    assert [u for u in urls if outside(u)] == [], urls
    room = Classroom("net101", root=Path(env["KUBEFLOW_TUI_DATA_DIR"]))
    assert [s.name for s in room.students()] == ["Ann Lee[2J"]
    assert room.sign_in("Ann Lee[2J", "apple-pie").progress().last
