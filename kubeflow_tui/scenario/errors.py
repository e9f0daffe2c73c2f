"""Scenario errors that point at a place in the YAML file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    """One problem: where (1-based line and column, dotted field path) and what."""

    source: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}:{self.column if self.column is not None else 1}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ScenarioError(ValueError):
    """A scenario could not be loaded.

    ``source``, ``line``, ``column`` (1-based; ``None`` when the problem is the whole
    file, e.g. its size), ``field`` (dotted path such as ``services[0].ports[1].targetPort``,
    ``""`` when not about a field) and ``message`` describe the first problem in file
    order; ``errors`` lists all of them (``ErrorDetail``).  ``str()`` is
    ``file:line:col: field: message``, followed by a line counting the others.
    """

    def __init__(self, errors: list[ErrorDetail]):
        if not errors:
            raise ValueError("ScenarioError needs at least one error")
        self.errors: list[ErrorDetail] = list(errors)
        first = self.errors[0]
        self.source = first.source
        self.line = first.line
        self.column = first.column
        self.field = first.field
        self.message = first.message
        super().__init__(str(self))

    @classmethod
    def single(
        cls,
        source: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str = "",
    ) -> "ScenarioError":
        return cls([ErrorDetail(source, line, column, field, message)])

    def __str__(self) -> str:
        text = str(self.errors[0])
        more = len(self.errors) - 1
        if more:
            text += f"\n(and {more} more error{'s' if more > 1 else ''})"
        return text

    def format_all(self) -> str:
        """Every error, one per line."""
        return "\n".join(str(e) for e in self.errors)
