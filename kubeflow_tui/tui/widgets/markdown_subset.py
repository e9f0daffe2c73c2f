"""A strict reader for the top of a lesson: the Markdown blocks of its first screen.

The lesson screen's first frame shows the beginning of the lesson before Textual's
``Markdown`` widget (markdown-it, Pygments: a quarter of the app's start-up) is loaded
(``lesson_preview``).  This reader understands only a small part of CommonMark, and
only where the outcome is certain: it gives the same blocks and the same inline text as
markdown-it's "gfm-like" parser gives Textual, or ``None`` ("not sure": the lesson is
then shown by ``LessonMarkdown`` from the start).

Understood: ATX headings, paragraphs, ```` ``` ```` / ```` ```text ```` fences, tight
one-level ``-`` and ``1.`` lists of one paragraph per item, one-paragraph ``>`` quotes;
inline ``**strong**``, ``*em*`` (not nested) and single-backtick code.  Anything else
(links, HTML, tables, escapes, entities, ``_``, ``~``, tabs, indented or lazy lines, loose
lists, setext headings, rules ...) gives ``None``.  ``tests/tui/test_lesson_preview.py``
checks it against Textual's own rendering.
"""

from __future__ import annotations

import re
import unicodedata

#: source lines whose blocks the first frame shows (``LessonMarkdown`` and the preview
#: agree on it: at least the screen's height)
FIRST_LINES = 20

# (kind, text): kind is "text", "code", "softbreak", "strong_open", "strong_close",
# "em_open" or "em_close" -- the inline tokens markdown-it gives for what is understood
Inline = list[tuple[str, str]]


class Block:
    """One block.  (A plain class: making a dataclass costs start-up time.)"""

    def __init__(self, kind: str, start: int, *, inline: Inline | None = None, code: str = "",
                 first_number: int = 1) -> None:
        self.kind = kind  # "h1".."h6", "paragraph", "fence", "bullet_list", "ordered_list", "blockquote"
        self.start = start  # first source line (markdown-it's token.map[0])
        self.inline: Inline = inline or []  # headings, paragraphs, quotes
        self.code = code  # fences
        self.items: list[Inline] = []  # lists: one paragraph per item
        self.first_number = first_number  # ordered lists

    def __repr__(self) -> str:
        return f"Block({self.kind!r}, {self.start})"


_HEADING = re.compile(r"(#{1,6}) (\S.*)")
_BULLET = re.compile(r"- (\S.*)")
_ORDERED = re.compile(r"([1-9][0-9]{0,8})\. (\S.*)")
_QUOTE = re.compile(r"> (\S.*)")
# a line that surely starts (or continues) a paragraph: a letter or digit (not "1." or
# "1)", a list), "(", "**" + a letter or digit, or one backtick (not a fence)
_SAFE_START = re.compile(r"(?![0-9]+[.)])[A-Za-z0-9(]|\*\*[A-Za-z0-9]|`(?!``)")
_NOT_INLINE = set("\\~_[]<&\t\0|")  # escapes, strikethrough, links, HTML, entities, tables ...


def _paragraph_line(line: str) -> bool:
    return bool(_SAFE_START.match(line)) and line == line.strip()


def first_blocks(source: str, first_lines: int) -> list[Block] | None:
    """The blocks that start before ``first_lines`` (and always the first block), or None."""
    lines = source.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if blocks and i >= first_lines:
            return blocks
        start = i
        if line in ("```", "```text"):
            # the first line markdown-it could take for the closing fence must be exactly ```
            end = next((j for j in range(i + 1, len(lines)) if lines[j].lstrip(" ").startswith("```")), None)
            body = lines[i + 1:end] if end is not None else []
            if end is None or lines[end] != "```" or any("\t" in b or "\0" in b or "\r" in b for b in body):
                return None
            # what Textual does to a fence token: rstrip, then highlight() joins the lines
            code = "\n".join(("\n".join(body) + "\n").rstrip().splitlines())
            blocks.append(Block("fence", start, code=code))
            i = end + 1
        elif m := _HEADING.fullmatch(line):
            text = m.group(2)
            inline = _inline(text) if text == text.rstrip() and not text.endswith("#") else None
            if inline is None:
                return None
            blocks.append(Block(f"h{len(m.group(1))}", start, inline=inline))
            i += 1
        elif _QUOTE.fullmatch(line):
            j = i
            while j < len(lines) and (m := _QUOTE.fullmatch(lines[j])) and _paragraph_line(m.group(1)):
                j += 1
            if j == i or (j < len(lines) and lines[j]):  # "> " lines, then a blank line
                return None
            inline = _inline("\n".join(lines[k][2:] for k in range(i, j)))
            if inline is None:
                return None
            blocks.append(Block("blockquote", start, inline=inline))
            i = j
        elif _BULLET.fullmatch(line) or _ORDERED.fullmatch(line):
            block, i = _list(lines, i)
            if block is None:
                return None
            blocks.append(block)
        elif _paragraph_line(line):
            j = i + 1
            while j < len(lines) and lines[j]:
                if not _paragraph_line(lines[j]):
                    return None  # a line that might start a block, or a setext underline
                j += 1
            inline = _inline("\n".join(lines[i:j]))
            if inline is None:
                return None
            blocks.append(Block("paragraph", start, inline=inline))
            i = j
        else:
            return None
    return blocks


def _list(lines: list[str], i: int) -> tuple[Block | None, int]:
    """A tight one-level list from line i: (block, next line) or (None, i)."""
    ordered = _ORDERED.fullmatch(lines[i]) is not None
    marker = _ORDERED if ordered else _BULLET
    first = marker.fullmatch(lines[i])
    assert first is not None
    block = Block("ordered_list" if ordered else "bullet_list", i,
                  first_number=int(first.group(1)) if ordered else 1)
    while i < len(lines) and (m := marker.fullmatch(lines[i])):
        text = m.group(m.lastindex or 1)
        if not _paragraph_line(text):
            return None, i
        indent = " " * (len(lines[i]) - len(text))
        item = [text]
        i += 1
        while i < len(lines) and lines[i].startswith(indent) and _paragraph_line(lines[i][len(indent):]):
            item.append(lines[i][len(indent):])
            i += 1
        inline = _inline("\n".join(item))
        if inline is None:
            return None, i
        block.items.append(inline)
        if i < len(lines) and lines[i] and not marker.fullmatch(lines[i]):
            return None, i  # a lazy or nested line, or another kind of list
    if i < len(lines) and lines[i]:
        return None, i
    # after the blank line: more items would make it one loose list, more indented text
    # a second paragraph of the last item
    nxt = next((ln for ln in lines[i:] if ln), "")
    if _BULLET.fullmatch(nxt) or _ORDERED.fullmatch(nxt) or nxt.startswith(" "):
        return None, i
    return block, i


def _kind(ch: str) -> str:
    """For emphasis: "space", "punct", "other", or "unsure" (where versions of
    CommonMark and markdown-it disagree: non-ASCII symbols and spaces)."""
    if ch in " \n":
        return "space"
    if ch.isascii():
        return "punct" if not ch.isalnum() and ch.isprintable() else "other" if ch.isalnum() else "unsure"
    cat = unicodedata.category(ch)
    return "punct" if cat.startswith("P") else "unsure" if cat[0] in "SZC" else "other"


def _inline(text: str) -> Inline | None:
    """markdown-it's inline tokens for ``text`` (lines already stripped), or None."""
    out: Inline = []
    buf: list[str] = []
    opened: tuple[int, int] | None = None  # (token index, delimiter length) of an open * run

    def flush() -> None:
        if buf:
            out.append(("text", "".join(buf)))
            buf.clear()

    n, i = len(text), 0
    while i < n:
        ch = text[i]
        if ch == "`":
            end = text.find("`", i + 1)
            code = text[i + 1:end]
            if end < 0 or not code or text[end + 1:end + 2] == "`" or "\n" in code or code != code.strip():
                return None
            flush()
            out.append(("code", code))
            i = end + 1
        elif ch == "*":
            k = i
            while k < n and text[k] == "*":
                k += 1
            size = k - i
            before, after = _kind(text[i - 1] if i else " "), _kind(text[k] if k < n else " ")
            if size > 2 or "unsure" in (before, after):
                return None
            left = after != "space" and (after != "punct" or before in ("space", "punct"))
            right = before != "space" and (before != "punct" or after in ("space", "punct"))
            if left == right:
                return None  # both (intraword) or neither: not worth being sure
            flush()
            name = "strong" if size == 2 else "em"
            if left:
                if opened is not None:
                    return None  # nested emphasis
                opened = (len(out), size)
                out.append((f"{name}_open", ""))
            else:
                if opened is None or opened[1] != size:
                    return None
                opened = None
                out.append((f"{name}_close", ""))
            i = k
        elif ch == "\n":
            flush()
            out.append(("softbreak", ""))
            i += 1
        elif ch in _NOT_INLINE or not (ch.isprintable() or ch == " "):
            return None
        else:
            buf.append(ch)
            i += 1
    if opened is not None:
        return None
    flush()
    return out
