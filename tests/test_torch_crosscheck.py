"""Whole stacks, layer by layer, against PyTorch: shapes, params, buffers and MACs."""

from __future__ import annotations

import pytest

from convcost.frontends.inline import parse_inline
from convcost.network import analyze
from tests.torch_bridge import check_against_torch

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
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("batch", [1, 3])
def test_stack_matches_pytorch(spec: str, batch: int) -> None:
    check_against_torch(analyze(parse_inline(spec), batch))


def test_batch_multiplies_macs_and_activations_not_params() -> None:
    net = parse_inline("28x28x192 | conv 1x1 16 relu | conv 5x5 32")
    one, four = analyze(net, 1), analyze(net, 4)
    assert four.totals.macs == 4 * one.totals.macs == 4 * 12_443_648
    assert four.totals.activations == 4 * one.totals.activations
    assert four.totals.params == one.totals.params == 15_920
