"""Width and resolution multipliers: the MobileNet papers' tables reproduced, the rounding
rule against torchvision's, every zoo model scaled and checked against PyTorch, and bad
options refused."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.core.multipliers import Width
from convcost.frontends import zoo

# Howard et al. 2017, "MobileNets", arXiv:1704.04861, Table 6 (width multiplier at 224) and
# Table 7 (resolution at width 1.0): million mult-adds and million parameters, as published.
TABLE_6 = {"1": (569, 4.2), "0.75": (325, 2.6), "0.5": (149, 1.3), "0.25": (41, 0.5)}
TABLE_7 = {224: 569, 192: 418, 160: 290, 128: 186}
# convcost's exact figures for the built-in mobilenet_v1 (BatchNorm's γ and β in params).
EXACT_6 = {
    "1": (568_740_352, 4_231_976),
    "0.75": (325_400_448, 2_585_560),
    "0.5": (149_497_088, 1_331_592),
    "0.25": (41_030_272, 470_072),
}
EXACT_7 = {224: 568_740_352, 192: 418_121_728, 160: 290_675_200, 128: 186_400_768}


@pytest.mark.parametrize("alpha", sorted(TABLE_6))
def test_mobilenet_v1_table_6(alpha: str) -> None:
    report = convcost.analyze("mobilenet_v1", width_multiplier=alpha)
    assert (report.macs, report.params) == EXACT_6[alpha]
    macs, params = TABLE_6[alpha]
    assert round(report.macs / 1e6) == macs
    assert round(report.params / 1e6, 1) == params
    # BatchNorm's γ and β (as many as its running statistics) change no published figure.
    assert round((report.params - report.analysis.totals.buffers) / 1e6, 1) == params


@pytest.mark.parametrize("resolution", sorted(TABLE_7))
def test_mobilenet_v1_table_7(resolution: int) -> None:
    report = convcost.analyze("mobilenet_v1", resolution=resolution)
    assert (report.macs, report.params) == (EXACT_7[resolution], EXACT_6["1"][1])
    # Table 7 is Table 6's 569 scaled by ρ² (the classifier's 1,024,000 does not shrink with
    # the input): at 160 that is 290.3, while the count is 290,675,200, which rounds to 291.
    assert round(569 * (resolution / 224) ** 2) == TABLE_7[resolution]
    expected = 291 if resolution == 160 else TABLE_7[resolution]
    assert round(report.macs / 1e6) == expected


# TF-Slim's MobileNetV2 checkpoints table (tensorflow/models, research/slim/nets/mobilenet/
# README.md, "Mobilenet V2 Imagenet Checkpoints"): depth multipliers at 224, million MACs and
# million parameters. Those parameters leave BatchNorm out. The rows below 1.0 keep the last
# conv at 1280 (the paper, section 6.1), which convcost's general rule scales: not listed.
SLIM_V2 = {"1.4": (582, 6.06), "1.3": (509, 5.34), "1.0": (300, 3.47)}
EXACT_V2 = {
    "1.4": (582_195_824, 6_108_776),
    "1.3": (509_374_560, 5_386_792),
    "1.0": (300_774_272, 3_504_872),  # torchvision documents 3,504,872 params
}


@pytest.mark.parametrize("alpha", sorted(SLIM_V2))
def test_mobilenet_v2_width_table(alpha: str) -> None:
    report = convcost.analyze("mobilenet_v2", width_multiplier=alpha, divisor=8)
    assert (report.macs, report.params) == EXACT_V2[alpha]
    macs, params = SLIM_V2[alpha]
    assert round((report.params - report.analysis.totals.buffers) / 1e6, 2) == params
    # The table's 300 for 1.0 is 300.77 cut, not rounded (582.20 and 509.37 are either).
    assert int(report.macs / 1e6) == macs


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(("alpha", "kept"), [(1.4, True), (1.3, True), (0.5, False),
                                             (0.75, False), (0.35, False)])  # fmt: skip
def test_mobilenet_v2_is_torchvisions_at_every_width(alpha: float, kept: bool) -> None:
    """torchvision's construction at width α (tests/torchvision_nets.py): equal where
    torchvision scales the last conv (α ≥ 1); below 1 torchvision keeps it at 1280, so it is
    built with the last conv scaled as convcost's rule scales it."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tests.torchvision_nets import make_divisible, mobilenet_v2

    model = mobilenet_v2(alpha, None if kept else make_divisible(1280 * alpha, 8))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 224, 224))
    report = convcost.analyze("mobilenet_v2", width_multiplier=alpha, divisor=8)
    assert report.params == sum(p.numel() for p in model.parameters())
    assert 2 * report.macs == counter.get_total_flops()


@pytest.mark.parametrize("divisor", [1, 2, 4, 8, 16])
@pytest.mark.parametrize("alpha", ["0.1", "0.25", "0.35", "0.5", "0.75", "1", "1.3", "1.4", "2"])
def test_rounding_is_torchvisions_make_divisible(alpha: str, divisor: int) -> None:
    from tests.torchvision_nets import make_divisible

    width = Width(Fraction(alpha), divisor)
    for count in range(1, 1300):
        exact = float(count * Fraction(alpha))  # torchvision multiplies in floats
        assert width.channels(count) == make_divisible(exact, divisor), count


def test_the_product_is_exact() -> None:
    """90 × 0.35 is 31.5, which rounds up; in floats it is 31.499999999999996, which
    torchvision's rounding takes down."""
    from tests.torchvision_nets import make_divisible

    assert (Width(Fraction("0.35")).channels(90), make_divisible(90 * 0.35, 1)) == (32, 31)


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize("name", zoo.model_names())
def test_every_zoo_model_at_half_width_matches_pytorch(name: str) -> None:
    from tests.torch_bridge import check_network_against_torch

    whole = convcost.analyze(name)
    report = convcost.analyze(name, width_multiplier=0.5)
    check_network_against_torch(None, report.analysis)
    # The classes (the network's output) keep their count; everything else that was
    # scaled is narrower.
    assert report.output_shape == whole.output_shape
    assert report.macs < whole.macs and report.params < whole.params


@pytest.mark.parametrize(
    ("scaling", "said"),
    [({"resolution": 8}, "resolution 8"),
     ({"resolution": 8, "width_multiplier": "1/2"}, "width multiplier 0.5, resolution 8")],
)  # fmt: skip
def test_a_fault_met_at_a_resolution_says_so(scaling: dict[str, str | int], said: str) -> None:
    with pytest.raises(convcost.ConvcostError) as caught:
        convcost.analyze("vgg16", **scaling)  # type: ignore[arg-type]
    assert caught.value.message == (
        f"at {said}: layer 'maxpool4' (maxpool on 1×1×512): kernel 2x2 does not fit the 1x1 "
        "input with valid padding; the smallest input it fits is 2x2 (or pad more, e.g. "
        "padding: same)"
    )


def test_a_group_count_that_stops_dividing_is_refused() -> None:
    with pytest.raises(convcost.ConvcostError) as caught:
        convcost.analyze("regnet_y_400mf", width_multiplier=0.5, divisor=8)
    assert caught.value.message == (
        "at width multiplier 0.5, divisor 8: layer 'trunk_output.block2.block2-0.f.b.0' (conv "
        "on 56×56×56): its 13 groups do not divide its 56 input channels; a grouped "
        "convolution keeps its group count when the width scales: choose a multiplier (or "
        "divisor) that keeps them dividing"
    )


def test_the_head_keeps_its_classes_and_depthwise_convs_follow() -> None:
    spec = "32x32x3 | conv 3x3 16 | conv 3x3 dw | conv 3x3 g4 16 | conv 1x1 10"
    report = convcost.analyze(spec, width_multiplier=0.5).analysis
    assert [(r.name, r.output_shape.c) for r in report.layers] == [
        ("conv1", 8), ("conv2", 8), ("conv3", 8), ("conv4", 10),
    ]  # fmt: skip
    widths = [(r.config, r.params) for r in report.layers[1:3]]
    assert widths == [("3x3 s1 same dw", 8 * 9 + 8), ("3x3 s1 same g4", 9 * 2 * 8 + 8)]


@pytest.mark.parametrize(
    ("spec", "widths"),
    [
        ("8x8x3 | conv 1x1 64 | conv 1x1 ${in.c // 2} | fc 10", [16, 8, 10]),
        # Only a width that reads the input follows it: a literal width scales whatever
        # else reads the input (here the stride, 2).
        ("32x32x3 | conv 3x3 64 | conv 3x3 128 s${in.h // 16} | gap | fc 10", [16, 32, 32, 10]),
        ("8x8x3 | conv ${in.c}x${in.c} 64 | conv 1x1 ${in.c * 2} | gap | fc 40", [16, 32, 32, 40]),
        ("8x8x3 | flatten | dense ${in.c // 12} | dense 64 | dense 10", [192, 16, 16, 10]),
    ],
)  # fmt: skip
def test_an_expression_of_the_input_follows_it(spec: str, widths: list[int]) -> None:
    report = convcost.analyze(spec, width_multiplier=0.25).analysis
    assert [r.output_shape.c for r in report.layers] == widths


TAKES = "takes a number above 0, such as 0.75, 0.5 or 3/4"
OUT_OF_RANGE = "is out of range; multipliers from 2**-40 to 2**40 are accepted"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--width-multiplier", "0"],
         "convcost: --width-multiplier 0: must be above 0, such as 0.75 or 0.5; got 0"),
        (["--width-multiplier", "-0.5"],
         "convcost: --width-multiplier -0.5: must be above 0, such as 0.75 or 0.5; got -0.5"),
        (["--width-multiplier", "half"], f"convcost: --width-multiplier half: {TAKES}; got "
         "'half'"),
        (["--width-multiplier", "inf"], f"convcost: --width-multiplier inf: {TAKES}; got 'inf'"),
        (["--width-multiplier", ""], f"convcost: --width-multiplier : {TAKES}; got nothing"),
        (["--width-multiplier", "1_0"], f"convcost: --width-multiplier 1_0: {TAKES}; got '1_0'"),
        (["--width-multiplier", "\u0663"],
         f"convcost: --width-multiplier \u0663: {TAKES}; got '\u0663'"),
        (["--width-multiplier", "2199023255553"], "convcost: --width-multiplier 2199023255553: "
         f"2199023255553 {OUT_OF_RANGE}"),
        # Refused before the number is made: 10**100000000 alone would take minutes.
        (["--width-multiplier", "1e100000000"], "convcost: --width-multiplier 1e100000000: "
         f"1e100000000 {OUT_OF_RANGE}"),
        (["--width-multiplier", "1e-5000"],
         f"convcost: --width-multiplier 1e-5000: 1e-5000 {OUT_OF_RANGE}"),
        (["--width-multiplier", "1e-13"],
         f"convcost: --width-multiplier 1e-13: 1e-13 {OUT_OF_RANGE}"),
        (["--width-multiplier", "0." + "0" * 40 + "1"], f"convcost: --width-multiplier "
         f"0.{'0' * 40}1: {TAKES}, in at most 40 characters; got 43 characters"),
        (["--divisor", "0"], "convcost: --divisor 0: must be positive, got 0"),
        (["--divisor", "x"], "convcost: --divisor x: expected an integer, got 'x'"),
        (["--resolution", "0"], "convcost: --resolution 0: must be positive, got 0"),
        (["--resolution", "2199023255553"], "convcost: --resolution 2199023255553: "
         "2199023255553 is too large; sizes above 2**40 are refused"),
        (["--resolution", "160", "--input-shape", "160x160x3"], "convcost {command}: "
         "--resolution 160 and --input-shape 160x160x3 both give the input's size; give one"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["analyze", "check", "diff", "export", "advise"])
def test_bad_options_exit_2_with_one_line(command: str, args: list[str], message: str) -> None:
    specs = ["mobilenet_v1", "mobilenet_v1"] if command == "diff" else ["mobilenet_v1"]
    extra = ["-o", "-"] if command == "export" else []
    assert run(command, *specs, *extra, *args) == (2, "", message.format(command=command) + "\n")


# MobileNet v1 at width 0.25 and 128×128: Table 6's narrowest by Table 7's smallest.
QUARTER_AT_128 = 13_570_048


@pytest.mark.parametrize("command", ["analyze", "check", "diff", "advise"])
def test_the_options_reach_every_command(command: str) -> None:
    import json

    specs = ["mobilenet_v1", "mobilenet_v1"] if command == "diff" else ["mobilenet_v1"]
    budget = ["--max-macs", "20M"] if command == "check" else []
    code, out, _ = run(command, *specs, "--width-multiplier", "0.25", "--resolution", "128",
                       *budget, "-f", "json")  # fmt: skip
    data = json.loads(out)
    found = {
        "analyze": lambda: data["totals"]["macs"],
        "check": lambda: data["configs"][0]["budgets"][0]["actual"],
        "diff": lambda: data["totals"]["macs"]["new"],
        "advise": lambda: data["total"],
    }[command]()
    # The output records what it was computed at; unscaled, it records nothing.
    scaling = {"width_multiplier": "0.25", "divisor": 1, "resolution": 128}
    assert (code, found, data["scaling"]) == (0, QUARTER_AT_128, scaling)
    budget = ["--max-macs", "2G"] if command == "check" else []
    assert "scaling" not in json.loads(run(command, *specs, *budget, "-f", "json")[1])


@pytest.mark.parametrize(
    ("given", "exact", "title"),
    [("0.75", Fraction(3, 4), "0.75"), ("3/4", Fraction(3, 4), "0.75"),
     ("75e-2", Fraction(3, 4), "0.75"), (".5", Fraction(1, 2), "0.5"),
     ("1/3", Fraction(1, 3), "1/3"), ("1e-12", Fraction(1, 10**12), "0.000000000001"),
     # Every digit kept, as a decimal (a float would hold 17 of them).
     ("0.123456789012345678901234567890", Fraction(12345678901234567890123456789, 10**29),
      "0.12345678901234567890123456789"),
     (0.1, Fraction(1, 10), "0.1"), (Fraction(2, 3), Fraction(2, 3), "2/3"), (2, 2, "2")],
)  # fmt: skip
def test_multipliers_are_read_exactly(given: object, exact: Fraction, title: str) -> None:
    from convcost.core.multipliers import parse_multiplier

    assert (parse_multiplier(given), str(Width(parse_multiplier(given)))) == (
        exact, f"width multiplier {title}",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "message"),
    [("1e100000000", f"1e100000000 {OUT_OF_RANGE}"), (10**1000, f"{TAKES}, in at most 40 digits"),
     (Fraction(1, 10**1000), f"{TAKES}, in at most 40 digits"), (2**41, f"{2**41} {OUT_OF_RANGE}"),
     (float("nan"), f"{TAKES}; got 'nan'"), ("", f"{TAKES}; got nothing")],
)  # fmt: skip
def test_the_api_refuses_a_multiplier_at_once(given: float | Fraction | str, message: str) -> None:
    with pytest.raises(convcost.ConvcostError) as caught:
        convcost.analyze("mobilenet_v1", width_multiplier=given)
    assert caught.value.message == f"width_multiplier: {message}"


TAP = """input: 32x32x3
layers:
  - conv 3x3 64 name=c1
  - relu name=tap
  - {type: conv, kernel: 3, filters: 128, from: c1, name: c2}
  - gap name=pool
  - fc 10 name=cls
"""
TWO_HEADS = """input: 32x32x3
layers:
  - conv 3x3 64 name=c1
  - conv 3x3 128 name=c2
  - gap name=pool
  - fc 10 name=cls
  - {type: dense, units: 4, from: pool, name: box}
"""
# ResNet-18's stages returned as features (C2 to C5), no classifier.
BACKBONE_TAPS = """
  - {type: identity, from: layer1, name: c2}
  - {type: identity, from: layer2, name: c3}
  - {type: identity, from: layer3, name: c4}
"""


def _backbone() -> str:
    text = zoo.model_text("resnet18")
    return text[: text.index("  - gap name=avgpool")] + BACKBONE_TAPS.lstrip("\n")


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(
    ("spec", "widths"),
    [
        # A trunk layer that also feeds a tap (an output) scales: it is no head.
        (TAP, {"c1": 32, "tap": 32, "c2": 64, "cls": 10}),
        (TWO_HEADS, {"c1": 32, "c2": 64, "cls": 10, "box": 4}),
        ("16x16x3 | conv 3x3 64 | conv 3x3 12 | pixelshuffle 2",
         {"conv1": 32, "conv2": 12, "pixelshuffle1": 3}),
        # Every stage scales: the last block's conv, a head by the path rule, is tied to
        # the residual stream by its add.
        (None, {"c2": 32, "c3": 64, "c4": 128, "layer4.1.conv2": 256,
                "layer4.0.downsample.0": 256}),
    ],
    ids=["tap", "two heads", "pixel shuffle", "backbone"],
)  # fmt: skip
def test_only_true_heads_keep_their_width(
    spec: str | None, widths: dict[str, int], tmp_path: Path
) -> None:
    from tests.torch_bridge import check_network_against_torch

    path = tmp_path / "net.yaml"
    path.write_text(_backbone() if spec is None else spec)
    report = convcost.analyze(str(path) if "|" not in str(spec) else str(spec),
                              width_multiplier=0.5).analysis  # fmt: skip
    found = {r.name: r.output_shape.c for r in report.layers if r.name in widths}
    assert found == widths
    check_network_against_torch(None, report)


# MobileNet v1's widths (Howard et al. 2017, Table 1), and TF-Slim's rule for them
# (tensorflow/models, research/slim/nets/mobilenet_v1.py, mobilenet_v1_base:
# depth = lambda d: max(int(d * depth_multiplier), min_depth), min_depth=8): truncation.
V1_WIDTHS = (32, 64, 128, 256, 512, 1024)


def slim_depth(count: int, alpha: Fraction) -> int:
    return max(int(count * alpha), 8)


@pytest.mark.parametrize("alpha", sorted(TABLE_6))
def test_the_papers_widths_round_as_tf_slim_does(alpha: str) -> None:
    width = Width(Fraction(alpha))
    assert [width.channels(c) for c in V1_WIDTHS] == [
        slim_depth(c, Fraction(alpha)) for c in V1_WIDTHS
    ]


def test_other_widths_round_to_the_nearest_not_as_tf_slim() -> None:
    alpha = Fraction("0.3")
    assert (Width(alpha).channels(32), slim_depth(32, alpha)) == (10, 9)


@pytest.mark.usefixtures("torch_present")
def test_a_model_file_scales_each_width_on_its_own(tmp_path: Path) -> None:
    """The config's expansion follows its scaled input (16 × 6 = 96); its ONNX export holds a
    literal 144, which scales to 72: the README's figures, each network checked in PyTorch."""
    from tests.torch_bridge import check_network_against_torch

    pytest.importorskip("onnx", reason="the test extra installs onnx: pip install -e '.[test]'")
    path = tmp_path / "v2.onnx"
    assert run("export", "mobilenet_v2", "-o", str(path))[0] == 0
    found = []
    for spec in ("mobilenet_v2", str(path)):
        report = convcost.analyze(spec, width_multiplier=0.5, divisor=8)
        check_network_against_torch(None, report.analysis)
        found.append((report.macs, report.params))
    assert found == [(91_474_240, 1_225_000), (86_713_792, 1_222_840)]
    assert convcost.analyze(str(path)).macs == convcost.analyze("mobilenet_v2").macs
