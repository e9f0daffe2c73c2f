"""Themes of our own (Textual's dark and light are the defaults)."""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = "kubeflow-high-contrast"


def high_contrast_theme() -> Theme:
    """White on black, yellow for focus and highlights: every pair of text and background
    colours has a contrast ratio of 15:1 or more (WCAG AAA asks 7:1)."""
    return Theme(
        name=HIGH_CONTRAST, primary="#ffff00", secondary="#ffffff", accent="#ffff00",
        foreground="#ffffff", background="#000000", surface="#000000", panel="#000000",
        success="#00ff00", warning="#ffff00", error="#ff6060", dark=True,
    )
