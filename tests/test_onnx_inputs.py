"""ONNX in: ReduceMean and ReduceMax over height and width (global pools, as exporters write
``x.mean((2, 3))``), and ``--input-shape`` for a model's symbolic sizes (and for any spec)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from tests.test_onnx import analysed, inferred, ints, node, rows, save, weights


@pytest.fixture
def onnx() -> Any:
    return pytest.importorskip("onnx", reason="onnx is not installed: pip install -e '.[test]'")


@pytest.mark.parametrize(("op", "kind"), [("ReduceMean", "globalavgpool"),
                                          ("ReduceMax", "globalmaxpool")])  # fmt: skip
@pytest.mark.parametrize("opset", [13, 17, 18])
@pytest.mark.parametrize(("axes", "keep"), [([2, 3], 1), ([-2, -1], 0)])
def test_reductions_over_height_and_width(
    onnx: Any, tmp_path: Path, op: str, kind: str, opset: int, axes: list[int], keep: int
) -> None:
    path = tmp_path / "m.onnx"
    if opset >= 18:  # the axes became an input
        reduce = node(onnx, op, ["c", "axes"], ["y"], "/pool/R", keepdims=keep)
        inits = [weights(onnx, "W", [8, 4, 3, 3]), ints(onnx, "axes", axes)]
    else:
        reduce = node(onnx, op, ["c"], ["y"], "/pool/R", axes=axes, keepdims=keep)
        inits = [weights(onnx, "W", [8, 4, 3, 3])]
    model = save(onnx, path, [node(onnx, "Conv", ["x", "W"], ["c"], "/c/Conv"), reduce], inits,
                 opset=opset)  # fmt: skip
    expected = [("c", "conv", [3, 3, 8], 9 * 8 * 36, 8 * 36), ("pool", kind, [1, 1, 8], 0, 0)]
    if not keep:
        expected.append(("pool_2", "flatten", [1, 1, 8], 0, 0))
    read = analysed(path)
    assert rows(read) == expected
    assert read.output_shape.flat == (not keep)
    if keep:
        assert inferred(onnx, model) == [1, 1, 8]


def symbolic(onnx: Any, path: Path, dims: tuple[int | str, ...] = ("N", 4, "H", "W")) -> None:
    save(onnx, path, [node(onnx, "Conv", ["x", "W"], ["c"], "/c/Conv", pads=[1, 1, 1, 1]),
                      node(onnx, "GlobalAveragePool", ["c"], ["y"], "/gap/G")],
         [weights(onnx, "W", [8, 4, 3, 3])], dims)  # fmt: skip


@pytest.mark.parametrize("size", [(32, 32), (17, 9)])
def test_input_shape_sets_symbolic_sizes(
    runner: CliRunner, onnx: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    path = tmp_path / "m.onnx"
    symbolic(onnx, path)
    h, w = size
    result = runner.invoke(
        app, ["analyze", str(path), "--input-shape", f"{h}x{w}x4", "--batch", "3", "-f", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    conv = result.stdout.splitlines()[1].split(",")
    macs = 3 * h * w * 8 * 36
    assert conv[:8] == ["c", "conv", "3x3 s1 p1", f"{h}x{w}x4", f"{h}x{w}x8", str(macs),
                        str(2 * macs), str(8 * 36)]  # fmt: skip
    assert convcost.analyze(str(path), input_shape=[h, w, 4]).macs == h * w * 8 * 36


@pytest.mark.parametrize(
    ("dims", "asked", "given"),
    [(("N", 4, "H", "W"), "32x32x3", "['N', '3', '32', '32']"),
     (("N", 4, 16, 16), "32x32x4", "['N', '4', '32', '32']"),
     ((1, 4, 16, "W"), "15x16x4", "['1', '4', '15', '16']"),
     # The option the user gave is the one named.
     (("N", 4, 16, 16), "--resolution 32", "['N', '4', '32', '32']")],
)  # fmt: skip
def test_input_shape_must_agree_with_fixed_sizes(
    runner: CliRunner, onnx: Any, tmp_path: Path, dims: tuple[int | str, ...], asked: str,
    given: str,
) -> None:  # fmt: skip
    path = tmp_path / "m.onnx"
    symbolic(onnx, path, dims)
    option = asked.split() if asked.startswith("--") else ["--input-shape", asked]
    result = runner.invoke(app, ["analyze", str(path), *option])
    assert (result.exit_code, result.stdout) == (2, "")
    shown = [str(d) for d in dims]
    assert result.stderr == (
        f"convcost: {path}: input 'x' has the dimensions {shown}, and {' '.join(option)} "
        f"gives {given}: it sets symbolic dimensions, and must agree with fixed ones\n"
    )


def test_input_shape_of_a_fixed_model_that_agrees(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    symbolic(onnx, path, (1, 4, 16, 16))
    assert convcost.analyze(str(path), input_shape="16x16x4").macs == 256 * 8 * 36


@pytest.mark.parametrize("command", ["analyze", "check", "diff", "export"])
def test_input_shape_of_any_spec(runner: CliRunner, tmp_path: Path, command: str) -> None:
    """A config, a built-in model or an inline spec analysed at another input."""
    at = ["--input-shape", "160x160x3"]
    if command == "analyze":
        result = runner.invoke(app, ["analyze", "resnet18", *at, "-f", "csv"])
        total = result.stdout.splitlines()[-1].split(",")
        assert total[3:6] == ["160x160x3", "1000", str(convcost.analyze(
            "resnet18", input_shape=(160, 160, 3)).macs)]  # fmt: skip
        inline = convcost.analyze("224x224x3 | conv 3x3 8", input_shape="160x160x3")
        assert inline.macs == 160 * 160 * 8 * 27
    elif command == "check":
        result = runner.invoke(app, ["check", "224x224x3 | conv 3x3 8", *at,
                                     "--max-macs", str(160 * 160 * 8 * 27)])  # fmt: skip
        assert result.exit_code == 0
        result = runner.invoke(app, ["check", "224x224x3 | conv 3x3 8", *at,
                                     "--max-macs", str(160 * 160 * 8 * 27 - 1)])  # fmt: skip
        assert result.exit_code == 1
    elif command == "diff":
        result = runner.invoke(app, ["diff", "32x32x3 | conv 3x3 8", "64x64x3 | conv 3x3 8", *at,
                                     "-f", "json"])  # fmt: skip
        assert result.exit_code == 0
        same = convcost.diff(
            "32x32x3 | conv 3x3 8", "64x64x3 | conv 3x3 8", input_shape="160x160x3"
        )
        assert same.to_dict()["totals"]["macs"]["delta"] == 0
    else:
        pytest.importorskip("onnx", reason="onnx is not installed: pip install -e '.[test]'")
        out = tmp_path / "r.onnx"
        result = runner.invoke(app, ["export", "resnet18", *at, "-o", str(out)])
        assert result.exit_code == 0
        assert analysed(out).input_shape.as_list() == [160, 160, 3]


def test_bad_input_shape(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "resnet18", "--input-shape", "160x160"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "convcost: --input-shape: input shape '160x160' is not HxWxC; write it like 28x28x192 "
        "(height x width x channels)\n"
    )


def test_a_bias_added_after_a_transposed_conv_is_its_bias(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [
        node(onnx, "ConvTranspose", ["x", "W"], ["c"], "/up/ConvTranspose", strides=[2, 2]),
        node(onnx, "Add", ["c", "b"], ["y"], "/up/Add"),
    ], [weights(onnx, "W", [4, 6, 2, 2]), weights(onnx, "b", [1, 6, 1, 1])])  # fmt: skip
    assert [(r.name, r.kind, r.output_shape.as_list(), r.macs, r.params)
            for r in analysed(path).layers] == [
        ("up", "convtranspose", [10, 10, 6], 25 * 4 * 4 * 6, 4 * 6 * 4 + 6),
    ]  # fmt: skip
