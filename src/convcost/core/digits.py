"""Numbers written by people (budgets, rates): commas and underscores between digits, read
one way or refused with both readings, never guessed."""

from __future__ import annotations

import re

from convcost.core.errors import ConvcostError

# A comma groups thousands only where it cannot be a decimal comma: in groups of exactly
# three digits, and with a second comma or a decimal point to prove it (1,600,000; 1,600.5M).
THOUSANDS = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+$")
UNDERSCORES = re.compile(r"^[0-9]+(?:_[0-9]+)*$")  # as Python's 1_000_000


def whole_digits(
    whole: str, fraction: str, unit: str, text: str, what: str, grouped: str, joined: str
) -> str:
    """The digits of a number's whole part (``whole``, before ``fraction`` and ``unit``), its
    commas and underscores taken out once checked. ``what`` starts each message (the
    setting and the kind of number: ``macs: '1,6G' is not a quantity``); ``grouped`` and
    ``joined`` are examples of commas and underscores written right."""
    if "," in whole:
        if whole.count(",") == 1 and not fraction and re.fullmatch(r"[0-9]+,[0-9]+", whole):
            decimal, thousands = whole.replace(",", "."), whole.replace(",", "")
            name = what.split(":", 1)[0]
            raise ConvcostError(
                f"{name}: {text!r} is ambiguous: {decimal}{unit} (a decimal comma) or "
                f"{thousands}{unit} (a thousands separator)? write {decimal}{unit} or "
                f"{thousands}{unit}"
            )
        if not THOUSANDS.match(whole):
            raise ConvcostError(
                f"{what}: a comma only groups digits in threes ({grouped}); write the number "
                "without commas"
            )
        return whole.replace(",", "")
    if not UNDERSCORES.match(whole):
        raise ConvcostError(f"{what}: an underscore only stands between two digits ({joined})")
    return whole.replace("_", "")
