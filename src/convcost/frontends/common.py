"""What every front end does alike: build a located layer node."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from convcost.core.errors import ConvcostError, Location
from convcost.core.kinds import build_layer
from convcost.core.kinds.base import Layer

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
