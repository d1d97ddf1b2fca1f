"""The one exception type of convcost; it carries where the fault is."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import NamedTuple

from convcost.core.records import record_maker


class Location(NamedTuple):
    """A place in the user's input: a file (line/column, 1-based) or an inline spec.

    ``text`` holds the whole line for inline specs so that a caret can point at the fault.
    (A named tuple: records on the start-up path are named tuples, which Python makes
    several times faster than dataclasses.)
    """

    source: str
    line: int
    column: int
    text: str | None = None
    length: int = 1

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


make_location = record_maker(Location)  # Location(...) without the class call: one per value


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``did you mean 'filters'? `` for a near miss among ``known``; "" when none is near."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"did you mean '{close[0]}'? " if close else ""


MAX_REPORTED = 20  # errors printed for one input; past it, gathering stops (see Faults)


class ConvcostError(Exception):
    """Bad input: a message saying what is wrong and what would be right, and where.

    ``field`` names the layer field at fault when the core raises before it knows the
    location; the front end that built the layer fills ``location`` in from it. ``more``
    holds further independent errors found in the same input, reported together.
    """

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        field: str | None = None,
        more: tuple[ConvcostError, ...] = (),
        stopped: bool = False,
        final: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.field = field
        self.more = more
        self.stopped = stopped  # gathering stopped: the input may hold more faults
        self.final = final  # nothing more is checked after it (more would only cost time)

    @classmethod
    def several(cls, errors: list[ConvcostError], stopped: bool = False) -> ConvcostError:
        """One error carrying all of ``errors`` (each once, in order)."""
        unique: dict[tuple[str, Location | None], ConvcostError] = {}
        final = False
        for error in errors:
            stopped = stopped or error.stopped
            final = final or error.final
            for one in (error, *error.more):
                unique.setdefault((one.message, one.location), one.alone())
        first, *rest = unique.values()
        return ConvcostError(
            first.message, first.location, first.field, tuple(rest), stopped, final
        )

    def alone(self) -> ConvcostError:
        if self.more or self.stopped:
            return ConvcostError(self.message, self.location, self.field)
        return self

    def located(self, location: Location | None) -> ConvcostError:
        """This error with a location (kept if it has one already)."""
        if self.location is not None or location is None:
            return self
        return ConvcostError(
            self.message, location, self.field, self.more, self.stopped, self.final
        )

    def render(self) -> str:
        """As printed on stderr: a line per error (inline specs add the spec and a caret)."""
        shown = [self.alone(), *self.more][:MAX_REPORTED]
        lines = [error.render_one() for error in shown]
        hidden = 1 + len(self.more) - len(shown)
        if self.stopped:
            lines.append(
                f"convcost: more errors not shown (checking stops after {MAX_REPORTED}); "
                "fix these first"
            )
        elif hidden:
            lines.append(f"convcost: {hidden} more error(s) not shown")
        return "\n".join(lines)

    def render_one(self) -> str:
        """One line (three with an inline spec's text and caret), whatever a name or file
        name in it holds: control characters and the like are shown as escapes."""
        from convcost.render.escape import visible  # here: only a failing run needs it

        if self.location is None:
            return f"convcost: {visible(self.message)}"
        where = self.location
        head = f"{visible(where.source)}:{where.line}:{where.column}: {visible(self.message)}"
        if where.text is None:
            return head
        # The caret under the escaped text: as wide as the escapes before and under it.
        start = where.column - 1
        pad = " " * len(visible(where.text[:start]))
        caret = "^" * max(1, len(visible(where.text[start : start + where.length])))
        return f"{head}\n  {visible(where.text)}\n  {pad}{caret}"


class Faults:
    """Independent faults of one input, gathered so that all are reported at once. Once
    more are gathered than are shown, gathering stops (``add`` raises them): a megabyte of
    misspelt layers would otherwise cost a fault, and a search for a near miss, each."""

    def __init__(self) -> None:
        self.errors: list[ConvcostError] = []
        self.count = 0

    def add(self, error: ConvcostError) -> None:
        self.errors.append(error)
        self.count += 1 + len(error.more)
        if self.count > MAX_REPORTED or error.stopped:
            raise ConvcostError.several(self.errors, stopped=True)
        if error.final:
            raise ConvcostError.several(self.errors)

    def discard(self, error: ConvcostError) -> None:
        """Forget ``error``, gathered before: a later fault explains it better."""
        if error in self.errors:
            self.errors.remove(error)
            self.count -= 1 + len(error.more)

    def check(self) -> None:
        """Raise what was gathered, if anything."""
        if self.errors:
            raise ConvcostError.several(self.errors)
