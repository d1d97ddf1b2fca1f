"""The pooling kinds: max and average windows, global and adaptive pools (no MACs)."""

from __future__ import annotations

from math import gcd

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.geometry import Axis, Padding, describe_padding, window, window_size
from convcost.core.kinds.base import (
    WINDOW_WORDS,
    Evaluation,
    Layer,
    Saved,
    param,
    require_spatial,
    saved_window_input,
    window_config,
)
from convcost.core.shapes import Shape


class _Pool(Layer):
    """What max and average pools share: a window, its stride, padding and rounding."""

    positional = ("kernel", "stride")
    words = {**WINDOW_WORDS, "ceil": ("ceil_mode", True)}

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
        require_spatial(inp, self.kind)
        if self.padding != "same":
            _check_pool_padding(self.padding, self.kernel)
        size = window_size(inp.h, inp.w, self.kernel, self._stride(), self._dilation(),
                           self.padding, self.ceil_mode)  # fmt: skip
        return Evaluation(Shape(size[0], size[1], inp.c))

    def axes(self, inp: Shape) -> tuple[Axis, Axis] | None:
        return window(inp.h, inp.w, self.kernel, self._stride(), self._dilation(),
                      self.padding, self.ceil_mode)  # fmt: skip

    def config(self) -> str:
        text = window_config(self.kernel, self._stride(), self.padding, self._dilation())
        return text + (" ceil" if self.ceil_mode else "")

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return self.kernel[0] * self.kernel[1] * out.elements  # a comparison or addition each


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


class MaxPool(_Pool):
    kind = "maxpool"
    aliases = ("maxpool2d", "max_pool")
    summary = "max pooling (no MACs)"

    dilation: tuple[int, int] = param(fields.pair, "dilation: D or [dh, dw]", default=(1, 1))

    def _dilation(self) -> tuple[int, int]:
        return self.dilation

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return saved_window_input(self, inp, 8 * out.elements)  # and int64 argmax indices


class AvgPool(_Pool):
    kind = "avgpool"
    aliases = ("avgpool2d", "avg_pool")
    summary = "average pooling (no MACs)"
    absent = {"dilation": "PyTorch's AvgPool2d has none"}

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return saved_window_input(self, inp)


class GlobalAvgPool(Layer):
    kind = "globalavgpool"
    aliases = ("gap", "global_avg_pool", "globalaveragepooling")
    summary = "global average pooling to 1×1×C (no MACs)"

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        return Evaluation(Shape(1, 1, inp.c))

    # Saves nothing: PyTorch takes a 1×1 adaptive average as a mean, whose backward needs
    # only the input's shape.

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return inp.elements  # every value added once


class AdaptivePool(Layer):
    """What PyTorch's adaptive pools share: a fixed output size, whatever the input, and
    their windows (output i covers [⌊i·n/m⌋, ⌈(i+1)·n/m⌉) of n inputs), each value of each
    window an addition or a comparison."""

    positional = ("size",)

    size: tuple[int, int] = param(fields.pair, "output size: N, HxW or [h, w]", default=(1, 1))

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        return Evaluation(Shape(self.size[0], self.size[1], inp.c))

    def config(self) -> str:
        return f"{self.size[0]}x{self.size[1]}"

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return _window_lengths(inp.h, self.size[0]) * _window_lengths(inp.w, self.size[1]) * inp.c


class AdaptiveAvgPool(AdaptivePool):
    kind = "adaptiveavgpool"
    aliases = ("adaptive_avg_pool",)
    summary = "average pooling to a fixed H×W, as PyTorch's AdaptiveAvgPool2d (no MACs)"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        # A 1×1 output is a mean (its backward needs only shapes); others keep the input.
        return Saved() if self.size == (1, 1) else Saved(input=True)


class AdaptiveMaxPool(AdaptivePool):
    kind = "adaptivemaxpool"
    aliases = ("adaptive_max_pool", "adaptivemaxpool2d")
    summary = "max pooling to a fixed H×W, as PyTorch's AdaptiveMaxPool2d (no MACs)"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(input=True, extra_bytes=8 * out.elements)  # and int64 argmax indices


def _window_lengths(n: int, m: int) -> int:
    """The summed lengths of PyTorch's ``m`` adaptive windows over ``n`` values:
    Σ (⌈(i+1)·n/m⌉ − ⌊i·n/m⌋) over i < m, which is n + m − gcd(n, m)."""
    return n + m - gcd(n, m)


class GlobalMaxPool(Layer):
    kind = "globalmaxpool"
    aliases = ("gmp", "global_max_pool")
    summary = "global max pooling to 1×1×C (no MACs)"

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        return Evaluation(Shape(1, 1, inp.c))

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(input=True, extra_bytes=8 * out.elements)  # and int64 argmax indices

    def other_ops(self, inp: Shape, out: Shape) -> int:
        return inp.elements  # every value compared once
