"""The layer kinds other than conv: pools, dense, flatten, activations, BatchNorm, dropout,
LRN and padding. Each kind's fields, shape rule and cost are here, in one class; they join
``convcost.core.layers.REGISTRY`` when this module is imported (``layers.all_kinds()`` does it).
"""

from __future__ import annotations

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.geometry import Axis, Padding, describe_padding, window, window_size
from convcost.core.layers import (
    _WINDOW_WORDS,
    ACTIVATIONS,
    REGISTRY,
    Evaluation,
    Layer,
    _new,
    _spatial,
    _window_config,
    layer_kind,
    param,
    register,
)
from convcost.core.shapes import Shape


@layer_kind
class _Pool(Layer):
    positional = ("kernel", "stride")
    words = {**_WINDOW_WORDS, "ceil": ("ceil_mode", True)}

    kernel: tuple[int, int] = param(
        fields.pair, "window size: K, KhxKw or [Kh, Kw]", default=(2, 2)
    )
    stride: tuple[int, int] | None = param(
        fields.pair, "stride (default: the window size)", default=None
    )
    padding: Padding = param(
        fields.padding, "valid (default), same, N, [h, w] or [t, b, l, r]", default=(0, 0, 0, 0)
    )
    ceil_mode: bool = param(
        fields.boolean,
        "round the output size up, as PyTorch's ceil_mode and Caffe do",
        default=False,
    )

    def _dilation(self) -> tuple[int, int]:
        return (1, 1)

    def _stride(self) -> tuple[int, int]:
        return self.kernel if self.stride is None else self.stride

    def evaluate(self, inp: Shape) -> Evaluation:
        _spatial(inp, self.kind)
        if self.padding != "same":
            _check_pool_padding(self.padding, self.kernel)
        size = window_size(inp.h, inp.w, self.kernel, self._stride(), self._dilation(),
                           self.padding, self.ceil_mode)  # fmt: skip
        return Evaluation(Shape(size[0], size[1], inp.c))

    def axes(self, inp: Shape) -> tuple[Axis, Axis] | None:
        return window(inp.h, inp.w, self.kernel, self._stride(), self._dilation(),
                      self.padding, self.ceil_mode)  # fmt: skip

    def config(self) -> str:
        text = _window_config(self.kernel, self._stride(), self.padding, self._dilation())
        return text + (" ceil" if self.ceil_mode else "")


def _check_pool_padding(padding: tuple[int, int, int, int], kernel: tuple[int, int]) -> None:
    """PyTorch's rule for max and avg pools: at most kernel // 2 on each side (dilation
    aside), so that no window lies wholly in the padding; convcost does not count what
    PyTorch refuses to run. (``same`` padding never exceeds it.)"""
    top, bottom, left, right = padding
    half_h, half_w = kernel[0] // 2, kernel[1] // 2
    if max(top, bottom) > half_h or max(left, right) > half_w:
        limit = str(half_h) if half_h == half_w else f"{half_h} (height), {half_w} (width)"
        raise ConvcostError(
            f"padding {describe_padding(padding)} is more than half the {kernel[0]}x"
            f"{kernel[1]} window; PyTorch pads a pool by at most kernel // 2 = {limit} on each "
            "side: pad less, or put a pad layer before the pool",
            field="padding",
        )


@register
@layer_kind
class MaxPool(_Pool):
    kind = "maxpool"
    aliases = ("maxpool2d", "max_pool")
    summary = "max pooling (no MACs)"

    dilation: tuple[int, int] = param(fields.pair, "dilation: D or [dh, dw]", default=(1, 1))

    def _dilation(self) -> tuple[int, int]:
        return self.dilation


@register
@layer_kind
class AvgPool(_Pool):
    kind = "avgpool"
    aliases = ("avgpool2d", "avg_pool")
    summary = "average pooling (no MACs)"
    absent = {"dilation": "PyTorch's AvgPool2d has none"}


@register
@layer_kind
class GlobalAvgPool(Layer):
    kind = "globalavgpool"
    aliases = ("gap", "global_avg_pool", "globalaveragepooling")
    summary = "global average pooling to 1×1×C (no MACs)"

    def evaluate(self, inp: Shape) -> Evaluation:
        _spatial(inp, self.kind)
        return Evaluation(Shape(1, 1, inp.c))


@register
@layer_kind
class AdaptiveAvgPool(Layer):
    kind = "adaptiveavgpool"
    aliases = ("adaptive_avg_pool",)
    summary = "average pooling to a fixed H×W, as PyTorch's AdaptiveAvgPool2d (no MACs)"
    positional = ("size",)

    size: tuple[int, int] = param(fields.pair, "output size: N, HxW or [h, w]", default=(1, 1))

    def evaluate(self, inp: Shape) -> Evaluation:
        _spatial(inp, self.kind)
        return Evaluation(Shape(self.size[0], self.size[1], inp.c))

    def config(self) -> str:
        return f"{self.size[0]}x{self.size[1]}"


@register
@layer_kind
class GlobalMaxPool(Layer):
    kind = "globalmaxpool"
    aliases = ("gmp", "global_max_pool")
    summary = "global max pooling to 1×1×C (no MACs)"

    def evaluate(self, inp: Shape) -> Evaluation:
        _spatial(inp, self.kind)
        return Evaluation(Shape(1, 1, inp.c))


@register
@layer_kind
class Dense(Layer):
    kind = "dense"
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


@register
@layer_kind
class Flatten(Layer):
    kind = "flatten"
    summary = "H×W×C → a vector of H·W·C"

    def evaluate(self, inp: Shape) -> Evaluation:
        return Evaluation(Shape(1, 1, inp.elements, flat=True))


@register
@layer_kind
class Activation(Layer):
    kind = "activation"
    aliases = ("act",)
    summary = "elementwise nonlinearity (no MACs, no params); also by name: " + ", ".join(
        ACTIVATIONS
    )
    positional = ("fn",)

    fn: str = param(fields.choice(*ACTIVATIONS), "which function: " + ", ".join(ACTIVATIONS))

    @property
    def kind_name(self) -> str:
        return self.fn


for _fn in ACTIVATIONS:
    REGISTRY[_fn] = (Activation, {"fn": _fn})


@register
@layer_kind
class BatchNorm(Layer):
    kind = "batchnorm"
    aliases = ("bn", "batchnorm2d")
    summary = "batch normalization: 2·C params (γ, β) and 2·C buffers (running mean, var)"
    words = {"noaffine": ("affine", False)}

    affine: bool = param(fields.boolean, "learn γ and β (2·C parameters)", default=True)

    def evaluate(self, inp: Shape) -> Evaluation:
        return _new(Evaluation, (inp, 0, 2 * inp.c if self.affine else 0, 2 * inp.c, 0))

    def param_formula(self, inp: Shape, out: Shape) -> str:
        return f"2 × {inp.c} (γ, β)" if self.affine else ""


@register
@layer_kind
class Dropout(Layer):
    kind = "dropout"
    summary = "dropout (no cost at inference)"
    positional = ("rate",)

    rate: float = param(fields.rate, "drop probability, 0 ≤ rate < 1", default=0.5)

    def config(self) -> str:
        return f"p={self.rate:g}"


@register
@layer_kind
class LocalResponseNorm(Layer):
    kind = "lrn"
    aliases = ("localresponsenorm",)
    summary = "local response normalization, as in AlexNet/GoogLeNet (no MACs, no params)"
    positional = ("size",)

    size: int = param(fields.positive_int, "neighbouring channels", default=5)

    def config(self) -> str:
        return f"size {self.size}"


@register
@layer_kind
class ZeroPad(Layer):
    kind = "pad"
    aliases = ("zeropad", "zeropadding")
    summary = "zero padding around H and W"
    positional = ("padding",)

    padding: tuple[int, int, int, int] = param(
        fields.explicit_padding, "N, [h, w] or [top, bottom, left, right]"
    )

    def evaluate(self, inp: Shape) -> Evaluation:
        _spatial(inp, self.kind)
        top, bottom, left, right = self.padding
        return Evaluation(Shape(inp.h + top + bottom, inp.w + left + right, inp.c))

    def config(self) -> str:
        return describe_padding(self.padding)
