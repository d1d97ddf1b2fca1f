"""Layers whose settings read their own input (``conv 1x1 ${in.c // 2}``, a DenseNet
transition): the input's shape is known only once the network is lowered, so such a layer
is kept as its kind and raw settings, checked as far as they can be, and built then
(``frontends.tree`` calls ``settle``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from convcost.core.errors import ConvcostError, Location
from convcost.core.kinds import build_layer, recipe
from convcost.core.kinds.base import Layer
from convcost.core.shapes import Shape
from convcost.frontends.expressions import INPUT, interpolate, reads_input

Locate = Callable[[str | None], Location | None]
"""Where a setting's value was written (None: the layer itself)."""


class PendingLayer:
    """A layer of ``kind`` to be built from ``raw`` once its input is known. ``kind_name``
    is what an unnamed one is called by (``conv``), as the built layer would be."""

    __slots__ = ("defaults", "kind", "kind_name", "locate", "raw", "reading")

    def __init__(
        self,
        kind: str,
        kind_name: str,
        raw: Mapping[str, object],
        defaults: Mapping[str, object],
        locate: Locate,
        reading: frozenset[str],
    ) -> None:
        self.kind, self.kind_name, self.raw = kind, kind_name, raw
        self.defaults, self.locate, self.reading = defaults, locate, reading

    def settle(self, inp: Shape) -> Layer:
        """The layer, its input being ``inp``; a fault is reported where the setting is
        written, with the input it was worked out from. (``reading``: the settings that
        read it.)"""
        env = {INPUT: inp}
        values: dict[str, object] = {}
        reading = self.reading
        for key, value in self.raw.items():
            if key in reading:
                try:
                    value = _settled(value, env)
                except ConvcostError as error:
                    raise ConvcostError(f"{error.message} (in is {inp})",
                                        self.locate(key)) from None  # fmt: skip
            values[key] = value
        try:
            return build_layer(self.kind, values, self.defaults)
        except ConvcostError as error:
            message = error.message
            if error.field in reading:
                message += f" (in is {inp})"
            raise ConvcostError(message, self.locate(error.field)) from None


def pending_layer(
    kind: str, raw: Mapping[str, object], defaults: Mapping[str, object], locate: Locate
) -> PendingLayer | None:
    """A pending layer when a setting in ``raw`` reads the input, else None (build it now).
    What can be checked before the input is known is checked here, with ``build_layer``'s
    errors (``field`` set, unlocated): the kind, every key, the values that read nothing,
    and each expression's form."""
    reading = [key for key, value in raw.items() if reads_input(value)]
    if not reading:
        return None
    cls, preset, parsers, _, _ = recipe(kind)
    for key in reading:
        if key not in parsers:
            build_layer(kind, {key: raw[key]})  # raises: the unknown setting's own message
        try:
            _settled(raw[key], {})  # parameters are bound by now: this checks the form
        except ConvcostError as error:
            raise ConvcostError(error.message, field=key) from None
    fixed = {key: value for key, value in raw.items() if key not in reading}
    probe = None
    try:
        probe = build_layer(kind, fixed, defaults)
    except ConvcostError as error:
        if error.field is not None:  # a setting at fault; None: one still to come is missing
            raise
    # Named as the built layer will be: by its kind, or by the preset it is written as (relu).
    kind_name = probe.kind_name if probe is not None else kind.lower() if preset else cls.kind
    return PendingLayer(kind, kind_name, raw, defaults, locate, frozenset(reading))


def _settled(value: object, env: Mapping[str, object]) -> object:
    """``value`` with its expressions worked out (``env`` holds the input), or, without
    the input, kept as they are once checked."""
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, list):
        return [_settled(item, env) for item in value]
    return value
