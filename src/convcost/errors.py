"""The one exception type of convcost; it carries where the fault is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in the user's input: a file (line/column, 1-based) or an inline spec.

    ``text`` holds the whole line for inline specs so that a caret can point at the fault.
    """

    source: str
    line: int
    column: int
    text: str | None = None
    length: int = 1

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


class ConvcostError(Exception):
    """Bad input: a message saying what is wrong and what would be right, and where.

    ``field`` names the layer field at fault when the core raises before it knows the
    location; the front end that built the layer fills ``location`` in from it.
    """

    def __init__(
        self, message: str, location: Location | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.field = field

    def located(self, location: Location | None) -> ConvcostError:
        """This error with a location (kept if it has one already)."""
        if self.location is not None or location is None:
            return self
        return ConvcostError(self.message, location, self.field)

    def render(self) -> str:
        """The error as printed on stderr: one line, plus a caret line for inline specs."""
        if self.location is None:
            return f"convcost: {self.message}"
        head = f"{self.location}: {self.message}"
        if self.location.text is None:
            return head
        pad = " " * (self.location.column - 1)
        caret = "^" * max(1, self.location.length)
        return f"{head}\n  {self.location.text}\n  {pad}{caret}"
