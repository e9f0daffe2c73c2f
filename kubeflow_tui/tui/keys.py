"""The help screen's and the command palette's view of the keys: read from the bindings.

Every key is declared once, as a ``Binding`` (description for the footer, tooltip for
help and the palette, id) in the ``BINDINGS`` of the screen or widget it belongs to.
Only bindings with an ``id`` are the app's (Textual's own widget keys have none).
This module only reads them: ``screen.active_bindings`` for the keys that work where the
learner is now, and a class's ``BINDINGS`` for the other places.  A class says what its
keys are about with ``HELP_TITLE``.
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

from textual.binding import Binding


#: the number keys answer a question's options
OPTIONS = Binding.Group("Answer option 1, 2, 3 …", compact=True)
#: the number keys show a panel of the flow screen
PANELS = Binding.Group("Show panel 1 … 8 (the numbered tabs)", compact=True)
#: groups the help lists as one row (the others only join keys into one footer item)
HELP_GROUPS = (OPTIONS, PANELS)
#: footer-only groups: the hooks panel's and the ladder's ↑↓ as one footer item each, so
#: the footer keeps its room for help and quit at 80 columns; the help lists each key
HOOK_KEYS = Binding.Group("Hook", compact=True)
ARROW_KEYS = Binding.Group("Arrow", compact=True)


class KeyRow(NamedTuple):
    keys: str  # "→ l"
    what: str  # the binding's tooltip, else its description
    action: str
    node: Any  # the node whose binding it is (None for a class's BINDINGS)
    enabled: bool = True


def key_display(app: Any, binding: Binding) -> str:
    return app.get_key_display(binding) if app is not None else binding.key


def _rows(app: Any, items: Iterable[tuple[Any, Binding, bool]]) -> list[KeyRow]:
    """One row per (node, action): the keys of bindings that do the same thing together."""
    rows: dict[tuple[int, str], KeyRow] = {}
    for node, binding, enabled in items:
        if binding.id is None:  # Textual's own widget keys (focus next, scroll ...): not the app's
            continue
        group = binding.group if binding.group in HELP_GROUPS else None
        k = (id(node), group.description if group is not None else binding.action)
        shown = key_display(app, binding)
        row = rows.get(k)
        if row is None:
            what = group.description if group is not None else (binding.tooltip or binding.description)
            rows[k] = KeyRow(shown, what, binding.action, node, enabled)
        elif group is not None and group.compact:
            rows[k] = row._replace(keys=f"{row.keys.split(' … ')[0]} … {shown}")
        elif shown not in row.keys.split(" "):
            rows[k] = row._replace(keys=f"{row.keys} {shown}")
    return list(rows.values())


def title_of(node: Any) -> str:
    title = getattr(node, "HELP_TITLE", "")
    if title:
        return title
    from textual.app import App

    return "Everywhere" if isinstance(node, App) else type(node).__name__


def active_sections(screen: Any) -> list[tuple[str, list[KeyRow]]]:
    """The keys that work on ``screen`` now, by the screen, widget or app they belong to."""
    app = screen.app
    by_node: dict[int, tuple[Any, list[tuple[Any, Binding, bool]]]] = {}
    for active in screen.active_bindings.values():
        by_node.setdefault(id(active.node), (active.node, []))[1].append((active.node, active.binding,
                                                                         active.enabled))
    sections = []
    # the screen's own keys first, then the widgets', then the app's (everywhere)
    order = sorted(by_node.values(), key=lambda entry: (entry[0] is app, entry[0] is not screen))
    for node, items in order:
        rows = _rows(app, items)
        if rows:
            sections.append((title_of(node), rows))
    return sections


def class_rows(app: Any, cls: type) -> list[KeyRow]:
    """The keys a screen or widget class declares (for help about places not open now)."""
    items = [(None, b, True) for b in Binding.make_bindings(getattr(cls, "BINDINGS", []))]
    return _rows(app, items)


KEYS_WIDTH = 14  # the keys column of the help screen


def help_text(sections: list[tuple[str, list[KeyRow]]], notes: dict[str, str] | None = None) -> str:
    """Rich markup of the help screen: a section per title, one line per row (see
    :func:`help_renderable` for how the screen lays the rows out)."""
    from rich.markup import escape

    notes = notes or {}
    out: list[str] = []
    for title, rows in sections:
        out.append(f"[b]{escape(title)}[/b]")
        for row in rows:
            keys = escape(row.keys)
            line = f"  [b]{keys:<{KEYS_WIDTH}}[/b] {escape(row.what)}"
            out.append(line if row.enabled else f"[dim]{line}[/dim]")
        if title in notes:
            out.append(f"  {escape(notes[title])}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def help_renderable(text: str) -> Any:
    """The help text (:func:`help_text`'s markup) laid out for the screen: each key row as
    a two-column grid, so a description that wraps stays indented under its column
    instead of running back under the keys.  Other lines (titles, notes) as they are."""
    import re

    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    row = re.compile(r"^(\[dim\])?  \[b\](.*?)\[/b\] (.*?)(\[/dim\])?$")
    lines = [(line, row.match(line)) for line in text.split("\n")]
    keys_width = max([KEYS_WIDTH] + [Text.from_markup(m.group(2).rstrip()).cell_len for _, m in lines if m])
    parts: list[Any] = []
    grid: Table | None = None
    for line, m in lines:
        if m is None:
            grid = None
            parts.append(Text.from_markup(line))
            continue
        if grid is None:
            grid = Table.grid(padding=(0, 1), expand=True)
            grid.add_column(no_wrap=True, width=2 + keys_width)
            grid.add_column(ratio=1)
            parts.append(grid)
        style = "dim" if m.group(1) else ""
        keys = Text.from_markup(f"[b]{m.group(2).rstrip()}[/b]", style=style)
        keys.pad_left(2)
        grid.add_row(keys, Text.from_markup(m.group(3), style=style))
    return Group(*parts)
