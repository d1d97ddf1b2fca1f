"""Activation memory (issue #13) against PyTorch: the inference peak walked over the torch.fx
trace, the bytes autograd saves for training measured with saved_tensors_hooks, and
convcost's figures against both for every zoo model."""

from __future__ import annotations

from pathlib import Path

import pytest

from convcost.frontends import analyze_spec, zoo

pytestmark = pytest.mark.usefixtures("torch_present")

ZOO = zoo.model_names()

# Issue #13's inference peaks (fp32, batch 1): the step's input and output alive together,
# e.g. 28×28×192 in (602,112 B) + 28×28×32 out (100,352 B) = 702,464 B.
ISSUE_PEAKS = {
    "28x28x192 | conv 5x5 32": (702_464, "conv1"),
    "28x28x192 | conv 1x1 16 relu | conv 5x5 32": (652_288, "conv1"),
    "resnet18": (4_014_080, "maxpool"),
    "mobilenet_v2": (6_021_120, "inverted1/conv2"),
}

# Bytes saved for backward in a training forward at batch 1, measured at torch 2.13.0.
# resnet18 and resnet50 are issue #13's figures. Its vgg16 figure, 73,254,912, is 100,352 B
# (7×7×512 fp32) short: AdaptiveAvgPool2d((7, 7)) saves its input for backward, as every
# adaptive average pool whose output is not 1×1 does (a 1×1 one is a mean and saves nothing).
MEASURED_SAVED = {
    "resnet18": 22_256_640,
    "resnet50": 86_334_464,
    "vgg16": 73_254_912 + 7 * 7 * 512 * 4,
}


@pytest.mark.parametrize("spec", sorted(ISSUE_PEAKS))
def test_fx_walk_gives_the_issue_peaks(spec: str) -> None:
    from tests.torch_memory import fx_peak

    assert fx_peak(analyze_spec(spec)[1]) == ISSUE_PEAKS[spec]


def test_fx_peak_scales_with_batch() -> None:
    from tests.torch_memory import fx_peak

    assert fx_peak(analyze_spec("resnet18", batch=2)[1]) == (2 * 4_014_080, "maxpool")


def test_fx_walk_folds_a_windows_uneven_padding_into_its_step() -> None:
    # 'same' with stride 2 pads 0 before and 1 after, which PyTorch does in a ZeroPad2d of its
    # own: by the rule the conv's step holds its 8×8×4 input (1,024 B) and 4×4×4 output
    # (256 B); PyTorch's padded copy, 9×9×4 (1,296 B), is alive with the input before that.
    from tests.torch_memory import fx_peak

    report = analyze_spec("8x8x4 | conv 3x3 4 s2 same")[1]
    assert fx_peak(report) == (1_280, "conv1")
    assert fx_peak(report, padded_copies=True) == (2_320, "conv1")


def test_a_pad_layer_is_a_tensor_of_its_own() -> None:
    # 8×8×4 in (1,024 B) + 9×9×4 padded (1,296 B).
    from tests.torch_memory import fx_peak

    assert fx_peak(analyze_spec("8x8x4 | pad 0,1,0,1")[1]) == (2_320, "pad1")


def test_fx_walk_keeps_in_place_layers_and_views_in_their_inputs_buffer() -> None:
    # relu, batchnorm and dropout write into the input (8×8×16 fp32: 4,096 B), flatten is a
    # view of it: the only new tensor is the dense layer's 10 outputs (40 B).
    from tests.torch_memory import fx_peak

    report = analyze_spec("8x8x16 | relu bn dropout 0.5 | flatten | dense 10")[1]
    assert fx_peak(report) == (4_136, "dense1")


@pytest.mark.parametrize("name", sorted(MEASURED_SAVED))
def test_measured_saved_bytes(name: str) -> None:
    from tests.torch_memory import measured_saved_bytes

    assert measured_saved_bytes(analyze_spec(name)[1]) == MEASURED_SAVED[name]


# What one layer saves for backward (tests/torch_memory.py's table), its input requiring
# grad as inside a network: the byte sizes of the distinct storages saved, parameters left
# out. The input is 8×8×16 at batch 2: N = 2,048 elements, F = 8,192 bytes of fp32.
F = 2 * 8 * 8 * 16 * 4
C4 = 16 * 4  # one per-channel fp32 vector
SAVED_BY_KIND: dict[str, list[int]] = {
    "conv 3x3 32 p1": [F],
    "conv 3x3 32 p1 nobias": [F],
    "conv 3x3 32 p1 g4": [F],
    "conv 3x3 16 p1 dw nobias": [F],
    "convtranspose 2x2 8 s2": [F],
    "convtranspose 3x3 8 s2 p1 op1 nobias": [F],
    "convtranspose 3x3 16 s2 g4": [F],  # uneven 'same': the crop after it is a view
    "convtranspose 3x3 s2 dw nobias": [F],
    "dense 10": [F],
    "dense 10 nobias": [F],
    "maxpool 2": [F, 2 * 4 * 4 * 16 * 8],  # input + int64 indices
    "maxpool 3 2 p1": [F, 2 * 4 * 4 * 16 * 8],
    "avgpool 2": [F],
    "adaptiveavgpool 2": [F],
    "gap": [],
    "gmp": [F, 2 * 16 * 8],  # input + int64 indices
    "bn": [F, C4, C4, C4, C4],  # input, save_mean, save_invstd, running mean and variance
    "bn noaffine": [F, C4, C4, C4, C4],
    "flatten | bn": [F, *[1024 * 4] * 4],  # BatchNorm1d over 1,024 features
    # x / (k + α·avg(x²))^β: x, the zero-padded squares over C + 4 channels, the power's
    # base and its result.
    "lrn 5": [F, F * 20 // 16, F, F],
    "relu": [F],  # output
    "relu6": [F],  # input (hardtanh)
    "sigmoid": [F],  # output
    "tanh": [F],  # output
    "softmax": [F],  # output
    "gelu": [F],  # input, and so on below
    "silu": [F],
    "swish": [F],
    "elu": [F],
    "selu": [F],
    "leakyrelu": [F],
    "hardswish": [F],
    "hardsigmoid": [F],
    "mish": [F],
    "identity": [],
    "dropout 0.5": [F],  # the mask, fp32 on the CPU
    "dropout 0": [],
    "flatten": [],
    "pad 1": [],
    "pad 0,1,0,1": [],
    "upsample 2 nearest": [],
    "upsample 2 bilinear": [],
    # Input + a mean and an inverse standard deviation per position (2 × 8 × 8) or group.
    "layernorm": [F, 2 * 64 * 4, 2 * 64 * 4],
    "layernorm noaffine": [F, 2 * 64 * 4, 2 * 64 * 4],
    "flatten | layernorm": [F, 2 * 4, 2 * 4],
    "groupnorm 4": [F, 2 * 4 * 4, 2 * 4 * 4],
    "groupnorm 2 noaffine": [F, 2 * 2 * 4, 2 * 2 * 4],
    "scale": [F],  # the input, which γ's gradient reads
    "adaptivemaxpool 3": [F, 2 * 3 * 3 * 16 * 8],  # input + int64 indices
    "leakyrelu 0.2": [F],
    "softmax width": [F],  # output
    "pixelshuffle 2": [],
    "pixelunshuffle 2": [],
    "channelshuffle 4": [],
    "crop 6x5": [],
    "crop edges=1,0,2,1": [],
    "split 2 1": [],
    "split 3 2": [],
}


@pytest.mark.parametrize("layer", list(SAVED_BY_KIND))
def test_what_one_layer_saves(layer: str) -> None:
    import torch

    from tests.torch_bridge import torch_module
    from tests.torch_memory import saved_storages

    result = analyze_spec(f"8x8x16 | {layer}", batch=2)[1].layers[-1]
    module = torch_module(result).train()
    s = result.input_shape
    torch.manual_seed(0)
    x = torch.randn(2, s.c) if s.flat else torch.randn(2, s.c, s.h, s.w)
    x.requires_grad_()
    assert sorted(saved_storages(lambda: module(x), module.parameters())) == sorted(
        SAVED_BY_KIND[layer]
    )


def test_what_merges_save() -> None:
    import torch

    from tests.torch_memory import saved_storages

    a, b = (torch.randn(2, 16, 8, 8, requires_grad=True) for _ in range(2))
    scale = torch.randn(2, 16, 1, 1, requires_grad=True)
    assert saved_storages(lambda: torch.cat([a, b], dim=1), []) == []
    assert saved_storages(lambda: a + b, []) == []
    assert saved_storages(lambda: a + scale, []) == []
    # Each operand of a product is its partner's gradient factor.
    assert sorted(saved_storages(lambda: a * scale, [])) == [2 * 16 * 4, F]


def test_a_first_layer_without_parameters_saves_nothing() -> None:
    # The network's input needs no grad: only a layer with parameters saves anything there.
    from tests.torch_memory import measured_saved_bytes

    for spec, saved in [("relu", 0), ("maxpool 2", 0), ("dropout 0.5", 0), ("conv 1x1 4", F),
                        ("convtranspose 2x2 4 s2", F)]:  # fmt: skip
        assert measured_saved_bytes(analyze_spec(f"8x8x16 | {spec}", batch=2)[1]) == saved


# --- convcost's figures against PyTorch's, every zoo model --------------------------------------


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", ZOO)
def test_peak_memory_is_the_fx_walks(name: str, batch: int) -> None:
    from convcost.core.costing import peak_memory
    from tests.torch_memory import fx_peak

    report = analyze_spec(name, batch=batch)[1]
    peak = peak_memory(report)
    assert (peak.bytes, peak.layer) == fx_peak(report)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", ZOO)
def test_saved_activation_bytes_are_autograds(name: str, batch: int) -> None:
    from convcost.core.costing import saved_activation_bytes
    from tests.torch_memory import measured_saved_bytes

    report = analyze_spec(name, batch=batch)[1]
    assert saved_activation_bytes(report) == measured_saved_bytes(report)


# Graphs beyond the zoo, where tensors are shared between layers that save them: every
# activation before a layer that keeps its input, dropout that drops nothing, a mul of a
# tensor that needs no gradient, and a squeeze-and-excitation gate.
GRAPHS = {
    **{f"{fn} between convs": f"8x8x4 | conv 1x1 4 | {fn} | conv 1x1 4" for fn in (
        "relu", "relu6", "leakyrelu", "elu", "selu", "gelu", "silu", "mish", "sigmoid",
        "hardsigmoid", "tanh", "hardswish", "softmax", "identity")},
    "bn then an activation": "8x8x4 | conv 1x1 4 bn elu | conv 1x1 4",
    "dropout 0": "8x8x4 | conv 1x1 4 | relu | dropout 0 | conv 1x1 4",
    "dropout": "8x8x4 | conv 1x1 4 | relu | dropout 0.3 | conv 1x1 4",
    "a first relu and pool": "8x8x4 | relu | maxpool 2 | conv 1x1 4",
    "mul of a tensor without gradient": (
        "input: 8x8x4\nlayers:\n  - {type: relu, name: r}\n"
        "  - {type: conv, kernel: 1, filters: 4, name: c, from: r}\n"
        "  - {type: mul, from: [r, c]}\n"),
    "squeeze and excitation": (
        "input: 8x8x8\nlayers:\n  - {type: conv, kernel: 3, filters: 8, name: body}\n"
        "  - gap\n  - conv 1x1 2\n  - relu\n  - conv 1x1 8\n  - {type: sigmoid, name: gate}\n"
        "  - {type: mul, from: [body, gate]}\n"),
    "a u-net's up step": (
        "input: 8x8x4\nlayers:\n  - conv 3x3 8\n  - {type: relu, name: skip}\n"
        "  - maxpool 2\n  - conv 3x3 16 relu\n  - {type: convtranspose, kernel: 2, filters: 8,"
        " stride: 2, name: up}\n  - {type: concat, from: [skip, up]}\n  - conv 3x3 8\n"
        "  - convtranspose 3x3 4 s2 p1 op1\n"),
    "the u-net decoder config": str(Path(__file__).parent / "configs" / "unet_decoder.yaml"),
    **{f"{kind} between convs": f"8x8x8 | conv 1x1 8 | {kind} | conv 1x1 8" for kind in (
        "layernorm", "layernorm noaffine", "groupnorm 4", "scale", "leakyrelu 0.1",
        "softmax height", "pixelshuffle 2", "pixelunshuffle 2", "channelshuffle 2",
        "crop 6x6", "split 2 1", "adaptivemaxpool 4")},
    "a convnext block": (
        "input: 8x8x8\nlayers:\n  - {type: conv, kernel: 1, filters: 8, name: x}\n"
        "  - conv 7x7 dw p3\n  - layernorm eps=1e-6\n  - conv 1x1 32\n  - gelu\n"
        "  - conv 1x1 8\n  - {type: scale, name: gamma}\n  - {type: add, from: [gamma, x]}\n"),
    "a shufflenet unit": (
        "input: 8x8x8\nlayers:\n  - {type: conv, kernel: 1, filters: 8, name: x}\n"
        "  - {type: split, parts: 2, index: 0, name: left}\n"
        "  - {type: split, parts: 2, index: 1, from: x}\n"
        "  - conv 1x1 4 nobias bn relu\n  - conv 3x3 dw p1 nobias bn\n"
        "  - {type: conv, kernel: 1, filters: 4, bias: false, name: right}\n"
        "  - {type: concat, from: [left, right]}\n  - channelshuffle 2\n"),
    "a u-net crop": (
        "input: 12x12x4\nlayers:\n  - {type: conv, kernel: 3, filters: 8, padding: 0, "
        "name: skip}\n  - maxpool 2\n  - conv 3x3 8 valid relu\n"
        "  - {type: convtranspose, kernel: 2, filters: 4, stride: 2, name: up}\n"
        "  - {type: crop, size: 6, from: skip, name: cropped}\n"
        "  - {type: concat, from: [cropped, up]}\n  - conv 3x3 4 valid\n"),
}  # fmt: skip


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("graph", list(GRAPHS))
def test_saved_bytes_on_shared_tensors_are_autograds(
    graph: str, batch: int, tmp_path: pytest.TempPathFactory
) -> None:
    from convcost.core.costing import peak_memory, saved_activation_bytes
    from tests.torch_memory import fx_peak, measured_saved_bytes

    spec = GRAPHS[graph]
    if "\n" in spec:
        path = Path(str(tmp_path)) / "net.yaml"
        path.write_text(spec, encoding="utf-8")
        spec = str(path)
    report = analyze_spec(spec, batch=batch)[1]
    assert saved_activation_bytes(report) == measured_saved_bytes(report)
    peak = peak_memory(report)
    assert (peak.bytes, peak.layer) == fx_peak(report)
