"""The activation kinds: one elementwise nonlinearity, also written by its own name (relu);
leaky ReLU (its slope) and softmax (its axis) as kinds of their own, and identity."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.kinds.base import NOTHING_SAVED, Evaluation, Layer, Saved, Storage, param
from convcost.core.shapes import Shape

FUNCTIONS = (
    "relu", "relu6", "elu", "selu", "gelu", "silu", "swish", "mish", "sigmoid", "hardsigmoid",
    "tanh", "hardswish",
)  # fmt: skip
"""The functions of the ``activation`` kind, each also a name of its own (``relu``)."""

ACTIVATIONS = (
    "relu", "relu6", "leakyrelu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hardsigmoid", "tanh", "hardswish", "softmax", "identity",
)  # fmt: skip
"""Every activation by name, as messages list them: the functions above, and the kinds
with settings of their own (leakyrelu, softmax) and identity."""


# What PyTorch's autograd keeps of each function for the backward pass (its module without
# inplace=True): the output where the derivative is written in it, else the input.
SAVES_OUTPUT = frozenset({"relu", "sigmoid", "tanh"})
# Arithmetic per output value, as convcost counts it for roofline time (a convention: the
# functions' exact instruction counts differ by library; these kinds are memory-bound).
OPS_PER_VALUE = {
    "relu": 1, "relu6": 2, "elu": 4, "selu": 5, "gelu": 8, "silu": 4, "swish": 4, "mish": 7,
    "sigmoid": 3, "hardsigmoid": 3, "tanh": 5, "hardswish": 4,
}  # fmt: skip


class Activation(Layer):
    kind = "activation"
    fusion = "epilogue"
    aliases = ("act",)
    presets = {fn: {"fn": fn} for fn in FUNCTIONS}
    summary = "elementwise nonlinearity (no MACs, no params); also by name: " + ", ".join(FUNCTIONS)
    positional = ("fn",)

    fn: str = param(fields.choice(*FUNCTIONS), "which function: " + ", ".join(FUNCTIONS))

    @property
    def kind_name(self) -> str:
        return self.fn

    def storage(self, training: bool = False) -> Storage:
        return "new" if training else "inplace"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(output=True) if self.fn in SAVES_OUTPUT else Saved(input=True)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return OPS_PER_VALUE[self.fn] * out.elements


class LeakyReLU(Layer):
    """PyTorch's ``LeakyReLU``: x where x ≥ 0, else ``slope``·x."""

    kind = "leakyrelu"
    fusion = "epilogue"
    aliases = ("leaky_relu",)
    summary = "leaky ReLU: x, or slope·x below 0 (no MACs, no params)"
    positional = ("slope",)

    slope: float = param(fields.number, "the slope below 0, PyTorch's negative_slope",
                         default=0.01)  # fmt: skip

    def config(self) -> str:
        return f"slope {self.slope:g}"

    def storage(self, training: bool = False) -> Storage:
        return "new" if training else "inplace"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(input=True)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return 2 * out.elements  # a comparison and a multiplication


SOFTMAX_AXES = {"channels": 1, "height": 2, "width": 3}
"""Softmax's axes, as PyTorch numbers them in N×C×H×W."""


class Softmax(Layer):
    """PyTorch's ``Softmax(dim)``: exp(x) / Σ exp(x) along one axis, by default the channels
    at each position (over the features of a vector)."""

    kind = "softmax"
    fusion = "epilogue"
    summary = "softmax along the channels (or height, width) (no MACs, no params)"
    positional = ("axis",)

    axis: str = param(fields.choice(*SOFTMAX_AXES), "channels (default), height or width",
                      default="channels")  # fmt: skip

    def evaluate(self, inp: Shape) -> Evaluation:
        if inp.flat and self.axis != "channels":
            raise ConvcostError(
                f"softmax along the {self.axis} needs a spatial input, but its input is a "
                f"vector of {inp.c}; a vector's softmax is along its features (axis: channels)",
                field="axis",
            )
        return Evaluation(inp)

    def config(self) -> str:
        return "" if self.axis == "channels" else f"over {self.axis}"

    def storage(self, training: bool = False) -> Storage:
        return "new" if training else "inplace"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(output=True)

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return 5 * out.elements  # subtract the max, exponentiate, sum, divide


class Identity(Layer):
    """PyTorch's ``Identity``: its input, passed on (a view: nothing computed or moved)."""

    kind = "identity"
    fusion = "epilogue"
    summary = "its input, unchanged (no cost)"

    def storage(self, training: bool = False) -> Storage:
        return "view"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return NOTHING_SAVED
