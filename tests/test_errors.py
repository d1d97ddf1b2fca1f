"""Every class of bad input: one exact message on stderr, exit 2, nothing on stdout.

``CASES`` is also the README's table of error classes (a test keeps the two identical).
"""

from __future__ import annotations

import re
import shlex
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.errors import ConvcostError
from convcost.frontends.config import parse_config

# (class, how the input is given, the input, stderr). yaml: the text of net.yaml; bytes: its
# bytes ("\\xff" is one byte); spec: an inline spec; args: the SPEC argument of analyze;
# command: a whole command line after "convcost", as a shell splits it.
CASES = [
    (
        "YAML syntax",
        "yaml",
        "input: 8x8x3\nlayers: [\n",
        "net.yaml:3:1: YAML syntax: while parsing a flow node did not find expected node content\n",
    ),
    ("empty file", "yaml", "", "net.yaml:1:1: the config is empty; write input: and layers:\n"),
    (
        "a list, not a mapping",
        "yaml",
        "- relu\n",
        "net.yaml:1:1: a config is a mapping with input: and layers:, not a list\n",
    ),
    (
        "a scalar, not a mapping",
        "yaml",
        "hello\n",
        "net.yaml:1:1: a config is a mapping with input: and layers:, not the scalar 'hello'\n",
    ),
    (
        "unknown top-level key",
        "yaml",
        "input: 8x8x3\nlayers:\n  - relu\nlayres: []\n",
        "net.yaml:4:1: a config has no key 'layres'; did you mean 'layers'? known keys: name, description, input, layers, blocks, separator, budget, defaults\n",
    ),
    (
        "missing input",
        "yaml",
        "layers: [relu]\n",
        "net.yaml:1:1: the config has no 'input:'; write e.g. input: 28x28x192\n",
    ),
    (
        "unknown layer setting",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filtres: 8}\n",
        "net.yaml:3:29: conv has no setting 'filtres'; did you mean 'filters'? it takes kernel, filters, stride, padding, dilation, groups, bias\n",
    ),
    (
        "unknown layer kind",
        "yaml",
        "input: 8x8x3\nlayers:\n  - rleu\n",
        "net.yaml:3:5: unknown layer kind 'rleu'; did you mean 'relu'? known kinds: adaptiveavgpool, adaptivemaxpool, avgpool, batchnorm, channelshuffle, conv, convtranspose, crop, dense, dropout, flatten, globalavgpool, globalmaxpool, groupnorm, layernorm, lrn, maxpool, pad, pixelshuffle, pixelunshuffle, scale, split, upsample, and the activations relu, relu6, leakyrelu, elu, selu, gelu, silu, swish, mish, sigmoid, hardsigmoid, tanh, hardswish, softmax, identity\n",
    ),
    (
        "a string for a number",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: many}\n",
        "net.yaml:3:38: conv filters: expected an integer, got 'many'\n",
    ),
    (
        "a decimal for a number",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: 3.5}\n",
        "net.yaml:3:38: conv filters: expected an integer, got the decimal 3.5\n",
    ),
    (
        "YAML's yes for a number",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: yes}\n",
        "net.yaml:3:38: conv filters: expected an integer, got the boolean true\n",
    ),
    (
        "null for a number",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: }\n",
        "net.yaml:3:38: conv filters: expected an integer, got nothing (null)\n",
    ),
    (
        "a list for a number",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: [1, 2]}\n",
        "net.yaml:3:38: conv filters: expected an integer, got a list\n",
    ),
    (
        "zero filters",
        "yaml",
        "input: 8x8x3\nlayers:\n  - conv 3x3 0\n",
        "net.yaml:3:14: conv filters: must be positive, got 0\n",
    ),
    (
        "negative stride",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: 8, stride: -1}\n",
        "net.yaml:3:49: conv stride: must be positive, got -1\n",
    ),
    (
        "zero groups",
        "yaml",
        "input: 8x8x3\nlayers:\n  - conv 3x3 8 g0\n",
        "net.yaml:3:17: conv groups: must be positive, got 0\n",
    ),
    (
        "kernel larger than the padded input",
        "yaml",
        "input: 3x3x1\nlayers:\n  - conv 5x5 8 valid\n",
        "net.yaml:3:5: layer 'conv1' (conv on 3×3×1): kernel 5x5 does not fit the 3x3 input with valid padding; the smallest input it fits is 5x5 (or pad more, e.g. padding: same)\n",
    ),
    (
        "groups that do not divide the channels",
        "yaml",
        "input: 8x8x3\nlayers:\n  - conv 3x3 8 g2\n",
        "net.yaml:3:5: layer 'conv1' (conv on 8×8×3): groups 2 does not divide the 3 input channels; use a divisor of 3\n",
    ),
    (
        "a pool after flatten",
        "yaml",
        "input: 8x8x3\nlayers:\n  - flatten\n  - maxpool 2\n",
        "net.yaml:4:5: layer 'maxpool1' (maxpool on 192): maxpool needs a spatial H×W×C input, but its input is a flat vector of 192; move it before the flatten/dense layer\n",
    ),
    (
        "branches of different sizes",
        "yaml",
        "input: 8x8x3\nlayers:\n  - concat:\n      - [conv 3x3 4]\n      - [conv 3x3 4 s2]\n    name: mix\n",
        "net.yaml:3:5: concat 'mix': branch 2 gives 4×4×4 but branch 1 gives 8×8×4; the branches' height and width must agree\n",
    ),
    (
        "adding different shapes",
        "yaml",
        "input: 8x8x3\nlayers:\n  - residual:\n      body: [conv 3x3 4]\n    name: res\n",
        "net.yaml:3:5: residual 'res': the body gives 8×8×4 but the shortcut gives 8×8×3; they must agree to be added (use shortcut: auto for a 1×1 projection)\n",
    ),
    (
        "a layer that is not a merge reading several",
        "yaml",
        "input: 8x8x3\nlayers:\n  - conv 3x3 4 name=a\n  - {type: relu, from: [a, /]}\n",
        "net.yaml:4:24: from: a relu reads one layer, but this names 2; only a merge (concat, add, mul) reads several: merge them first ({type: add, from: [a, b], name: m}) and give the relu from: m, or name one layer\n",
    ),
    (
        "a block that uses itself",
        "yaml",
        "input: 8x8x3\nblocks:\n  a: {layers: [b: {}]}\n  b: {layers: [a: {}]}\nlayers:\n  - a: {}\n",
        "net.yaml:4:16: block 'a' uses itself (a → b → a)\n",
    ),
    (
        "a missing block argument",
        "yaml",
        "input: 8x8x3\nblocks:\n  unit: {params: [width], layers: [conv 3x3 $width]}\nlayers:\n  - unit: {}\n",
        "net.yaml:5:5: block 'unit' needs width; call it as unit: {width: ...}\n",
    ),
    (
        "an unknown parameter in a block",
        "yaml",
        "input: 8x8x3\nblocks:\n  unit: {params: [width], layers: [conv 3x3 $widht]}\nlayers:\n  - unit: {width: 4}\n",
        "net.yaml:3:36: unknown parameter 'widht'; did you mean 'width'? this block's parameters: width\n",
    ),
    (
        "a reserved word as a parameter",
        "yaml",
        "input: 8x8x3\nblocks:\n  unit: {params: [class], layers: ['conv 3x3 ${class}']}\nlayers:\n  - relu\n",
        "net.yaml:3:19: block 'unit': parameter 'class' is a reserved word in ${...} expressions; call it e.g. class_\n",
    ),
    (
        "an absurdly large number",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: 1000000000000000000000000000000}\n",
        "net.yaml:3:38: conv filters: 1000000000000000000000000000000 is too large; sizes above 2**40 are refused\n",
    ),
    (
        "a duplicate key",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, kernel: 5, filters: 4}\n",
        "net.yaml:3:29: key 'kernel' appears twice\n",
    ),
    (
        "a duplicate layer name",
        "yaml",
        "input: 8x8x3\nlayers:\n  - relu name=a\n  - relu name=a\n",
        "net.yaml:4:5: layer name 'a' is used twice (first used at net.yaml:3:5); names must be unique\n",
    ),
    (
        "a Python object tag",
        "yaml",
        "input: !!python/object/apply:os.system [ls]\nlayers: [relu]\n",
        "net.yaml:1:8: YAML tag !!python/object/apply:os.system is not allowed: a config is plain data (numbers, words, lists)\n",
    ),
    (
        "a YAML merge key",
        "yaml",
        "input: 8x8x3\nlayers:\n  - &conv {type: conv, kernel: 3, filters: 8}\n  - {<<: *conv, stride: 2}\n",
        "net.yaml:4:6: YAML merge keys (<<) are not supported; write the settings out in full (a block under blocks: can hold what repeats)\n",
    ),
    (
        "several documents",
        "yaml",
        "input: 8x8x3\nlayers:\n  - relu\n---\ninput: 8x8x3\nlayers:\n  - relu\n",
        "net.yaml:4:1: a config is one YAML document, but this stream has another (after ---); put each network in its own file\n",
    ),
    (
        "several errors at once",
        "yaml",
        "input: 8x8x3\nlayers:\n  - conv 3x3 0\n  - rleu\n",
        "net.yaml:3:14: conv filters: must be positive, got 0\nnet.yaml:4:5: unknown layer kind 'rleu'; did you mean 'relu'? known kinds: adaptiveavgpool, adaptivemaxpool, avgpool, batchnorm, channelshuffle, conv, convtranspose, crop, dense, dropout, flatten, globalavgpool, globalmaxpool, groupnorm, layernorm, lrn, maxpool, pad, pixelshuffle, pixelunshuffle, scale, split, upsample, and the activations relu, relu6, leakyrelu, elu, selu, gelu, silu, swish, mish, sigmoid, hardsigmoid, tanh, hardswish, softmax, identity\n",
    ),
    (
        "faults in several branches",
        "yaml",
        "input: 8x8x3\nlayers:\n  - concat:\n      - [conv 3x3 0]\n      - [conv 3x3 4 s0]\n",
        "net.yaml:4:19: conv filters: must be positive, got 0\nnet.yaml:5:22: conv stride: must be positive, got 0\n",
    ),
    (
        "a leading zero (YAML 1.1 octal)",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: 017}\n",
        "net.yaml:3:38: 017: a leading zero makes it octal in YAML 1.1 (15), not 17; write 17 (or '017' in quotes for text)\n",
    ),
    (
        "colons in a number (YAML 1.1 base 60)",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: relu, name: 1:20}\n",
        "net.yaml:3:24: 1:20: YAML 1.1 reads numbers with colons in base 60 (80), not as the text 1:20; write 80, or '1:20' in quotes for text\n",
    ),
    (
        "hexadecimal where a pair is meant (YAML 1.1)",
        "yaml",
        "input: 8x8x3\nlayers:\n  - {type: conv, kernel: 3, filters: 8, padding: 0x1}\n",
        "net.yaml:3:50: 0x1: YAML 1.1 reads it as a hexadecimal number (1), not as 0 by 1; write [0, 1] (or '0x1' in quotes) for a pair\n",
    ),
    (
        "a comma inside an item of a flow list",
        "yaml",
        "input: 8x8x3\nlayers: [conv 3x3 8 padding=0,1, relu]\n",
        "net.yaml:2:10: 'padding=0,1' is split at its comma: in a flow list [a, b] a comma separates items; write padding=0x1, or quote the item: \"conv 3x3 8 padding=0,1\"\n",
    ),
    (
        "a name that is the separator alone",
        "yaml",
        'input: 8x8x3\nlayers:\n  - {type: relu, name: "/"}\n',
        "net.yaml:3:12: a layer or group cannot be named '/', the separator alone: from: '/' reads the network's input\n",
    ),
    (
        "start: without repeat:",
        "yaml",
        "input: 8x8x3\nlayers:\n  - group: [relu]\n    start: 1\n",
        "net.yaml:4:5: start: numbers the copies of a repeat:, but this group has no repeat:; add repeat: N, or remove start:\n",
    ),
    (
        "an unknown kind in defaults:",
        "yaml",
        "input: 8x8x3\ndefaults: {cnv: {padding: 0}}\nlayers: [relu]\n",
        "net.yaml:2:12: defaults: unknown layer kind 'cnv'; did you mean 'conv'? known kinds: adaptiveavgpool, adaptivemaxpool, avgpool, batchnorm, channelshuffle, conv, convtranspose, crop, dense, dropout, flatten, globalavgpool, globalmaxpool, groupnorm, layernorm, lrn, maxpool, pad, pixelshuffle, pixelunshuffle, scale, split, upsample, and the activations relu, relu6, leakyrelu, elu, selu, gelu, silu, swish, mish, sigmoid, hardsigmoid, tanh, hardswish, softmax, identity\n",
    ),
    (
        "an expression reading what the input lacks",
        "spec",
        "8x8x3 | conv 1x1 ${in.channels}",
        "<spec>:1:18: ${in.channels}: the input has c, h and w (in.c, in.h, in.w), not 'channels'\n  8x8x3 | conv 1x1 ${in.channels}\n                   ^^^^^^^^^^^^^^\n",
    ),
    (
        "a decimal comma in a budget",
        "yaml",
        "input: 8x8x3\nbudget:\n  macs: 1,6G\nlayers: [relu]\n",
        "net.yaml:3:9: budget macs: '1,6G' is ambiguous: 1.6G (a decimal comma) or 16G (a thousands separator)? write 1.6G or 16G\n",
    ),
    (
        "pool padding above half the kernel",
        "yaml",
        "input: 8x8x3\nlayers:\n  - maxpool 1 1 p1\n",
        "net.yaml:3:5: layer 'maxpool1' (maxpool on 8×8×3): padding p1 is more than half the 1x1 window; PyTorch pads a pool by at most kernel // 2 = 0 on each side: pad less, or put a pad layer before the pool\n",
    ),
    (
        "first: without repeat:",
        "yaml",
        "input: 8x8x3\nblocks:\n  unit: {params: {width: 4}, layers: [conv 3x3 $width]}\nlayers:\n  - unit: {width: 8, first: {width: 16}}\n",
        "net.yaml:5:22: first: overrides copy 0 of a repeat:, but this call has no repeat:; put its arguments beside the others, or add repeat: N\n",
    ),
    (
        "a name that repeats a full name",
        "yaml",
        "input: 8x8x3\nlayers:\n  - relu name=a/b\n  - group: [relu name=b]\n    name: a\n",
        "net.yaml:4:13: layer name 'b' makes the full name 'a/b', which another element has (at net.yaml:3:5); rename one (full names join the levels with '/')\n",
    ),
    (
        "a .json config that is not JSON",
        "json",
        "input: 8x8x3\nlayers: [relu]\n",
        "net.json:1:1: not valid JSON: Expecting value; a .json config is read as JSON only (a YAML config is named .yaml)\n",
    ),
    (
        "inline: a misspelt setting",
        "spec",
        "28x28x192 | conv 5x5 32 filtres=3",
        "<spec>:1:25: conv has no setting 'filtres'; did you mean 'filters'? it takes kernel, filters, stride, padding, dilation, groups, bias\n  28x28x192 | conv 5x5 32 filtres=3\n                          ^^^^^^^\n",
    ),
    (
        "inline: too many values",
        "spec",
        "28x28x192 | maxpool 2 2 7",
        "<spec>:1:25: maxpool takes 2 positional value(s) (kernel, stride); '7' is one too many (use key=value, e.g. stride=2)\n  28x28x192 | maxpool 2 2 7\n                          ^\n",
    ),
    (
        "inline: a setting the kind has not",
        "spec",
        "8x8x3 | avgpool 2 d2",
        "<spec>:1:19: avgpool has no setting 'dilation' (PyTorch's AvgPool2d has none); it takes kernel, stride, padding, ceil_mode\n  8x8x3 | avgpool 2 d2\n                    ^^\n",
    ),
    (
        "inline: not a shape",
        "spec",
        "28x28 | relu",
        "<spec>:1:1: input shape '28x28' is not HxWxC; write it like 28x28x192 (height x width x channels)\n  28x28 | relu\n  ^^^^^\n",
    ),
    (
        "inline: a spec that starts with '-'",
        "args",
        "-8x8x3|relu",
        "<spec>:1:1: input shape dimension -8 is not a positive integer; every dimension must be at least 1\n  -8x8x3|relu\n  ^^^^^^\n",
    ),
    (
        "not UTF-8 text",
        "bytes",
        "input: \\xff\n",
        "net.yaml:1:8: byte 0xff is not UTF-8 text; save the config as UTF-8\n",
    ),
    (
        "a missing file",
        "args",
        "missing.yaml",
        "convcost: missing.yaml: no such file; give a YAML config, '-' for standard input, or an inline spec such as '28x28x192 | conv 5x5 32'\n",
    ),
    (
        "an empty spec",
        "args",
        "",
        "convcost: the spec is empty; give a YAML config file, '-' for standard input, a built-in model (see convcost models) or an inline spec such as '28x28x192 | conv 5x5 32'\n",
    ),
    (
        "standard input twice",
        "command",
        "diff - -",
        "convcost diff: standard input can be read only once, but '-' is given 2 times; give '-' for one config and the others as files\n",
    ),
    (
        "a directory",
        "args",
        "configs",
        "convcost: configs: is a directory; give a YAML config file\n",
    ),
    (
        "a misspelt built-in model",
        "args",
        "resnet5",
        "convcost: resnet5: no such file or built-in model; did you mean 'resnet50'? built-in models: alexnet, convnext_tiny, efficientnet_b0, googlenet, inception_3a, inception_4a, mobilenet_v1, mobilenet_v2, mobilenet_v3_large, nin, regnet_y_400mf, resnet18, resnet50, shufflenet_v2_x1_0, squeezenet1_0, unet, vgg16 (see convcost models)\n",
    ),
]

README = Path(__file__).parent.parent / "README.md"


def _shown(kind: str, text: str) -> str:
    shown = text.replace("\n", " ⏎ ").strip() if kind in ("yaml", "json", "bytes") else text
    if kind == "args":
        shown = f"convcost analyze {shlex.quote(text)}"
    elif kind == "command":
        shown = f"convcost {text}"
    return "`" + shown.replace("|", "\\|") + "`" if shown else "(empty)"


def error_table() -> str:
    rows = ["| error | input (⏎: a new line) | message (stderr, first line) |", "|---|---|---|"]
    for name, kind, text, stderr in CASES:
        first = stderr.splitlines()[0].replace("|", "\\|")
        rows.append(f"| {name} | {_shown(kind, text)} | {first} |")
    return "\n".join(rows)


@pytest.mark.parametrize(("name", "kind", "text", "stderr"), CASES, ids=[c[0] for c in CASES])
def test_error_message_and_exit_code(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    name: str, kind: str, text: str, stderr: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    spec = "net.yaml"
    if kind in ("yaml", "json"):
        spec = f"net.{kind}"
        (tmp_path / spec).write_text(text, encoding="utf-8")
    elif kind == "bytes":
        (tmp_path / "net.yaml").write_bytes(
            text.encode("latin-1").decode("unicode_escape").encode("latin-1")
        )
    else:
        spec = text
    args = shlex.split(text) if kind == "command" else ["analyze", spec]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, ours(result.stderr)) == (2, "", ours(stderr))


def ours(stderr: str) -> str:
    """The message as convcost words it: after "YAML syntax: " come PyYAML's own words, and
    after "not valid JSON: " the json module's, which change between their releases (only
    that some follow is convcost's promise)."""
    stderr = re.sub(r"(: YAML syntax: )\S.*", r"\1…", stderr)
    return re.sub(r"(: not valid JSON: )[^;\n]+", r"\1…", stderr)


def test_readme_error_table_is_these_cases() -> None:
    readme = README.read_text(encoding="utf-8")
    table = readme.split("<!-- errors:start -->", 1)[1].split("<!-- errors:end -->", 1)[0]
    assert table.strip() == error_table()


def _alias_bomb(depth: int) -> str:
    lines = ["description:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, depth)]
    return "\n".join(lines) + f"\ninput: 8x8x3\nlayers: *a{depth - 1}\n"


@pytest.mark.parametrize(
    "text",
    [
        _alias_bomb(9),  # 10^9 values once expanded
        "input: 8x8x3\nlayers: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "input: 8x8x3\nlayers:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)),
    ],
    ids=["billion laughs", "100,000 nested lists", "3,000 nested block lists"],
)
def test_resource_attacks_are_refused_in_bounded_memory(text: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConvcostError):
            parse_config(text, "attack.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, peak  # the text itself is at most 0.2 MB


def test_deep_block_nesting_is_refused() -> None:
    blocks = "".join(f"  b{i}: {{layers: [b{i + 1}: {{}}]}}\n" for i in range(3000))
    text = f"input: 8x8x3\nblocks:\n{blocks}  b3000: {{layers: [relu]}}\nlayers:\n  - b0: {{}}\n"
    with pytest.raises(ConvcostError) as error:
        parse_config(text, "deep.yaml")
    assert error.value.message == "blocks are nested more than 64 deep"


def test_huge_but_valid_numbers_are_exact() -> None:
    # Sizes up to 2**40 are counted exactly, with Python's integers, not floats.
    text = "input: 1x1x1099511627776\nlayers: [conv 1x1 1099511627776]\n"
    from convcost.frontends.tree import analyze

    report = analyze(parse_config(text, "big.yaml"))
    assert report.totals.macs == 2**80
    assert report.totals.params == 2**80 + 2**40
