"""The activation kind: one elementwise nonlinearity, also written by its own name (relu)."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.kinds.base import Layer, param

ACTIVATIONS = (
    "relu", "relu6", "leakyrelu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hardsigmoid", "tanh", "hardswish", "softmax", "identity",
)  # fmt: skip


class Activation(Layer):
    kind = "activation"
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
