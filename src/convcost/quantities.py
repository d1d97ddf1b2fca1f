"""Budget quantities such as ``1.6G`` or ``100MB``, and the limits a config or a flag sets."""

from __future__ import annotations

import re
from typing import NamedTuple

from convcost.errors import ConvcostError, Location
from convcost.network import BYTES_PER_VALUE

COUNT_SUFFIXES = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_SUFFIXES = {
    "": 1, "B": 1,
    "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip

# What each budget limits, and whether it is a count or a number of bytes.
METRICS = {
    "macs": ("multiply-accumulates of convolutions and dense layers", COUNT_SUFFIXES),
    "params": ("trainable parameters", COUNT_SUFFIXES),
    "activations": ("output values of all layers", COUNT_SUFFIXES),
    "memory": (
        f"bytes of parameters and of all layer outputs, {BYTES_PER_VALUE} bytes a value",
        BYTE_SUFFIXES,
    ),
}

_QUANTITY = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_quantity(value: object, metric: str) -> int:
    """``1.6G`` → 1600000000, ``100MB`` → 100000000, ``1GiB`` → 1073741824; exact or refused."""
    suffixes = METRICS[metric][1]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConvcostError(
            f"{metric}: expected a number such as {_example(metric)}, got {value!r}"
        )
    if isinstance(value, int):
        if value < 0:
            raise ConvcostError(f"{metric}: a budget cannot be negative, got {value}")
        return value
    match = _QUANTITY.match(value)
    if not match or match.group(2) not in suffixes:
        units = ", ".join(s for s in suffixes if s)
        raise ConvcostError(
            f"{metric}: {value!r} is not a quantity; write an integer or a number with one of "
            f"{units} (e.g. {_example(metric)})"
        )
    from decimal import Decimal, InvalidOperation  # only here: it is slow to import

    try:
        number = Decimal(match.group(1).replace("_", "").replace(",", ""))
    except InvalidOperation:
        raise ConvcostError(f"{metric}: {value!r} is not a number") from None
    exact = number * suffixes[match.group(2)]
    if exact != exact.to_integral_value():
        raise ConvcostError(f"{metric}: {value!r} is not a whole number of units")
    return int(exact)


def _example(metric: str) -> str:
    return "100MB" if metric == "memory" else "1.6G"


class Limit(NamedTuple):
    metric: str
    value: int
    location: Location | None = None  # where the config sets it; None: a command-line flag
