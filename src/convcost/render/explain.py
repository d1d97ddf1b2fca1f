"""The arithmetic behind each figure, written out factor by factor
(``28 × 28 × 32 × 5 × 5 × 192 = 120,422,400``)."""

from __future__ import annotations

from convcost.core.kinds.conv import Conv
from convcost.core.kinds.uncounted import Uncounted
from convcost.core.report import LayerResult


def explain_layer(result: LayerResult, unit: str = "macs") -> list[str]:
    """Lines such as ``MACs: 28 × 28 × 32 × 5 × 5 × 192 = 120,422,400``; with ``unit``
    flops, the FLOPs from them too (2 per MAC, and a layer's bias additions)."""
    lines: list[str] = []
    layer = result.layer
    if isinstance(layer, Uncounted):
        if layer.reason:
            return [f"not counted: {layer.reason}; the shape is the model file's (or ONNX's "
                    "shape inference's)"]  # fmt: skip
        return [f"not counted: the shape is the model file's (or ONNX's shape inference's); "
                f"what {layer.op} computes and holds, convcost does not know"]  # fmt: skip
    if result.axes is not None:
        h, w = result.axes
        if h.formula() == w.formula():
            lines.append(f"H, W: {h.formula()}")
        else:
            lines.append(f"H: {h.formula()}")
            lines.append(f"W: {w.formula()}")
    if result.shape_formula:
        lines.append(f"shape: {result.shape_formula}")
    if result.mac_factors:
        product = " × ".join(str(value) for _, value in result.mac_factors)
        names = " × ".join(label for label, _ in result.mac_factors)
        lines.append(f"MACs: {product} = {result.macs:,}  ({names})")
    if unit == "flops" and result.flops:
        adds = result.flops - 2 * result.macs
        plus = f" + {adds:,} (bias additions)" if adds else ""
        lines.append(f"FLOPs: 2 × {result.macs:,}{plus} = {result.flops:,}")
    if (
        isinstance(layer, Conv)
        and layer.kernel == (1, 1)
        and layer.groups == 1
        and layer.stride == (1, 1)
        and result.input_shape.h == result.output_shape.h
        and result.input_shape.w == result.output_shape.w
    ):
        # A 1×1 conv read as one small fully-connected layer, shared by every pixel.
        positions = result.output_shape.h * result.output_shape.w
        cin, cout = result.input_shape.c, result.output_shape.c
        batch = "".join(f"{v} × " for label, v in result.mac_factors if label == "N")
        lines.append(
            f"1×1 conv = a fully-connected layer {cin} → {cout} applied at each of the "
            f"{result.output_shape.h} × {result.output_shape.w} = {positions:,} positions: "
            f"{batch}{positions:,} × ({cin} × {cout}) = {result.macs:,}"
        )
    if result.param_formula:
        lines.append(f"params: {result.param_formula} = {result.params:,}")
    return lines
