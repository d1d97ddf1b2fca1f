"""YAML configs: the schema's forms, and errors located at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.errors import ConvcostError
from convcost.core.kinds.conv import Conv
from convcost.core.kinds.normalization import BatchNorm
from convcost.frontends.config import parse_config
from convcost.frontends.tree import Node, analyze

SEED = """\
input: 28x28x192
layers:
  - conv: {kernel: 1x1, filters: 16}
  - relu
  - type: conv
    kernel: 5x5
    filters: 32
"""


@pytest.mark.parametrize(
    "text",
    [
        SEED,
        "input: [28, 28, 192]\nlayers:\n  - conv 1x1 16 relu\n  - conv 5x5 32\n",
        "input: {h: 28, w: 28, c: 192}\nlayers:\n  - {type: conv, kernel: 1, filters: 16}\n"
        "  - conv:\n      kernel: [5, 5]\n      filters: 32\n",
    ],
)
def test_config_forms_give_the_seed_figures(text: str) -> None:
    report = analyze(parse_config(text, "net.yaml"))
    assert [r.macs for r in report.layers if r.kind == "conv"] == [2_408_448, 10_035_200]
    assert report.totals.params == 15_920


def test_names_from_config_and_auto_names() -> None:
    text = "input: 8x8x3\nlayers:\n  - {type: conv, name: stem, kernel: 3, filters: 4}\n  - relu\n"
    report = analyze(parse_config(text, "n.yaml"))
    assert [r.name for r in report.layers] == ["stem", "relu1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SEED.replace("filters: 32", "filtres: 32"),
         "net.yaml:7:5: conv has no setting 'filtres'; did you mean 'filters'? it takes kernel, "
         "filters, stride, padding, dilation, groups, bias"),
        (SEED.replace("filters: 32", "filters: yes"),
         "net.yaml:7:14: conv filters: expected an integer, got the boolean true"),
        (SEED.replace("filters: 32", "filters: 3.5"),
         "net.yaml:7:14: conv filters: expected an integer, got the decimal 3.5"),
        (SEED.replace("kernel: 5x5", "kernel: 5x5\n    padding: valid").replace("28x28", "3x3"),
         "net.yaml:5:11: layer 'conv2' (conv on 3×3×16): kernel 5x5 does not fit the 3x3 input "
         "with valid padding; the smallest input it fits is 5x5 (or pad more, e.g. padding: same)"),
        (SEED.replace("  - relu", "  - rleu"),
         "net.yaml:4:5: unknown layer kind 'rleu'; did you mean 'relu'? known kinds: "
         "adaptiveavgpool, adaptivemaxpool, avgpool, batchnorm, channelshuffle, conv, "
         "convtranspose, crop, dense, dropout, flatten, globalavgpool, globalmaxpool, groupnorm, "
         "layernorm, lrn, maxpool, pad, pixelshuffle, pixelunshuffle, scale, split, "
         "upsample, and the activations relu, relu6, leakyrelu, elu, selu, gelu, silu, "
         "swish, mish, "
         "sigmoid, hardsigmoid, tanh, hardswish, softmax, identity"),
        ("input: 28x28x192\nlayers:\n  - 'conv 5x5 32 s0'\n",
         "net.yaml:3:19: conv stride: must be positive, got 0"),
        ("input: 28x28x192\nlayer: []\n",
         "net.yaml:2:1: a config has no key 'layer'; did you mean 'layers'? known keys: name, "
         "description, input, layers, blocks, separator, budget, defaults\n"
         "net.yaml:1:1: the config has no 'layers:'; write e.g. layers: [...]"),
        ("input: 8x8x3\nlayers:\n  - residual:\n      body: [conv 3x3 0]\n      shortcut: proj\n",
         "net.yaml:4:23: conv filters: must be positive, got 0\n"
         "net.yaml:5:17: shortcut: expected identity, auto, optional or a list of layers, got "
         "'proj'"),
        ("input: 8x8x3\nlayers:\n  - residual:\n      body: [conv 3x3 0]\n      shortcut: [rleu]\n",
         "net.yaml:4:23: conv filters: must be positive, got 0\n"
         "net.yaml:5:18: unknown layer kind 'rleu'; did you mean 'relu'? known kinds: "
         "adaptiveavgpool, adaptivemaxpool, avgpool, batchnorm, channelshuffle, conv, "
         "convtranspose, crop, dense, dropout, flatten, globalavgpool, globalmaxpool, groupnorm, "
         "layernorm, lrn, maxpool, pad, pixelshuffle, pixelunshuffle, scale, split, "
         "upsample, and the activations relu, relu6, "
         "leakyrelu, elu, selu, gelu, silu, swish, mish, sigmoid, hardsigmoid, tanh, hardswish, "
         "softmax, identity"),
        ("", "net.yaml:1:1: the config is empty; write input: and layers:"),
        ("- 1\n- 2\n", "net.yaml:1:1: a config is a mapping with input: and layers:, not a list"),
        ("input: 28x28\nlayers: [relu]\n",
         "net.yaml:1:8: input shape '28x28' is not HxWxC; write it like 28x28x192 (height x "
         "width x channels)"),
        ("input: 8x8x3\nlayers: [relu, relu]\nlayers: [relu]\n",
         "net.yaml:3:1: key 'layers' appears twice"),
        ("input: 8x8x3\nlayers:\n  - {type: relu, name: a}\n  - {type: relu, name: a}\n",
         "net.yaml:4:12: layer name 'a' is used twice (first used at net.yaml:3:12); names "
         "must be unique"),
    ],
)  # fmt: skip
def test_config_errors_are_located(text: str, message: str) -> None:
    with pytest.raises(ConvcostError) as error:
        analyze(parse_config(text, "net.yaml"))
    assert error.value.render() == message


REPEATS = """\
input: 8x8x3
layers:
  - {type: conv, filters: 4, kernel: 3, bias: true}
  - {type: conv, filters: 4, kernel: 3, bias: 1}
  - {type: conv, filters: 4.0, kernel: 3, bias: true}
  - conv 3x3 4 nobias bn
  -    conv 3x3 4 nobias bn
  - "conv 3x3 4 stride=9x"
  - "conv 3x3 4 stride=9x"
"""


def test_repeated_layers_are_each_checked_and_located() -> None:
    # The builder parses each distinct layer once: a fault must still be reported at every
    # occurrence, and equal values of other types (1 and 1.0 for true and 4) not taken as equal.
    with pytest.raises(ConvcostError) as error:
        parse_config(REPEATS, "net.yaml")
    assert error.value.render() == (
        "net.yaml:4:47: conv bias: expected true or false, got 1\n"
        "net.yaml:5:27: conv filters: expected an integer, got the decimal 4.0\n"
        "net.yaml:8:24: conv stride: expected N, NxM or [N, M], got '9x'\n"
        "net.yaml:9:24: conv stride: expected N, NxM or [N, M], got '9x'"
    )
    lines = REPEATS.splitlines()
    good = "\n".join([*lines[:3], lines[5], lines[6], lines[2]])
    nodes = [n for n in parse_config(good, "net.yaml").nodes if isinstance(n, Node)]
    assert [(n.name, n.layer, tuple(n.location or ())) for n in nodes] == [
        ("conv1", Conv(kernel=(3, 3), filters=4, bias=True), ("net.yaml", 3, 12, None, 1)),
        ("conv2", Conv(kernel=(3, 3), filters=4, bias=False), ("net.yaml", 4, 5, None, 17)),
        ("batchnorm1", BatchNorm(), ("net.yaml", 4, 23, None, 2)),
        ("conv3", Conv(kernel=(3, 3), filters=4, bias=False), ("net.yaml", 5, 8, None, 17)),
        ("batchnorm2", BatchNorm(), ("net.yaml", 5, 26, None, 2)),
        ("conv4", Conv(kernel=(3, 3), filters=4, bias=True), ("net.yaml", 6, 12, None, 1)),
    ]


def test_yaml_syntax_error_is_located() -> None:
    # The wording after "YAML syntax:" is PyYAML's (C and Python loaders differ).
    with pytest.raises(ConvcostError) as error:
        parse_config("input: 28x28x192\nlayers: [\n", "net.yaml")
    assert error.value.render().startswith("net.yaml:3:1: YAML syntax: ")


# A "billion laughs": 10^8 x's once expanded, kept under description: (any value goes there).
_BOMB = "description:\n" + "\n".join(
    ["  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    + [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
)


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("input: 8x8x3\nlayers: *a8\n",
         "bomb.yaml:9:7: a layer is a mapping or a string such as 'conv 5x5 32', not a list"),
        ("input: 8x8x3\nlayers: [{type: conv, filters: 3, kernel: *a8}]\n",
         "bomb.yaml:10:7: kernel: this value expands to too many items (an alias bomb?); "
         "write it out"),
    ],
)  # fmt: skip
def test_alias_bomb_is_refused_without_expanding(tail: str, message: str) -> None:
    with pytest.raises(ConvcostError) as error:
        parse_config(_BOMB + "\n" + tail, "bomb.yaml")
    assert error.value.render() == message


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "convcost: {p}: no such file; give a YAML config, '-' for standard input, "
                    "or an inline spec such as '28x28x192 | conv 5x5 32'"),
        ("directory", "convcost: {p}: is a directory; give a YAML config file"),
        ("binary", "{p}:1:8: byte 0xff is not UTF-8 text; save the config as UTF-8"),
    ],
)  # fmt: skip
def test_unreadable_files(runner: CliRunner, tmp_path: Path, setup: str, message: str) -> None:
    path = tmp_path / "net.yaml"
    if setup == "directory":
        path.mkdir()
    elif setup == "binary":
        path.write_bytes(b"input: \xff\n")
    result = runner.invoke(app, ["analyze", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == message.format(p=path) + "\n"


# Full (hierarchical) names are unique: a name holding the separator may not repeat another
# element's full name, or diff would match two layers as one.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("separator: .\nlayers:\n  - group: [relu name=b]\n    name: a\n  - relu name=a.b\n",
         "net.yaml:6:5: layer name 'a.b' makes the full name 'a.b', which another element has "
         "(at net.yaml:4:13); rename one (full names join the levels with '.')"),
        ("layers:\n  - {type: relu, name: ''}\n  - relu name=relu\n",
         "net.yaml:4:5: layer name 'relu' makes the full name 'relu', which another element "
         "has (at net.yaml:3:12); rename one (full names join the levels with '/')"),
        ("layers:\n  - relu name=a/relu1\n  - group: [relu]\n    name: a\n",
         "net.yaml:4:13: layer name 'relu1' makes the full name 'a/relu1', which another "
         "element has (at net.yaml:3:5); rename one (full names join the levels with '/')"),
    ],
)  # fmt: skip
def test_full_names_never_repeat(text: str, message: str) -> None:
    with pytest.raises(ConvcostError) as error:
        parse_config("input: 8x8x3\n" + text, "net.yaml")
    assert error.value.render() == message


def test_names_holding_the_separator_are_kept_where_they_repeat_nothing() -> None:
    # Caffe's names (GoogLeNet's conv1/7x7_s2) hold the default separator.
    text = "input: 8x8x3\nlayers:\n  - relu name=a/b\n  - group: [relu name=c]\n    name: a\n"
    names = [layer.name for layer in analyze(parse_config(text, "net.yaml")).layers]
    assert names == ["a/b", "a/c"]
