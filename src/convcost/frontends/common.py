"""What every front end does alike: build a located layer node, apply a config's
defaults by kind, and say when an input looks channels-first."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from convcost.core.errors import ConvcostError, Location
from convcost.core.kinds import all_kinds, build_layer, lookup
from convcost.core.kinds.base import Layer
from convcost.core.shapes import Shape

Locate = Callable[[str | None], Location | None]
"""Where a field's value was written (None: the layer itself)."""


def located_layer(
    kind: str,
    raw: Mapping[str, object],
    defaults: Mapping[str, object],
    locate: Locate,
) -> Layer:
    """``build_layer`` with its error moved to where the user wrote the faulty field."""
    try:
        return build_layer(kind, raw, defaults)
    except ConvcostError as error:
        raise error.located(locate(error.field)) from None


def defaults_key(kind: str) -> str:
    """The name a config's ``defaults:`` gives a kind's defaults under, for a layer written
    as ``kind``: the kind itself for its aliases (``conv2d`` → ``conv``), a preset's own name
    (``relu``: an activation with its function given)."""
    cls, preset = lookup(kind)
    return kind.lower() if preset else cls.kind


def defaults_by_name(
    by_kind: Mapping[str, Mapping[str, object]], common: Mapping[str, object]
) -> dict[str, Mapping[str, object]]:
    """Every name a layer may be written as whose kind has defaults in ``by_kind`` (keyed
    by ``defaults_key``) → those defaults, with ``common`` (the command line's, such as
    ``--no-bias``) over them: what is typed for this run wins over the file."""
    found: dict[str, Mapping[str, object]] = {}
    for name in all_kinds():
        settings = by_kind.get(defaults_key(name))
        if settings is not None:
            found[name] = {**settings, **common}
    return found


# An input that reads as a few pixels high and many channels, the other way round from a
# picture: C×H×W, PyTorch's order (3x224x224, 1x28x28).
_CHANNELS_FIRST_MAX = 4
_PICTURE_MIN = 16


def channels_first_warning(shape: Shape, written: str, instead: str) -> str | None:
    """One line saying that ``shape`` (written as ``written``) looks like PyTorch's C×H×W
    order, or None. convcost reads H×W×C: 3x224x224 is 3 pixels high and 224 channels.
    ``instead``: how to keep this reading without the warning, where there is a way."""
    if shape.h > _CHANNELS_FIRST_MAX or min(shape.w, shape.c) < _PICTURE_MIN:
        return None
    return (
        f"input {written} reads as {shape.h} high, {shape.w} wide, {shape.c} channels "
        f"(convcost's order is HxWxC); for PyTorch's {shape.h}×{shape.w}×{shape.c} "
        f"(C×H×W) write {shape.w}x{shape.c}x{shape.h}{instead}"
    )
