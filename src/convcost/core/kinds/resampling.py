"""The kinds that resample H×W: upsampling by a whole factor or to a size (no MACs)."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.kinds.base import Evaluation, Layer, param, require_spatial
from convcost.core.shapes import Shape

UPSAMPLING = ("nearest", "bilinear")


class Upsample(Layer):
    """PyTorch's ``nn.Upsample``: ``scale: s`` gives H·s × W·s, ``size: HxW`` that size;
    channels unchanged. No MACs, as PyTorch's FLOP counter counts none for it (bilinear's
    interpolation arithmetic is not multiply-accumulates of weights)."""

    kind = "upsample"
    aliases = ("upsampling", "upsampling2d", "interpolate")
    summary = "upsampling to H·s × W·s (scale) or to a size, nearest or bilinear (no MACs)"
    positional = ("scale",)
    words = {mode: ("mode", mode) for mode in UPSAMPLING}

    scale: tuple[int, int] | None = param(
        fields.pair, "whole scale factor: S, SHxSW or [sh, sw]", default=None
    )
    size: tuple[int, int] | None = param(
        fields.pair, "output size instead of a scale: N, HxW or [h, w]", default=None
    )
    mode: str = param(fields.choice(*UPSAMPLING), "nearest (default) or bilinear",
                      default="nearest")  # fmt: skip

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        if (self.scale is None) == (self.size is None):
            given = "both scale and size" if self.scale else "neither scale nor size"
            raise ConvcostError(
                f"upsample takes a scale or a size, got {given} (e.g. upsample 2, or size: 28x28)",
                field="size" if self.size else "scale",
            )
        if self.size is not None:
            return Evaluation(Shape(self.size[0], self.size[1], inp.c))
        assert self.scale is not None
        return Evaluation(Shape(inp.h * self.scale[0], inp.w * self.scale[1], inp.c))

    def config(self) -> str:
        if self.size is not None:
            return f"to {self.size[0]}x{self.size[1]} {self.mode}"
        scale = self.scale or (0, 0)
        factor = str(scale[0]) if scale[0] == scale[1] else f"{scale[0]}x{scale[1]}"
        return f"×{factor} {self.mode}"

    def other_ops(self, inp: Shape, out: Shape) -> int:
        # Bilinear: four weighted values summed per output (4 multiplies, 3 additions).
        return 7 * out.elements if self.mode == "bilinear" else 0
