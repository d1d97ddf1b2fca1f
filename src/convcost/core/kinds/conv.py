"""The convolution kinds: plain, strided, dilated, grouped and depthwise, and transposed
(a learned upsampling: each input pixel spreads a kernel over the output)."""

from __future__ import annotations

from typing import Any, Literal

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.geometry import (
    Axis,
    Padding,
    describe_pair,
    transposed_window,
    window,
    window_size,
)
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


def groups_and_filters(
    kind: str, groups: int | Literal["depthwise"], filters: int | None, inp: Shape
) -> tuple[int, int]:
    """A convolution's group count and output channels (depthwise: one group per input
    channel, and as many filters as input channels unless given)."""
    count = inp.c if groups == "depthwise" else groups
    if filters is not None:
        return count, filters
    if groups != "depthwise":
        raise ConvcostError(
            f"{kind} needs filters, the number of output channels (e.g. filters: 32)",
            field="filters",
        )
    return count, inp.c


def check_groups(groups: int, channels: int, filters: int) -> None:
    """Groups must divide the input channels and the filters, as PyTorch requires."""
    if channels % groups:
        raise ConvcostError(
            f"groups {groups} does not divide the {channels} input channels; use a divisor of "
            f"{channels}",
            field="groups",
        )
    if filters % groups:
        raise ConvcostError(
            f"groups {groups} does not divide the {filters} filters; "
            f"use a multiple of {groups} filters",
            field="filters",
        )


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
        return groups_and_filters(self.kind, self.groups, self.filters, inp)

    def resolved(self, inp: Shape) -> Layer:
        """Also its groups and filters as numbers: ``dw`` on 32 channels is ``g32``."""
        return _numbered(super().resolved(inp), *self._groups_and_filters(inp))

    def evaluate(self, inp: Shape) -> Evaluation:
        h, w, c, flat = inp
        if flat:
            require_spatial(inp, "conv")
        groups, filters = self.groups, self.filters
        if groups != 1 or filters is None:  # the plain conv skips this (it runs per layer)
            groups, filters = self._groups_and_filters(inp)
            check_groups(groups, c, filters)
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


class ConvTranspose(Layer):
    """PyTorch's ``ConvTranspose2d`` (ONNX's ConvTranspose): each input pixel spreads its
    Kh×Kw×(Cout/groups) kernel over the output, s apart; padding is taken off the output's
    edges. MACs are counted where the work is, on the input side, Hin·Win·Cin·Kh·Kw·Cout/groups,
    as PyTorch's FLOP counter counts them; the weight is Cin × Cout/groups × Kh × Kw."""

    kind = "convtranspose"
    fusion = "producer"
    aliases = ("deconv", "convtranspose2d", "conv2dtranspose")
    summary = "2-D transposed convolution (deconvolution): a learned upsampling"
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
    stride: tuple[int, int] = param(
        fields.pair, "stride, the upsampling factor: S, SHxSW or [sh, sw]", default=(1, 1)
    )
    padding: Padding = param(
        fields.padding,
        "taken off the output: same (output H·s × W·s), valid, N, [h, w] or [t, b, l, r]",
        default="same",
    )
    output_padding: tuple[int, int] = param(
        fields.non_negative_pair,
        "rows and columns added after (below the stride or the dilation), with explicit "
        "padding: N, NxM or [h, w]",
        default=(0, 0),
    )
    dilation: tuple[int, int] = param(fields.pair, "dilation: D or [dh, dw]", default=(1, 1))
    groups: int | Literal["depthwise"] = param(
        fields.groups, "channel groups, or depthwise (one per input channel)", default=1
    )
    bias: bool = param(fields.boolean, "add a bias per output channel", default=True)

    def _groups_and_filters(self, inp: Shape) -> tuple[int, int]:
        return groups_and_filters(self.kind, self.groups, self.filters, inp)

    def axes(self, inp: Shape) -> tuple[Axis, Axis] | None:
        return self._window(inp)

    def _window(self, inp: Shape) -> tuple[Axis, Axis]:
        if self.padding == "same" and self.output_padding != (0, 0):
            raise ConvcostError(
                f"output_padding {describe_pair(self.output_padding)} goes with explicit "
                "padding: same already makes the output H·s × W·s; drop output_padding, or "
                "give padding (e.g. padding: 1)",
                field="output_padding",
            )
        return transposed_window(inp.h, inp.w, self.kernel, self.stride, self.dilation,
                                 self.padding, self.output_padding)  # fmt: skip

    def resolved(self, inp: Shape) -> Layer:
        """Also its groups and filters as numbers, as Conv's."""
        return _numbered(super().resolved(inp), *self._groups_and_filters(inp))

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        groups, filters = self._groups_and_filters(inp)
        check_groups(groups, inp.c, filters)
        h, w = self._window(inp)
        out = make_shape(h.output, w.output, filters, False)
        weights = inp.c * (filters // groups) * self.kernel[0] * self.kernel[1]
        macs = inp.h * inp.w * weights
        if self.bias:
            return make_evaluation(out, macs, weights + filters, 0, out.elements)
        return make_evaluation(out, macs, weights, 0, 0)

    def saved(self, inp: Shape, out: Shape) -> Saved:
        return Saved(input=True)  # the weight gradient reads it; padding is on the output

    def mac_factors(self, inp: Shape, out: Shape) -> tuple[tuple[str, int], ...]:
        groups, filters = self._groups_and_filters(inp)
        return (
            ("H_in", inp.h),
            ("W_in", inp.w),
            ("C_in", inp.c),
            ("K_h", self.kernel[0]),
            ("K_w", self.kernel[1]),
            ("C_out" if groups == 1 else "C_out/groups", filters // groups),
        )

    def param_formula(self, inp: Shape, out: Shape) -> str:
        groups, filters = self._groups_and_filters(inp)
        bias = f" + {filters} (bias)" if self.bias else ""
        return f"{inp.c} × {filters // groups} × {self.kernel[0]} × {self.kernel[1]}{bias}"

    def config(self) -> str:
        text = window_config(self.kernel, self.stride, self.padding, self.dilation)
        if self.output_padding != (0, 0):
            text += f" op{describe_pair(self.output_padding)}"
        if self.groups != 1:
            text += " dw" if self.groups == "depthwise" else f" g{self.groups}"
        return text


def _numbered(layer: Layer, groups: int, filters: int) -> Layer:
    """A conv or transposed conv with its groups and filters given as numbers."""
    settings: dict[str, Any] = dict(zip(layer._field_names, layer._values(), strict=True))
    return type(layer)(**{**settings, "groups": groups, "filters": filters})
