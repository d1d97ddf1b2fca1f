"""The kinds that move values without arithmetic: flatten, zero padding, and dropout (which
at inference passes its input on unchanged). None has MACs or params."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.geometry import describe_padding
from convcost.core.kinds.base import Evaluation, Layer, Saved, Storage, param, require_spatial
from convcost.core.shapes import Shape


class Flatten(Layer):
    kind = "flatten"
    summary = "H×W×C → a vector of H·W·C"

    def evaluate(self, inp: Shape) -> Evaluation:
        return Evaluation(Shape(1, 1, inp.elements, flat=True))

    def storage(self, training: bool = False) -> Storage:
        return "view"


class ZeroPad(Layer):
    kind = "pad"
    aliases = ("zeropad", "zeropadding")
    summary = "zero padding around H and W"
    positional = ("padding",)

    padding: tuple[int, int, int, int] = param(
        fields.explicit_padding, "N, [h, w] or [top, bottom, left, right]"
    )

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        top, bottom, left, right = self.padding
        return Evaluation(Shape(inp.h + top + bottom, inp.w + left + right, inp.c))

    def config(self) -> str:
        return describe_padding(self.padding)


class Dropout(Layer):
    kind = "dropout"
    summary = "dropout (no cost at inference)"
    positional = ("rate",)

    rate: float = param(fields.rate, "drop probability, 0 ≤ rate < 1", default=0.5)

    def config(self) -> str:
        return f"p={self.rate:g}"

    def storage(self, training: bool = False) -> Storage:
        # At inference it passes its input on (PyTorch's eval mode returns the input itself),
        # and in training too when it drops nothing.
        return "new" if training and self.rate > 0 else "view"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        # Its mask, as PyTorch's CPU dropout makes it: a tensor of the input's format, by
        # which the input is multiplied (none when nothing is dropped).
        return Saved(extra_values=inp.elements) if self.rate > 0 else Saved()
