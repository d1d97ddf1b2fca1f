"""Issue #15's layer kinds, their own contract: how each is written (every name, inline and
YAML), what its rows and --explain say, what it refuses (one line, exit 2), and how --fuse
treats it. Their shapes, parameters, running statistics and MACs are PyTorch's:
tests/test_torch_crosscheck.py runs each over a grid against its module and flop_counter;
their memory is tests/test_memory_torch.py's, and their ONNX tests/test_onnx_export.py's."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.costs import Settings
from convcost.core.devices import PRESETS
from convcost.core.kinds.activations import Identity, LeakyReLU, Softmax
from convcost.core.kinds.base import Layer
from convcost.core.kinds.normalization import GroupNorm, LayerNorm, Scale
from convcost.core.kinds.pooling import AdaptiveMaxPool
from convcost.core.kinds.reshaping import (
    ChannelShuffle,
    Crop,
    PixelShuffle,
    PixelUnshuffle,
    Split,
)
from convcost.frontends import analyze_spec
from convcost.render.explain import explain_layer

# Each kind: an inline layer, the same in YAML, and the layer both make.
FORMS: list[tuple[str, str, Layer]] = [
    ("pixelshuffle 2", "{type: pixelshuffle, factor: 2}", PixelShuffle(factor=2)),
    ("depthtospace 2", "{depthtospace: {factor: 2}}", PixelShuffle(factor=2)),
    ("pixelunshuffle 2", "{type: pixelunshuffle, factor: 2}", PixelUnshuffle(factor=2)),
    ("channelshuffle 4", "{type: channelshuffle, groups: 4}", ChannelShuffle(groups=4)),
    ("shuffle 4", "{shuffle: {groups: 4}}", ChannelShuffle(groups=4)),
    ("layernorm eps=1e-6", "{type: layernorm, eps: 1e-6}", LayerNorm(eps=1e-6)),
    ("ln noaffine", "{type: ln, affine: false}", LayerNorm(affine=False)),
    ("layernorm2d", "{layernorm2d: null}", LayerNorm()),
    ("groupnorm 4", "{type: groupnorm, groups: 4}", GroupNorm(groups=4)),
    ("gn 2 noaffine eps=0.001", "{type: gn, groups: 2, affine: false, eps: 0.001}",
     GroupNorm(groups=2, affine=False, eps=0.001)),
    ("scale", "scale", Scale()),
    ("layerscale", "{type: layerscale}", Scale()),
    ("adaptivemaxpool 3x2", "{type: adaptivemaxpool, size: [3, 2]}", AdaptiveMaxPool(size=(3, 2))),
    ("leakyrelu", "leakyrelu", LeakyReLU()),
    ("leakyrelu 0.2", "{type: leakyrelu, slope: 0.2}", LeakyReLU(slope=0.2)),
    ("leaky_relu slope=-1.5", "{leaky_relu: {slope: -1.5}}", LeakyReLU(slope=-1.5)),
    ("softmax", "softmax", Softmax()),
    ("softmax height", "{type: softmax, axis: height}", Softmax(axis="height")),
    ("identity", "{type: identity}", Identity()),
    ("crop 4x3", "{type: crop, size: 4x3}", Crop(size=(4, 3))),
    ("centercrop 4", "{centercrop: {size: [4, 4]}}", Crop(size=(4, 4))),
    ("crop edges=1,2", "{type: cropping2d, edges: [1, 2]}", Crop(edges=(1, 1, 2, 2))),
    ("split 2 1", "{type: split, parts: 2, index: 1}", Split(parts=2, index=1)),
    ("chunk index=0", "{type: chunk, index: 0}", Split(parts=2, index=0)),
]  # fmt: skip


@pytest.mark.parametrize(("inline", "yaml", "layer"), FORMS)
def test_every_name_and_form_builds_the_same_layer(
    inline: str, yaml: str, layer: Layer, tmp_path: Path
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(f"input: 8x8x16\nlayers:\n  - {yaml}\n", encoding="utf-8")
    (from_inline,) = analyze_spec(f"8x8x16 | {inline}")[1].layers
    (from_yaml,) = analyze_spec(str(path))[1].layers
    assert from_inline.layer == from_yaml.layer == layer


@pytest.mark.parametrize(
    ("layer", "kind", "config", "shape", "params"),
    [("pixelshuffle 2", "pixelshuffle", "×2", [16, 16, 4], 0),
     ("pixelunshuffle 2", "pixelunshuffle", "÷2", [4, 4, 64], 0),
     ("channelshuffle 4", "channelshuffle", "g4", [8, 8, 16], 0),
     ("layernorm eps=1e-6", "layernorm", "eps 1e-06", [8, 8, 16], 32),
     ("layernorm noaffine", "layernorm", "eps 1e-05 no affine", [8, 8, 16], 0),
     ("groupnorm 4", "groupnorm", "g4 eps 1e-05", [8, 8, 16], 32),
     ("scale", "scale", "", [8, 8, 16], 16),
     ("adaptivemaxpool 3", "adaptivemaxpool", "3x3", [3, 3, 16], 0),
     ("leakyrelu", "leakyrelu", "slope 0.01", [8, 8, 16], 0),
     ("softmax width", "softmax", "over width", [8, 8, 16], 0),
     ("identity", "identity", "", [8, 8, 16], 0),
     ("crop 5x6", "crop", "to 5x6", [5, 6, 16], 0),
     ("crop edges=1,0,2,3", "crop", "edges 1,0,2,3", [7, 3, 16], 0),
     ("crop edges=2,1", "crop", "edges 2,1", [4, 6, 16], 0),
     ("split 3 2", "split", "2 of 3", [8, 8, 4], 0)],
)  # fmt: skip
def test_rows_say_the_kind_and_its_settings(
    layer: str, kind: str, config: str, shape: list[int], params: int
) -> None:
    (row,) = analyze_spec(f"8x8x16 | {layer}")[1].layers
    assert (row.kind, row.config, row.output_shape.as_list(), row.params, row.macs) == (
        kind, config, shape, params, 0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("layer", "lines"),
    [("pixelshuffle 2", ["shape: H·r × W·r × C/r² = 8·2 × 8·2 × 16/4 = 16×16×4"]),
     ("pixelunshuffle 4", ["shape: H/r × W/r × C·r² = 8/4 × 8/4 × 16·16 = 2×2×256"]),
     ("channelshuffle 4", ["shape: 4 groups × 4 channels, read across: 8×8×16 (shape unchanged)"]),
     ("crop 5x6", ["shape: H − top − bottom × W − left − right = 8 − 1 − 2 × 8 − 1 − 1 = 5×6"]),
     ("split 3 2", ["shape: channels 12 to 15 of 16: part 2 of 3, ⌈16/3⌉ = 6 each"]),
     ("layernorm", ["params: 2 × 16 (γ, β) = 32"]),
     ("groupnorm 2", ["params: 2 × 16 (γ, β) = 32"]),
     ("scale", ["params: 16 (γ) = 16"]),
     ("layernorm noaffine", [])],
)  # fmt: skip
def test_explain_says_how_the_shape_and_the_parameters_come(layer: str, lines: list[str]) -> None:
    (row,) = analyze_spec(f"8x8x16 | {layer}")[1].layers
    assert explain_layer(row) == lines


@pytest.mark.parametrize(
    ("layer", "message"),
    [("pixelshuffle 2", "layer 'pixelshuffle1' (pixelshuffle on 8×8×6): pixelshuffle 2 takes "
      "r² = 4 channels to each output channel, and 6 channels are no multiple of 4"),
     ("{type: pixelunshuffle, factor: 3}", "layer 'pixelunshuffle1' (pixelunshuffle on 8×8×6): "
      "pixelunshuffle 3 takes 3 × 3 blocks of pixels, and 8x8 is not a multiple of 3 in both; "
      "PyTorch requires it"),
     ("channelshuffle 4", "layer 'channelshuffle1' (channelshuffle on 8×8×6): channelshuffle "
      "groups 4 does not divide the 6 channels; use a divisor of 6, as PyTorch requires"),
     ("groupnorm 4", "layer 'groupnorm1' (groupnorm on 8×8×6): groupnorm groups 4 does not "
      "divide the 6 channels; use a divisor of 6, as PyTorch requires"),
     ("groupnorm", "groupnorm needs groups (groups: channel groups (a divisor of the "
      "channels))"),
     ("layernorm eps=0", "layernorm eps: must be above 0, got 0"),
     ("{type: layernorm, eps: .nan}", "layernorm eps: expected a number above 0, got the "
      "decimal nan"),
     ("leakyrelu slope=steep", "leakyrelu slope: expected a number, got 'steep'"),
     ("softmax axis=batch", "softmax axis: expected one of channels, height, width; got "
      "'batch'"),
     ("crop 9x2", "layer 'crop1' (crop on 8×8×6): crop to 9x2 is larger than its 8x8 input; "
      "crop to at most that"),
     ("crop edges=4", "layer 'crop1' (crop on 8×8×6): crop edges [4, 4, 4, 4] leave nothing of "
      "its 8x8 input; take off less"),
     ("crop", "layer 'crop1' (crop on 8×8×6): crop takes a size or edges, got neither size nor "
      "edges (e.g. crop 56x56, or edges: 4)"),
     ("split 4 3", "layer 'split1' (split on 8×8×6): split index 3 is past the last part: 6 "
      "channels chunked in 4 make 3 parts of 2 channels (as torch.chunk does), numbered 0 to 2"),
     ("split", "split needs index (index: which part: 0 is the first)"),
     ("activation fn=softmax", "activation fn: expected one of relu, relu6, elu, selu, gelu, "
      "silu, swish, mish, sigmoid, hardsigmoid, tanh, hardswish; got 'softmax'")],
)  # fmt: skip
def test_refusals_are_one_line_and_exit_2(
    layer: str, message: str, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    item = layer if layer.startswith("{") else f"'{layer}'"
    Path("net.yaml").write_text(f"input: 8x8x6\nlayers:\n  - {item}\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", "net.yaml"])
    assert (result.exit_code, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.split(": ", 1)[1] == message


def test_a_softmax_of_a_vector_is_along_its_features() -> None:
    from convcost.core.errors import ConvcostError

    with pytest.raises(ConvcostError) as refused:
        analyze_spec("2x2x3 | flatten | softmax height")
    assert refused.value.message == (
        "layer 'softmax1' (softmax on 12): softmax along the height needs a spatial input, but "
        "its input is a vector of 12; a vector's softmax is along its features (axis: channels)"
    )


def test_fuse_folds_a_scale_after_a_conv_as_it_folds_batchnorm() -> None:
    # ConvNeXt's layer scale after its last 1×1 conv: γ folds into the conv's weights.
    spec = "8x8x16 | conv 1x1 16 | scale | layernorm | scale"
    fused = analyze_spec(spec, settings=Settings(device=PRESETS["t4"], fuse=True))[1]
    costs = [layer.cost for layer in fused.layers]
    assert all(cost is not None for cost in costs)
    assert [cost.fused for cost in costs if cost is not None] == [False, True, False, False]
