"""The lesson text: Textual's Markdown with untagged code fences shown as plain text.

Textual's ``Markdown`` parses its document in a thread once mounted and mounts the blocks
afterwards, so the screen's first frame shows an empty panel.  ``LessonMarkdown`` builds
its blocks in ``compose`` instead: the beginning of the lesson (what fits in the panel) is
in the first frame, and the rest of the blocks are mounted just after it (laying out every
block of a long lesson before the first frame would delay it for text below the fold).
Most lessons' first frame is a ``LessonPreview`` of those same first blocks, which this
widget replaces once loaded (``FlowView.load_lesson_markdown``).
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownFence

from kubeflow_tui.tui.widgets.markdown_subset import FIRST_LINES


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

    #: source lines whose blocks are in the first frame (at least the screen's height)
    FIRST_LINES = FIRST_LINES

    def __init__(self, markdown: str | None = None, **kw: Any) -> None:
        kw.setdefault("parser_factory", _parser)
        super().__init__(markdown, **kw)
        self._rest: list[MarkdownBlock] = []

    def compose(self) -> ComposeResult:
        source = self._initial_markdown or ""
        self._initial_markdown = None
        self._markdown = source
        self._theme = self.app.theme
        lines = source.splitlines()
        self._last_parsed_line = len(lines) - (1 if lines and lines[-1] else 0)
        blocks = self._build_from_source(source)
        limit = max(self.FIRST_LINES, self.app.size.height)
        first = next((i for i, b in enumerate(blocks) if i and b.source_range[0] >= limit), len(blocks))
        self._rest = blocks[first:]
        yield from blocks[:first]

    async def _on_mount(self, event: events.Mount) -> None:
        # Not Markdown's handler: it would parse the document again and replace the blocks.
        event.prevent_default()
        if self._rest:
            self.call_after_refresh(self._mount_rest)

    def _mount_rest(self) -> None:
        rest, self._rest = self._rest, []
        if rest and self.is_attached:
            self.mount_all(rest)
