"""The normalization kinds: BatchNorm and local response normalization."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.kinds.base import Evaluation, Layer, make_evaluation, param
from convcost.core.shapes import Shape


class BatchNorm(Layer):
    kind = "batchnorm"
    aliases = ("bn", "batchnorm2d")
    summary = "batch normalization: 2·C params (γ, β) and 2·C buffers (running mean, var)"
    words = {"noaffine": ("affine", False)}

    affine: bool = param(fields.boolean, "learn γ and β (2·C parameters)", default=True)

    def evaluate(self, inp: Shape) -> Evaluation:
        return make_evaluation(inp, 0, 2 * inp.c if self.affine else 0, 2 * inp.c, 0)

    def param_formula(self, inp: Shape, out: Shape) -> str:
        return f"2 × {inp.c} (γ, β)" if self.affine else ""


class LocalResponseNorm(Layer):
    kind = "lrn"
    aliases = ("localresponsenorm",)
    summary = "local response normalization, as in AlexNet/GoogLeNet (no MACs, no params)"
    positional = ("size",)

    size: int = param(fields.positive_int, "neighbouring channels", default=5)

    def config(self) -> str:
        return f"size {self.size}"
