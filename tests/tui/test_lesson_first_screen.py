"""The lesson screen's first moments, as a served class meets them (issue #19's load
target): what the learner reads first comes first.

The lesson's text mounts in two steps: the blocks that fill the first screen, then (after
that frame) the whole text; the panels the first frame does not show mount after the
text.  Each Markdown block is a widget to style and lay out, and they were most of what
the screen cost a session."""

from __future__ import annotations

import re

from helpers import settle

from conftest import REPO
from kubeflow_tui.lessons import parse_lesson
from kubeflow_tui.tui.widgets.lesson_markdown import first_screenful

LESSON_1 = parse_lesson(REPO / "lessons" / "01-one-linux-host.md")


def test_the_first_screenful_is_whole_blocks_from_the_start():
    body = LESSON_1.body
    first = first_screenful(body, 24)
    assert first is not None and body.startswith(first) and len(first) < len(body)
    assert "Before Kubernetes, learn the road" in first
    assert len(first.splitlines()) >= 24  # at least a screen's rows of source
    assert first.count("```") % 2 == 0  # never cut inside a code fence
    assert body[len(first):].lstrip("\n")[:1] not in ("", " ")  # the rest starts a block


def test_a_text_shorter_than_the_screen_has_no_first_screenful():
    assert first_screenful(LESSON_1.body, 10_000) is None
    assert first_screenful("# Title\n\nOne line.\n", 24) is None


def test_every_lesson_cuts_between_blocks():
    for path in sorted((REPO / "lessons").glob("*.md")):
        body = parse_lesson(path).body
        for rows in (24, 40):
            first = first_screenful(body, rows)
            if first is None:
                continue
            assert body.startswith(first)
            fences = [line for line in first.splitlines() if re.match(r"\s*(```|~~~)", line)]
            assert len(fences) % 2 == 0, (path.name, rows)


async def test_lesson_text_first_then_the_whole_text_then_the_other_panels(make_real_app):
    app = make_real_app(start="auto")
    seen = []
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(400):
            await pilot.pause(0)
            blocks = len(app.screen.query("#lesson-md MarkdownBlock"))
            if blocks:
                seen.append((blocks, bool(app.screen.query("#chain"))))
            if app.screen.query("#conntrack"):
                break
        await settle(pilot)
        whole = len(app.screen.query("#lesson-md MarkdownBlock"))
        md = app.screen.query_one("#lesson-md")
        assert md.source == app.screen.lesson_markdown()
        assert app.screen.query_one("#lesson").has_focus  # ↑↓ pgup pgdn scroll the text
        assert app.screen.query("#chain") and app.screen.query("#conntrack")
    first_blocks, chain_mounted = seen[0]
    assert first_blocks < whole  # the first frame with text had the first screenful only
    assert not chain_mounted  # and the hidden panels came after the text
