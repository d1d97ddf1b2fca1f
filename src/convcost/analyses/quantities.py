"""Budget quantities such as ``1.6G`` or ``100MB``, and the limits a config or a flag sets."""

from __future__ import annotations

import re
from typing import NamedTuple

from convcost.core.digits import whole_digits
from convcost.core.errors import ConvcostError, Location
from convcost.core.metrics import METRICS

COUNT_SUFFIXES = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_SUFFIXES = {
    "": 1, "B": 1,
    "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip

# Seconds are given by their nanoseconds, so that every quantity is a whole number of units.
SECOND_SUFFIXES = {"s": 10**9, "ms": 10**6, "us": 10**3, "µs": 10**3, "μs": 10**3, "ns": 1}
MAX_TEXT = 64  # no budget is longer: refused before any arithmetic on its digits

# The suffixes a budget of each unit takes (core.metrics says which unit a metric has).
SUFFIXES = {"count": COUNT_SUFFIXES, "bytes": BYTE_SUFFIXES, "seconds": SECOND_SUFFIXES}
# What an error message offers as an example of a quantity of each unit.
EXAMPLES = {"count": "1.6G", "bytes": "100MB", "seconds": "2ms"}

_QUANTITY = re.compile(r"^\s*([0-9][0-9_,]*)(\.[0-9]+)?\s*([A-Za-zµμ]*)\s*$")


def parse_quantity(value: object, metric: str) -> int | float:
    """``1.6G`` → 1600000000, ``100MB`` → 100000000, ``1GiB`` → 1073741824; exact or refused.
    A time (``2ms``, ``500us``; a unit is required) is in seconds: 0.002.

    A number that reads two ways (``1,6G``: 1.6G with a decimal comma, 16G with a thousands
    separator) is refused with both readings, never guessed: a budget misread passes a check.
    """
    unit = METRICS[metric].unit
    suffixes = SUFFIXES[unit]
    name = METRICS[metric].budget_name
    if unit == "seconds" and not (isinstance(value, str) and value.strip().endswith("s")):
        raise ConvcostError(
            f"{name}: {value!r} is not a time; write it with a unit: s, ms, us or ns (e.g. 2ms)"
        )
    metric = name  # as the user names it, in the messages below
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ConvcostError(
            f"{metric}: {value[:20]!r}… is {len(value):,} characters long; a budget is a number "
            f"with a unit such as {_example(metric)}"
        )
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConvcostError(
            f"{metric}: expected a number such as {_example(metric)}, got {value!r}"
        )
    if isinstance(value, int):
        if value < 0:
            raise ConvcostError(f"{metric}: a budget cannot be negative, got {value}")
        return value
    match = _QUANTITY.match(value)
    if not match or match.group(3) not in suffixes:
        units = ", ".join(s for s in suffixes if s)
        raise ConvcostError(
            f"{metric}: {value!r} is not a quantity; write an integer or a number with one of "
            f"{units} (e.g. {_example(metric)})"
        )
    whole, fraction, suffix = match.group(1), match.group(2) or "", match.group(3)
    digits = whole_digits(whole, fraction, suffix, value, f"{metric}: {value!r} is not a quantity",
                          "1,600,000 or 1,600.5M", "1_000_000")  # fmt: skip
    from decimal import Decimal  # only here: it is slow to import

    exact = Decimal(digits + fraction) * suffixes[suffix]
    if exact != exact.to_integral_value():
        raise ConvcostError(f"{metric}: {value!r} is not a whole number of units")
    return int(exact) / 10**9 if unit == "seconds" else int(exact)


def _example(name: str) -> str:
    return next(EXAMPLES[m.unit] for m in METRICS.values() if m.budget_name == name)


class Limit(NamedTuple):
    metric: str  # the metric's key
    value: int | float  # seconds for a time
    location: Location | None = None  # where the config sets it; None: a command-line flag
