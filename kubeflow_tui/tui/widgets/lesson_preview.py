"""The first screen of a lesson, drawn as Textual's ``Markdown`` would draw it, but cheaply.

Loading Textual's ``Markdown`` (markdown-it, Pygments, twenty widget classes and their
CSS) took longer than the rest of the lesson screen.  So the lesson screen's first frame
shows a ``LessonPreview`` of the blocks that ``LessonMarkdown`` puts in its first frame,
read by ``markdown_subset`` (which refuses any Markdown it is not sure of), laid out and
styled as Textual's blocks are; ``FlowView`` then replaces it with the real
``LessonMarkdown``.  The learner sees no change: ``tests/tui/test_lesson_preview.py``
compares both renderings line by line.

The blocks are plain Statics and containers with a CSS class each (defining widget classes
costs start-up time too).  The CSS is Textual 8.2's Markdown CSS for these blocks
(``textual/widgets/_markdown.py``) with each block's rules merged; the inline styles are on
the container, where a block's ``.strong`` / ``.em`` / ``.code_inline`` span finds them
(``Widget._get_style`` walks up the DOM).
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content, Span
from textual.widget import Widget
from textual.widgets import Label, Static

from kubeflow_tui.tui.widgets.markdown_subset import Block, Inline

#: Textual's bullet for a first-level unordered list (``Markdown.BULLETS[0]``)
BULLET = "• "


def inline_content(tokens: Inline) -> Content:
    """The Content Textual's ``MarkdownBlock._token_to_content`` makes of these tokens."""
    parts: list[str] = []
    spans: list[Span] = []
    stack: list[tuple[str, int]] = []
    position = 0
    for kind, text in tokens:
        if kind == "text":
            text = re.sub(r"\s+", " ", text)
        elif kind == "softbreak":
            text = " "
        elif kind == "code":
            spans.append(Span(position, position + len(text), ".code_inline"))
        elif kind.endswith("_open"):
            stack.append((".strong" if kind == "strong_open" else ".em", position))
            continue
        else:  # *_close
            style, start = stack.pop()
            spans.append(Span(start, position, style))
            continue
        parts.append(text)
        position += len(text)
    return Content("".join(parts), spans=spans)


def list_symbols(block: Block) -> list[str]:
    """The bullets, or the numbers right-aligned as Textual's ordered lists have them."""
    if block.kind == "bullet_list":
        return [BULLET] * len(block.items)
    numbers = [f"{n}. " for n in range(block.first_number, block.first_number + len(block.items))]
    width = max(len(s) for s in numbers)
    return [s.rjust(width + 1) for s in numbers]


def paragraph(inline: Inline) -> Static:
    return Static(inline_content(inline), expand=True, classes="-block -paragraph")


def block_widget(block: Block) -> Widget:
    """The widgets of one block, as Textual's Markdown nests them."""
    if block.kind[0] == "h":  # h1 … h6
        return Static(inline_content(block.inline), expand=True, classes=f"-block -heading -{block.kind}")
    if block.kind == "paragraph":
        return paragraph(block.inline)
    if block.kind == "fence":
        # what PlainFence.highlight gives for the "text" language (no token styles)
        code = Content(block.code).stylize_before("$text")
        return Vertical(Label(code, id="code-content", expand=True), classes="-block -fence")
    if block.kind == "blockquote":
        return Vertical(paragraph(block.inline), classes="-block -quote")
    items = [Horizontal(Static(symbol, classes="-bullet"), Vertical(paragraph(item)))
             for symbol, item in zip(list_symbols(block), block.items)]
    return Vertical(*items, classes="-block -list")


class LessonPreview(Widget):
    """The first blocks of a lesson, as ``LessonMarkdown`` shows them."""

    COMPONENT_CLASSES = {"em", "strong", "s", "code_inline"}

    DEFAULT_CSS = """
    LessonPreview {
        height: auto;
        padding: 0 2 0 2;
        layout: vertical;
        color: $foreground;
        overflow-y: hidden;
        &:ansi > .code_inline { background: ansi_default !important; }
        &:dark > .code_inline { background: $warning 10%; color: $text-warning 95%; }
        &:light > .code_inline { background: $error 5%; color: $text-error 95%; }
        & > .em { text-style: italic; }
        & > .strong { text-style: bold; }
        & > .s { text-style: strike; }

        .-block { width: 1fr; height: auto; }
        & > .-paragraph { margin: 0 0 1 0; }
        .-heading { margin: 1 0; }
        .-h1, .-h2 { margin: 2 0 1 0; }
        .-h1 {
            content-align: center middle;
            color: $markdown-h1-color; background: $markdown-h1-background; text-style: $markdown-h1-text-style;
        }
        .-h2 { color: $markdown-h2-color; background: $markdown-h2-background; text-style: $markdown-h2-text-style; }
        .-h3 {
            color: $markdown-h3-color; background: $markdown-h3-background; text-style: $markdown-h3-text-style;
            width: auto;
        }
        .-h4 { color: $markdown-h4-color; background: $markdown-h4-background; text-style: $markdown-h4-text-style; }
        .-h5 { color: $markdown-h5-color; background: $markdown-h5-background; text-style: $markdown-h5-text-style; }
        .-h6 { color: $markdown-h6-color; background: $markdown-h6-background; text-style: $markdown-h6-text-style; }
        .-fence {
            padding: 0;
            margin: 1 0;
            overflow: scroll hidden;
            scrollbar-size-horizontal: 0;
            scrollbar-size-vertical: 0;
            color: rgb(210,210,210);
            background: black 10%;
            &:light { background: white 30%; }
            & > Label { padding: 1 2; }
            &:ansi { background: transparent; margin: 0; & > Label { padding: 1 0; } }
        }
        .-list { margin: 0 0 1 0; padding: 0 0; }
        .-list Horizontal { height: auto; width: 1fr; }
        .-list Vertical { height: auto; width: 1fr; }
        .-bullet { width: auto; height: initial; color: $text-primary; &:light { color: $text-secondary; } }
        .-quote {
            background: $boost;
            border-left: outer $text-primary 50%;
            margin: 1 0;
            padding: 0 1;
            &:light { border-left: outer $text-secondary; }
        }
    }
    """

    def __init__(self, blocks: list[Block], **kw) -> None:
        super().__init__(**kw)
        self.blocks = blocks

    def compose(self) -> ComposeResult:
        for block in self.blocks:
            yield block_widget(block)
