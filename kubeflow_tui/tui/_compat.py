"""Guards around Textual behaviour that would crash the app on fast input.

* ``OptionList._move_page`` (pageup/pagedown) reads the line map before the list was
  first laid out: pressing pageup right after opening the command palette raised
  ``KeyError`` (Textual 8.2.8).  Until the list is laid out, paging does nothing.
"""

from __future__ import annotations

from textual.widgets import OptionList

_orig_move_page = OptionList._move_page


def _safe_move_page(self: OptionList, direction) -> None:  # type: ignore[no-untyped-def]
    if (self.highlighted or 0) not in getattr(self, "_index_to_line", {}) or not getattr(self, "_lines", None):
        return
    _orig_move_page(self, direction)


def apply() -> None:
    if OptionList._move_page is not _safe_move_page:
        OptionList._move_page = _safe_move_page  # type: ignore[method-assign]
