"""The lesson text: Textual's ``Markdown`` with untagged code fences shown as plain text.

Textual's Markdown parses the lesson in a thread once mounted and mounts its blocks
after the first frame (the lesson's first frame is its layout; the text follows within a
few frames).  A block is a widget or several, each styled and laid out: a lesson is 30 to
80 of them, and they were most of what the lesson screen cost.  So the screen first
mounts only the blocks that fill the first screen (:func:`first_screenful`) and then the
whole text (``Markdown.update``), after that frame.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownFence


class PlainFence(MarkdownFence):
    """A fence without a language is plain text.

    Textual would ask Pygments to guess the language, which imports every lexer (about
    0.3 s on the first lesson) and then colours iptables rules as if they were some
    programming language."""

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        return super().highlight(code, language or "text", ansi=ansi, dark=dark)


def _parser() -> Any:
    """Textual's "gfm-like" parser without linkify: lessons write no bare URLs, and
    linkify's patterns take longer to compile (on the first parse) than the lesson to parse."""
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like").disable("linkify")


def first_screenful(markdown: str, rows: int) -> str | None:
    """The beginning of ``markdown`` that fills a screen of ``rows`` rows: its whole
    top-level blocks up to the first that starts ``rows`` source lines or more into the
    text (a source line shows as one row or more), or None when that is all of it."""
    tokens = _parser().parse(markdown)
    for token in tokens:
        if token.level == 0 and token.map is not None and token.nesting >= 0 and token.map[0] >= rows:
            return "".join(markdown.splitlines(keepends=True)[: token.map[0]])
    return None


class LessonMarkdown(Markdown):
    BLOCKS = {**Markdown.BLOCKS, "fence": PlainFence, "code_block": PlainFence}

    def __init__(self, markdown: str | None = None, **kw: Any) -> None:
        kw.setdefault("parser_factory", _parser)
        super().__init__(markdown, **kw)
