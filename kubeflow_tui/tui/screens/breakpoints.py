"""What every screen needs from its first frame: the breakpoint classes, the too-small notice."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 60, 20


class TooSmall(Static):
    """Shown instead of everything else when the terminal is below 60x20."""

    def __init__(self) -> None:
        super().__init__(
            f"Please enlarge the terminal\n(at least {MIN_WIDTH}x{MIN_HEIGHT}; 80x24 or more is best)\n\nq quits",
            id="too-small",
        )


def apply_breakpoints(screen: Any) -> None:
    """Give a screen its breakpoint classes (-narrow, -wide, -tall ...) before it is laid out.

    Textual adds them on the screen's first Resize, which comes after the first frame
    of the app's first screen: that frame would be drawn with every panel showing, and
    the whole screen restyled just after.  Setting them from the app's size when the
    screen composes gives the right first frame (the Resize then changes nothing).
    """
    app = screen.app
    width, height = app.size
    horizontal = (app.HORIZONTAL_BREAKPOINTS if screen.HORIZONTAL_BREAKPOINTS is None
                  else screen.HORIZONTAL_BREAKPOINTS) or []
    vertical = (app.VERTICAL_BREAKPOINTS if screen.VERTICAL_BREAKPOINTS is None
                else screen.VERTICAL_BREAKPOINTS) or []
    classes = {name: False for _, name in horizontal + vertical}
    for size, points in ((width, horizontal), (height, vertical)):
        reached = [name for least, name in sorted(points) if size >= least]
        if reached:  # (Textual's rule: the last breakpoint the size reaches)
            classes[reached[-1]] = True
    screen.update_classes(classes, update=screen.is_mounted, animate=False)
