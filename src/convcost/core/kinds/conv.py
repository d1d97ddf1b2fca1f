"""The convolution kind: plain, strided, dilated, grouped and depthwise."""

from __future__ import annotations

from typing import Literal

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.geometry import Axis, Padding, window, window_size
from convcost.core.kinds.base import (
    WINDOW_WORDS,
    Evaluation,
    Layer,
    Saved,
    make_evaluation,
    param,
    require_spatial,
    saved_window_input,
    window_config,
)
from convcost.core.shapes import Shape, make_shape


class Conv(Layer):
    kind = "conv"
    fusion = "producer"
    aliases = ("conv2d", "convolution")
    summary = "2-D convolution (grouped and depthwise too)"
    positional = ("kernel", "filters")
    words = {
        **WINDOW_WORDS,
        "nobias": ("bias", False),
        "depthwise": ("groups", "depthwise"),
        "dw": ("groups", "depthwise"),
    }

    kernel: tuple[int, int] = param(fields.pair, "kernel size: K, KhxKw or [Kh, Kw]")
    filters: int | None = param(
        fields.positive_int,
        "output channels (default for depthwise: the input channels)",
        default=None,
    )
    stride: tuple[int, int] = param(fields.pair, "stride: S, SHxSW or [sh, sw]", default=(1, 1))
    padding: Padding = param(
        fields.padding, "same (TensorFlow rule), valid, N, [h, w] or [t, b, l, r]", default="same"
    )
    dilation: tuple[int, int] = param(fields.pair, "dilation: D or [dh, dw]", default=(1, 1))
    groups: int | Literal["depthwise"] = param(
        fields.groups, "channel groups, or depthwise (one per input channel)", default=1
    )
    bias: bool = param(fields.boolean, "add a bias per output channel", default=True)

    def _groups_and_filters(self, inp: Shape) -> tuple[int, int]:
        groups = inp.c if self.groups == "depthwise" else self.groups
        if self.filters is not None:
            return groups, self.filters
        if self.groups != "depthwise":
            raise ConvcostError(
                "conv needs filters, the number of output channels (e.g. filters: 32)",
                field="filters",
            )
        return groups, inp.c

    def evaluate(self, inp: Shape) -> Evaluation:
        h, w, c, flat = inp
        if flat:
            require_spatial(inp, "conv")
        groups, filters = self.groups, self.filters
        if groups != 1 or filters is None:  # the plain conv skips this (it runs per layer)
            groups, filters = self._groups_and_filters(inp)
            if c % groups:
                raise ConvcostError(
                    f"groups {groups} does not divide the {c} input channels; use a divisor of {c}",
                    field="groups",
                )
            if filters % groups:
                raise ConvcostError(
                    f"groups {groups} does not divide the {filters} filters; "
                    f"use a multiple of {groups} filters",
                    field="filters",
                )
        kernel, stride, padding = self.kernel, self.stride, self.padding
        if padding == "same":  # window_size's first rule, written out: the common case
            out_h, out_w = -(-h // stride[0]), -(-w // stride[1])
        else:
            out_h, out_w = window_size(h, w, kernel, stride, self.dilation, padding)
        outputs = out_h * out_w * filters
        weights = kernel[0] * kernel[1] * (c // groups)
        out = make_shape(out_h, out_w, filters, False)
        if self.bias:
            return make_evaluation(out, outputs * weights, weights * filters + filters, 0, outputs)
        return make_evaluation(out, outputs * weights, weights * filters, 0, 0)

    def axes(self, inp: Shape) -> tuple[Axis, Axis] | None:
        return window(inp.h, inp.w, self.kernel, self.stride, self.dilation, self.padding)

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return saved_window_input(self, inp)  # the weight gradient reads it

    def mac_factors(self, inp: Shape, out: Shape) -> tuple[tuple[str, int], ...]:
        groups, _ = self._groups_and_filters(inp)
        return (
            ("H_out", out.h),
            ("W_out", out.w),
            ("C_out", out.c),
            ("K_h", self.kernel[0]),
            ("K_w", self.kernel[1]),
            ("C_in" if groups == 1 else "C_in/groups", inp.c // groups),
        )

    def param_formula(self, inp: Shape, out: Shape) -> str:
        groups, filters = self._groups_and_filters(inp)
        bias = f" + {filters} (bias)" if self.bias else ""
        return f"{self.kernel[0]} × {self.kernel[1]} × {inp.c // groups} × {filters}{bias}"

    def config(self) -> str:
        text = window_config(self.kernel, self.stride, self.padding, self.dilation)
        if self.groups != 1:
            text += " dw" if self.groups == "depthwise" else f" g{self.groups}"
        return text
