"""The lesson screen's first frame: the quick preview of the lesson text must look exactly
like Textual's Markdown, and be replaced by it just after.

The first frame of each lesson is captured twice (the preview; the Markdown widget from
the start, as before the preview existed) and compared as styled terminal text.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fake_trace import FakeEngine
from rich.console import Console

from kubeflow_tui.progress import Progress
from kubeflow_tui.tui.app import KubeflowApp
from kubeflow_tui.tui.screens.flow import FlowScreen, FlowView
from kubeflow_tui.tui.widgets.markdown_subset import first_blocks

REPO = Path(__file__).resolve().parents[2]
LESSONS = sorted((REPO / "lessons").glob("*.md"))


def _styled_text(app) -> str:
    """The screen as a terminal would get it (text, colours, attributes)."""
    con = Console(width=app.size.width, file=io.StringIO(), color_system="truecolor", force_terminal=True,
                  legacy_windows=False)
    con.print(app.screen._compositor.render_update(full=True))
    return con.file.getvalue()


async def _first_frame(path: Path, data_dir: Path, *, preview: bool, size: tuple[int, int],
                       theme: str = "textual-dark") -> tuple[str, str]:
    """(first frame of the lesson screen, its lesson widget's id)."""
    FlowView.PREVIEW_LESSON = preview
    app = KubeflowApp(str(path), engine=FakeEngine(), lessons_dir=path.parent, progress=Progress.load(data_dir))
    app.theme = theme
    seen: dict[str, str] = {}
    display = app._display

    def probe(screen, renderable):  # noqa: ANN001
        display(screen, renderable)
        if renderable is not None and "frame" not in seen and isinstance(screen, FlowScreen):
            seen["frame"] = _styled_text(app)
            ids = [w.id for w in screen.query("#lesson-preview, #lesson-md")]
            seen["widget"] = ",".join(i or "" for i in ids)

    app._display = probe  # type: ignore[method-assign]
    try:
        async with app.run_test(size=size) as pilot:
            for _ in range(200):
                if "frame" in seen:
                    break
                await pilot.pause(0.01)
    finally:
        FlowView.PREVIEW_LESSON = True
    return seen["frame"], seen["widget"]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_preview_first_frame_is_the_markdown_first_frame(data_dir, size):
    previewed = 0
    for path in LESSONS:
        frame, widget = await _first_frame(path, data_dir, preview=True, size=size)
        expected, real = await _first_frame(path, data_dir, preview=False, size=size)
        assert real == "lesson-md"
        if widget == "lesson-preview":
            previewed += 1
        assert frame == expected, f"{path.name} at {size}: the preview does not look like the Markdown"
    assert previewed >= len(LESSONS) // 2  # the preview is used for most lessons (lesson 1 above all)


SAMPLES = {
    "emphasis": "# Title *em*\n\nSome **bold** text, *em* and `code`, **`bold code`** and (**in parens**).\n"
                "A second line: **bold**, then *em*. And `a*b`.\n",
    "lists": "## Lists\n\n- one **b**\n- two, which goes on\n  over two lines\n- `three`\n\nAfter.\n\n"
             "1. first\n2. second\n3. third\n4. four\n5. five\n6. six\n7. seven\n8. eight\n9. nine\n10. ten\n",
    "quote": "> A quote that is\n> long enough to wrap around at eighty columns, with **bold** and `code` in it.\n\n"
             "### Heading three\n\n#### Four\n\n##### Five\n\n###### Six\n",
    "fences": "```\nplain  fence   spaces\n\n  indented\n```\n\nText.\n\n```text\na text fence\n```\n",
    "spaces": "A  paragraph   with    runs of spaces\nand a softbreak.\n",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_preview_of_each_markdown_form(tmp_path, data_dir, name, theme):
    md = SAMPLES[name]
    assert first_blocks(md, 24) is not None
    lesson = tmp_path / "01-sample.md"
    lesson.write_text(f'---\ntitle: "Sample"\nscenario: s.yaml\nflows: [pod-to-service]\nminutes: 1\n---\n{md}')
    for size in [(80, 24), (160, 48)]:
        frame, widget = await _first_frame(lesson, data_dir, preview=True, size=size, theme=theme)
        expected, _ = await _first_frame(lesson, data_dir, preview=False, size=size, theme=theme)
        assert widget == "lesson-preview"
        assert frame == expected, f"{name} at {size}"


async def test_the_markdown_replaces_the_preview(make_real_app):
    app = make_real_app(str(LESSONS[0]))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(300):
            if not app.screen.query("#lesson-preview") and app.screen.query("#lesson-md"):
                break
            await pilot.pause(0.02)
        assert not app.screen.query("#lesson-preview")
        md = app.screen.query_one("#lesson-md")
        assert md.display
        await pilot.pause(0.1)
        # the whole lesson is there (the preview had only its first screen)
        assert len(md.children) > 10


@pytest.mark.parametrize("md", [
    "[a link](x)", "a_b", "<b>html</b>", "a &amp; b", "a\\*b", "~~gone~~", "| a | b |\n|---|---|\n| 1 | 2 |",
    "Title\n=====", "***", "- a\n\n- b", "- a\n  - b", "* star", "1) paren", "a **b *c* d**", "**a*",
    "`` a ``", "```python\nx\n```", "> a\nlazy", "text\n    indented", "\tx", "**→**", "- a\nlazy",
])
def test_unsure_markdown_gets_no_preview(md):
    assert first_blocks(md, 24) is None


# ---------------------------------------------------------------- the reader vs markdown-it
# Random Markdown made of the forms the reader knows and of the ones it must refuse: when it
# accepts, its blocks must be the ones Textual's Markdown builds (type, line, text, spans).

SAFE_PIECES = ["word", "Two words", "x", "(paren)", "a.b", "it's", "…", "é", "a: b", "c, d", "e. F", "**bold**",
               "*em*", "`code`", "**`c`**", "(**p**)", "**a b**,", "*x*.", "10.96.0.1", "a**b**c", "**→**", "*",
               "`a*b`", "**x** *y*", "x  y", "PREROUTING → KUBE-SVC-…", "**KUBE-SVC-…**"]
ODD_PIECES = ["**", "*", "`", "``", "_", "~", "[", "]", "<", ">", "&", "|", "#", "\\", "-", "1.", "→", "\t", " ",
              "&amp;", "[l](u)", "a_b", "~~s~~", "***", "<b>"]
ODD_LINES = ["  indented", "    code", "---", "===", "* star", "1) paren", "+ plus", "<div>", "| a | b |",
             "|---|---|", "- ", "> ", ">", "```python", "````", " ```", "```", "text ", "- - nested", "  - nested",
             "#nospace", "# closed #"]


def _random_markdown(rng) -> str:  # noqa: ANN001
    """Blocks of the known forms, now and then a piece or a line the reader must refuse."""

    def text(n: int = 4) -> str:
        return " ".join(rng.choice(ODD_PIECES if rng.random() < 0.04 else SAFE_PIECES)
                        for _ in range(rng.randint(1, n)))

    lines: list[str] = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["p", "p", "h", "ul", "ol", "quote", "fence", "odd"])
        if kind == "p":
            lines += [text() for _ in range(rng.randint(1, 3))]
        elif kind == "h":
            lines.append("#" * rng.randint(1, 6) + " " + text())
        elif kind in ("ul", "ol"):
            first = rng.choice([1, 1, 2, 9])
            for k in range(rng.randint(1, 11)):
                marker = "- " if kind == "ul" else f"{first + k}. "
                lines.append(marker + text(3))
                if rng.random() < 0.3:
                    lines.append(" " * len(marker) + text(2))
        elif kind == "quote":
            lines += ["> " + text() for _ in range(rng.randint(1, 2))]
        elif kind == "fence":
            lines += [rng.choice(["```", "```text"])] + [text() for _ in range(rng.randint(0, 3))] + ["```"]
        else:
            lines.append(rng.choice(ODD_LINES))
        lines += [""] * rng.choice([0, 1, 1, 1, 2])
    return "\n".join(lines)


def _textual_blocks(md: str, limit: int):  # noqa: ANN202
    from textual._context import active_app
    from textual.app import App

    from kubeflow_tui.tui.widgets.lesson_markdown import LessonMarkdown

    token = active_app.set(App())
    try:
        blocks = LessonMarkdown(md)._build_from_source(md)
    finally:
        active_app.reset(token)
    first = next((i for i, b in enumerate(blocks) if i and b.source_range[0] >= limit), len(blocks))
    return blocks[:first]


def _shape(content) -> tuple:  # noqa: ANN001
    return content.plain, [(s.start, s.end, str(s.style)) for s in content.spans]


def _compare(md: str, limit: int = 6) -> bool:
    from textual.content import Content

    from kubeflow_tui.tui.widgets.lesson_preview import BULLET, inline_content, list_symbols

    mine = first_blocks(md, limit)
    if mine is None:
        return False
    real = _textual_blocks(md, limit)
    assert len(mine) == len(real), md
    names = {"bullet_list": "MarkdownBulletList", "ordered_list": "MarkdownOrderedList",
             "blockquote": "MarkdownBlockQuote", "paragraph": "MarkdownParagraph", "fence": "PlainFence"}
    for b, r in zip(mine, real):
        assert type(r).__name__ == names.get(b.kind, f"Markdown{b.kind.upper()}"), md
        assert b.start == r.source_range[0], md
        if b.kind == "fence":
            assert _shape(Content(b.code).stylize_before("$text")) == _shape(r._highlighted_code), md
        elif b.kind == "blockquote":
            assert [_shape(inline_content(b.inline))] == [_shape(p._content) for p in r._blocks], md
        elif b.kind.endswith("_list"):
            items = r._blocks
            assert [[_shape(inline_content(it))] for it in b.items] == [[_shape(p._content) for p in i._blocks]
                                                                         for i in items], md
            if b.kind == "bullet_list":
                assert all(i.bullet == BULLET for i in items), md
            else:
                assert str(b.first_number) == items[0].bullet, md
                assert list_symbols(b)  # (the numbering itself is checked by the frames)
        else:
            assert _shape(inline_content(b.inline)) == _shape(r._content), md
    return True


def test_reader_agrees_with_markdown_it_on_random_markdown():
    import random

    rng = random.Random(1234)
    accepted = sum(_compare(_random_markdown(rng), limit=rng.choice([3, 6, 24])) for _ in range(3000))
    assert accepted > 300  # the generator does reach the accepted forms


def test_reader_agrees_with_markdown_it_on_the_lessons():
    from kubeflow_tui import lessons

    for path in LESSONS:
        body = lessons.parse_lesson(path).body
        for limit in (20, 24, 48):
            _compare(body, limit)


async def test_no_frame_without_the_lesson_text(data_dir):
    """From the first frame until the Markdown has replaced the preview, every frame shows
    the lesson's first lines (the swap happens in one frame)."""
    import re

    app = KubeflowApp(str(LESSONS[0]), engine=FakeEngine(), lessons_dir=LESSONS[0].parent,
                      progress=Progress.load(data_dir))
    frames: list[str] = []
    display = app._display

    def probe(screen, renderable):  # noqa: ANN001
        display(screen, renderable)
        if renderable is not None and isinstance(screen, FlowScreen):
            frames.append(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", _styled_text(app)))

    app._display = probe  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(300):
            if app.screen.query("#lesson-md") and not app.screen.query("#lesson-preview"):
                break
            await pilot.pause(0.01)
        await pilot.pause(0.2)
    assert len(frames) >= 2
    assert all("One Linux host" in f and "Before Kubernetes, learn the road" in f for f in frames)
