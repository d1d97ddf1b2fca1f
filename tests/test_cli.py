"""The command line, driven through CliRunner: exact output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.render.text import json_text

HEADLINE = """\
28×28×192 → 5×5 conv, 32 filters (5x5 s1 same)

 layer           op                output           MACs       ≈   params
 ────────────────────────────────────────────────────────────────────────
 direct:
   conv_5x5      conv 5x5 s1 same  28×28×32  120,422,400  120.4M  153,632
   total                           28×28×32  120,422,400  120.4M  153,632

 bottleneck 16:
   reduce_1x1    conv 1x1 s1 same  28×28×16    2,408,448    2.4M    3,088
   conv_5x5      conv 5x5 s1 same  28×28×32   10,035,200   10.0M   12,832
   total                           28×28×32   12,443,648   12.4M   15,920

bottleneck 16: 9.68× fewer MACs (−89.7 %), 9.65× fewer params (−89.6 %)
break-even width b* = 25·192·32 / (192 + 25·32) ≈ 154.8: bottlenecks of up to 154 channels save
MACs, wider ones cost more
"""


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16"],
        ["compare", "28x28x192", "--5x5=32", "-b", "16"],
        ["compare", "28x28x192", "--kernel", "5x5", "--filters", "32", "--bottleneck", "16"],
        ["compare", "28×28×192", "-k", "5", "-n", "32", "-b", "16"],
    ],
)
def test_headline_compare_table(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, HEADLINE, "")


def test_second_seed_compare_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", "14x14x480", "--5x5", "48", "-b", "16", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    assert data["command"] == "compare"
    assert [p["name"] for p in data["paths"]] == ["direct", "bottleneck 16"]
    direct, bottleneck = data["paths"]
    assert direct["totals"]["macs"] == 112_896_000
    assert [layer["macs"] for layer in bottleneck["layers"]] == [1_505_280, 3_763_200]
    assert bottleneck["totals"]["macs"] == 5_268_480
    assert bottleneck["layers"][0]["output_shape"] == [14, 14, 16]
    # 25·480·48 / (480 + 25·48) = 576000 / 1680 = 2400/7
    assert data["break_even_width_exact"] == "2400/7"
    assert data["savings"][0]["macs_ratio"] == 112_896_000 / 5_268_480


def test_several_bottleneck_widths(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["compare", "28x28x192", "--3x3", "128", "-b", "8,16", "-b", "32", "-f", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    rows = [line.split(",") for line in result.stdout.splitlines()]
    totals = {row[0]: int(row[6]) for row in rows[1:] if row[1] == "total"}
    hw = 28 * 28
    assert totals == {
        "direct": hw * 128 * 9 * 192,
        "bottleneck 8": hw * 8 * 192 + hw * 128 * 9 * 8,
        "bottleneck 16": hw * 16 * 192 + hw * 128 * 9 * 16,
        "bottleneck 32": hw * 32 * 192 + hw * 128 * 9 * 32,
    }


def test_wider_bottleneck_costs_more(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", "28x28x192", "--5x5", "32", "-b", "160"])
    assert result.exit_code == 0
    # 28·28·(160·192 + 32·25·160) = 124,436,480 > 120,422,400
    assert "bottleneck 160: 1.03× more MACs (+3.3 %)" in result.stdout


def test_compare_no_bias_and_flops(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["compare", "28x28x192", "--5x5", "32", "-b", "16", "--no-bias", "-f", "json"]
    )
    data = json.loads(result.stdout)
    direct, bottleneck = data["paths"]
    assert direct["totals"]["params"] == 153_600
    assert bottleneck["totals"]["params"] == 3_072 + 12_800
    # Without bias, FLOPs are exactly twice the MACs.
    assert direct["totals"]["flops"] == 2 * 120_422_400
    with_bias = json.loads(
        runner.invoke(app, ["compare", "28x28x192", "--5x5", "32", "-f", "json"]).stdout
    )
    assert with_bias["paths"][0]["totals"]["flops"] == 2 * 120_422_400 + 28 * 28 * 32


def test_compare_explain_writes_seed_arithmetic(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", "28x28x192", "--5x5", "32", "-b", "16", "--explain"])
    out = " ".join(result.stdout.split())  # the console may wrap long lines
    assert "MACs: 28 × 28 × 32 × 5 × 5 × 192 = 120,422,400" in out
    assert "MACs: 28 × 28 × 16 × 1 × 1 × 192 = 2,408,448" in out
    assert (
        "1×1 conv = a fully-connected layer 192 → 16 applied at each of the 28 × 28 = 784 "
        "positions: 784 × (192 × 16) = 2,408,448" in out
    )
    assert "params: 5 × 5 × 192 × 32 + 32 (bias) = 153,632" in out


@pytest.mark.parametrize(
    ("args", "first_line", "formula"),
    [
        (["6x6x1", "-k", "3", "--padding", "valid"], "6×6×1 → conv 3x3 s1 valid → 4×4×1",
         "⌊(6 + 0 + 0 − 3) / 1⌋ + 1 = 4"),
        (["28x28x8", "-k", "3", "--padding", "valid"], "28×28×8 → conv 3x3 s1 valid → 26×26×8",
         "⌊(28 + 0 + 0 − 3) / 1⌋ + 1 = 26"),
        (["28x28x8", "--kernel", "3", "--stride", "2", "--padding", "valid"],
         "28×28×8 → conv 3x3 s2 valid → 13×13×8", "⌊(28 + 0 + 0 − 3) / 2⌋ + 1 = 13"),
        (["28x28x8", "-k", "3", "--padding", "same"], "28×28×8 → conv 3x3 s1 same → 28×28×8",
         "⌈28 / 1⌉ = 28  (same: pad 1 before, 1 after)"),
        (["28x28x8", "-k", "3", "--stride", "2", "--filters", "16"],
         "28×28×8 → conv 3x3 s2 same → 14×14×16", "⌈28 / 2⌉ = 14  (same: pad 0 before, 1 after)"),
        (["28x28x8", "-k", "3", "--stride", "2", "--pool", "max", "--ceil-mode"],
         "28×28×8 → maxpool 3x3 s2 valid ceil → 14×14×8", "⌈(28 + 0 + 0 − 3) / 2⌉ + 1 = 14"),
        (["5x5x1", "-k", "3", "--dilation", "2", "--padding", "1"],
         "5×5×1 → conv 3x3 s1 p1 d2 → 3×3×1", "⌊(5 + 1 + 1 − (2·(3 − 1) + 1)) / 1⌋ + 1 = 3"),
    ],
)  # fmt: skip
def test_shape_seed_table(
    runner: CliRunner, args: list[str], first_line: str, formula: str
) -> None:
    result = runner.invoke(app, ["shape", *args])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{first_line}\nH: {formula}\nW: {formula}\n"


def test_shape_json(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["shape", "28x28x8", "--kernel", "3", "--stride", "2", "--padding", "valid", "-f", "json"],
    )
    data = json.loads(result.stdout)
    assert data["output_shape"] == [13, 13, 8]
    assert data["formula"]["h"] == "⌊(28 + 0 + 0 − 3) / 2⌋ + 1 = 13"


ANALYZE_TABLE = """\
28x28x192 | conv 1x1 16 relu | conv 5x5 32

 layer  op                input      output          MACs      ≈  % MACs           params  outputs
 ─────────────────────────────────────────────────────────────────────────────────────────────────
 conv1  conv 1x1 s1 same  28×28×192  28×28×16   2,408,448   2.4M   19.4 █▉          3,088    12.5k
 relu1  relu              28×28×16   28×28×16           0      0    0.0                 0    12.5k
 conv2  conv 5x5 s1 same  28×28×16   28×28×32  10,035,200  10.0M   80.6 ████████▏  12,832    25.1k
 total                    28×28×192  28×28×32  12,443,648  12.4M  100.0            15,920    50.2k

params size: 0.06 MB (15,920 × 4 B, fp32)
peak activation memory: 0.65 MB at conv1 (fp32)
training memory (adam): 0.91 MB = params 0.06 MB + gradients 0.06 MB + optimizer state 0.13 MB +
buffers 0.00 MB + saved activations 0.65 MB
"""


def test_analyze_inline_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "28x28x192 | conv 1x1 16 relu | conv 5x5 32"])
    assert (result.exit_code, result.stdout) == (0, ANALYZE_TABLE)


def test_analyze_json_contract(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["analyze", "28x28x192 | conv 1x1 16 relu | conv 5x5 32", "-f", "json", "--batch", "2"]
    )
    data = json.loads(result.stdout)
    assert set(data) == {
        "schema_version", "command", "input_shape", "output_shape", "batch",
        "bytes_per_value", "layers", "groups", "totals", "precision", "training", "device",
        "outputs", "uncounted_ops",
    }  # fmt: skip
    assert data["outputs"] == [{"name": "conv2", "output_shape": [28, 28, 32]}]
    assert data["uncounted_ops"] == []
    assert [layer["inputs"] for layer in data["layers"]] == [[None], ["conv1"], ["relu1"]]
    assert data["groups"] == []
    assert data["layers"][0] == {
        "name": "conv1", "kind": "conv", "config": "1x1 s1 same",
        "input_shape": [28, 28, 192], "output_shape": [28, 28, 16],
        "macs": 2 * 2_408_448, "flops": 2 * (2 * 2_408_448 + 28 * 28 * 16),
        "params": 3_088, "buffers": 0, "activations": 2 * 28 * 28 * 16,
        # fp32, batch 2: weights once, the input and output of both samples
        "weight_bytes": 4 * 3_088, "input_bytes": 4 * 2 * 28 * 28 * 192,
        "output_bytes": 4 * 2 * 28 * 28 * 16,
        "ops": 2 * (2 * 2_408_448 + 28 * 28 * 16),
        "bytes_moved": 4 * (3_088 + 2 * 28 * 28 * (192 + 16)),
        "live_bytes": 4 * 2 * 28 * 28 * (192 + 16),  # the input and the output
        "arithmetic_intensity": 2 * (2 * 2_408_448 + 28 * 28 * 16) / (
            4 * (3_088 + 2 * 28 * 28 * (192 + 16))),
        # its shares of the totals' MACs and FLOPs (below)
        "macs_share": 2_408_448 / 12_443_648,
        "flops_share": (2 * 2_408_448 + 28 * 28 * 16) / (2 * 12_443_648 + 28 * 28 * 48),
        "depth": 0,
        "padding": {"top": 0, "bottom": 0, "left": 0, "right": 0}, "inputs": [None],
    }  # fmt: skip
    assert data["totals"] == {
        "macs": 2 * 12_443_648,
        "flops": 2 * (2 * 12_443_648 + 28 * 28 * 16 + 28 * 28 * 32),
        "params": 15_920,
        "buffers": 0,
        "activations": 2 * 28 * 28 * (16 + 16 + 32),
        "param_bytes": 4 * 15_920,
        "activation_bytes": 4 * 2 * 28 * 28 * (16 + 16 + 32),
        "memory": 4 * 15_920 + 4 * 2 * 28 * 28 * (16 + 16 + 32),  # what --max-memory limits
        "weight_bytes": 4 * 15_920,
        "input_bytes": 4 * 2 * 28 * 28 * (192 + 16 + 16),
        "output_bytes": 4 * 2 * 28 * 28 * (16 + 16 + 32),
        "ops": 2 * (2 * 12_443_648 + 28 * 28 * 48) + 2 * 28 * 28 * 16,
        "bytes_moved": 4 * (15_920 + 2 * 28 * 28 * (192 + 16 + 16 + 16 + 16 + 32)),
        "live_bytes": 4 * 2 * 28 * 28 * (192 + 16),
        "arithmetic_intensity": (
            2 * (2 * 12_443_648 + 28 * 28 * 48) + 2 * 28 * 28 * 16  # + the relu's
        )
        / (4 * (15_920 + 2 * 28 * 28 * (192 + 16 + 16 + 16 + 16 + 32))),
        "peak_activation_bytes": 4 * 2 * 28 * 28 * (192 + 16),  # at conv1
        # conv1 keeps the input for training, the relu its output (which conv2 reads)
        "saved_activation_bytes": 4 * 2 * 28 * 28 * (192 + 16),
        "training_bytes": 4 * 15_920 * 4 + 4 * 2 * 28 * 28 * (192 + 16),  # Adam: 2 states
        "peak_layer": "conv1",
    }
    assert data["precision"] == {"weights": "fp32", "activations": "fp32"}
    assert data["device"] is None


def test_json_layout_one_record_a_line(runner: CliRunner) -> None:
    # Containers that hold objects spread over lines; every record (layer, totals) is one line.
    result = runner.invoke(app, ["analyze", "8x8x3 | conv 3x3 4 | relu", "-f", "json"])
    assert (result.exit_code, result.stdout) == (0, """\
{
  "schema_version": 1,
  "command": "analyze",
  "input_shape": [8, 8, 3],
  "output_shape": [8, 8, 4],
  "batch": 1,
  "bytes_per_value": 4,
  "layers": [
    {"name": "conv1", "kind": "conv", "config": "3x3 s1 same", "input_shape": [8, 8, 3], \
"output_shape": [8, 8, 4], "macs": 6912, "flops": 14080, "params": 112, "buffers": 0, \
"activations": 256, "weight_bytes": 448, "input_bytes": 768, "output_bytes": 1024, \
"ops": 14080, "bytes_moved": 2240, "live_bytes": 1792, \
"arithmetic_intensity": 6.285714285714286, "macs_share": 1.0, "flops_share": 1.0, "depth": 0, \
"padding": {"top": 1, "bottom": 1, "left": 1, "right": 1}, "inputs": [null]},
    {"name": "relu1", "kind": "relu", "config": "", "input_shape": [8, 8, 4], \
"output_shape": [8, 8, 4], "macs": 0, "flops": 0, "params": 0, "buffers": 0, \
"activations": 256, "weight_bytes": 0, "input_bytes": 1024, "output_bytes": 1024, "ops": 256, \
"bytes_moved": 2048, "live_bytes": 1024, "arithmetic_intensity": 0.125, "macs_share": 0.0, \
"flops_share": 0.0, "depth": 0, "inputs": ["conv1"]}
  ],
  "groups": [],
  "totals": {"macs": 6912, "flops": 14080, "params": 112, "buffers": 0, "activations": 512, \
"param_bytes": 448, "activation_bytes": 2048, "memory": 2496, "weight_bytes": 448, \
"input_bytes": 1792, "output_bytes": 2048, "ops": 14336, "bytes_moved": 4288, \
"live_bytes": 1792, "arithmetic_intensity": 3.343283582089552, "peak_activation_bytes": 1792, \
"saved_activation_bytes": 1792, "training_bytes": 3584, "peak_layer": "conv1"},
  "precision": {"weights": "fp32", "activations": "fp32"},
  "training": {"optimizer": "adam", "params": 448, "gradients": 448, "optimizer_state": 896, \
"buffers": 0, "saved_activations": 1792, "total": 3584},
  "device": null,
  "outputs": [
    {"name": "relu1", "output_shape": [8, 8, 4]}
  ],
  "uncounted_ops": []
}
""")  # fmt: skip


def test_json_text_spreads_only_containers_of_objects() -> None:
    data = {"a": [1, "ü"], "b": [{"x": 1}, {"y": [2]}], "c": {"d": [{"e": {}}]}, "f": [], "g": {}}
    assert json_text(data) == (
        '{\n  "a": [1, "ü"],\n  "b": [\n    {"x": 1},\n    {"y": [2]}\n  ],\n'
        '  "c": {\n    "d": [\n      {"e": {}}\n    ]\n  },\n  "f": [],\n  "g": {}\n}'
    )
    assert json.loads(json_text(data)) == data


def test_analyze_csv_and_markdown(runner: CliRunner) -> None:
    spec = "28x28x192 | conv 1x1 16 relu | conv 5x5 32"
    csv_out = runner.invoke(app, ["analyze", spec, "-f", "csv"]).stdout
    assert csv_out.splitlines() == [
        "name,kind,config,input_shape,output_shape,macs,flops,params,buffers,activations,"
        "weight_bytes,input_bytes,output_bytes,ops,bytes_moved,live_bytes,arithmetic_intensity,"
        "macs_share,flops_share",
        "conv1,conv,1x1 s1 same,28x28x192,28x28x16,2408448,4829440,3088,0,12544,"
        f"12352,602112,50176,4829440,664640,652288,{4829440 / 664640!r},"
        f"{2408448 / 12443648!r},{4829440 / 24924928!r}",  # shares of the total's MACs, FLOPs
        "relu1,relu,,28x28x16,28x28x16,0,0,0,0,12544,0,50176,50176,12544,100352,50176,"
        f"{0.125!r},0.0,0.0",  # a relu: one operation a value
        "conv2,conv,5x5 s1 same,28x28x16,28x28x32,10035200,20095488,12832,0,25088,"
        f"51328,50176,100352,20095488,201856,150528,{20095488 / 201856!r},"
        f"{10035200 / 12443648!r},{20095488 / 24924928!r}",
        "total,total,,28x28x192,28x28x32,12443648,24924928,15920,0,50176,"
        f"63680,702464,200704,24937472,966848,652288,{(24924928 + 12544) / 966848!r},1.0,1.0",
    ]
    md = runner.invoke(app, ["analyze", spec, "-f", "markdown", "--unit", "flops"]).stdout
    table, footer = md.split("\n\n")
    assert table.splitlines()[0] == (
        "| layer | kind | config | input | output | FLOPs | ≈ | % FLOPs | params | activations | "
        "bytes moved | ops/byte |"
    )
    # conv2's FLOPs, 20,095,488, of the total's 24,924,928: 80.62 %, 64.498 of 80 eighths (64)
    assert table.splitlines()[-2].split(" | ")[7] == "80.6 ████████"
    assert table.splitlines()[-1] == (
        "| **total** |  |  | 28×28×192 | 28×28×32 | **24,924,928** | 24.9M | 100.0 | **15,920** | "
        "50,176 | 966,848 | 25.8 |"
    )
    assert footer.splitlines()[1] == "- `peak activation memory: 0.65 MB at conv1 (fp32)`"


def test_analyze_yaml_file_and_stdin(runner: CliRunner, tmp_path: pytest.TempPathFactory) -> None:
    config = """\
name: seed
input: 28x28x192
layers:
  - conv: {kernel: 1x1, filters: 16}
  - relu
  - type: conv
    kernel: 5x5
    filters: 32
"""
    path = tmp_path / "net.yaml"  # type: ignore[operator]
    path.write_text(config)
    for args, stdin in (([str(path)], None), (["-"], config)):
        result = runner.invoke(app, ["analyze", *args, "-f", "json"], input=stdin)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["totals"]["macs"] == 12_443_648


def test_version(runner: CliRunner) -> None:
    from convcost import __version__

    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"convcost {__version__}\n")


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["compare", "28x28x192"],
         "convcost compare: say which conv to compare: --5x5 32, or --kernel 5x5 --filters 32"),
        (["compare", "28x28x192", "--5x5"],
         "convcost compare: --5x5 needs the number of filters, e.g. --5x5 32"),
        (["compare", "28x28x192", "--5x5", "32", "--3x3", "8"],
         "convcost compare: give one conv: --KxK N or --kernel KxK --filters N, not both"),
        (["compare", "28x28x192", "--5x5", "32", "-b", "0"],
         "convcost: --bottleneck 0: must be positive, got 0"),
        (["compare", "28x28", "--5x5", "32"],
         "convcost: input shape '28x28' is not HxWxC; write it like 28x28x192 (height x width x "
         "channels)"),
        (["compare", "28x28x192", "--5x5", "32", "--frobnicate"],
         "convcost compare: unexpected '--frobnicate'; see convcost compare --help"),
        (["shape", "3x3x1", "-k", "5", "--padding", "valid"],
         "convcost: layer 'conv' (conv on 3×3×1): kernel 5x5 does not fit the 3x3 input with "
         "valid padding; the smallest input it fits is 5x5 (or pad more, e.g. padding: same)"),
        (["shape", "8x8x1", "-k", "3", "--ceil-mode"],
         "convcost: --ceil-mode applies to pools (--pool max|avg), not to a conv"),
        (["check", "-", "configs/nin.yaml", "-", "-"],
         "convcost check: standard input can be read only once, but '-' is given 3 times; give "
         "'-' for one config and the others as files"),
        (["analyze", "missing.yaml"],
         "convcost: missing.yaml: no such file; give a YAML config, '-' for standard input, "
         "or an inline spec such as '28x28x192 | conv 5x5 32'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(runner: CliRunner, args: list[str], stderr: str) -> None:
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", stderr + "\n")


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["analyze", "-f", "json", "-8x8x3 | relu"],
         "<spec>:1:1: {shape}\n  -8x8x3 | relu\n  ^^^^^^"),
        (["diff", "8x8x3|relu", "-8x8x3|relu"], "<spec>:1:1: {shape}\n  -8x8x3|relu\n  ^^^^^^"),
        (["shape", "-8x8x3", "-k", "3"], "convcost: {shape}"),
        (["compare", "-8x8x3", "--5x5", "32"], "convcost: {shape}"),
        (["compare", "8x8x3", "--5x5", "-32"], "convcost: conv filters: must be positive, got -32"),
    ],
)  # fmt: skip
def test_values_that_start_with_a_minus_are_values(
    runner: CliRunner, args: list[str], stderr: str
) -> None:
    # No option starts with '-' and a digit or holds a '|': such an argument is refused as the
    # value it is, not as an unknown option.
    shape = "input shape dimension -8 is not a positive integer; every dimension must be at least 1"
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == stderr.format(shape=shape) + "\n"


@pytest.mark.parametrize(
    ("option", "value"),
    [("--format", "xml"), ("--batch", "0"), ("--unit", "ops"), ("--batch", "nan"),
     ("--batch", "1e400"), ("--batch", str(2**40 + 1)), ("--depth", "inf")],
)  # fmt: skip
def test_usage_errors_are_one_line_exit_2(runner: CliRunner, option: str, value: str) -> None:
    # The wording about the option is Click's own and varies between its releases.
    result = runner.invoke(app, ["analyze", "28x28x192 | conv 5x5 32", option, value])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("convcost analyze: ")
    assert option in result.stderr
    assert result.stderr.endswith("(see convcost analyze --help)\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("spec", "message", "caret"),
    [
        ("28x28x192 | conv 5x5 32 filtres=3",
         "<spec>:1:25: conv has no setting 'filtres'; did you mean 'filters'? it takes kernel, "
         "filters, stride, padding, dilation, groups, bias",
         "                        ^^^^^^^"),
        ("28x28x192 | cnv 5x5 32",
         "<spec>:1:13: unknown layer kind 'cnv'; did you mean 'conv'? known kinds: "
         "adaptiveavgpool, adaptivemaxpool, avgpool, batchnorm, channelshuffle, conv, "
         "convtranspose, crop, dense, dropout, flatten, globalavgpool, globalmaxpool, groupnorm, "
         "layernorm, lrn, maxpool, pad, pixelshuffle, pixelunshuffle, scale, split, "
         "upsample, and the activations relu, relu6, leakyrelu, elu, selu, gelu, silu, "
         "swish, mish, "
         "sigmoid, hardsigmoid, tanh, hardswish, softmax, identity",
         "            ^^^"),
        ("3x3x1 | conv 5x5 3 valid",
         "<spec>:1:9: layer 'conv1' (conv on 3×3×1): kernel 5x5 does not fit the 3x3 input with "
         "valid padding; the smallest input it fits is 5x5 (or pad more, e.g. padding: same)",
         "        ^^^^^^^^^^^^^^^^"),
        ("28x28x8 | conv 3x3 0",
         "<spec>:1:20: conv filters: must be positive, got 0",
         "                   ^"),
        ("28x28x8 | conv 3x3 8 g3",
         "<spec>:1:11: layer 'conv1' (conv on 28×28×8): groups 3 does not divide the 8 input "
         "channels; use a divisor of 8",
         "          ^^^^^^^^^^^^^"),
    ],
)  # fmt: skip
def test_inline_errors_point_at_the_token(
    runner: CliRunner, spec: str, message: str, caret: str
) -> None:
    result = runner.invoke(app, ["analyze", spec])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"{message}\n  {spec}\n  {caret}\n"


NARROW_SPEC = "28x28x192 | conv 1x1 16 relu | conv 5x5 32"
NARROW_TABLES = {
    # 70 columns: the output values, the input shapes and the rounded MACs give way ...
    70: """\
28x28x192 | conv 1x1 16 relu | conv 5x5 32

 layer  op              output          MACs  % MACs           params
 ────────────────────────────────────────────────────────────────────
 conv1  conv 1x1 s1     28×28×16   2,408,448   19.4 █▉          3,088
        same
 relu1  relu            28×28×16           0    0.0                 0
 conv2  conv 5x5 s1     28×28×32  10,035,200   80.6 ████████▏  12,832
        same
 total                  28×28×32  12,443,648  100.0            15,920
""",
    # ... then the shares (the op column wraps no narrower than 12, between words) ...
    60: """\
28x28x192 | conv 1x1 16 relu | conv 5x5 32

 layer  op                output          MACs  params
 ─────────────────────────────────────────────────────
 conv1  conv 1x1 s1 same  28×28×16   2,408,448   3,088
 relu1  relu              28×28×16           0       0
 conv2  conv 5x5 s1 same  28×28×32  10,035,200  12,832
 total                    28×28×32  12,443,648  15,920
""",
    # ... and where no table shows every name and number whole, one block per row.
    40: """\
28x28x192 | conv 1x1 16 relu | conv 5x5
32
conv1: conv 1x1 s1 same
  28×28×192 → 28×28×16
  MACs 2,408,448 (2.4M), params 3,088
relu1: relu
  28×28×16 → 28×28×16
  MACs 0 (0), params 0
conv2: conv 5x5 s1 same
  28×28×16 → 28×28×32
  MACs 10,035,200 (10.0M), params 12,832
total: MACs 12,443,648 (12.4M), params
15,920
""",
}


@pytest.mark.parametrize("columns", sorted(NARROW_TABLES))
def test_analyze_table_in_narrow_terminals(columns: int) -> None:
    # Where cells fold, Rich lays them out (its choice may change between releases): what is
    # convcost's is which layout, which words, and that nothing is wider than the terminal.
    runner = CliRunner(env={"COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"})
    result = runner.invoke(app, ["analyze", NARROW_SPEC])
    assert result.exit_code == 0
    footer = ANALYZE_TABLE.split("\n\n")[-1]  # the footer's words, folded to the width
    assert sorted(result.stdout.split()) == sorted((NARROW_TABLES[columns] + footer).split())
    assert max(map(len, result.stdout.splitlines())) <= columns


def test_table_shows_names_as_given(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rich would read "[...]" as a style tag ("[/]" raised MarkupError) and ":smile:" as an emoji.
    monkeypatch.chdir(tmp_path)
    Path("names.yaml").write_text(
        "input: 8x8x3\nlayers:\n"
        '  - {name: "a[red]b", type: conv, filters: 4, kernel: 3}\n'
        '  - {name: ":smile:", type: conv, filters: 4, kernel: 3}\n'
        '  - {name: "x[/]", type: conv, filters: 4, kernel: 3}\n'
    )
    result = runner.invoke(app, ["analyze", "names.yaml"])
    assert (result.exit_code, result.stdout) == (0, """\
names.yaml

 layer    op                input  output    MACs      ≈  % MACs      params  outputs
 ────────────────────────────────────────────────────────────────────────────────────
 a[red]b  conv 3x3 s1 same  8×8×3  8×8×4    6,912   6.9k   27.3 ██▊      112      256
 :smile:  conv 3x3 s1 same  8×8×4  8×8×4    9,216   9.2k   36.4 ███▋     148      256
 x[/]     conv 3x3 s1 same  8×8×4  8×8×4    9,216   9.2k   36.4 ███▋     148      256
 total                      8×8×3  8×8×4   25,344  25.3k  100.0          408      768

params size: 0.00 MB (408 × 4 B, fp32)
peak activation memory: 0.00 MB at :smile: (fp32)
training memory (adam): 0.01 MB = params 0.00 MB + gradients 0.00 MB + optimizer state 0.00 MB +
buffers 0.00 MB + saved activations 0.00 MB
""")  # fmt: skip


_CONVCOST = shutil.which("convcost", path=str(Path(sys.executable).parent))
_SPEC = "8x8x3 | conv 3x3 4"


# Every numeric option of every command, and numbers in inline layers, given nan, inf and
# 1e400 (inf as a float): refused before any output, one line, exit 2, no traceback.
@pytest.mark.parametrize("number", ["nan", "inf", "1e400"])
@pytest.mark.parametrize(
    "args",
    [
        ["compare", "8x8x3", "--3x3", "{}"],
        ["compare", "8x8x3", "--kernel", "3x3", "--filters", "{}"],
        ["compare", "8x8x3", "--3x3", "4", "--bottleneck", "{}"],
        ["compare", "8x8x3", "--3x3", "4", "--stride", "{}"],
        ["compare", "8x8x3", "--3x3", "4", "--padding", "{}"],
        ["compare", "8x8x3", "--3x3", "4", "--batch", "{}"],
        ["shape", "8x8x3", "--kernel", "{}"],
        ["shape", "8x8x3", "--kernel", "3", "--stride", "{}"],
        ["shape", "8x8x3", "--kernel", "3", "--padding", "{}"],
        ["shape", "8x8x3", "--kernel", "3", "--dilation", "{}"],
        ["shape", "8x8x3", "--kernel", "3", "--filters", "{}"],
        ["analyze", _SPEC, "--batch", "{}"],
        ["analyze", _SPEC, "--depth", "{}"],
        ["analyze", "8x8x3 | dropout {}"],
        ["analyze", "8x8x3 | conv 3x3 {}"],
        ["check", _SPEC, "--max-macs", "{}"],
        ["check", _SPEC, "--max-params", "{}"],
        ["check", _SPEC, "--max-activations", "{}"],
        ["check", _SPEC, "--max-memory", "{}"],
        ["diff", _SPEC, _SPEC, "--fail-above", "{}"],
    ],
)
def test_non_finite_numbers_are_refused_before_any_output(args: list[str], number: str) -> None:
    assert _CONVCOST, "the convcost command is installed beside this Python"
    argv = [_CONVCOST, *(a.replace("{}", number) for a in args)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.count("\n") in (1, 3), done.stderr  # inline specs add spec and caret
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("number", ["nan", "inf", "1e400", "-1"])
def test_fail_above_takes_a_finite_percentage(runner: CliRunner, number: str) -> None:
    result = runner.invoke(app, ["diff", _SPEC, _SPEC, f"--fail-above={number}"])
    shown = {"nan": "nan", "inf": "inf", "1e400": "inf", "-1": "-1"}[number]
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "convcost diff: --fail-above takes a percentage of at least 0, such as 5 or 2.5; "
        f"got {shown}\n",
    )  # fmt: skip
