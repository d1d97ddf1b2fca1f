"""The transposed convolution's own contract: how it is written (inline, YAML), what its rows
and --explain say, and what it refuses, in one line and exit 2. Its shapes, parameters and
MACs are PyTorch's: tests/test_torch_crosscheck.py runs it over a grid against
nn.ConvTranspose2d and flop_counter."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.kinds.conv import ConvTranspose
from convcost.frontends import analyze_spec
from convcost.render.explain import explain_layer


@pytest.mark.parametrize("name", ["convtranspose", "deconv", "convtranspose2d", "conv2dtranspose"])
def test_every_name_and_form_builds_the_same_layer(name: str, tmp_path: Path) -> None:
    inline = analyze_spec(f"8x8x16 | {name} 3x3 8 s2 p1 op1 g2 nobias")[1]
    path = tmp_path / "net.yaml"
    path.write_text(
        "input: 8x8x16\nlayers:\n"
        f"  - {{type: {name}, kernel: 3, filters: 8, stride: 2, padding: 1,"
        " output_padding: 1, groups: 2, bias: false}\n",
        encoding="utf-8",
    )
    config = analyze_spec(str(path))[1]
    expected = ConvTranspose(
        kernel=(3, 3), filters=8, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1),
        groups=2, bias=False,
    )  # fmt: skip
    assert inline.layers[0].layer == config.layers[0].layer == expected


def test_the_defaults_are_same_padding_stride_1_and_a_bias() -> None:
    (row,) = analyze_spec("8x8x16 | convtranspose 3x3 8")[1].layers
    assert row.layer == ConvTranspose(kernel=(3, 3), filters=8)
    assert (row.config, row.output_shape.as_list()) == ("3x3 s1 same", [8, 8, 8])


@pytest.mark.parametrize(
    ("layer", "config"),
    [("convtranspose 2x2 32 s2", "2x2 s2 same"),
     ("convtranspose 3x3 16 s2 p1 op1", "3x3 s2 p1 op1"),
     ("convtranspose 3x2 16 s2x1 p1 op1x0 d2", "3x2 s2x1 p1 d2 op1x0"),
     ("convtranspose 3x3 s2 dw valid", "3x3 s2 valid dw")],
)  # fmt: skip
def test_the_config_column_reads_back_as_the_same_layer(layer: str, config: str) -> None:
    (row,) = analyze_spec(f"8x8x16 | {layer}")[1].layers
    assert row.config == config
    filters = "" if "dw" in config else f" {row.output_shape.c}"
    kernel = config.split()[0]
    (again,) = analyze_spec(f"8x8x16 | convtranspose {kernel}{filters} "
                            f"{config.removeprefix(kernel)}")[1].layers  # fmt: skip
    assert again.layer == row.layer


@pytest.mark.parametrize(
    ("layer", "lines"),
    [("convtranspose 3x3 16 s2 p1 op1",
      ["H, W: (5 − 1)·2 − 1 − 1 + 1·(3 − 1) + 1 + 1 = 10",
       "MACs: 5 × 5 × 8 × 3 × 3 × 16 = 28,800  (H_in × W_in × C_in × K_h × K_w × C_out)",
       "params: 8 × 16 × 3 × 3 + 16 (bias) = 1,168"]),
     ("convtranspose 3x3 8 s2 g4 nobias",
      ["H, W: 5·2 = 10  (same: pad 0 before, 1 after)",
       "MACs: 5 × 5 × 8 × 3 × 3 × 2 = 3,600  (H_in × W_in × C_in × K_h × K_w × C_out/groups)",
       "params: 8 × 2 × 3 × 3 = 144"]),
     ("convtranspose 1x1 4 s3",
      ["H, W: 5·3 = 15  (same: pad 0 before, 0 after, output padding 2)",
       "MACs: 5 × 5 × 8 × 1 × 1 × 4 = 800  (H_in × W_in × C_in × K_h × K_w × C_out)",
       "params: 8 × 4 × 1 × 1 + 4 (bias) = 36"]),
     ("convtranspose 3x2 4 s1x2 padding=0,2,1,0 op0x1 d2",
      ["H: (5 − 1)·1 − 0 − 2 + 2·(3 − 1) + 0 + 1 = 7",
       "W: (5 − 1)·2 − 1 − 0 + 2·(2 − 1) + 1 + 1 = 11",
       "MACs: 5 × 5 × 8 × 3 × 2 × 4 = 4,800  (H_in × W_in × C_in × K_h × K_w × C_out)",
       "params: 8 × 4 × 3 × 2 + 4 (bias) = 196"])],
)  # fmt: skip
def test_explain_writes_the_input_side_arithmetic(
    torch_present: None, layer: str, lines: list[str]
) -> None:
    from tests.torch_bridge import check_layer

    (row,) = analyze_spec(f"5x5x8 | {layer}")[1].layers
    assert explain_layer(row) == lines
    check_layer(row)  # the figures are PyTorch's: shape, parameters, flop_counter's MACs


def test_json_reports_the_padding_taken_off_the_output(runner: CliRunner) -> None:
    import json

    result = runner.invoke(app, ["analyze", "5x5x8 | convtranspose 3x3 4 s2", "-f", "json"])
    (layer,) = json.loads(result.stdout)["layers"]
    assert (layer["config"], layer["padding"]) == (
        "3x3 s2 same", {"top": 0, "bottom": 1, "left": 0, "right": 1},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "message"),
    [("5x5x8 | convtranspose 3x3 4 s2 op1",
      "output_padding 1 goes with explicit padding: same already makes the output H·s × W·s; "
      "drop output_padding, or give padding (e.g. padding: 1)"),
     ("5x5x8 | convtranspose 3x3 4 s2 p1 op2",
      "output_padding 2 must be below the stride 2 or the dilation 1 on each axis, as PyTorch "
      "requires; here at most 1"),
     ("5x5x8 | convtranspose 3x3 4 s2x1 p1 op2x1 d1x2",
      "output_padding 2x1 must be below the stride 2x1 or the dilation 1x2 on each axis, as "
      "PyTorch requires; here at most 1"),
     ("5x5x8 | convtranspose 3x3 4 s1x2 p1 op1",
      "output_padding 1 must be below the stride 1x2 or the dilation 1 on each axis, as PyTorch "
      "requires; here at most 0x1"),
     ("1x2x8 | convtranspose 1x1 4 padding=1,0",
      "padding p1,0 leaves no output: before it is taken off, the 1x2 input gives 1x2, and it "
      "takes 2x0 of that; pad less in total on each axis"),
     ("5x5x6 | convtranspose 3x3 4 g4",
      "groups 4 does not divide the 6 input channels; use a divisor of 6"),
     ("5x5x8 | convtranspose 3x3 6 g4",
      "groups 4 does not divide the 6 filters; use a multiple of 4 filters"),
     ("5x5x8 | convtranspose 3x3",
      "convtranspose needs filters, the number of output channels (e.g. filters: 32)"),
     ("5x5x8 | flatten | convtranspose 3x3 4",
      "convtranspose needs a spatial H×W×C input, but its input is a flat vector of 200; move "
      "it before the flatten/dense layer")],
)  # fmt: skip
def test_impossible_settings_are_refused_in_one_line(
    runner: CliRunner, tmp_path: Path, spec: str, message: str
) -> None:
    shape, *layers = (part.strip() for part in spec.split("|"))
    path = tmp_path / "net.yaml"
    path.write_text(f"input: {shape}\nlayers:\n" + "".join(f"  - {each}\n" for each in layers),
                    encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["analyze", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.rstrip("\n").endswith(f"): {message}"), result.stderr


def test_a_negative_output_padding_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "5x5x8 | convtranspose 3x3 4 p1 output_padding=-1"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "<spec>:1:47: convtranspose output_padding: must be at least 0, got -1\n"
    )


def test_conv_has_no_output_padding(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "5x5x8 | conv 3x3 4 op1"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "<spec>:1:20: conv has no setting 'output_padding'; did you mean 'padding'?"
    )
