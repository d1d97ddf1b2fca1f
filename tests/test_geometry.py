"""Shape formulas against PyTorch's own layers, over a parametrized grid."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from convcost.core.errors import ConvcostError
from convcost.core.geometry import slide, window

if TYPE_CHECKING:
    from torch import nn

SIZES = (1, 2, 5, 7, 8, 13, 28)
KERNELS = (1, 2, 3, 5)
STRIDES = (1, 2, 3)
PADS = (0, 1, 2)
DILATIONS = (1, 2)


def _torch_size(module: nn.Module, size: int) -> int | None:
    import torch

    try:
        out = module(torch.zeros(1, 1, size, size))
    except RuntimeError:
        return None
    return int(out.shape[-1])


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    ("kernel", "stride", "pad", "dilation"),
    list(itertools.product(KERNELS, STRIDES, PADS, DILATIONS)),
)
def test_conv_output_size_matches_torch(kernel: int, stride: int, pad: int, dilation: int) -> None:
    from torch import nn

    conv = nn.Conv2d(1, 1, kernel, stride, pad, dilation, bias=False)
    for size in SIZES:
        axis = slide(size, kernel, stride, dilation, (pad, pad))
        expected = _torch_size(conv, size)
        assert (axis.output if axis else None) == expected, size


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    ("kernel", "stride", "pad", "dilation", "ceil_mode"),
    [
        combo
        for combo in itertools.product(KERNELS, STRIDES, PADS, DILATIONS, (False, True))
        if combo[2] <= combo[0] // 2  # PyTorch: pad at most half the kernel
    ],
)
def test_maxpool_output_size_matches_torch(
    kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool
) -> None:
    from torch import nn

    pool = nn.MaxPool2d(kernel, stride, pad, dilation, ceil_mode=ceil_mode)
    for size in SIZES:
        axis = slide(size, kernel, stride, dilation, (pad, pad), ceil_mode)
        expected = _torch_size(pool, size)
        assert (axis.output if axis else None) == expected, size


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    ("kernel", "stride", "pad", "ceil_mode"),
    [
        combo
        for combo in itertools.product(KERNELS, STRIDES, PADS, (False, True))
        if combo[2] <= combo[0] // 2
    ],
)
def test_avgpool_output_size_matches_torch(
    kernel: int, stride: int, pad: int, ceil_mode: bool
) -> None:
    from torch import nn

    pool = nn.AvgPool2d(kernel, stride, pad, ceil_mode=ceil_mode)
    for size in SIZES:
        axis = slide(size, kernel, stride, 1, (pad, pad), ceil_mode)
        assert (axis.output if axis else None) == _torch_size(pool, size), size


# PyTorch warns that even kernels under padding='same' copy the input padded: expected here.
@pytest.mark.usefixtures("torch_present")
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize(("kernel", "dilation"), list(itertools.product(KERNELS, DILATIONS)))
def test_same_padding_stride_1_matches_torch_same(kernel: int, dilation: int) -> None:
    from torch import nn

    conv = nn.Conv2d(1, 1, kernel, 1, "same", dilation, bias=False)
    for size in SIZES:
        axis = slide(size, kernel, 1, dilation, "same")
        assert axis is not None
        assert axis.output == _torch_size(conv, size) == size
        # PyTorch pads total d·(k−1), the odd pixel after, as TensorFlow does.
        assert (axis.pad_before, axis.pad_after) == (
            dilation * (kernel - 1) // 2,
            dilation * (kernel - 1) - dilation * (kernel - 1) // 2,
        )


# TensorFlow's documented 'same' rule for stride > 1 (tf.nn.convolution docs,
# "padding: SAME"): out = ceil(in / stride); pad_total = max((out-1)*stride + k_eff - in, 0);
# pad_before = pad_total // 2. Cases worked by hand from that rule.
@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    [
        (28, 3, 2, (14, 0, 1)),
        (224, 7, 2, (112, 2, 3)),
        (112, 3, 2, (56, 0, 1)),
        (7, 3, 2, (4, 1, 1)),
        (5, 1, 2, (3, 0, 0)),
        (13, 5, 3, (5, 2, 2)),
        (1, 5, 1, (1, 2, 2)),
    ],
)
def test_tensorflow_same_rule(
    size: int, kernel: int, stride: int, expected: tuple[int, ...]
) -> None:
    axis = slide(size, kernel, stride, 1, "same")
    assert axis is not None
    assert (axis.output, axis.pad_before, axis.pad_after) == expected


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    ("size", "kernel", "stride"), list(itertools.product(SIZES, KERNELS, STRIDES))
)
def test_same_padding_pads_reproduce_output_in_torch(size: int, kernel: int, stride: int) -> None:
    from torch import nn

    # The asymmetric pads convcost reports, applied explicitly, give PyTorch the same size.
    axis = slide(size, kernel, stride, 1, "same")
    assert axis is not None
    net = nn.Sequential(
        nn.ZeroPad2d((axis.pad_before, axis.pad_after, axis.pad_before, axis.pad_after)),
        nn.Conv2d(1, 1, kernel, stride, bias=False),
    )
    assert _torch_size(net, size) == axis.output == -(-size // stride)


def test_window_error_names_smallest_input() -> None:
    with pytest.raises(ConvcostError) as error:
        window(3, 3, (5, 5), (1, 1), (1, 1), (0, 0, 0, 0))
    assert error.value.message == (
        "kernel 5x5 does not fit the 3x3 input with valid padding; the smallest input it "
        "fits is 5x5 (or pad more, e.g. padding: same)"
    )
