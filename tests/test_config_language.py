"""The config language's traps (issue #15, section 3), each tested as it is now: repeat: on
any item, expressions that read the layer's input (${in.c}), defaults: and the warning for
a channels-first input, a comma inside a flow list, generated names that never run into
their count, models show and an inline spec on standard input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.errors import ConvcostError
from convcost.core.kinds.conv import Conv
from convcost.core.shapes import Shape
from convcost.frontends import zoo
from convcost.frontends.common import channels_first_warning
from convcost.frontends.config import parse_config
from convcost.frontends.expressions import interpolate, reads_input
from convcost.frontends.inline import parse_inline
from convcost.frontends.tree import Group, Node, analyze, generated_name

CONFIGS = Path(__file__).parent / "configs"


def _table(stdout: str) -> list[dict[str, str]]:
    """A CSV report's rows, by column."""
    return list(csv.DictReader(io.StringIO(stdout)))


def _rows(stdout: str) -> list[tuple[str, ...]]:
    """A CSV report's layers as (name, kind, config, input, output)."""
    columns = ("name", "kind", "config", "input_shape", "output_shape")
    return [tuple(row[c] for c in columns) for row in _table(stdout)]


def _analyze(runner: CliRunner, tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "net.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(tmp_path / "net.yaml"), "-f", "csv", *args])
    return result.exit_code, result.stdout, result.stderr.replace(str(tmp_path) + "/", "")


def _error(runner: CliRunner, tmp_path: Path, text: str) -> str:
    code, out, err = _analyze(runner, tmp_path, text)
    assert (code, out) == (2, ""), err
    assert err.endswith("\n") and err.count("\n") == 1, err  # one line
    return err.rstrip("\n")


# --- repeat: on any item ------------------------------------------------------------------

REPEATED = """\
input: 16x16x4
layers:
  - group: [conv 3x3 8, relu]
    repeat: 2
    name: stage
  - {conv: {kernel: 3, filters: 16}, repeat: 3, first: {stride: 2}, name: c}
  - {type: conv, kernel: 1, filters: 4, repeat: 2}
  - residual: {body: [conv 3x3 4, bn]}
    repeat: 2
    start: 1
    name: res
  - concat: [[conv 1x1 2], [conv 3x3 2]]
    repeat: 2
"""


def test_repeat_on_groups_layers_residuals_and_concats(runner: CliRunner, tmp_path: Path) -> None:
    # Before: "this layer has no 'type:'" for all but block calls.
    code, out, err = _analyze(runner, tmp_path, REPEATED)
    assert (code, err) == (0, "")
    assert _rows(out) == [
        ("stage/0/conv1", "conv", "3x3 s1 same", "16x16x4", "16x16x8"),
        ("stage/0/relu1", "relu", "", "16x16x8", "16x16x8"),
        ("stage/1/conv1", "conv", "3x3 s1 same", "16x16x8", "16x16x8"),
        ("stage/1/relu1", "relu", "", "16x16x8", "16x16x8"),
        ("c/0", "conv", "3x3 s2 same", "16x16x8", "8x8x16"),
        ("c/1", "conv", "3x3 s1 same", "8x8x16", "8x8x16"),
        ("c/2", "conv", "3x3 s1 same", "8x8x16", "8x8x16"),
        ("conv×2_1/0", "conv", "1x1 s1 same", "8x8x16", "8x8x4"),
        ("conv×2_1/1", "conv", "1x1 s1 same", "8x8x4", "8x8x4"),
        ("res/1/conv1", "conv", "3x3 s1 same", "8x8x4", "8x8x4"),
        ("res/1/batchnorm1", "batchnorm", "", "8x8x4", "8x8x4"),
        ("res/1/add1", "add", "elementwise", "8x8x4", "8x8x4"),
        ("res/2/conv1", "conv", "3x3 s1 same", "8x8x4", "8x8x4"),
        ("res/2/batchnorm1", "batchnorm", "", "8x8x4", "8x8x4"),
        ("res/2/add1", "add", "elementwise", "8x8x4", "8x8x4"),
        ("concat×2_1/0/conv1", "conv", "1x1 s1 same", "8x8x4", "8x8x2"),
        ("concat×2_1/0/conv2", "conv", "3x3 s1 same", "8x8x4", "8x8x2"),
        ("concat×2_1/0/concat1", "concat", "channels", "8x8x4", "8x8x4"),
        ("concat×2_1/1/conv1", "conv", "1x1 s1 same", "8x8x4", "8x8x2"),
        ("concat×2_1/1/conv2", "conv", "3x3 s1 same", "8x8x4", "8x8x2"),
        ("concat×2_1/1/concat1", "concat", "channels", "8x8x4", "8x8x4"),
        ("total", "total", "", "16x16x4", "8x8x4"),
    ]


def test_repeat_makes_a_group_of_numbered_copies() -> None:
    network = parse_config(REPEATED, "net.yaml")
    stage, convs = network.nodes[0], network.nodes[1]
    assert isinstance(stage, Group) and isinstance(convs, Group)
    assert (stage.name, stage.label, [c.name for c in stage.elements]) == (
        "stage", "group×2", ["0", "1"],
    )  # fmt: skip
    assert (convs.label, [c.name for c in convs.elements]) == ("conv×3", ["0", "1", "2"])
    first, second = convs.elements[0], convs.elements[1]
    assert isinstance(first, Node) and isinstance(first.layer, Conv)
    assert isinstance(second, Node) and isinstance(second.layer, Conv)
    assert (first.layer.stride, second.layer.stride) == ((2, 2), (1, 1))  # first: on copy 0


@pytest.mark.usefixtures("torch_present")
def test_repeated_items_match_pytorch() -> None:
    from tests.torch_bridge import check_network_against_torch

    network = parse_config(REPEATED, "net.yaml")
    check_network_against_torch(network, analyze(network))


def test_from_inside_a_copy_reads_that_copy(runner: CliRunner, tmp_path: Path) -> None:
    text = (
        "input: 8x8x4\nlayers:\n  - group:\n      - conv 1x1 4 name=a\n"
        "      - conv 3x3 4 name=b\n      - {type: add, from: [a, b]}\n"
        "    repeat: 2\n    name: stage\n"
    )
    (tmp_path / "net.yaml").write_text(text)
    result = runner.invoke(app, ["analyze", str(tmp_path / "net.yaml"), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    layers = json.loads(result.stdout)["layers"]
    assert [(layer["name"], layer["inputs"]) for layer in layers] == [
        ("stage/0/a", [None]),
        ("stage/0/b", ["stage/0/a"]),
        ("stage/0/add1", ["stage/0/a", "stage/0/b"]),
        ("stage/1/a", ["stage/0/add1"]),
        ("stage/1/b", ["stage/1/a"]),
        ("stage/1/add1", ["stage/1/a", "stage/1/b"]),
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("{group: [relu], start: 2}",
         "net.yaml:3:21: start: numbers the copies of a repeat:, but this group has no repeat:; "
         "add repeat: N, or remove start:"),
        ("{group: [relu], repeat: 2, first: {x: 1}}",
         "net.yaml:3:32: first: overrides a block's arguments (or a layer's settings) in copy 0; "
         "a group has none to override"),
        ("{conv: {kernel: 3, filters: 4}, first: {stride: 2}}",
         "net.yaml:3:37: first: overrides copy 0 of a repeat:, but this layer has no repeat:; "
         "put its settings beside the others, or add repeat: N"),
        ("{conv: {kernel: 3, filters: 4, repeat: 2}, repeat: 3}",
         "net.yaml:3:36: repeat: is given twice, beside 'conv' and in its settings; give it "
         "once"),
        ("{relu: , repeat: 0}", "net.yaml:3:22: repeat: must be positive, got 0"),
        ("{relu: , repeat: 100000}",
         "net.yaml:3:6: this relu repeated 100,000 times expands to 100,001 layers and groups, "
         "more than the limit of 20,000; repeat it less, or raise the limit with --max-layers"),
        ("{group: [relu], repeat: '${in.c}'}",
         "net.yaml:3:29: repeat: ${in.…} reads a layer's input, which only a layer's settings "
         "can use; write a number here"),
        ("{conv: {kernel: 3, filters: 4}, repeat: 2, first: {strid: 2}}",
         "net.yaml:3:56: conv has no setting 'strid'; did you mean 'stride'? it takes kernel, "
         "filters, stride, padding, dilation, groups, bias"),
    ],
)  # fmt: skip
def test_repeat_faults(runner: CliRunner, tmp_path: Path, item: str, message: str) -> None:
    assert _error(runner, tmp_path, f"input: 8x8x4\nlayers:\n  - {item}\n") == message


# --- ${in.c}, ${in.h}, ${in.w}: the layer's input --------------------------------------------

DENSENET121_PARAMS = 7_978_856  # torchvision: DenseNet121_Weights.IMAGENET1K_V1 "num_params"


def _plain_torch_densenet121() -> object:
    """DenseNet-121 in plain torch, as torchvision/models/densenet.py builds it (growth 32,
    bn_size 4, blocks 6-12-24-16, 64 initial features), written without convcost."""
    import torch
    from torch import nn

    class DenseLayer(nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, 128, 1, bias=False),
                nn.BatchNorm2d(128), nn.ReLU(), nn.Conv2d(128, 32, 3, padding=1, bias=False),
            )  # fmt: skip

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x, self.body(x)], 1)

    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]  # fmt: skip
    channels = 64
    for block, count in enumerate((6, 12, 24, 16)):
        for _ in range(count):
            layers.append(DenseLayer(channels))
            channels += 32
        if block < 3:
            half = channels // 2
            layers += [nn.BatchNorm2d(channels), nn.ReLU(),
                       nn.Conv2d(channels, half, 1, bias=False), nn.AvgPool2d(2, 2)]  # fmt: skip
            channels = half
    layers += [nn.BatchNorm2d(channels), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(channels, 1000)]  # fmt: skip
    return nn.Sequential(*layers).eval()


@pytest.mark.usefixtures("torch_present")
def test_densenet121_transitions_read_their_input_channels() -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    network = parse_config((CONFIGS / "densenet121.yaml").read_text(), "densenet121.yaml")
    report = analyze(network)
    transitions = [r for r in report.layers if r.name.endswith("/conv") and r.kind == "conv"]
    assert [(r.name, r.input_shape.c, r.output_shape.c) for r in transitions] == [
        ("transition1/conv", 256, 128),
        ("transition2/conv", 512, 256),
        ("transition3/conv", 1024, 512),
    ]
    model = _plain_torch_densenet121()
    assert isinstance(model, torch.nn.Module)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 224, 224))
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.params == DENSENET121_PARAMS
    assert 2 * report.totals.macs == counter.get_total_flops()


@pytest.mark.usefixtures("torch_present")
def test_densenet121_matches_pytorch_layer_by_layer() -> None:
    from tests.torch_bridge import check_network_against_torch

    network = parse_config((CONFIGS / "densenet121.yaml").read_text(), "densenet121.yaml")
    check_network_against_torch(network, analyze(network))


def test_inline_spec_reads_the_input(runner: CliRunner) -> None:
    spec = "28x28x64 | conv 1x1 ${in.c // 2} | conv 3x3 filters=${in.c * 3} s${in.h // 14}"
    result = runner.invoke(app, ["analyze", spec, "-f", "csv"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert _rows(result.stdout) == [
        ("conv1", "conv", "1x1 s1 same", "28x28x64", "28x28x32"),
        ("conv2", "conv", "3x3 s2 same", "28x28x32", "14x14x96"),
        ("total", "total", "", "28x28x64", "14x14x96"),
    ]


def test_block_parameters_are_bound_into_input_expressions(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = """\
input: 16x16x64
blocks:
  squeeze:
    params: {ratio: 4}
    layers:
      - {type: conv, kernel: "${in.h // 8}x${in.w // 4}", filters: "${in.c // ratio}"}
      - conv 1x1 ${in.c * ratio} p${ratio - 4}
layers:
  - squeeze: {}
  - squeeze: {ratio: 8}
"""
    code, out, err = _analyze(runner, tmp_path, text)
    assert (code, err) == (0, "")
    assert _rows(out) == [
        ("squeeze1/conv1", "conv", "2x4 s1 same", "16x16x64", "16x16x16"),
        ("squeeze1/conv2", "conv", "1x1 s1 valid", "16x16x16", "16x16x64"),
        ("squeeze2/conv1", "conv", "2x4 s1 same", "16x16x64", "16x16x8"),
        ("squeeze2/conv2", "conv", "1x1 s1 p4", "16x16x8", "24x24x64"),
        ("total", "total", "", "16x16x64", "24x24x64"),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("8x8x4 | conv 1x1 ${in.q}",
         "<spec>:1:18: ${in.q}: the input has c, h and w (in.c, in.h, in.w), not 'q'"),
        ("8x8x4 | conv 1x1 ${in}",
         "<spec>:1:18: ${in}: in is the layer's input: write in.c, in.h or in.w"),
        ("8x8x4 | conv 1x1 ${in.c //}",
         "<spec>:1:18: '${in.c //}' is not an arithmetic expression"),
        ("8x8x4 | conv 1x1 ${in.c // 8}",
         "<spec>:1:18: conv filters: must be positive, got 0 (in is 8×8×4)"),
        ("8x8x4 | conv 1x1 ${in.c // (in.h - 8)}",
         "<spec>:1:18: division by zero in ${in.c // (in.h - 8)} (in is 8×8×4)"),
        ("8x8x4 | conv 1x1 ${x + in.c}",
         "<spec>:1:18: unknown parameter 'x': parameters are a block's (blocks: NAME: params:), "
         "and here there are none"),
        ("8x8x4 | conv 1x1 ${in.c} name=${in.c}",
         "<spec>:1:26: name=${in.…}: a name cannot read the layer's input; write a name"),
        ("8x8x4 | conv 1x1 ${in.c} nonsense=${in.c}",
         "<spec>:1:26: conv has no setting 'nonsense'; it takes kernel, filters, stride, "
         "padding, dilation, groups, bias"),
    ],
)  # fmt: skip
def test_input_expression_faults(runner: CliRunner, spec: str, message: str) -> None:
    result = runner.invoke(app, ["analyze", spec])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == message  # then the spec and a caret


def test_input_expressions_wait_for_the_input() -> None:
    assert reads_input("${in.c // 2}") and reads_input(["${in.h}", 1])
    assert not reads_input("${c // 2}") and not reads_input("min") and not reads_input(3)
    # A block's parameters are bound now; the input is read when the layer's is known.
    assert interpolate("${in.c * growth + in.h}", {"growth": -2}) == "${in.c * (-2) + in.h}"
    assert interpolate("${in.c * (-2) + in.h}", {"in": Shape(7, 5, 3)}) == 1
    assert interpolate("s${in.w // 5}", {"in": Shape(7, 5, 3)}) == "s1"
    with pytest.raises(ConvcostError, match="parameter 'growth' is 'x', not an integer"):
        interpolate("${in.c * growth}", {"growth": "x"})


# --- defaults: and inputs that look channels-first -------------------------------------------


@pytest.mark.usefixtures("torch_present")
def test_defaults_padding_zero_gives_pytorchs_shape(runner: CliRunner, tmp_path: Path) -> None:
    import torch

    # Before: no way but padding: 0 on every conv; the 'same' default silently gives 150.
    same = "input: 299x299x3\nlayers: [conv 3x3 32 s2]\n"
    ported = "input: 299x299x3\ndefaults:\n  conv: {padding: 0}\nlayers: [conv 3x3 32 s2]\n"
    expected = torch.nn.Conv2d(3, 32, 3, stride=2)(torch.zeros(1, 3, 299, 299)).shape[-1]
    assert expected == 149
    assert _rows(_analyze(runner, tmp_path, same)[1])[0][4] == "150x150x32"
    assert _rows(_analyze(runner, tmp_path, ported)[1])[0][4] == f"{expected}x{expected}x32"


def test_defaults_apply_by_kind_under_any_of_its_names(runner: CliRunner, tmp_path: Path) -> None:
    text = """\
input: 28x28x8
defaults:
  conv2d: {padding: 0, bias: false}
  maxpool: {ceil_mode: true}
layers:
  - conv 3x3 8
  - {conv: {kernel: 3, filters: 8, padding: 1, bias: true}}
  - maxpool 3 2
  - avgpool 3 2
"""
    code, out, err = _analyze(runner, tmp_path, text)
    assert (code, err) == (0, "")
    assert [(r["name"], r["config"], r["output_shape"], r["params"]) for r in _table(out)] == [
        ("conv1", "3x3 s1 valid", "26x26x8", "576"),  # 3·3·8·8 and no bias: the file's
        ("conv2", "3x3 s1 p1", "26x26x8", "584"),  # what a layer writes wins
        ("maxpool1", "3x3 s2 valid ceil", "13x13x8", "0"),
        ("avgpool1", "3x3 s2 valid", "6x6x8", "0"),  # another kind: no ceil_mode
        ("total", "", "6x6x8", "1160"),
    ]
    # The command line wins over the file: --no-bias takes the bias: true default away.
    both = "input: 8x8x8\ndefaults:\n  conv: {bias: true}\nlayers: [conv 1x1 8]\n"
    assert _table(_analyze(runner, tmp_path, both)[1])[0]["params"] == "72"
    assert _table(_analyze(runner, tmp_path, both, "--no-bias")[1])[0]["params"] == "64"


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        ("{conv: {paddin: 0}}",
         "net.yaml:2:19: defaults: conv has no setting 'paddin'; did you mean 'padding'? it "
         "takes kernel, filters, stride, padding, dilation, groups, bias"),
        ("{conv: {padding: -1}}",
         "net.yaml:2:28: defaults: conv padding: must be at least 0, got -1"),
        ("{conv: 3}", "net.yaml:2:18: defaults: conv: must map its settings to values, e.g. "
         "{padding: 0}"),
        ("[conv]", "net.yaml:2:11: defaults: maps layer kinds to their settings, e.g. defaults: "
         "{conv: {padding: 0}}"),
        ("{conv: {padding: 0}, conv2d: {stride: 2}}",
         "net.yaml:2:32: defaults: 'conv2d' is the kind 'conv', whose defaults are given "
         "already; give them once"),
    ],
)  # fmt: skip
def test_defaults_faults(runner: CliRunner, tmp_path: Path, defaults: str, message: str) -> None:
    assert _error(runner, tmp_path, f"input: 8x8x3\ndefaults: {defaults}\nlayers: [relu]\n") == (
        message
    )


CHANNELS_FIRST = (
    "input 3x224x224 reads as 3 high, 224 wide, 224 channels (convcost's order is HxWxC); "
    "for PyTorch's 3×224×224 (C×H×W) write 224x224x3"
)


def test_a_channels_first_input_is_said_once_and_analysed(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "3x224x224 | conv 3x3 8", "-f", "csv"])
    assert (result.exit_code, result.stderr) == (0, f"<spec>: {CHANNELS_FIRST}\n")
    assert _rows(result.stdout)[0] == ("conv1", "conv", "3x3 s1 same", "3x224x224", "3x224x8")
    result = runner.invoke(app, ["analyze", "resnet18", "--input-shape", "3x224x224", "-f", "csv"])
    assert (result.exit_code, result.stderr) == (0, f"convcost: --input-shape: {CHANNELS_FIRST}\n")


def test_the_api_carries_the_warning() -> None:
    import convcost

    assert convcost.analyze("3x224x224 | relu").warnings == (f"<spec>: {CHANNELS_FIRST}",)
    assert convcost.load("3x224x224 | relu").warnings == (f"<spec>: {CHANNELS_FIRST}",)
    assert convcost.analyze("224x224x3 | relu").warnings == ()


def test_a_config_says_where_its_input_is(runner: CliRunner, tmp_path: Path) -> None:
    code, out, err = _analyze(runner, tmp_path, "input: [3, 224, 224]\nlayers: [relu]\n")
    assert (code, err) == (0, f"net.yaml:1:8: {CHANNELS_FIRST} (or input: {{h: 3, w: 224, "
                              "c: 224} to keep it)\n")  # fmt: skip
    assert _rows(out)[0][3] == "3x224x224"
    # Named axes say which is which: no warning; nor for an input analysed at another shape.
    code, out, err = _analyze(runner, tmp_path, "input: {h: 3, w: 224, c: 224}\nlayers: [relu]\n")
    assert (code, err) == (0, "")
    text = "input: 3x224x224\nlayers: [relu]\n"
    assert _analyze(runner, tmp_path, text, "--input-shape", "224x224x3")[::2] == (0, "")


@pytest.mark.parametrize(
    ("shape", "warned"),
    [((3, 224, 224), True), ((1, 28, 28), True), ((4, 16, 16), True), ((3, 480, 640), True),
     ((5, 224, 224), False), ((4, 15, 16), False), ((4, 16, 15), False),
     ((224, 224, 3), False), ((1, 1, 2048), False), ((7, 7, 512), False)],
)  # fmt: skip
def test_which_inputs_look_channels_first(shape: tuple[int, int, int], warned: bool) -> None:
    assert (channels_first_warning(Shape(*shape), "x", "") is not None) is warned


# --- a comma inside an item of a flow list ---------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ("[conv 3x3 8 padding=0,3, relu]",
         "net.yaml:2:10: 'padding=0,3' is split at its comma: in a flow list [a, b] a comma "
         "separates items; write padding=0x3, or quote the item: \"conv 3x3 8 padding=0,3\""),
        ("[conv 3x3 8 padding=1,2 s2]",
         "net.yaml:2:10: 'padding=1,2' is split at its comma: in a flow list [a, b] a comma "
         "separates items; write padding=1x2, or quote the item: \"conv 3x3 8 padding=1,2 s2\""),
        ("[conv kernel=3,5 filters=8]",
         "net.yaml:2:10: 'kernel=3,5' is split at its comma: in a flow list [a, b] a comma "
         "separates items; write kernel=3x5, or quote the item: \"conv kernel=3,5 filters=8\""),
        ("[relu, conv 3x3 8 padding=1,1,2,2]",
         "net.yaml:2:16: 'padding=1,1,2,2' is split at its comma: in a flow list [a, b] a comma "
         "separates items; quote the item: \"conv 3x3 8 padding=1,1,2,2\""),
    ],
)  # fmt: skip
def test_a_comma_split_item_says_so(
    runner: CliRunner, tmp_path: Path, layers: str, message: str
) -> None:
    # Before: "a layer is a mapping or a string ..., not the scalar 3" or "unknown layer kind".
    assert _error(runner, tmp_path, f"input: 28x28x8\nlayers: {layers}\n") == message


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    "layers",
    [
        "[conv 3x3 8 padding=0x3]",
        "['conv 3x3 8 padding=0,3']",
        "\n  - conv 3x3 8 padding=(0,3)",
        "\n  - conv 3x3 8 padding=[0,3]",
        "\n  - conv 3x3 8 p0x3",
        "\n  - {conv: {kernel: 3, filters: 8, padding: '0x3'}}",
        "\n  - {conv: {kernel: 3, filters: 8, padding: [0, 3]}}",
    ],
)
def test_every_way_to_write_a_padding_pair(runner: CliRunner, tmp_path: Path, layers: str) -> None:
    import torch

    expected = torch.nn.Conv2d(8, 8, 3, padding=(0, 3))(torch.zeros(1, 8, 28, 28)).shape
    code, out, err = _analyze(runner, tmp_path, f"input: 28x28x8\nlayers: {layers}\n")
    assert (code, err) == (0, "")
    assert _rows(out)[0] == (
        "conv1", "conv", "3x3 s1 p0,3", "28x28x8", f"{expected[2]}x{expected[3]}x{expected[1]}",
    )  # fmt: skip


def test_yaml_hexadecimal_is_not_taken_for_a_pair(runner: CliRunner, tmp_path: Path) -> None:
    # 0x3 is hexadecimal 3 to YAML 1.1: padding 3 all round, where 0 by 3 was meant.
    text = "input: 28x28x8\nlayers:\n  - {conv: {kernel: 3, filters: 8, padding: 0x3}}\n"
    assert _error(runner, tmp_path, text) == (
        "net.yaml:3:45: 0x3: YAML 1.1 reads it as a hexadecimal number (3), not as 0 by 3; "
        "write [0, 3] (or '0x3' in quotes) for a pair"
    )


# --- generated names ---------------------------------------------------------------------------


def test_generated_names_never_run_into_their_count() -> None:
    # Before: ReLU6 layers were relu61, relu62 and the sixth ReLU relu6; the first copy of
    # an unnamed repeat of 2 was inverted×21, the next repeat of 3 inverted×31.
    text = "8x8x4 | " + " | ".join(["relu"] * 6 + ["relu6"] * 2)
    names = [node.name for node in parse_inline(text).nodes]
    assert names == ["relu1", "relu2", "relu3", "relu4", "relu5", "relu6", "relu6_1", "relu6_2"]
    text = """\
input: 8x8x4
blocks:
  inverted: {layers: [relu6]}
  stage1: {layers: [relu]}
  tail_: {layers: [relu]}
layers:
  - inverted: {repeat: 2}
  - inverted: {repeat: 3}
  - stage1: {}
  - tail_: {}
  - tail_: {}
"""
    report = analyze(parse_config(text, "net.yaml"))
    assert [r.name for r in report.layers] == [
        "inverted×2_1/0/relu6_1", "inverted×2_1/1/relu6_1",
        "inverted×3_1/0/relu6_1", "inverted×3_1/1/relu6_1", "inverted×3_1/2/relu6_1",
        "stage1_1/relu1", "tail__1/relu1", "tail__2/relu1",
    ]  # fmt: skip


def test_the_naming_rule() -> None:
    assert [generated_name(s, 3) for s in ("conv", "relu6", "inverted×2", "a_", "x1_")] == [
        "conv3", "relu6_3", "inverted×2_3", "a__3", "x1__3",
    ]  # fmt: skip


def test_mobilenet_v2_names_read_as_what_they_are() -> None:
    names = [r.name for r in analyze(zoo.load_model("mobilenet_v2")).layers]
    assert names[:3] == ["conv1", "batchnorm1", "relu6_1"]
    assert "inverted×2_1/0/relu6_2" in names and "inverted×3_1/2/add1" in names
    assert not any("relu61" in name or "×21" in name for name in names)


# --- models show, and an inline spec on standard input -----------------------------------------


def test_models_show_prints_the_zoo_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "show", "resnet18"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (CONFIGS.parent.parent / "configs" / "resnet18.yaml").read_text()
    (tmp_path / "mine.yaml").write_text(result.stdout)
    own = runner.invoke(app, ["analyze", str(tmp_path / "mine.yaml"), "-f", "csv"])
    builtin = runner.invoke(app, ["analyze", "resnet18", "-f", "csv"])
    assert own.exit_code == builtin.exit_code == 0
    assert own.stdout == builtin.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["models", "show", "resnt18"],
         "convcost models show: no built-in model 'resnt18'; did you mean 'resnet18'? "
         f"built-in models: {', '.join(zoo.model_names())}"),
        (["models", "show"],
         "convcost models show: give a model's name, e.g. convcost models show resnet50 "
         f"(built-in models: {', '.join(zoo.model_names())})"),
        (["models", "list"],
         "convcost models: unexpected 'list'; convcost models lists the built-in models, "
         "convcost models show NAME prints one's YAML config"),
        (["models", "show", "resnet18", "-f", "json"],
         "convcost models show: prints the model's YAML config as it is; --format is for the "
         "list of models"),
    ],
)  # fmt: skip
def test_models_show_faults(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")


@pytest.mark.parametrize(
    "stdin",
    [
        "28x28x192 | conv 1x1 16 relu | conv 5x5 32\n",
        "\n28x28x192\n| conv 1x1 16 relu\n| conv 5x5 32\n",
        "28x28x192 | conv 1x1 16 relu |\r\n conv 5x5 32",
    ],
)
def test_standard_input_takes_an_inline_spec(runner: CliRunner, stdin: str) -> None:
    # Before: read as YAML, a plain scalar: "a config is a mapping with input: and layers:".
    spec = "28x28x192 | conv 1x1 16 relu | conv 5x5 32"
    piped = runner.invoke(app, ["analyze", "-", "-f", "csv"], input=stdin)
    given = runner.invoke(app, ["analyze", spec, "-f", "csv"])
    assert (piped.exit_code, piped.stderr) == (0, "")
    assert piped.stdout == given.stdout


def test_standard_input_is_yaml_unless_it_starts_with_a_shape(runner: CliRunner) -> None:
    yaml_text = "description: |\n  a | in text\ninput: 8x8x3\nlayers: [relu]\n"
    result = runner.invoke(app, ["analyze", "-", "-f", "csv"], input=yaml_text)
    assert (result.exit_code, result.stderr) == (0, "")
    assert _rows(result.stdout)[0] == ("relu1", "relu", "", "8x8x3", "8x8x3")
    result = runner.invoke(app, ["analyze", "-"], input="8x8x3 | bogus\n")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0].startswith("<stdin>:1:9: unknown layer kind 'bogus';")
