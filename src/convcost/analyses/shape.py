"""One conv or pool layer built from the ``shape`` command's options, and its output shape."""

from __future__ import annotations

from typing import NamedTuple

from convcost.core.analysis import analyze
from convcost.core.costing import cost
from convcost.core.errors import ConvcostError
from convcost.core.fields import scalar
from convcost.core.graph import chain
from convcost.core.kinds import build_layer
from convcost.core.report import Report
from convcost.core.shapes import parse_shape


class LayerShape(NamedTuple):
    """One layer analysed on its own: ``report`` holds that single layer."""

    report: Report


def layer_shape(
    input_shape: str,
    kernel: str,
    stride: str = "1",
    padding: str | None = None,
    dilation: str = "1",
    filters: int | None = None,
    pool: str | None = None,  # max or avg
    ceil_mode: bool = False,
) -> LayerShape:
    """A conv (as many output channels as ``filters``, else as the input) or a max/avg pool
    on ``input_shape``, settings given as the command line's text."""
    inp = parse_shape(input_shape)
    raw: dict[str, object] = {"kernel": scalar(kernel), "stride": scalar(stride)}
    if padding is not None:
        raw["padding"] = scalar(padding)
    if pool is None:
        raw.update(filters=filters or inp.c, dilation=scalar(dilation))
    elif filters is not None:
        raise ConvcostError("--filters applies to a conv, not to a pool")
    if pool is not None:
        if ceil_mode:
            raw["ceil_mode"] = True
        if dilation != "1":
            raw["dilation"] = scalar(dilation)
    elif ceil_mode:
        raise ConvcostError("--ceil-mode applies to pools (--pool max|avg), not to a conv")
    kind = "conv" if pool is None else f"{pool}pool"
    layer = build_layer(kind, raw)
    return LayerShape(cost(analyze(chain(inp, ((kind, layer),)))))
