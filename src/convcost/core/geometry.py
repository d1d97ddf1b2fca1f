"""Sliding-window arithmetic for one spatial axis: the padding/stride/dilation formulas.

Rules, checked against PyTorch and TensorFlow in tests/test_geometry.py:
- explicit padding (``valid`` is padding 0): out = ⌊(n + p₀ + p₁ − e) / s⌋ + 1, where the
  effective kernel e = d·(k − 1) + 1;
- ``ceil_mode`` (PyTorch pools, Caffe): out = ⌈(n + p₀ + p₁ − e) / s⌉ + 1, minus one when
  the last window would start in the trailing padding ((out − 1)·s ≥ n + p₀);
- ``same`` (TensorFlow): out = ⌈n / s⌉; the padding needed, max((out − 1)·s + e − n, 0), is
  split with the odd pixel after (bottom/right), so it is asymmetric for stride > 1.

A transposed convolution (PyTorch's ConvTranspose2d, ONNX's ConvTranspose) runs the other
way: each input pixel spreads a kernel over the output, s apart, and padding is taken off the
output's edges (checked against PyTorch in tests/test_torch_crosscheck.py):
- explicit padding: out = (n − 1)·s − p₀ − p₁ + d·(k − 1) + op + 1, ``op`` the output
  padding (rows added after, below the stride or the dilation, as PyTorch requires);
- ``same`` (ONNX's SAME_UPPER, TensorFlow's): out = n·s; padding e − s split with the odd
  pixel after, or where the kernel is shorter than the stride, output padding s − e.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from convcost.core.errors import ConvcostError

Rule = Literal["floor", "ceil", "same", "transposed", "transposed_same"]


class Axis(NamedTuple):
    """One axis through a window: the inputs of the formula and its result."""

    size: int
    kernel: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    rule: Rule
    output: int
    last_window_dropped: bool = False
    output_padding: int = 0  # a transposed convolution's

    @property
    def effective_kernel(self) -> int:
        return self.dilation * (self.kernel - 1) + 1

    def formula(self) -> str:
        """The formula with its numbers filled in, e.g. ``⌊(28 + 0 + 0 − 3) / 2⌋ + 1 = 13``."""
        if self.rule == "transposed":
            return (
                f"({self.size} − 1)·{self.stride} − {self.pad_before} − {self.pad_after} + "
                f"{self.dilation}·({self.kernel} − 1) + {self.output_padding} + 1 = {self.output}"
            )
        if self.rule == "transposed_same":
            extra = f", output padding {self.output_padding}" if self.output_padding else ""
            return (
                f"{self.size}·{self.stride} = {self.output}  (same: pad {self.pad_before} "
                f"before, {self.pad_after} after{extra})"
            )
        if self.rule == "same":
            return (
                f"⌈{self.size} / {self.stride}⌉ = {self.output}"
                f"  (same: pad {self.pad_before} before, {self.pad_after} after)"
            )
        kernel = str(self.kernel)
        if self.dilation > 1:
            kernel = f"({self.dilation}·({self.kernel} − 1) + 1)"
        body = f"{self.size} + {self.pad_before} + {self.pad_after} − {kernel}"
        if self.rule == "floor":
            return f"⌊({body}) / {self.stride}⌋ + 1 = {self.output}"
        dropped = (
            " − 1 (last window would start in the padding)" if (self.last_window_dropped) else ""
        )
        return f"⌈({body}) / {self.stride}⌉ + 1{dropped} = {self.output}"


Padding = tuple[int, int, int, int] | Literal["same"]
"""Layer padding: ``same`` or explicit (top, bottom, left, right); ``valid`` is all zeros."""


def describe_padding(padding: Padding) -> str:
    if padding == "same":
        return "same"
    if padding == (0, 0, 0, 0):
        return "valid"
    top, bottom, left, right = padding
    if top == bottom == left == right:
        return f"p{top}"
    if top == bottom and left == right:
        return f"p{top},{left}"
    return f"p{top},{bottom},{left},{right}"


def window(
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: Padding,
    ceil_mode: bool = False,
) -> tuple[Axis, Axis]:
    """Both spatial axes through a window; raises ConvcostError when it does not fit."""
    if padding == "same":
        pads_h: tuple[int, int] | Literal["same"] = "same"
        pads_w: tuple[int, int] | Literal["same"] = "same"
    else:
        pads_h, pads_w = (padding[0], padding[1]), (padding[2], padding[3])
    axis_h = slide(h, kernel[0], stride[0], dilation[0], pads_h, ceil_mode)
    axis_w = slide(w, kernel[1], stride[1], dilation[1], pads_w, ceil_mode)
    if axis_h is None or axis_w is None:
        assert padding != "same"
        need_h = max(1, dilation[0] * (kernel[0] - 1) + 1 - padding[0] - padding[1])
        need_w = max(1, dilation[1] * (kernel[1] - 1) + 1 - padding[2] - padding[3])
        dilated = "" if dilation == (1, 1) else f" dilated {dilation[0]}x{dilation[1]}"
        raise ConvcostError(
            f"kernel {kernel[0]}x{kernel[1]}{dilated} does not fit the {h}x{w} input "
            f"with {describe_padding(padding)} padding; the smallest input it fits is "
            f"{need_h}x{need_w} (or pad more, e.g. padding: same)"
        )
    return axis_h, axis_w


def window_size(
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: Padding,
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """The output height and width alone: what every layer needs, made cheaply (the same
    rules as ``slide``, which ``window`` uses when the formula itself is wanted)."""
    if padding == "same":
        return -(-h // stride[0]), -(-w // stride[1])
    if not ceil_mode:
        out_h = (h + padding[0] + padding[1] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
        out_w = (w + padding[2] + padding[3] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
        if out_h >= 1 and out_w >= 1:
            return out_h, out_w
    axis_h, axis_w = window(h, w, kernel, stride, dilation, padding, ceil_mode)
    return axis_h.output, axis_w.output


def slide(
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: tuple[int, int] | Literal["same"],
    ceil_mode: bool = False,
) -> Axis | None:
    """Output size of one axis, or None when the window does not fit the padded input."""
    effective = dilation * (kernel - 1) + 1
    if padding == "same":
        output = -(-size // stride)
        total = max((output - 1) * stride + effective - size, 0)
        return Axis(size, kernel, stride, dilation, total // 2, total - total // 2, "same", output)
    before, after = padding
    span = size + before + after - effective
    if not ceil_mode:
        output = span // stride + 1
        if output < 1:
            return None
        return Axis(size, kernel, stride, dilation, before, after, "floor", output)
    # PyTorch's pooling_output_shape: a last window may hang over the end, if it starts
    # inside the input or its leading padding.
    output = -(-span // stride) + 1
    dropped = (output - 1) * stride >= size + before
    if dropped:
        output -= 1
    if output < 1:
        return None
    return Axis(size, kernel, stride, dilation, before, after, "ceil", output, dropped)


def describe_pair(value: tuple[int, int]) -> str:
    """``2`` for (2, 2), ``1x2`` for (1, 2): a per-axis setting as tables and messages show it."""
    return f"{value[0]}x{value[1]}" if value[0] != value[1] else str(value[0])


def transposed_window(
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: Padding,
    output_padding: tuple[int, int] = (0, 0),
) -> tuple[Axis, Axis]:
    """Both spatial axes through a transposed convolution; raises ConvcostError for what
    PyTorch refuses (output padding not below the stride or the dilation) and for padding
    that leaves no output."""
    if padding != "same" and any(
        op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation, strict=True)
    ):
        most = (max(stride[0], dilation[0]) - 1, max(stride[1], dilation[1]) - 1)
        raise ConvcostError(
            f"output_padding {describe_pair(output_padding)} must be below the stride "
            f"{describe_pair(stride)} or the dilation {describe_pair(dilation)} on each axis, "
            f"as PyTorch requires; here at most {describe_pair(most)}",
            field="output_padding",
        )
    if padding == "same":
        pads_h: tuple[int, int] | Literal["same"] = "same"
        pads_w: tuple[int, int] | Literal["same"] = "same"
    else:
        pads_h, pads_w = (padding[0], padding[1]), (padding[2], padding[3])
    axis_h = unslide(h, kernel[0], stride[0], dilation[0], pads_h, output_padding[0])
    axis_w = unslide(w, kernel[1], stride[1], dilation[1], pads_w, output_padding[1])
    if axis_h.output < 1 or axis_w.output < 1:
        assert padding != "same"
        full = (
            axis_h.output + axis_h.pad_before + axis_h.pad_after,
            axis_w.output + axis_w.pad_before + axis_w.pad_after,
        )
        taken = (padding[0] + padding[1], padding[2] + padding[3])
        raise ConvcostError(
            f"padding {describe_padding(padding)} leaves no output: before it is taken off, "
            f"the {h}x{w} input gives {full[0]}x{full[1]}, and it takes {taken[0]}x{taken[1]} "
            "of that; pad less in total on each axis",
            field="padding",
        )
    return axis_h, axis_w


def unslide(
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: tuple[int, int] | Literal["same"],
    output_padding: int = 0,
) -> Axis:
    """One axis through a transposed convolution (its output may be under 1: see
    ``transposed_window``)."""
    effective = dilation * (kernel - 1) + 1
    if padding == "same":
        total = effective - stride
        if total >= 0:
            before, after = total // 2, total - total // 2
            return Axis(size, kernel, stride, dilation, before, after, "transposed_same",
                        size * stride)  # fmt: skip
        return Axis(size, kernel, stride, dilation, 0, 0, "transposed_same", size * stride,
                    output_padding=stride - effective)  # fmt: skip
    before, after = padding
    output = (size - 1) * stride + effective + output_padding - before - after
    return Axis(size, kernel, stride, dilation, before, after, "transposed", output,
                output_padding=output_padding)  # fmt: skip
