"""The activation kind: one elementwise nonlinearity, also written by its own name (relu)."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.kinds.base import NOTHING_SAVED, Layer, Saved, Storage, param
from convcost.core.shapes import Shape

ACTIVATIONS = (
    "relu", "relu6", "leakyrelu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hardsigmoid", "tanh", "hardswish", "softmax", "identity",
)  # fmt: skip


# What PyTorch's autograd keeps of each function for the backward pass (its module without
# inplace=True): the output where the derivative is written in it, else the input.
SAVES_OUTPUT = frozenset({"relu", "sigmoid", "tanh", "softmax"})
# Arithmetic per output value, as convcost counts it for roofline time (a convention: the
# functions' exact instruction counts differ by library; these kinds are memory-bound).
OPS_PER_VALUE = {
    "relu": 1, "relu6": 2, "leakyrelu": 2, "elu": 4, "selu": 5, "gelu": 8, "silu": 4,
    "swish": 4, "mish": 7, "sigmoid": 3, "hardsigmoid": 3, "tanh": 5, "hardswish": 4,
    "softmax": 5, "identity": 0,
}  # fmt: skip


class Activation(Layer):
    kind = "activation"
    fusion = "epilogue"
    aliases = ("act",)
    presets = {fn: {"fn": fn} for fn in ACTIVATIONS}
    summary = "elementwise nonlinearity (no MACs, no params); also by name: " + ", ".join(
        ACTIVATIONS
    )
    positional = ("fn",)

    fn: str = param(fields.choice(*ACTIVATIONS), "which function: " + ", ".join(ACTIVATIONS))

    @property
    def kind_name(self) -> str:
        return self.fn

    def storage(self, training: bool = False) -> Storage:
        if self.fn == "identity":
            return "view"
        return "new" if training else "inplace"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        if self.fn == "identity":
            return NOTHING_SAVED
        return Saved(output=True) if self.fn in SAVES_OUTPUT else Saved(input=True)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return OPS_PER_VALUE[self.fn] * out.elements
