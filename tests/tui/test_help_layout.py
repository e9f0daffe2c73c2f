"""The help screen's layout: a description that wraps stays under its column."""

from __future__ import annotations

import io

from rich.console import Console
from textual.binding import Binding

from kubeflow_tui.tui import keys


def render(renderable, width: int) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=width, no_color=True, color_system=None).print(renderable)
    return [line.rstrip() for line in buf.getvalue().splitlines()]


def test_a_wrapped_description_is_indented_under_the_descriptions():
    long = "Shell on this cluster: iptables, conntrack, kubectl, curl and the other commands a node has"
    rows = keys.class_rows(None, type("Place", (), {"BINDINGS": [
        Binding("s", "shell", "Shell", tooltip=long, id="t.shell"),
        Binding("space", "play", "Play", tooltip="Play / pause", id="t.play"),
    ], "HELP_TITLE": "Somewhere"}))
    text = keys.help_text([("Somewhere", rows)], notes={"Somewhere": "a note under the keys"})
    lines = render(keys.help_renderable(text), 50)
    assert lines[0] == "Somewhere"
    first = next(i for i, line in enumerate(lines) if line.startswith("  s "))
    column = lines[first].index("Shell")
    assert column >= len("  space") + 1
    wrapped = lines[first + 1 : lines.index(next(x for x in lines if x.startswith("  space")))]
    assert wrapped, "the long description wraps at 50 columns"
    for line in wrapped:  # each continuation starts in the description column
        assert line[:column].strip() == "" and line[column] != " "
    assert " ".join(x.strip() for x in [lines[first][column:], *wrapped]) == long
    assert "  a note under the keys" in lines
