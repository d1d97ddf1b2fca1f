"""The fully connected kind."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.kinds.base import Evaluation, Layer, Saved, param
from convcost.core.shapes import Shape


class Dense(Layer):
    kind = "dense"
    fusion = "producer"
    aliases = ("fc", "linear")
    summary = "fully connected; flattens its input first"
    positional = ("units",)
    words = {"nobias": ("bias", False)}

    units: int = param(fields.positive_int, "output features")
    bias: bool = param(fields.boolean, "add a bias per output feature", default=True)

    def evaluate(self, inp: Shape) -> Evaluation:
        n = inp.h * inp.w * inp.c
        bias = self.units if self.bias else 0
        return Evaluation(
            Shape(1, 1, self.units, True), n * self.units, n * self.units + bias, 0, bias
        )

    def mac_factors(self, inp: Shape, out: Shape) -> tuple[tuple[str, int], ...]:
        return (("in", inp.elements), ("out", self.units))

    def param_formula(self, inp: Shape, out: Shape) -> str:
        bias = f" + {self.units} (bias)" if self.bias else ""
        return f"{inp.elements} × {self.units}{bias}"

    def config(self) -> str:
        return "" if self.bias else "no bias"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(input=True)  # flattened: a view of its input, the same tensor
