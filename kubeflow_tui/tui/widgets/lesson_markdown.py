"""The lesson text: Textual's ``Markdown`` with untagged code fences shown as plain text.

Textual's Markdown parses the lesson in a thread once mounted and mounts its blocks
after the first frame: until then the panel shows Textual's loading indicator (the
lesson's first frame is its layout; the text follows within a few frames).
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


class LessonMarkdown(Markdown):
    BLOCKS = {**Markdown.BLOCKS, "fence": PlainFence, "code_block": PlainFence}

    def __init__(self, markdown: str | None = None, **kw: Any) -> None:
        kw.setdefault("parser_factory", _parser)
        super().__init__(markdown, **kw)
