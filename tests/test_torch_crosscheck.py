"""Whole stacks, layer by layer, against PyTorch: shapes, params, buffers and MACs."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from convcost.core.errors import ConvcostError
from convcost.frontends import analyze_spec
from convcost.frontends.inline import parse_inline
from convcost.frontends.tree import analyze

SPECS = [
    "28x28x192 | conv 1x1 16 relu | conv 5x5 32",
    "14x14x480 | conv 1x1 16 relu | conv 5x5 48",
    "28x28x192 | conv 5x5 32 nobias",
    # Stride-2 'same' pads asymmetrically (TensorFlow), as a ZeroPad2d + conv in PyTorch.
    "224x224x3 | conv 7x7 64 s2 bn relu | maxpool 3 2 p1 | conv 3x3 64 | gap | fc 1000",
    "224x224x3 | conv 7x7 64 s2 p3 | maxpool 3 2 ceil | conv 3x3 128 s2 valid d2",
    "32x32x32 | conv 3x3 dw s2 | bn | relu6 | conv 1x1 64 nobias | bn noaffine",
    "32x32x64 | conv 3x3 64 g4 | conv 3x5 32 padding=1,2 | conv 3x3 16 padding=0,1,2,3",
    "27x27x96 | lrn 5 | avgpool 3 2 ceil | pad 1 | maxpool 2 | flatten | dense 10 | softmax",
    "13x13x8 | avgpool 3 1 same | dropout 0.3 | conv 2x4 8 s3x1 | fc 4 nobias | bn",
    "7x7x512 | flatten | fc 4096 relu | dropout | fc 4096 | fc 1000",
    "7x7x8 | upsample 2 | conv 3x3 4 | upsample 3x2 bilinear | upsample size=5x9 | upsample "
    "size=20 bilinear",
    # Transposed convs: 'same' (even, uneven: a Crop after the conv in PyTorch, and a kernel
    # shorter than the stride: output padding), PyTorch's p1 op1, grouped, depthwise, dilated.
    "7x7x16 | convtranspose 2x2 8 s2 | deconv 3x3 8 s2 | convtranspose 1x1 4 s3 nobias",
    "6x5x8 | convtranspose 3x3 8 s2 p1 op1 bn relu | convtranspose 4x4 4 s2 p1 g2",
    "5x5x6 | convtranspose 3x2 6 s2x3 padding=0,1,2,0 op1x2 d2 | convtranspose 3x3 dw s2 nobias",
    "4x4x8 | convtranspose 5x5 4 s1 valid d2 | conv 3x3 4 | gap | fc 3",
    # Issue #15's kinds: pixel and channel shuffles, normalizations over channels, a
    # per-channel scale, adaptive max pools, leaky ReLU, softmax along each axis, identity,
    # crops, channel splits; on vectors too.
    "8x8x16 | pixelshuffle 2 | conv 3x3 8 | pixelunshuffle 4 | channelshuffle 4 | groupnorm 8 "
    "| scale",
    "7x7x12 | layernorm eps=1e-6 | conv 1x1 48 | gelu | conv 1x1 12 | scale | layernorm noaffine"
    " | groupnorm 3 noaffine eps=0.001",
    "9x9x8 | adaptivemaxpool 4 | leakyrelu 0.2 | softmax height | softmax width | identity | "
    "crop 3x2 | crop edges=0,1,0,0 | split 2 1 | split 3 0",
    "6x6x10 | adaptivemaxpool 5x3 | gap | layernorm | flatten | layernorm | scale | leakyrelu "
    "| softmax | split 4 1 | groupnorm 1",
]


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("batch", [1, 3])
def test_stack_matches_pytorch(spec: str, batch: int) -> None:
    from tests.torch_bridge import check_against_torch

    check_against_torch(analyze(parse_inline(spec), batch))


def test_batch_multiplies_macs_and_activations_not_params() -> None:
    net = parse_inline("28x28x192 | conv 1x1 16 relu | conv 5x5 32")
    one, four = analyze(net, 1), analyze(net, 4)
    assert four.totals.macs == 4 * one.totals.macs == 4 * 12_443_648
    assert four.totals.activations == 4 * one.totals.activations
    assert four.totals.params == one.totals.params == 15_920


# Pool padding: PyTorch refuses more than kernel // 2 on a side (dilation aside) for max and
# avg pools; convcost refuses exactly the same settings, never counting a pool torch won't run.
@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    ("kind", "dilation"), [("maxpool", 1), ("maxpool", 2), ("maxpool", 3), ("avgpool", 1)]
)
def test_pool_padding_is_refused_exactly_where_pytorch_refuses(kind: str, dilation: int) -> None:
    import torch
    from torch import nn

    x = torch.zeros(1, 1, 24, 24)
    for kh, kw, ph, pw in itertools.product(range(1, 6), range(1, 6), range(4), range(4)):
        if kind == "maxpool":
            pool: nn.Module = nn.MaxPool2d((kh, kw), 1, (ph, pw), dilation)
            spec = f"24x24x1 | maxpool {kh}x{kw} 1 padding={ph},{pw} dilation={dilation}"
        else:
            pool = nn.AvgPool2d((kh, kw), 1, (ph, pw))
            spec = f"24x24x1 | avgpool {kh}x{kw} 1 padding={ph},{pw}"
        try:
            pool(x)
            torch_runs = True
        except RuntimeError:
            torch_runs = False
        try:
            analyze(parse_inline(spec))
            convcost_counts = True
        except ConvcostError as error:
            assert "PyTorch pads a pool by at most kernel // 2" in error.message, error.message
            convcost_counts = False
        assert convcost_counts == torch_runs, spec


# Transposed convs over a grid against nn.ConvTranspose2d: convcost counts exactly the
# settings PyTorch runs to a non-empty output (it refuses output padding not below the
# stride or the dilation, and returns an empty tensor where padding takes the whole output),
# with its output shape and its parameters, and flop_counter's FLOPs as 2 × MACs. (The FLOP
# counter's dispatch costs milliseconds a call: every 7th setting runs under it, 7 being
# prime to each axis of the grid, so that every value of each is among them.)
_T_KERNELS = [(1, 1), (2, 2), (3, 3), (4, 4), (3, 2)]
_T_STRIDES = [(1, 1), (2, 2), (3, 3), (2, 3)]
_T_PADS = [(0, 0), (1, 1), (2, 2), (1, 2)]
_T_OUTPUT_PADS = [(0, 0), (1, 1), (2, 2), (1, 0)]
_T_DILATIONS = [(1, 1), (2, 2), (1, 3)]


def _xy(pair: tuple[int, int]) -> str:
    return f"{pair[0]}x{pair[1]}"


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(("kernel", "stride"), list(itertools.product(_T_KERNELS, _T_STRIDES)))
def test_convtranspose_grid_matches_pytorch(
    kernel: tuple[int, int], stride: tuple[int, int]
) -> None:
    import contextlib

    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    counted = refused = flops_checked = 0
    grouped = ((1, True), (2, False))
    grid = itertools.product(_T_PADS, _T_OUTPUT_PADS, _T_DILATIONS, grouped, (1, 3))
    for i, (pad, output_pad, dilation, (groups, bias), size) in enumerate(grid):
        module = nn.ConvTranspose2d(4, 6, kernel, stride, pad, output_pad, groups, bias, dilation)
        counter = FlopCounterMode(display=False) if i % 7 == 0 else None
        try:
            with torch.no_grad(), counter or contextlib.nullcontext():
                y = module(torch.zeros(2, 4, size, size + 1))
            torch_runs = y.numel() > 0
        except RuntimeError:
            torch_runs = False
        spec = (
            f"{size}x{size + 1}x4 | convtranspose {_xy(kernel)} 6 s{_xy(stride)} "
            f"padding={pad[0]},{pad[1]} op{_xy(output_pad)} d{_xy(dilation)} g{groups} "
            f"bias={str(bias).lower()}"
        )
        try:
            (layer,) = analyze(parse_inline(spec), 2).layers
        except ConvcostError as error:
            why = error.message.partition("): ")[2]
            assert why.startswith(("output_padding ", "padding ")), error.message
            assert not torch_runs, spec
            refused += 1
            continue
        assert torch_runs, spec
        counted += 1
        _, c, h, w = y.shape
        assert [int(h), int(w), int(c)] == layer.output_shape.as_list(), spec
        assert sum(p.numel() for p in module.parameters()) == layer.params, spec
        if counter is not None:
            assert counter.get_total_flops() == 2 * layer.macs, spec
            flops_checked += 1
    assert counted and flops_checked and (refused or stride == (3, 3)), (counted, refused)


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    ("kernel", "stride", "dilation"),
    list(itertools.product((1, 2, 3, 4, 5), (1, 2, 3), (1, 2))),
)
def test_convtranspose_same_is_input_times_stride_in_pytorch(
    kernel: int, stride: int, dilation: int
) -> None:
    # 'same' gives H·s × W·s; the padding and output padding convcost reports for it, given to
    # PyTorch (uneven padding cropped after), give PyTorch that size too.
    import torch

    from tests.torch_bridge import torch_module

    for size in (1, 2, 5, 8):
        spec = f"{size}x{size}x2 | convtranspose {kernel} 2 s{stride} d{dilation} same"
        (layer,) = analyze(parse_inline(spec)).layers
        assert layer.output_shape.as_list() == [size * stride, size * stride, 2], spec
        with torch.no_grad():
            y = torch_module(layer)(torch.zeros(1, 2, size, size))
        assert list(y.shape) == [1, 2, size * stride, size * stride], spec


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize("batch", [1, 2])
def test_a_unet_decoder_wired_matches_pytorch(batch: int) -> None:
    # Transposed convs whose outputs are concatenated with the encoder's: every node's shape
    # in a real forward pass of the wired graph, the total params and FLOPs.
    from tests.torch_bridge import check_network_against_torch

    spec = str(Path(__file__).parent / "configs" / "unet_decoder.yaml")
    network, report = analyze_spec(spec, batch=batch)
    check_network_against_torch(network, report)


# --- issue #15's kinds over grids of settings, each against its PyTorch module -----------------
# Built from the settings alone (not from convcost's analysis): convcost refuses exactly the
# settings PyTorch refuses (or where it gives an empty output), and otherwise gives PyTorch's
# output shape, parameters and running statistics, and MACs = flop_counter's FLOPs ÷ 2.


Case = tuple[str, Callable[..., Any], tuple[int, ...]]  # spec, PyTorch module maker, input


def _torch_outcome(make: Callable[..., Any], x: Any) -> tuple[list[int], int, int, int] | None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tests.torch_bridge import torch_shape

    try:
        module = make()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            y = module(x)
    except (RuntimeError, ValueError, IndexError):
        return None
    if y.numel() == 0:
        return None
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for b in module.buffers() if b.is_floating_point())
    return torch_shape(y), params, buffers, counter.get_total_flops()


def _convcost_outcome(
    spec: str, batch: int, fields: set[str | None]
) -> tuple[list[int], int, int, int] | None:
    try:
        layer = analyze(parse_inline(spec), batch).layers[-1]
    except ConvcostError as error:
        assert error.field in fields, error.message  # refused for one of its settings
        return None
    return layer.output_shape.as_list(), layer.params, layer.buffers, 2 * layer.macs


def _grid(cases: Sequence[Case], fields: set[str | None]) -> None:
    """Each (spec, PyTorch module maker, input NCHW or NF): the same outcome in both."""
    import torch

    refused = counted = 0
    for spec, make, dims in cases:
        x = torch.zeros(*dims)
        expected = _torch_outcome(make, x)
        assert _convcost_outcome(spec, dims[0], fields) == expected, spec
        refused += expected is None
        counted += expected is not None
    assert refused and counted, (refused, counted)


@pytest.mark.usefixtures("torch_present")
def test_pixelshuffle_grid_matches_pytorch() -> None:
    from torch import nn

    cases = [
        (f"{h}x{w}x{c} | pixelshuffle {r}", lambda r=r: nn.PixelShuffle(r), (2, c, h, w))
        for c, r, (h, w) in itertools.product(range(1, 19), range(1, 5), [(1, 1), (3, 2)])
    ]
    _grid(cases, {"factor"})


@pytest.mark.usefixtures("torch_present")
def test_pixelunshuffle_grid_matches_pytorch() -> None:
    from torch import nn

    cases = [
        (f"{h}x{w}x{c} | pixelunshuffle {r}", lambda r=r: nn.PixelUnshuffle(r), (2, c, h, w))
        for h, w, r, c in itertools.product(range(1, 10), (4, 6), range(1, 5), (1, 3))
    ]
    _grid(cases, {"factor"})


@pytest.mark.usefixtures("torch_present")
def test_channelshuffle_grid_matches_pytorch() -> None:
    from torch import nn

    cases = [
        (f"3x2x{c} | channelshuffle {g}", lambda g=g: nn.ChannelShuffle(g), (2, c, 3, 2))
        for c, g in itertools.product(range(1, 13), range(1, 14))
    ]
    _grid(cases, {"groups"})


@pytest.mark.usefixtures("torch_present")
def test_groupnorm_grid_matches_pytorch() -> None:
    from torch import nn

    cases = [
        (
            f"3x2x{c} | groupnorm {g} affine={str(affine).lower()}",
            lambda g=g, c=c, affine=affine: nn.GroupNorm(g, c, affine=affine),
            (2, c, 3, 2),
        )
        for c, g, affine in itertools.product(range(1, 13), range(1, 14), (True, False))
    ]
    _grid(cases, {"groups"})


@pytest.mark.usefixtures("torch_present")
def test_layernorm_grid_matches_pytorch() -> None:
    # ConvNeXt's LayerNorm2d over the channels at each position; a vector's LayerNorm.
    from torch import nn

    from tests.torch_bridge import LayerNorm2d

    cases: list[Case] = []
    for c, (h, w), affine in itertools.product((1, 5, 16), [(1, 1), (3, 4)], (True, False)):
        flag = str(affine).lower()
        cases.append((f"{h}x{w}x{c} | layernorm eps=1e-6 affine={flag}",
                      lambda c=c, affine=affine: LayerNorm2d(c, 1e-6, elementwise_affine=affine),
                      (2, c, h, w)))  # fmt: skip
        cases.append((f"{h}x{w}x{c} | flatten | layernorm affine={flag}",
                      lambda n=c * h * w, affine=affine: nn.LayerNorm(n, elementwise_affine=affine),
                      (2, c * h * w)))  # fmt: skip
    # A vector's softmax is along its features only: refused along the height, as PyTorch's
    # Softmax(dim=2) refuses an N×F tensor.
    cases.append(("2x2x3 | flatten | softmax height", lambda: nn.Softmax(dim=2), (2, 12)))
    _grid(cases, {"axis"})


@pytest.mark.usefixtures("torch_present")
def test_adaptivemaxpool_grid_matches_pytorch() -> None:
    from torch import nn

    cases: list[Case] = [
        (f"{h}x{w}x3 | adaptivemaxpool {oh}x{ow}", lambda s=(oh, ow): nn.AdaptiveMaxPool2d(s),
         (2, 3, h, w))
        for h, w, oh, ow in itertools.product(range(1, 8), (1, 5), range(1, 9), (1, 2, 7))
    ]  # fmt: skip
    # Refused as a vector input is: PyTorch reads an N×F tensor as one C×H×W image.
    cases.append(("1x1x4 | flatten | adaptivemaxpool 1", lambda: nn.AdaptiveMaxPool2d(1), (2, 4)))
    _grid(cases, {"size", None})


@pytest.mark.usefixtures("torch_present")
def test_split_grid_matches_torch_chunk() -> None:
    # torch.chunk: parts of ⌈C/parts⌉, the last smaller, and fewer parts where even that
    # leaves none (7 channels in 4: 2, 2, 2, 1; 5 in 4: 2, 2, 1 and no fourth).
    from tests.torch_bridge import Chunk

    cases = [
        (f"2x3x{c} | split {parts} {index}", lambda p=parts, i=index: Chunk(p, i), (2, c, 2, 3))
        for c, parts, index in itertools.product(range(1, 13), range(1, 7), range(7))
    ]
    _grid(cases, {"index"})


@pytest.mark.usefixtures("torch_present")
def test_crop_by_edges_grid_matches_slicing() -> None:
    # Slicing keeps what the edges leave, and an empty tensor where they leave nothing.
    from tests.torch_bridge import CenterCrop

    cases = [
        (f"5x4x2 | crop edges={t},{b},{lft},{r}",
         lambda e=(t, b, lft, r): CenterCrop(None, e), (2, 2, 5, 4))
        for t, b, lft, r in itertools.product(range(4), range(4), range(3), range(3))
    ]  # fmt: skip
    _grid(cases, {"edges"})


@pytest.mark.parametrize(("size", "kept"), [(56, (4, 4)), (104, (16, 16)), (5, (1, 2))])
def test_center_crop_takes_the_odd_row_from_the_bottom(size: int, kept: tuple[int, int]) -> None:
    # The U-Net's crops (64 → 56, 136 → 104): as many rows off the top as off the bottom; an
    # odd one off the bottom (8 → 5: 1 above, 2 below).
    height = size + sum(kept)
    (layer,) = analyze(parse_inline(f"{height}x{height}x1 | crop {size}")).layers
    assert layer.layer.taken(layer.input_shape) == (*kept, *kept)  # type: ignore[attr-defined]
    assert layer.output_shape.as_list() == [size, size, 1]


@pytest.mark.usefixtures("torch_present")
def test_center_crop_picks_the_centre_pytorch_slicing_picks() -> None:
    # Values, not shapes: convcost's edges given to PyTorch's slicing pick the same pixels as
    # the centre crop written from the size alone.
    import torch

    from tests.torch_bridge import CenterCrop

    x = torch.arange(2 * 9 * 8, dtype=torch.float32).reshape(1, 2, 9, 8)
    for h, w in itertools.product(range(1, 10), range(1, 9)):
        (layer,) = analyze(parse_inline(f"9x8x2 | crop {h}x{w}")).layers
        edges = layer.layer.taken(layer.input_shape)  # type: ignore[attr-defined]
        assert torch.equal(CenterCrop(None, edges)(x), CenterCrop((h, w), (0, 0, 0, 0))(x))
