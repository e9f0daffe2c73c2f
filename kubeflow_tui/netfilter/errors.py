"""Errors raised while reading iptables text."""

from __future__ import annotations


class IptablesError(ValueError):
    """Something ``iptables-restore`` (or ``iptables``) would reject.

    ``str(err)`` is ``source:line: message`` (``source: message`` when no line is
    known); ``.message``, ``.line`` and ``.source`` keep the parts.
    """

    def __init__(self, message: str, line: int | None = None, source: str | None = None):
        self.message = message
        self.line = line
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message

    def __str__(self) -> str:  # keep in step with .line/.source set after creation
        return self._text()

    def with_location(self, line: int | None, source: str | None) -> "IptablesError":
        """Return a copy placed at ``source:line`` (existing values win)."""
        return IptablesError(
            self.message,
            self.line if self.line is not None else line,
            self.source if self.source is not None else source,
        )
