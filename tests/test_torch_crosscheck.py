"""Whole stacks, layer by layer, against PyTorch: shapes, params, buffers and MACs."""

from __future__ import annotations

import itertools

import pytest

from convcost.core.errors import ConvcostError
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
