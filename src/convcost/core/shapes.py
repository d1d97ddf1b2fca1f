"""Tensor shapes as convcost writes them: height × width × channels (``28x28x192``)."""

from __future__ import annotations

import re
from typing import NamedTuple

from convcost.core.errors import ConvcostError
from convcost.core.fields import whole_number
from convcost.core.limits import MAX_SIZE
from convcost.core.records import record_maker

# A minus sign is read so that a negative dimension is refused as such, not as "not HxWxC".
_SHAPE = re.compile(r"^\s*(-?\d+)\s*[x×X,]\s*(-?\d+)\s*[x×X,]\s*(-?\d+)\s*$")


class Shape(NamedTuple):
    """One sample's activation shape, H×W×C; ``flat`` marks a vector (after flatten/dense).

    A flat vector of N features is stored as 1×1×N so every layer sees the same three
    numbers; only its display and its kind of successor differ. (A named tuple: one is made
    per layer, so it has to be cheap.)
    """

    h: int
    w: int
    c: int
    flat: bool = False

    @property
    def elements(self) -> int:
        return self.h * self.w * self.c

    def as_list(self) -> list[int]:
        return [self.h, self.w, self.c]

    def __str__(self) -> str:
        if self.flat:
            return str(self.c)
        return f"{self.h}×{self.w}×{self.c}"

    @property
    def ascii(self) -> str:
        """Shape in the form the user types it (``28x28x192``), for CSV and messages."""
        return str(self.c) if self.flat else f"{self.h}x{self.w}x{self.c}"


make_shape = record_maker(Shape)  # Shape(...) without the class call: one per layer


def parse_shape(text: str) -> Shape:
    """``28x28x192`` (also ``28×28×192`` or ``28,28,192``) → Shape(28, 28, 192)."""
    match = _SHAPE.match(text)
    if not match:
        raise ConvcostError(
            f"input shape {text!r} is not HxWxC; write it like 28x28x192 "
            "(height x width x channels)"
        )
    return _checked_shape(*(whole_number(g) for g in match.groups()))


def shape_from_value(value: object) -> Shape:
    """A shape from a config value: ``28x28x192``, ``[28, 28, 192]`` or {h:, w:, c:}."""
    if isinstance(value, str):
        return parse_shape(value)
    if isinstance(value, list) and len(value) == 3:
        return _checked_shape(value[0], value[1], value[2])
    if isinstance(value, dict) and set(value) == {"h", "w", "c"}:
        return _checked_shape(value["h"], value["w"], value["c"])
    if isinstance(value, dict) and set(value) == {"height", "width", "channels"}:
        return _checked_shape(value["height"], value["width"], value["channels"])
    raise ConvcostError(
        f"input shape {value!r} is not a shape; write 28x28x192, [28, 28, 192] "
        "or {h: 28, w: 28, c: 192}"
    )


def _checked_shape(*dims: object) -> Shape:
    for dim in dims:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ConvcostError(
                f"input shape dimension {dim!r} is not a positive integer; every dimension "
                "must be at least 1"
            )
        if dim > MAX_SIZE:
            raise ConvcostError(f"input shape dimension {dim} is too large (above 2**40)")
    h, w, c = dims
    assert isinstance(h, int) and isinstance(w, int) and isinstance(c, int)
    return Shape(h, w, c)
