"""The model zoo: published figures, and every layer checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.frontends import zoo
from convcost.frontends.tree import analyze

# MACs and params as published for each model (issue #3's table, which agrees with
# torch.utils.flop_counter ÷ 2 and torchvision's parameter counts); nin: convcost's own figures,
# checked against PyTorch layer by layer below.
PUBLISHED = {
    "nin": (1_100_188_800, 7_595_176),
    "inception_3a": (128_049_152, 163_696),
    "inception_4a": (73_608_192, 376_176),
    "googlenet": (1_582_671_872, 6_998_552),
    "alexnet": (714_188_480, 61_100_840),
    "vgg16": (15_470_264_320, 138_357_544),
    "resnet18": (1_814_073_344, 11_689_512),
    "resnet50": (4_089_184_256, 25_557_032),
    "mobilenet_v1": (568_740_352, 4_231_976),
    "mobilenet_v2": (300_774_272, 3_504_872),
    "squeezenet1_0": (818_924_576, 1_248_424),
    # Issue #15: params as torchvision documents them; MACs torch.utils.flop_counter's ÷ 2 on
    # torchvision's definitions written in plain torch (tests/torchvision_nets.py).
    "efficientnet_b0": (385_814_752, 5_288_548),
    "mobilenet_v3_large": (216_589_760, 5_483_032),
    "regnet_y_400mf": (401_842_848, 4_344_144),
    "convnext_tiny": (4_455_531_264, 28_589_128),
    "shufflenet_v2_x1_0": (144_907_992, 2_278_604),
    "unet": (150_428_424_448, 31_030_658),
}


def test_zoo_is_the_published_list() -> None:
    assert zoo.model_names() == sorted(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_totals(name: str) -> None:
    report = analyze(zoo.load_model(name))
    assert (report.totals.macs, report.totals.params) == PUBLISHED[name]


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_layer_matches_pytorch(name: str) -> None:
    from tests.torch_bridge import check_network_against_torch

    network = zoo.load_model(name)
    check_network_against_torch(network, analyze(network))


def test_torchvision_names_and_projection_shortcuts() -> None:
    report = analyze(zoo.load_model("resnet50"))
    names = [r.name for r in report.layers]
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert "layer2.0.conv2" in names
    assert "layer2.0.downsample.0" in names and "layer2.1.downsample.0" not in names
    conv2 = next(r for r in report.layers if r.name == "layer2.0.conv2")
    assert conv2.config == "3x3 s2 p1"  # v1.5: the stride is on the 3×3
    assert sum(1 for r in report.layers if r.kind == "add") == 16


def test_inception_names_follow_caffe() -> None:
    names = [r.name for r in analyze(zoo.load_model("googlenet")).layers]
    for name in ("inception_3a/5x5_reduce", "inception_3a/pool_proj", "inception_5b/3x3"):
        assert name in names


def test_models_command_lists_every_model(runner: CliRunner) -> None:
    result = runner.invoke(app, ["models", "-f", "csv"])
    assert result.exit_code == 0
    rows = [line.split(",")[:4] for line in result.stdout.splitlines()[1:]]
    assert {r[0]: (int(r[2]), int(r[3])) for r in rows} == PUBLISHED


def test_analyze_by_model_name(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "googlenet", "--depth", "1", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].split(",")[5] == "1582671872"
    # Folded to depth 1, the rows add up to the total: every inception is one row.
    assert "inception_3a,inception,,28x28x192,28x28x256,128049152," in result.stdout
    rows = [line.split(",") for line in lines[1:-1]]
    assert sum(int(r[5]) for r in rows) == 1_582_671_872


@pytest.mark.parametrize(
    ("beside", "total"),
    [("directory", "1814073344"), ("file", "3048192")],  # resnet18's MACs; the file's
)
def test_a_file_by_a_models_name_is_read_a_directory_is_not(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: str, total: str
) -> None:
    # A directory can never be a config: it must not hide the built-in model of its name.
    monkeypatch.chdir(tmp_path)
    if beside == "directory":
        (tmp_path / "resnet18").mkdir()
    else:
        (tmp_path / "resnet18").write_text("input: 28x28x3\nlayers: [conv 3x3 144]\n")
    result = runner.invoke(app, ["analyze", "resnet18", "-f", "csv"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-1].split(",")[5] == total
