"""The normalization kinds: BatchNorm and local response normalization."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.kinds.base import Evaluation, Layer, Saved, Storage, make_evaluation, param
from convcost.core.shapes import Shape


class BatchNorm(Layer):
    kind = "batchnorm"
    fusion = "folded"
    aliases = ("bn", "batchnorm2d")
    summary = "batch normalization: 2·C params (γ, β) and 2·C buffers (running mean, var)"
    words = {"noaffine": ("affine", False)}

    affine: bool = param(fields.boolean, "learn γ and β (2·C parameters)", default=True)

    def evaluate(self, inp: Shape) -> Evaluation:
        return make_evaluation(inp, 0, 2 * inp.c if self.affine else 0, 2 * inp.c, 0)

    def param_formula(self, inp: Shape, out: Shape) -> str:
        return f"2 × {inp.c} (γ, β)" if self.affine else ""

    def storage(self, training: bool = False) -> Storage:
        return "new" if training else "inplace"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        # Its input, and four float32 vectors of C: the batch's mean and inverse standard
        # deviation and the running statistics, which PyTorch's backward reads.
        return Saved(input=True, fixed_bytes=4 * 4 * inp.c)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return 2 * out.elements  # at inference a scale and a shift per value


class LocalResponseNorm(Layer):
    kind = "lrn"
    aliases = ("localresponsenorm",)
    summary = "local response normalization, as in AlexNet/GoogLeNet (no MACs, no params)"
    positional = ("size",)

    size: int = param(fields.positive_int, "neighbouring channels", default=5)

    def config(self) -> str:
        return f"size {self.size}"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        # PyTorch's LocalResponseNorm is made of steps: x / (k + α·avg(x²))^β. Its input
        # (read by x·x and by the division), the squares padded by size − 1 channels (the
        # average's input), the power's base and its result (the divisor).
        padded = (inp.c + self.size - 1) * inp.h * inp.w
        return Saved(input=True, extra_values=padded + 2 * inp.elements)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        # Per value: the squares of `size` channels summed, then scale, add, power, divide.
        return (self.size + 4) * out.elements
