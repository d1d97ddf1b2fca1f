"""The normalization kinds: BatchNorm, LayerNorm, GroupNorm, local response normalization,
and a learned scale per channel (ConvNeXt's layer scale)."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.errors import ConvcostError
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


_NORM_OPS_PER_VALUE = 5  # statistics (a sum of x and of x²: 3), then subtract and multiply (2)


def _check_groups(kind: str, groups: int, channels: int) -> None:
    if channels % groups:
        raise ConvcostError(
            f"{kind} groups {groups} does not divide the {channels} channels; use a divisor "
            f"of {channels}, as PyTorch requires",
            field="groups",
        )


class LayerNorm(Layer):
    """Layer normalization over the channels at each position: ConvNeXt's ``LayerNorm2d``
    (PyTorch's ``LayerNorm(C)`` applied channels-last), or a vector's ``LayerNorm`` over its
    features. γ and β per channel."""

    kind = "layernorm"
    aliases = ("layernorm2d", "ln")
    summary = "layer normalization over the channels at each position: 2·C params (γ, β)"
    words = {"noaffine": ("affine", False)}

    eps: float = param(fields.positive_number, "added to the variance (PyTorch: 1e-5)",
                       default=1e-5)  # fmt: skip
    affine: bool = param(fields.boolean, "learn γ and β (2·C parameters), PyTorch's "
                         "elementwise_affine", default=True)  # fmt: skip

    def evaluate(self, inp: Shape) -> Evaluation:
        return make_evaluation(inp, 0, 2 * inp.c if self.affine else 0, 0, 0)

    def config(self) -> str:
        return f"eps {self.eps:g}" + ("" if self.affine else " no affine")

    def param_formula(self, inp: Shape, out: Shape) -> str:
        return f"2 × {inp.c} (γ, β)" if self.affine else ""

    def saved(self, inp: Shape, out: Shape) -> Saved:
        # Its input, and each position's mean and inverse standard deviation.
        return Saved(input=True, extra_values=2 * inp.h * inp.w)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return (_NORM_OPS_PER_VALUE + (2 if self.affine else 0)) * out.elements


class GroupNorm(Layer):
    """PyTorch's ``GroupNorm(groups, C)``: the channels in ``groups`` groups, each
    normalized over its channels and all positions; γ and β per channel."""

    kind = "groupnorm"
    aliases = ("gn",)
    summary = "group normalization: channels in groups, 2·C params (γ, β)"
    positional = ("groups",)
    words = {"noaffine": ("affine", False)}

    groups: int = param(fields.positive_int, "channel groups (a divisor of the channels)")
    eps: float = param(fields.positive_number, "added to the variance (PyTorch: 1e-5)",
                       default=1e-5)  # fmt: skip
    affine: bool = param(fields.boolean, "learn γ and β (2·C parameters)", default=True)

    def evaluate(self, inp: Shape) -> Evaluation:
        _check_groups(self.kind, self.groups, inp.c)
        return make_evaluation(inp, 0, 2 * inp.c if self.affine else 0, 0, 0)

    def config(self) -> str:
        return f"g{self.groups} eps {self.eps:g}" + ("" if self.affine else " no affine")

    def param_formula(self, inp: Shape, out: Shape) -> str:
        return f"2 × {inp.c} (γ, β)" if self.affine else ""

    def saved(self, inp: Shape, out: Shape) -> Saved:
        # Its input, and each group's mean and inverse standard deviation.
        return Saved(input=True, extra_values=2 * self.groups)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return (_NORM_OPS_PER_VALUE + (2 if self.affine else 0)) * out.elements


class Scale(Layer):
    """A learned multiplier per channel, γ·x: ConvNeXt's layer scale (``layer_scale *
    x``, γ of C × 1 × 1). Foldable into the weights of the conv before it, as BatchNorm."""

    kind = "scale"
    fusion = "folded"
    aliases = ("layerscale",)
    summary = "a learned multiplier per channel (ConvNeXt's layer scale): C params (γ)"

    def evaluate(self, inp: Shape) -> Evaluation:
        return make_evaluation(inp, 0, inp.c, 0, 0)

    def param_formula(self, inp: Shape, out: Shape) -> str:
        return f"{inp.c} (γ)"

    def storage(self, training: bool = False) -> Storage:
        return "new" if training else "inplace"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(input=True)  # γ's gradient reads it

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return out.elements  # a multiplication each
