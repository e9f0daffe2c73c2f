"""A grid of characters with a style per cell, turned into rich ``Text`` lines."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

#: Light box-drawing characters and their heavy twins (a travelled path reads without colour).
HEAVY = str.maketrans({
    "─": "━", "│": "┃", "┌": "┏", "┐": "┓", "└": "┗", "┘": "┛", "├": "┣", "┤": "┫",
    "┬": "┳", "┴": "┻", "┼": "╋", "═": "━", "╤": "┳", "╧": "┻", "╪": "╋",
})


class Canvas:
    __slots__ = ("width", "height", "chars", "styles")

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles: list[list[Style | None]] = [[None] * width for _ in range(height)]

    def copy(self) -> "Canvas":
        c = Canvas.__new__(Canvas)
        c.width, c.height = self.width, self.height
        c.chars = [row[:] for row in self.chars]
        c.styles = [row[:] for row in self.styles]
        return c

    def put(self, x: int, y: int, text: str, style: Style | None = None, *, limit: int | None = None) -> None:
        """Write ``text`` from (x, y), clipped to the canvas (and to ``limit`` columns)."""
        if not 0 <= y < self.height:
            return
        end = self.width if limit is None else min(self.width, x + limit)
        row, srow = self.chars[y], self.styles[y]
        for i, ch in enumerate(text):
            cx = x + i
            if cx >= end:
                break
            if cx >= 0:
                row[cx] = ch
                srow[cx] = style

    def put_text(self, x: int, y: int, text: Text) -> None:
        """Write a rich Text from (x, y), keeping the style of each character."""
        plain = text.plain
        styles: list[Style | None] = [None] * len(plain)
        for span in text.spans:
            st = span.style if isinstance(span.style, Style) else Style.parse(span.style)
            for i in range(span.start, min(span.end, len(plain))):
                styles[i] = st if styles[i] is None else styles[i] + st
        for i, ch in enumerate(plain):
            self.put(x + i, y, ch, styles[i])

    def get(self, x: int, y: int) -> str:
        if 0 <= y < self.height and 0 <= x < self.width:
            return self.chars[y][x]
        return " "

    def restyle(self, x: int, y: int, style: Style | None) -> None:
        if 0 <= y < self.height and 0 <= x < self.width:
            self.styles[y][x] = style

    def lines(self) -> list[Text]:
        out: list[Text] = []
        for row, srow in zip(self.chars, self.styles):
            t = Text(no_wrap=True, overflow="crop", end="")
            run_start, run_style = 0, srow[0] if srow else None
            for i in range(1, len(row) + 1):
                if i == len(row) or srow[i] != run_style:
                    t.append("".join(row[run_start:i]), run_style)
                    if i < len(row):
                        run_start, run_style = i, srow[i]
            out.append(t)
        return out

    def segment_rows(self, base: Style | None = None) -> list[list[Segment]]:
        """Each row as rich Segments (runs of one style), ``base`` under every style."""
        rows: list[list[Segment]] = []
        for row, srow in zip(self.chars, self.styles):
            segs: list[Segment] = []
            start, style = 0, srow[0] if srow else None
            for i in range(1, len(row) + 1):
                if i == len(row) or srow[i] is not style:
                    full = style if base is None else (base if style is None else base + style)
                    segs.append(Segment("".join(row[start:i]), full))
                    if i < len(row):
                        start, style = i, srow[i]
            rows.append(segs)
        return rows

    def text(self) -> Text:
        return Text("\n", no_wrap=True, overflow="crop").join(self.lines())

    def plain(self) -> str:
        return "\n".join("".join(r).rstrip() for r in self.chars)
