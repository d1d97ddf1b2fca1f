"""ONNX in: hand-built graphs for each operator (shapes, MACs and params exact, shapes
checked against onnx.shape_inference), every zoo model exported from PyTorch giving the
YAML config's totals, and bad files refused with one line (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcost.analyses.diff import diff
from convcost.cli import app
from convcost.core.report import Report
from convcost.frontends import analyze_spec, zoo

ONNX_ABSENT = "onnx is not installed: pip install -e '.[test]' installs it"
ZOO = zoo.model_names()


@pytest.fixture(scope="session")
def onnx() -> Any:
    """The onnx package, which builds the test models (the reader itself needs nothing)."""
    return pytest.importorskip("onnx", reason=ONNX_ABSENT)


def weights(onnx: Any, name: str, dims: Sequence[int]) -> Any:
    count = 1
    for dim in dims:
        count *= dim
    return onnx.helper.make_tensor(name, onnx.TensorProto.FLOAT, list(dims), bytes(4 * count),
                                   raw=True)  # fmt: skip


def ints(onnx: Any, name: str, values: Sequence[int], dims: Sequence[int] | None = None) -> Any:
    shape = [len(values)] if dims is None else list(dims)
    return onnx.helper.make_tensor(name, onnx.TensorProto.INT64, shape, list(values))


def floats(onnx: Any, name: str, values: Sequence[float], dims: Sequence[int] | None = None) -> Any:
    shape = [len(values)] if dims is None else list(dims)
    return onnx.helper.make_tensor(name, onnx.TensorProto.FLOAT, shape, list(values))


def save(onnx: Any, path: Path, nodes: list[Any], inits: Sequence[Any] = (),
         inp: Sequence[int | str] = (1, 4, 5, 5), opset: int = 17) -> Any:  # fmt: skip
    """The model of these nodes, reading x and ending in y, saved at path."""
    helper = onnx.helper
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(inp))],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        initializer=list(inits),
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, str(path))
    return model


def inferred(onnx: Any, model: Any, name: str = "y") -> list[int]:
    """The output's shape as onnx.shape_inference gives it, as convcost writes shapes."""
    done = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    for info in (*done.graph.output, *done.graph.value_info):
        if info.name == name:
            dims = [d.dim_value for d in info.type.tensor_type.shape.dim]
            return [1, 1, dims[1]] if len(dims) == 2 else [dims[2], dims[3], dims[1]]
    raise AssertionError(f"no shape inferred for {name}")


def analysed(path: Path) -> Report:
    return analyze_spec(str(path))[1]


def rows(report: Report) -> list[tuple[str, str, list[int], int, int]]:
    return [(r.name, r.kind, r.output_shape.as_list(), r.macs, r.params) for r in report.layers]


def node(onnx: Any, op: str, inputs: list[str], outputs: list[str], name: str = "",
         **attrs: Any) -> Any:  # fmt: skip
    return onnx.helper.make_node(op, inputs, outputs, name=name or outputs[0], **attrs)


# --- each operator -----------------------------------------------------------------------


def test_conv_pads_strides_bias(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [
        node(onnx, "Conv", ["x", "W", "B"], ["y"], "/conv1/Conv", pads=[1, 1, 1, 1],
             strides=[2, 2]),
    ], [weights(onnx, "W", [16, 3, 3, 3]), weights(onnx, "B", [16])], (1, 3, 32, 32))  # fmt: skip
    report = analysed(path)
    assert rows(report) == [("conv1", "conv", [16, 16, 16], 16 * 16 * 16 * 27, 16 * 27 + 16)]
    assert inferred(onnx, model) == [16, 16, 16]


@pytest.mark.parametrize(
    ("auto_pad", "size", "out", "padding"),
    [("SAME_UPPER", 8, 4, "same"), ("SAME_LOWER", 8, 4, (1, 0, 1, 0)),
     ("SAME_UPPER", 7, 4, "same"), ("VALID", 8, 3, (0, 0, 0, 0))],
)  # fmt: skip
def test_conv_auto_pad(onnx: Any, tmp_path: Path, auto_pad: str, size: int, out: int,
                       padding: object) -> None:  # fmt: skip
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [
        node(onnx, "Conv", ["x", "W"], ["y"], auto_pad=auto_pad, strides=[2, 2]),
    ], [weights(onnx, "W", [8, 3, 3, 3])], (1, 3, size, size))  # fmt: skip
    report = analysed(path)
    assert rows(report) == [("y", "conv", [out, out, 8], out * out * 8 * 27, 8 * 27)]
    assert report.layers[0].layer.padding == padding  # type: ignore[attr-defined]
    assert inferred(onnx, model) == [out, out, 8]


def test_grouped_dilated_conv(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [
        node(onnx, "Conv", ["x", "W"], ["y"], group=4, dilations=[2, 2], pads=[2, 2, 2, 2],
             kernel_shape=[3, 3]),
    ], [weights(onnx, "W", [16, 2, 3, 3])], (1, 8, 10, 10))  # fmt: skip
    assert rows(analysed(path)) == [("y", "conv", [10, 10, 16], 100 * 16 * 18, 16 * 18)]
    assert inferred(onnx, model) == [10, 10, 16]


# ConvTranspose (input 5×5×4), each read as the convcost layer of these settings: its output
# shape onnx.shape_inference's, its MACs and params nn.ConvTranspose2d's (the torch bridge).
CONVTRANSPOSE = [
    # As PyTorch's exporter writes it: pads, output_padding, a bias.
    ({"pads": [1, 1, 1, 1], "strides": [2, 2], "output_padding": [1, 1]}, [4, 8, 3, 3], True,
     {"kernel": (3, 3), "filters": 8, "stride": (2, 2), "padding": (1, 1, 1, 1),
      "output_padding": (1, 1)}),
    # Grouped and dilated; pads [top, left, bottom, right] uneven.
    ({"group": 2, "dilations": [2, 2], "pads": [0, 1, 2, 0]}, [4, 3, 3, 3], False,
     {"kernel": (3, 3), "filters": 6, "groups": 2, "dilation": (2, 2),
      "padding": (0, 2, 1, 0)}),
    ({"kernel_shape": [2, 3], "strides": [2, 3], "output_padding": [1, 2]}, [4, 4, 2, 3], False,
     {"kernel": (2, 3), "filters": 4, "stride": (2, 3), "padding": (0, 0, 0, 0),
      "output_padding": (1, 2)}),
    # SAME_UPPER is convcost's same: input × strides, the odd pixel after; also where the
    # kernel is shorter than the stride and output_padding makes up the difference.
    ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, [4, 4, 3, 3], True,
     {"kernel": (3, 3), "filters": 4, "stride": (2, 2), "padding": "same"}),
    ({"auto_pad": "SAME_UPPER", "strides": [2, 3], "output_padding": [1, 2]}, [4, 4, 1, 1],
     True, {"kernel": (1, 1), "filters": 4, "stride": (2, 3), "padding": "same"}),
    ({"auto_pad": "SAME_LOWER", "strides": [2, 2]}, [4, 4, 3, 3], True,
     {"kernel": (3, 3), "filters": 4, "stride": (2, 2), "padding": (1, 0, 1, 0)}),
    ({"auto_pad": "VALID", "strides": [2, 2], "output_padding": [1, 1]}, [4, 4, 3, 3], True,
     {"kernel": (3, 3), "filters": 4, "stride": (2, 2), "padding": (0, 0, 0, 0),
      "output_padding": (1, 1)}),
    # output_shape: the padding worked out, its odd pixel before (after for SAME_UPPER).
    ({"strides": [2, 2], "output_shape": [11, 10]}, [4, 4, 3, 3], True,
     {"kernel": (3, 3), "filters": 4, "stride": (2, 2), "padding": (0, 0, 1, 0)}),
    ({"auto_pad": "SAME_UPPER", "strides": [2, 2], "output_shape": [10, 9]}, [4, 4, 3, 3], True,
     {"kernel": (3, 3), "filters": 4, "stride": (2, 2), "padding": (0, 1, 1, 1)}),
]  # fmt: skip


@pytest.mark.parametrize(("attrs", "dims", "bias", "settings"), CONVTRANSPOSE)
def test_convtranspose(
    torch_present: None, onnx: Any, tmp_path: Path, attrs: dict[str, Any], dims: list[int],
    bias: bool, settings: dict[str, Any],
) -> None:  # fmt: skip
    from convcost.core.kinds.conv import ConvTranspose
    from tests.torch_bridge import check_layer

    path = tmp_path / "m.onnx"
    inputs = ["x", "W", "B"] if bias else ["x", "W"]
    inits = [weights(onnx, "W", dims)] + ([weights(onnx, "B", [settings["filters"]])] if bias
                                          else [])  # fmt: skip
    model = save(onnx, path, [node(onnx, "ConvTranspose", inputs, ["y"], "/up/ConvTranspose",
                                   **attrs)], inits)  # fmt: skip
    (row,) = analysed(path).layers
    assert (row.name, row.layer) == ("up", ConvTranspose(bias=bias, **settings))
    assert row.output_shape.as_list() == inferred(onnx, model)
    check_layer(row)


@pytest.mark.parametrize(
    ("attrs", "dims", "message"),
    [({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, [4, 4, 1, 1],
      "auto_pad SAME_UPPER with output_padding [0, 0] makes 10x10 by ONNX's spec and 9x9 by "
      "its shape inference; write explicit pads"),
     ({"strides": [2, 2], "output_shape": [12, 11]}, [4, 4, 3, 3],
      "output_shape [12, 11] is larger than the 11x11 it computes (stride·(input − 1) + "
      "output_padding + dilated kernel); runtimes differ on what fills the rest"),
     ({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [2, 2]}, [4, 4, 3, 3],
      "output_padding 2 must be below the stride 2 or the dilation 1 on each axis, as PyTorch "
      "requires; here at most 1"),
     ({}, [3, 4, 3, 3],
      "weight [3, 4, 3, 3] with group 1 does not take the 4 input channels (it is C_in × "
      "C_out/group × kH × kW)")],
)  # fmt: skip
def test_convtranspose_refusals(
    runner: CliRunner, onnx: Any, tmp_path: Path, attrs: dict[str, Any], dims: list[int],
    message: str,
) -> None:  # fmt: skip
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [node(onnx, "ConvTranspose", ["x", "W"], ["y"], **attrs)],
                 [weights(onnx, "W", dims)])  # fmt: skip
    assert refused(runner, path) == f"convcost: {path}: node 'y' (ConvTranspose): {message}\n"
    if attrs.get("auto_pad") == "SAME_UPPER":  # what the message says: the two disagree
        import numpy as np
        from onnx.reference import ReferenceEvaluator

        assert inferred(onnx, model) == [9, 9, 4]
        feeds = {"x": np.zeros((1, 4, 5, 5), np.float32)}
        (y,) = ReferenceEvaluator(model).run(None, feeds)
        assert np.shape(y) == (1, 4, 10, 10)  # ONNX's reference implementation of the spec


@pytest.mark.parametrize(
    ("op", "attrs", "out"),
    [("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, 4),
     ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2]}, 3),
     ("MaxPool", {"kernel_shape": [2, 2]}, 7),  # ONNX's strides default to 1
     ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                      "count_include_pad": 1}, 4),
     ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "SAME_UPPER"}, 4)],
)  # fmt: skip
def test_pools(onnx: Any, tmp_path: Path, op: str, attrs: dict[str, Any], out: int) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [node(onnx, op, ["x"], ["y"], **attrs)], (), (1, 4, 8, 8))
    assert rows(analysed(path)) == [("y", op.lower().replace("average", "avg"), [out, out, 4],
                                     0, 0)]  # fmt: skip
    assert inferred(onnx, model) == [out, out, 4]


@pytest.mark.parametrize(("op", "kind"), [("GlobalAveragePool", "globalavgpool"),
                                          ("GlobalMaxPool", "globalmaxpool")])  # fmt: skip
def test_global_pools(onnx: Any, tmp_path: Path, op: str, kind: str) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [node(onnx, op, ["x"], ["y"])])
    assert rows(analysed(path)) == [("y", kind, [1, 1, 4], 0, 0)]
    assert inferred(onnx, model) == [1, 1, 4]


def test_batchnorm(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    stats = [weights(onnx, name, [4]) for name in ("s", "b", "m", "v")]
    save(onnx, path, [node(onnx, "BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])], stats)
    report = analysed(path)
    assert rows(report) == [("y", "batchnorm", [5, 5, 4], 0, 8)]
    assert report.layers[0].buffers == 8


@pytest.mark.parametrize(
    ("op", "attrs", "kind"),
    [("Relu", {}, "relu"), ("Sigmoid", {}, "sigmoid"), ("Tanh", {}, "tanh"),
     ("LeakyRelu", {"alpha": 0.1}, "leakyrelu"), ("HardSigmoid", {}, "hardsigmoid"),
     ("HardSwish", {}, "hardswish"), ("Softmax", {"axis": 1}, "softmax"), ("Elu", {}, "elu")],
)  # fmt: skip
def test_activations(onnx: Any, tmp_path: Path, op: str, attrs: dict[str, Any], kind: str) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, op, ["x"], ["y"], **attrs)])
    assert rows(analysed(path)) == [("y", kind, [5, 5, 4], 0, 0)]


@pytest.mark.parametrize(("bounds", "kind"), [((0.0, 6.0), "relu6"), ((0.0, None), "relu")])
def test_clip(onnx: Any, tmp_path: Path, bounds: tuple[float, float | None], kind: str) -> None:
    path = tmp_path / "m.onnx"
    low, high = bounds
    inits = [floats(onnx, "lo", [low], [])]
    if high is not None:
        inits.append(floats(onnx, "hi", [high], []))
    names = ["x", "lo"] + (["hi"] if high is not None else [])
    save(onnx, path, [node(onnx, "Clip", names, ["y"])], inits)
    assert rows(analysed(path)) == [("y", kind, [5, 5, 4], 0, 0)]


def test_residual_add_and_squeeze_excite_mul(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [
        node(onnx, "Conv", ["x", "W", "B"], ["c"], "/block/conv/Conv"),
        node(onnx, "Add", ["x", "c"], ["a"], "/block/Add"),
        node(onnx, "GlobalAveragePool", ["a"], ["g"], "/block/se/pool/GlobalAveragePool"),
        node(onnx, "Sigmoid", ["g"], ["s"], "/block/se/gate/Sigmoid"),
        node(onnx, "Mul", ["a", "s"], ["y"], "/block/Mul"),
    ], [weights(onnx, "W", [4, 4, 1, 1]), weights(onnx, "B", [4])])  # fmt: skip
    assert rows(analysed(path)) == [
        ("block/conv", "conv", [5, 5, 4], 25 * 16, 20),
        ("block/add", "add", [5, 5, 4], 0, 0),
        ("block/se/pool", "globalavgpool", [1, 1, 4], 0, 0),
        ("block/se/gate", "sigmoid", [1, 1, 4], 0, 0),
        ("block/mul", "mul", [5, 5, 4], 0, 0),
    ]
    assert inferred(onnx, model) == [5, 5, 4]


def test_scalar_constant_costs_nothing(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Relu", ["x"], ["r"]), node(onnx, "Mul", ["r", "k"], ["y"])],
         [floats(onnx, "k", [0.5], [])])  # fmt: skip
    assert rows(analysed(path)) == [("r", "relu", [5, 5, 4], 0, 0)]


def test_concat_flatten_gemm(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [
        node(onnx, "Relu", ["x"], ["a"]),
        node(onnx, "Sigmoid", ["x"], ["b"]),
        node(onnx, "Concat", ["a", "b"], ["c"], axis=1),
        node(onnx, "Flatten", ["c"], ["f"]),
        node(onnx, "Gemm", ["f", "W", "B"], ["y"], transB=1),
    ], [weights(onnx, "W", [10, 200]), weights(onnx, "B", [10])])  # fmt: skip
    assert rows(analysed(path)) == [
        ("a", "relu", [5, 5, 4], 0, 0), ("b", "sigmoid", [5, 5, 4], 0, 0),
        ("c", "concat", [5, 5, 8], 0, 0), ("f", "flatten", [1, 1, 200], 0, 0),
        ("y", "dense", [1, 1, 10], 2000, 2010),
    ]  # fmt: skip
    assert inferred(onnx, model) == [1, 1, 10]


def test_matmul_with_a_constant_is_dense(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "MatMul", ["x", "W"], ["y"])], [weights(onnx, "W", [16, 10])],
         (1, 16))  # fmt: skip
    assert rows(analysed(path)) == [("y", "dense", [1, 1, 10], 160, 160)]


def test_shape_chain_reshape_is_a_flatten(onnx: Any, tmp_path: Path) -> None:
    """x.view(x.size(0), -1) as TorchScript exports it, with a symbolic batch."""
    path = tmp_path / "m.onnx"
    save(onnx, path, [
        node(onnx, "GlobalAveragePool", ["x"], ["g"]),
        node(onnx, "Shape", ["g"], ["s"]),
        node(onnx, "Gather", ["s", "zero"], ["n"], axis=0),
        node(onnx, "Unsqueeze", ["n", "axes"], ["nu"]),
        node(onnx, "Concat", ["nu", "minus1"], ["shape"], axis=0),
        node(onnx, "Reshape", ["g", "shape"], ["y"]),
    ], [ints(onnx, "zero", [0], []), ints(onnx, "axes", [0]), ints(onnx, "minus1", [-1])],
       ("N", 4, 5, 5))  # fmt: skip
    assert rows(analysed(path)) == [
        ("g", "globalavgpool", [1, 1, 4], 0, 0),
        ("y", "flatten", [1, 1, 4], 0, 0),
    ]


def test_dropout_identity_lrn_pad_resize(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [
        node(onnx, "Dropout", ["x", "ratio"], ["d"]),
        node(onnx, "Identity", ["d"], ["i"]),
        node(onnx, "LRN", ["i"], ["l"], size=3),
        node(onnx, "Pad", ["l", "pads"], ["p"]),
        node(onnx, "Resize", ["p", "", "scales"], ["y"], mode="nearest"),
    ], [floats(onnx, "ratio", [0.25], []), ints(onnx, "pads", [0, 0, 1, 2, 0, 0, 3, 4]),
        floats(onnx, "scales", [1, 1, 2, 2])])  # fmt: skip
    report = analysed(path)
    assert rows(report) == [
        ("d", "dropout", [5, 5, 4], 0, 0), ("l", "lrn", [5, 5, 4], 0, 0),
        ("p", "pad", [9, 11, 4], 0, 0), ("y", "upsample", [18, 22, 4], 0, 0),
    ]  # fmt: skip
    assert report.layers[0].layer.rate == 0.25  # type: ignore[attr-defined]
    assert report.layers[1].layer.size == 3  # type: ignore[attr-defined]
    assert inferred(onnx, model) == [18, 22, 4]


def test_upsample_of_opset_9(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Upsample", ["x", "scales"], ["y"], mode="linear")],
         [floats(onnx, "scales", [1, 1, 3, 2])], opset=9)  # fmt: skip
    report = analysed(path)
    assert rows(report) == [("y", "upsample", [15, 10, 4], 0, 0)]
    assert report.layers[0].layer.mode == "bilinear"  # type: ignore[attr-defined]


def test_batch_is_the_analysis_batch(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Conv", ["x", "W"], ["y"])], [weights(onnx, "W", [8, 4, 3, 3])],
         ("batch", 4, 5, 5))  # fmt: skip
    report = analyze_spec(str(path), batch=3)[1]
    assert (report.totals.macs, report.totals.params) == (3 * 9 * 8 * 36, 8 * 36 + 8 * 0)


# --- bad files: one line, exit 2 ---------------------------------------------------------


def refused(runner: CliRunner, path: Path) -> str:
    result = runner.invoke(app, ["analyze", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_truncated_file(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Conv", ["x", "W"], ["y"])], [weights(onnx, "W", [8, 4, 3, 3])])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert refused(runner, path) == (
        f"convcost: {path}: not an ONNX model: a field runs past the end of its message "
        "(truncated?)\n"
    )


FOREIGN = "its first bytes are no field of an ONNX model (another kind of file?)"
TRUNCATED = "a field runs past the end of its message (truncated?)"


@pytest.mark.parametrize(
    ("data", "why"),
    [(b"", "it has no graph"), (b"\x89PNG\r\n\x1a\n", FOREIGN), (b"conv 3x3 16\n", FOREIGN),
     (b"\xff" * 20, "a number longer than 10 bytes"), (b"\x08\x07:\x05", TRUNCATED),
     (b"\x08\x07\x1f", "wire type 7, which ONNX does not use")],
)  # fmt: skip
def test_garbage(runner: CliRunner, tmp_path: Path, data: bytes, why: str) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    assert refused(runner, path) == f"convcost: {path}: not an ONNX model: {why}\n"


def test_missing_initializer(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Relu", ["x"], ["r"]), node(onnx, "Conv", ["r", "W"], ["y"])])
    assert refused(runner, path) == (
        f"convcost: {path}: node 'y' (Conv): its weight 'W' is no initializer or constant in "
        "the file (missing initializer)\n"
    )


def test_unknown_opset(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Relu", ["x"], ["y"])], opset=99)
    assert refused(runner, path) == (
        f"convcost: {path}: opset 99, which convcost does not read; it reads opsets 7 to 23\n"
    )


def test_symbolic_sizes_are_refused(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Relu", ["x"], ["y"])], inp=("N", 4, "H", "W"))
    assert refused(runner, path) == (
        f"convcost: {path}: input 'x' has the symbolic or unknown dimensions ['N', '4', 'H', "
        "'W']; the batch (the first) takes --batch, the others need --input-shape HxWxC "
        "(convcost's order, e.g. 224x224x3)\n"
    )


def test_reading_does_not_import_onnx(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Conv", ["x", "W"], ["y"])], [weights(onnx, "W", [8, 4, 3, 3])])
    code = (
        "import sys; from convcost.frontends import analyze_spec; "
        f"r = analyze_spec({str(path)!r})[1]; "
        "print(r.totals.macs, 'onnx' in sys.modules, 'google.protobuf' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(9 * 8 * 36), "False", "False"]


# --- the zoo, exported from PyTorch with BatchNorm kept ----------------------------------

# The exporter's own notes: its TorchScript path is deprecated, what it cannot fold, and
# that it keeps the answer of LocalResponseNorm's test of the input (`if input.numel() == 0`).
EXPORTER_NOTES = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning",
    "ignore:It is recommended that const",
    "ignore:Constant folding",
    "ignore:Converting a tensor to a Python boolean",
)

# Layers that PyTorch's exporter writes as the AveragePool their sizes give (AdaptiveAvgPool2d
# of a 6×6 or 7×7 input to its own size: a 1×1 window): the file does not say "adaptive".
ADAPTIVE_POOLS = {"alexnet": ["avgpool"], "vgg16": ["adaptiveavgpool1"]}

# Zoo models whose PyTorch export convcost cannot read back yet, and why (the first two
# tested below: refused, not misread).
NOT_READ_BACK = {
    "convnext_tiny": "its layer scales multiply by a per-channel weight (with the weights "
    "left out, a graph input taken for a second input), and its LayerNorms lie between "
    "Transposes: neither is read yet",
    "unet": "its crops are Slices of activations, which are not read yet",
    "shufflenet_v2_x1_0": "PyTorch's TorchScript exporter cannot write nn.ChannelShuffle "
    "(aten::channel_shuffle has no symbolic at opset 17)",
}
READ_BACK = tuple(model for model in ZOO if model not in NOT_READ_BACK)


def export(
    report: Report, path: Path, export_params: bool = False, keep_batchnorm: bool = True
) -> None:
    """The torch bridge's module of a convcost graph (each layer a module named as convcost
    names it, in modules for its groups), exported by TorchScript at opset 17. In eval mode
    with TrainingMode.PRESERVE the exporter keeps BatchNormalization (EVAL, its default,
    folds it into the conv before it); Dropout modules are left in training mode, as in
    eval mode the exporter leaves them out. Without export_params the weights are graph
    inputs of their shape, and the file a few kB."""
    import torch

    from tests.torch_bridge import GraphModule

    class Last(GraphModule):
        def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            return super().forward(x)[-1]

    module = Last(report).eval()
    for each in module.modules():
        if isinstance(each, torch.nn.Dropout):
            each.train()
    s = report.input_shape
    modes = torch.onnx.TrainingMode
    mode = modes.PRESERVE if keep_batchnorm else modes.EVAL
    torch.onnx.export(
        module, (torch.zeros(1, s.c, s.h, s.w),), str(path), dynamo=False, opset_version=17,
        training=mode,
        export_params=export_params, input_names=["x"], dynamic_axes={"x": {0: "batch"}},
    )  # fmt: skip


@pytest.fixture(scope="module")
def exported(torch_present: None, onnx: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each zoo model exported once (BatchNorm kept, no weights): its path."""
    paths: dict[str, Path] = {}

    def path_of(model: str) -> Path:
        if model not in paths:
            path = tmp_path_factory.mktemp("zoo") / f"{model}.onnx"
            export(analyze_spec(model)[1], path)
            paths[model] = path
        return paths[model]

    return path_of


@EXPORTER_NOTES
@pytest.mark.parametrize("model", READ_BACK)
def test_zoo_exports_read_back_as_the_configs(runner: CliRunner, exported: Any, model: str) -> None:
    """Every zoo model exported from PyTorch reads back with the config's layers: the same
    names (levels joined by '/'), kinds, settings, shapes, MACs, params and buffers, as
    `convcost diff` finds (it matches layer1.0.conv1 to layer1/0/conv1)."""
    path = exported(model)
    read = analyze_spec(str(path), batch=2)[1]
    _, config = analyze_spec(model, batch=2)
    assert config.graph is not None
    assert [r.name for r in read.layers] == [
        r.name.replace(config.graph.separator, "/") for r in config.layers
    ]
    adaptive = ADAPTIVE_POOLS.get(model, [])
    kinds = [("avgpool" if r.name in adaptive else r.kind) for r in config.layers]
    assert [r.kind for r in read.layers] == kinds
    assert [(r.input_shape, r.output_shape, r.macs, r.params, r.buffers) for r in read.layers] == [
        (r.input_shape, r.output_shape, r.macs, r.params, r.buffers) for r in config.layers
    ]
    assert read.totals._replace(network=None) == config.totals._replace(network=None)
    peak, training = read.totals.costed.peak, read.totals.costed.training
    assert (peak.bytes, peak.step, training) == (
        config.totals.costed.peak.bytes, config.totals.costed.peak.step,
        config.totals.costed.training,
    )  # fmt: skip
    assert read.output_shape == config.output_shape
    result = runner.invoke(app, ["diff", model, str(path), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(c["name"], c["status"], c["changes"]) for c in data["layers"]] == [
        (name, "changed", ["kind", "config"]) for name in adaptive
    ]
    assert data["unchanged"] == len(config.layers) - len(adaptive)
    assert all(figure["delta"] == 0 for figure in data["totals"].values())


@EXPORTER_NOTES
def test_a_unet_decoder_exported_counts_as_its_config(
    torch_present: None, onnx: Any, tmp_path: Path
) -> None:
    """nn.ConvTranspose2d exported as ConvTranspose (2×2 s2; 3×3 s2 p1 output_padding 1;
    4×4 s2 p1 grouped), each concatenated with its skip: read back, every layer's name,
    shape and MACs and the totals are the config's, and diff finds no change."""
    spec = str(Path(__file__).parent / "configs" / "unet_decoder.yaml")
    _, config = analyze_spec(spec)
    path = tmp_path / "unet.onnx"
    export(config, path)
    model = onnx.load(str(path))
    assert Counter(n.op_type for n in model.graph.node)["ConvTranspose"] == 3
    read = analyze_spec(str(path), batch=2)[1]
    _, config = analyze_spec(spec, batch=2)
    assert (read.totals.macs, read.totals.params, read.totals.buffers) == (
        config.totals.macs, config.totals.params, config.totals.buffers,
    )  # fmt: skip
    assert [(r.name, r.kind, r.output_shape, r.macs, r.params) for r in read.layers] == [
        (r.name, r.kind, r.output_shape, r.macs, r.params) for r in config.layers
    ]
    assert not diff(config, read).changed


@EXPORTER_NOTES
@pytest.mark.parametrize("model", [model for model in READ_BACK if model != "googlenet"])
def test_depth_1_of_an_export_is_the_configs(runner: CliRunner, exported: Any, model: str) -> None:
    """`--depth 1` folds an exported model's modules as the config's groups: the same rows,
    figures and all. A group's kind is "module" (the file names no blocks); the adaptive
    pools are average pools. (GoogLeNet's Caffe names hold the separator, conv1/7x7_s2,
    which in the file is a module 7x7_s2 inside a module conv1: one more level.)"""

    def rows(spec: str) -> list[dict[str, object]]:
        result = runner.invoke(app, ["analyze", spec, "--depth", "1", "-f", "json"])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["rows"]  # type: ignore[no-any-return]

    expected = rows(model)
    for row in expected:
        if row["row"] == "group":
            row["kind"] = "module"
        elif row["name"] in ADAPTIVE_POOLS.get(model, []):
            row["kind"] = "avgpool"
    assert rows(str(exported(model))) == expected


@EXPORTER_NOTES
@pytest.mark.parametrize("model", ["convnext_tiny", "unet"])
def test_zoo_exports_not_read_back_yet_are_refused(
    runner: CliRunner, exported: Any, model: str
) -> None:
    """NOT_READ_BACK: refused (exit 2, one line), never read as something else."""
    assert model in NOT_READ_BACK
    path = exported(model)
    assert refused(runner, path).startswith(f"convcost: {path}: ")


@EXPORTER_NOTES
def test_weights_in_the_file_are_skipped(torch_present: None, onnx: Any, tmp_path: Path) -> None:
    _, config = analyze_spec("resnet18")
    path = tmp_path / "resnet18.onnx"
    export(config, path, export_params=True)
    # The float32 weights are there (equal ones, as BatchNorm's initial γ, stored once).
    assert path.stat().st_size > 40_000_000
    read = analysed(path)
    assert (read.totals.macs, read.totals.params) == (config.totals.macs, config.totals.params)
    names = [r.name for r in read.layers]
    assert names[:5] == ["conv1", "bn1", "relu", "maxpool", "layer1/0/conv1"]
    assert "layer2/0/downsample/0" in names and len(set(names)) == len(names)


@EXPORTER_NOTES
def test_batchnorm_folded_by_the_exporter(torch_present: None, onnx: Any, tmp_path: Path) -> None:
    """The exporter's default (training=EVAL) folds BatchNorm into the conv before it: the
    file holds a bias per BatchNorm channel instead of γ and β, and no running statistics."""
    _, config = analyze_spec("resnet18")
    channels = sum(r.output_shape.c for r in config.layers if r.kind == "batchnorm")
    path = tmp_path / "folded.onnx"
    export(config, path, export_params=True, keep_batchnorm=False)
    read = analysed(path)
    assert "batchnorm" not in {r.kind for r in read.layers}
    assert (read.totals.macs, read.totals.params, read.totals.buffers) == (
        config.totals.macs, config.totals.params - 2 * channels + channels, 0,
    )  # fmt: skip


@pytest.mark.parametrize(("op", "kind"), [("Sub", "add"), ("Div", "mul")])
def test_sub_and_div_count_as_add_and_mul(onnx: Any, tmp_path: Path, op: str, kind: str) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Relu", ["x"], ["r"]), node(onnx, op, ["x", "r"], ["y"])])
    assert rows(analysed(path))[1] == ("y", kind, [5, 5, 4], 0, 0)


def damaged_outcomes(data: bytes, path: Path) -> Counter[str]:
    """A file truncated at every length and changed at 600 random places, each read:
    how many were read and how many refused (anything else fails the test)."""
    import random

    from convcost.core.errors import ConvcostError

    rng = random.Random(14)
    damaged = [data[:cut] for cut in range(len(data))]
    for _ in range(600):
        changed = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            changed[rng.randrange(len(changed))] = rng.randrange(256)
        damaged.append(bytes(changed))
    outcomes: Counter[str] = Counter()
    for each in damaged:
        path.write_bytes(each)
        try:
            analysed(path)
            outcomes["read"] += 1
        except ConvcostError:
            outcomes["refused"] += 1
    return outcomes


def test_damaged_files_are_refused_or_read_never_crash(onnx: Any, tmp_path: Path) -> None:
    """Truncated at every length and with bytes changed at random, a model using the
    constant-folding, padding and resizing operators either reads or is refused."""

    source = tmp_path / "m.onnx"
    save(onnx, source, [
        node(onnx, "Conv", ["x", "W", "B"], ["c"], "/a/conv/Conv", pads=[1, 1, 1, 1]),
        node(onnx, "Pad", ["c", "pads"], ["p"], "/a/Pad"),
        node(onnx, "Resize", ["p", "", "scales"], ["r"], "/b/Resize"),
        node(onnx, "GlobalAveragePool", ["r"], ["g"]),
        node(onnx, "Shape", ["g"], ["s"]),
        node(onnx, "Gather", ["s", "zero"], ["n"], axis=0),
        node(onnx, "Unsqueeze", ["n", "axes"], ["nu"]),
        node(onnx, "Concat", ["nu", "minus1"], ["shape"], axis=0),
        node(onnx, "Reshape", ["g", "shape"], ["f"]),
        node(onnx, "Gemm", ["f", "D"], ["y"], transB=1),
    ], [weights(onnx, "W", [4, 4, 3, 3]), weights(onnx, "B", [4]), weights(onnx, "D", [3, 4]),
        ints(onnx, "pads", [0, 0, 1, 1, 0, 0, 1, 1]), floats(onnx, "scales", [1, 1, 2, 2]),
        ints(onnx, "zero", [0], []), ints(onnx, "axes", [0]), ints(onnx, "minus1", [-1])],
       ("N", 4, 5, 5))  # fmt: skip
    data = source.read_bytes()
    assert analysed(source).totals.macs == 25 * 4 * 36 + 12
    outcomes = damaged_outcomes(data, tmp_path / "damaged.onnx")
    assert outcomes["read"] > 0 and outcomes["refused"] > len(data)  # every cut is refused


def test_an_added_constant_after_a_conv_or_matmul_is_its_bias(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [
        node(onnx, "Conv", ["x", "W"], ["c"], "/conv/Conv"),
        node(onnx, "Add", ["c", "cb"], ["a"], "/conv/Add"),
        node(onnx, "Flatten", ["a"], ["f"], "/Flatten"),
        node(onnx, "MatMul", ["f", "D"], ["m"], "/fc/MatMul"),
        node(onnx, "Add", ["db", "m"], ["y"], "/fc/Add"),
    ], [weights(onnx, "W", [8, 4, 3, 3]), weights(onnx, "cb", [1, 8, 1, 1]),
        weights(onnx, "D", [72, 10]), weights(onnx, "db", [10])])  # fmt: skip
    assert rows(analysed(path)) == [
        ("conv", "conv", [3, 3, 8], 9 * 8 * 36, 8 * 36 + 8),
        ("flatten", "flatten", [1, 1, 72], 0, 0),
        ("fc", "dense", [1, 1, 10], 720, 730),
    ]


def test_external_weights_are_never_opened(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [node(onnx, "Conv", ["x", "W", "B"], ["y"], pads=[1, 1, 1, 1])],
                 [weights(onnx, "W", [8, 4, 3, 3]), weights(onnx, "B", [8])])  # fmt: skip
    onnx.save_model(model, str(path), save_as_external_data=True, location="weights.bin",
                    size_threshold=0)  # fmt: skip
    external = tmp_path / "weights.bin"
    assert external.stat().st_size == 4 * (8 * 36 + 8)
    external.unlink()  # what is never read need not be there
    assert rows(analysed(path)) == [("y", "conv", [5, 5, 8], 25 * 8 * 36, 8 * 36 + 8)]


@pytest.mark.parametrize(("opset", "onnx_says"), [(17, 3), (22, 2)])
def test_ceil_mode_drops_a_window_that_starts_in_the_padding(
    onnx: Any, tmp_path: Path, opset: int, onnx_says: int
) -> None:
    """4 wide, window 2, stride 3, padding 1, ceil: the third window would start at 6, in
    the trailing padding. PyTorch drops it (2 outputs), as ONNX's MaxPool-22 does; the
    shape inference of earlier opsets keeps it (3). convcost counts PyTorch's 2 always."""
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [node(onnx, "MaxPool", ["x"], ["y"], kernel_shape=[2, 2],
                                   strides=[3, 3], pads=[1, 1, 1, 1], ceil_mode=1)],
                 inp=(1, 1, 4, 4), opset=opset)  # fmt: skip
    assert inferred(onnx, model) == [onnx_says, onnx_says, 1]
    assert rows(analysed(path)) == [("y", "maxpool", [2, 2, 1], 0, 0)]


def test_a_cycle_is_refused(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    nodes = [node(onnx, "Add", ["x", "b"], ["a"]), node(onnx, "Relu", ["a"], ["b"]),
             node(onnx, "Relu", ["b"], ["y"])]  # fmt: skip
    graph = onnx.helper.make_graph(
        nodes, "g", [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 5, 5])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )  # fmt: skip
    opsets = [onnx.helper.make_opsetid("", 17)]
    onnx.save(onnx.helper.make_model(graph, opset_imports=opsets), str(path))
    assert refused(runner, path) == (
        f"convcost: {path}: node 'a' (Add): reads 'b' before the node that makes it ('b'): the "
        "nodes are out of order, or in a cycle\n"
    )


@pytest.mark.parametrize("half_first", [False, True])
def test_gelu_written_with_erf_is_one_gelu(onnx: Any, tmp_path: Path, half_first: bool) -> None:
    path = tmp_path / "m.onnx"
    if half_first:  # x · 0.5 first, then times (1 + erf(x / √2))
        tail = [node(onnx, "Mul", ["x", "half"], ["h"]), node(onnx, "Mul", ["h", "p"], ["y"])]
    else:  # PyTorch's order: x · (1 + erf(x / √2)), then · 0.5
        tail = [node(onnx, "Mul", ["x", "p"], ["m"]), node(onnx, "Mul", ["m", "half"], ["y"])]
    save(onnx, path, [
        node(onnx, "Div", ["x", "root2"], ["d"]), node(onnx, "Erf", ["d"], ["e"], "/act/Erf"),
        node(onnx, "Add", ["e", "one"], ["p"]), *tail,
    ], [floats(onnx, "root2", [2**0.5], []), floats(onnx, "one", [1.0], []),
        floats(onnx, "half", [0.5], [])])  # fmt: skip
    assert rows(analysed(path)) == [("act", "gelu", [5, 5, 4], 0, 0)]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pytorch_gelu_export(torch_present: None, onnx: Any, tmp_path: Path) -> None:
    import torch

    path = tmp_path / "gelu.onnx"
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.GELU(), torch.nn.Conv2d(8, 4, 1))
    torch.onnx.export(net.eval(), (torch.zeros(1, 3, 8, 8),), str(path), dynamo=False,
                      opset_version=17)  # fmt: skip
    assert rows(analysed(path)) == [
        ("0", "conv", [6, 6, 8], 36 * 8 * 27, 8 * 27 + 8), ("1", "gelu", [6, 6, 8], 0, 0),
        ("2", "conv", [6, 6, 4], 36 * 4 * 8, 4 * 8 + 4),
    ]  # fmt: skip


@EXPORTER_NOTES
def test_pytorch_silu_export(torch_present: None, onnx: Any, tmp_path: Path) -> None:
    """nn.SiLU, which the exporter writes as Mul(x, Sigmoid(x)) in its module, is one silu;
    x · sigmoid(x) written in the forward of the model's own module stays a sigmoid and a
    mul (two steps of the network, not one module's)."""
    import torch
    from torch import nn

    class Gated(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.act = nn.Conv2d(3, 8, 1), nn.SiLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.act(self.conv(x))
            return y * torch.sigmoid(y)  # type: ignore[no-any-return]

    path = tmp_path / "silu.onnx"
    torch.onnx.export(Gated().eval(), (torch.zeros(1, 3, 4, 4),), str(path), dynamo=False,
                      opset_version=17)  # fmt: skip
    assert Counter(n.op_type for n in onnx.load(str(path)).graph.node) == Counter(
        {"Conv": 1, "Sigmoid": 2, "Mul": 2}
    )
    assert [(r.name, r.kind) for r in analysed(path).layers] == [
        ("conv", "conv"), ("act", "silu"), ("sigmoid", "sigmoid"), ("mul", "mul"),
    ]  # fmt: skip


@EXPORTER_NOTES
def test_pytorch_module_names(torch_present: None, onnx: Any, tmp_path: Path) -> None:
    """As torchvision's blocks name theirs: a module called three times (one self.relu)
    keeps the exporter's names for the calls, relu, relu_1, relu_2; the additions a block's
    own forward makes beside its submodules are named by operator, add and add_1."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1)
            self.relu = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.relu(self.conv1(x))
            y = self.relu(self.conv2(y) + x)
            return self.relu(y + x)  # type: ignore[no-any-return]

    path = tmp_path / "blocks.onnx"
    net = nn.Sequential()
    net.add_module("layer1", nn.Sequential(Block(), Block()))
    torch.onnx.export(net.eval(), (torch.zeros(1, 4, 3, 3),), str(path), dynamo=False,
                      opset_version=17)  # fmt: skip
    block = ["conv1", "relu", "conv2", "add", "relu_1", "add_1", "relu_2"]
    assert [r.name for r in analysed(path).layers] == [
        f"layer1/{k}/{name}" for k in (0, 1) for name in block
    ]
    assert [r.kind for r in analysed(path).layers][:7] == [
        "conv", "relu", "conv", "add", "relu", "add", "relu",
    ]  # fmt: skip


def test_names_are_shown_on_one_line(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Sin", ["x"], ["y"], "two\nlines\x1b[31m")])
    result = runner.invoke(app, ["analyze", str(path), "-f", "json"])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{path}: not counted: Sin ×1 (two?lines?[31m): its MACs, parameters and operations "
        "are unknown and not in the totals\n"
    )


def test_channels_last_input_and_squeeze_to_a_vector(onnx: Any, tmp_path: Path) -> None:
    """As TensorFlow's exporters write a Keras CNN: an N×H×W×C input transposed at once,
    and a global pool squeezed to a vector before the dense layer."""
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [
        node(onnx, "Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        node(onnx, "Conv", ["t", "W"], ["c"], pads=[1, 1, 1, 1]),
        node(onnx, "GlobalAveragePool", ["c"], ["g"]),
        node(onnx, "Squeeze", ["g", "axes"], ["s"]),
        node(onnx, "Gemm", ["s", "D"], ["y"]),
    ], [weights(onnx, "W", [8, 3, 3, 3]), ints(onnx, "axes", [2, 3]), weights(onnx, "D", [8, 2])],
       (1, 6, 7, 3))  # fmt: skip
    assert rows(analysed(path)) == [
        ("c", "conv", [6, 7, 8], 42 * 8 * 27, 8 * 27), ("g", "globalavgpool", [1, 1, 8], 0, 0),
        ("s", "flatten", [1, 1, 8], 0, 0), ("y", "dense", [1, 1, 2], 16, 16),
    ]  # fmt: skip
    assert inferred(onnx, model) == [1, 1, 2]


def test_batchnorm_in_training_mode_is_refused(
    runner: CliRunner, onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    stats = [weights(onnx, name, [4]) for name in ("s", "b", "m", "v")]
    save(onnx, path, [node(onnx, "BatchNormalization", ["x", "s", "b", "m", "v"],
                           ["y", "mean", "var"], training_mode=1)], stats)  # fmt: skip
    assert refused(runner, path) == (
        f"convcost: {path}: node 'y' (BatchNormalization): it is in training mode (it outputs "
        "its running statistics): export the model in eval mode\n"
    )


def test_a_file_over_2_gib_is_refused_unread(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as file:
        file.truncate(2**31)  # sparse: no disk space used
    assert refused(runner, path) == (
        f"convcost: {path}: not an ONNX model: 2,147,483,648 bytes, and protobuf's messages "
        "are under 2 GiB (larger models keep their weights in external data)\n"
    )


def test_weights_are_not_copied(onnx: Any, tmp_path: Path) -> None:
    """Reading holds the file's bytes once: the weights are skipped, not copied."""
    import tracemalloc

    from convcost.frontends.onnxread import read_onnx

    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Conv", ["x", "W"], ["y"])],
         [weights(onnx, "W", [256, 4, 64, 64])], (1, 4, 64, 64))  # fmt: skip
    size = path.stat().st_size
    assert size > 16_000_000
    tracemalloc.start()
    try:
        read_onnx(str(path), 100)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.1 * size


# --- issue #15's kinds read from ONNX -----------------------------------------------------------


def _only(path: Path) -> Any:
    (layer,) = analysed(path).layers
    return layer


def test_depth_to_space_in_crd_order_is_a_pixelshuffle(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model = save(onnx, path, [node(onnx, "DepthToSpace", ["x"], ["y"], blocksize=2, mode="CRD")])
    layer = _only(path)
    assert (layer.kind, layer.config, layer.output_shape.as_list()) == ("pixelshuffle", "×2",
                                                                         [10, 10, 1])  # fmt: skip
    assert inferred(onnx, model) == [10, 10, 1]


def test_depth_to_space_in_dcr_order_is_not_counted_as_one(onnx: Any, tmp_path: Path) -> None:
    # TensorFlow's depth_to_space orders the channels otherwise: the same shape, not the
    # same layer (an uncounted one, saying why).
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "DepthToSpace", ["x"], ["y"], blocksize=2)])
    layer = _only(path)
    assert (layer.kind, layer.output_shape.as_list()) == ("uncounted", [10, 10, 1])
    assert layer.layer.reason == (
        "mode 'DCR'; convcost's pixelshuffle is PyTorch's, DepthToSpace in CRD order"
    )


@pytest.mark.parametrize(
    ("inp", "axis", "dims"), [((1, 4), -1, [4]), ((1, 4), 1, [4]), ((1, 4, 1, 1), 1, [4, 1, 1])]
)
def test_layer_normalization_over_the_channels(
    onnx: Any, tmp_path: Path, inp: tuple[int, ...], axis: int, dims: list[int]
) -> None:
    path = tmp_path / "m.onnx"
    norm = node(onnx, "LayerNormalization", ["x", "g", "b"], ["y"], axis=axis, epsilon=1e-6)
    save(onnx, path, [norm], [weights(onnx, "g", dims), weights(onnx, "b", dims)], inp=inp)
    layer = _only(path)
    assert (layer.kind, layer.config, layer.params) == ("layernorm", "eps 1e-06", 8)


def test_layer_normalization_of_ones_without_bias_has_no_affine(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    norm = node(onnx, "LayerNormalization", ["x", "g"], ["y"])
    save(onnx, path, [norm], [floats(onnx, "g", [1.0] * 4)], inp=(1, 4))
    layer = _only(path)
    assert (layer.kind, layer.config, layer.params) == ("layernorm", "eps 1e-05 no affine", 0)


def test_layer_normalization_over_height_and_width_too_is_not_counted(
    onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    norm = node(onnx, "LayerNormalization", ["x", "g", "b"], ["y"], axis=1)
    save(onnx, path, [norm], [weights(onnx, "g", [4, 5, 5]), weights(onnx, "b", [4, 5, 5])])
    layer = _only(path)
    assert (layer.kind, layer.output_shape.as_list()) == ("uncounted", [5, 5, 4])
    assert layer.layer.reason.startswith("a layer normalization of ['N', 4, 5, 5] from axis 1")


def test_group_normalization_per_channel_from_opset_21(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    norm = node(onnx, "GroupNormalization", ["x", "g", "b"], ["y"], num_groups=2)
    save(onnx, path, [norm], [weights(onnx, "g", [4]), weights(onnx, "b", [4])], opset=21)
    layer = _only(path)
    assert (layer.kind, layer.config, layer.params) == ("groupnorm", "g2 eps 1e-05", 8)
    assert layer.output_shape.as_list() == [5, 5, 4]


def test_group_normalization_per_group_is_refused(onnx: Any, tmp_path: Path) -> None:
    # Opsets 18 to 20 scale each group (γ and β of num_groups), which no PyTorch module does;
    # ONNX's shape inference gives no shape for it here, so it is refused, saying why.
    from convcost.core.errors import ConvcostError

    path = tmp_path / "m.onnx"
    norm = node(onnx, "GroupNormalization", ["x", "g", "b"], ["y"], num_groups=2)
    save(onnx, path, [norm], [weights(onnx, "g", [2]), weights(onnx, "b", [2])], opset=18)
    with pytest.raises(ConvcostError) as refused:
        analysed(path)
    assert refused.value.message == (
        f"{path}: node 'y' (GroupNormalization): opset 18's GroupNormalization scales each "
        "group, not each channel as PyTorch's GroupNorm (opset 21 on)"
    )


def test_leaky_relu_keeps_its_slope(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "LeakyRelu", ["x"], ["y"], alpha=0.25)])
    assert (_only(path).kind, _only(path).config) == ("leakyrelu", "slope 0.25")


@pytest.mark.parametrize(
    ("opset", "inp", "attrs", "axis"),
    [
        (17, (1, 4, 5, 5), {}, "width"),  # opset 13 on: the last axis by default
        (17, (1, 4, 5, 5), {"axis": 2}, "height"),
        (17, (1, 4, 5, 5), {"axis": -3}, "channels"),
        (17, (1, 4), {}, "channels"),
        (11, (1, 4), {}, "channels"),  # before: every axis from 1 on, a vector's features
        (11, (1, 4, 1, 1), {}, "channels"),
        (11, (1, 4, 5, 5), {"axis": 3}, "width"),
        (11, (1, 4, 5, 5), {}, None),  # over C×H×W at once
        (17, (1, 4, 5, 5), {"axis": 0}, None),  # along the batch
    ],
)  # fmt: skip
def test_softmax_along_its_axis(
    onnx: Any, tmp_path: Path, opset: int, inp: tuple[int, ...], attrs: dict[str, Any],
    axis: str | None,
) -> None:  # fmt: skip
    path = tmp_path / "m.onnx"
    save(onnx, path, [node(onnx, "Softmax", ["x"], ["y"], **attrs)], inp=inp, opset=opset)
    layer = _only(path)
    if axis is None:
        assert layer.kind == "uncounted"
        assert layer.layer.reason.endswith(
            "convcost counts one along the channels, height or width"
        )
    else:
        assert (layer.kind, layer.layer.axis) == ("softmax", axis)


# --- one module's operators that are one layer -------------------------------------------


@pytest.mark.parametrize("op", ["Conv", "MaxPool"])
def test_a_pad_in_the_module_of_a_window_is_its_padding(onnx: Any, tmp_path: Path, op: str) -> None:
    """TensorFlow's uneven "same" padding, as a module that pads then convolves writes it
    (/conv1/Pad, /conv1/Conv): one layer padded (0, 1, 0, 1); a Pad of a module of its own
    stays a pad layer."""
    weight = [weights(onnx, "W", [8, 4, 3, 3])] if op == "Conv" else []
    window = ["p", "W"] if op == "Conv" else ["p"]
    cases: list[tuple[str, list[tuple[str, list[int]]], tuple[int, ...]]] = [
        ("/conv1/Pad", [("conv1", [4, 4])], (0, 1, 0, 1)),
        ("/pad/Pad", [("pad", [9, 9]), ("conv1", [4, 4])], (0, 0, 0, 0)),
    ]
    for pad_name, expected, padding in cases:
        path = tmp_path / "m.onnx"
        model = save(onnx, path, [
            node(onnx, "Pad", ["x", "pads"], ["p"], pad_name),
            node(onnx, op, window, ["y"], "/conv1/Op", kernel_shape=[3, 3], strides=[2, 2]),
        ], [*weight, ints(onnx, "pads", [0, 0, 0, 0, 0, 0, 1, 1])], (1, 4, 8, 8))  # fmt: skip
        read = analysed(path)
        assert [(r.name, r.output_shape.as_list()[:2]) for r in read.layers] == expected
        assert read.layers[-1].layer.padding == padding  # type: ignore[attr-defined]
        assert inferred(onnx, model) == [4, 4, 8 if op == "Conv" else 4]


def test_a_pad_of_the_module_that_is_not_counted_stays_apart(onnx: Any, tmp_path: Path) -> None:
    """A reflecting Pad in the conv's module is no zero padding: an uncounted layer of its
    own, and the conv after it counted with its own padding."""
    path = tmp_path / "m.onnx"
    save(onnx, path, [
        node(onnx, "Pad", ["x", "pads"], ["p"], "/conv1/Pad", mode="reflect"),
        node(onnx, "Conv", ["p", "W"], ["y"], "/conv1/Conv", strides=[2, 2]),
    ], [weights(onnx, "W", [8, 4, 3, 3]), ints(onnx, "pads", [0, 0, 0, 0, 0, 0, 1, 1])],
       (1, 4, 8, 8))  # fmt: skip
    assert [(r.name, r.kind, r.output_shape.as_list()) for r in analysed(path).layers] == [
        ("conv1", "uncounted", [9, 9, 4]), ("conv1_2", "conv", [4, 4, 8]),
    ]  # fmt: skip


def test_a_flatten_in_the_module_of_a_dense_layer_is_its_own(onnx: Any, tmp_path: Path) -> None:
    """A module that flattens and applies a linear map (/fc/Flatten, /fc/Gemm) is one dense
    layer on the 2×2×4 input, as convcost's dense flattens; a Flatten of the module around
    (/Flatten) stays a flatten layer."""
    for flatten_name, expected in [
        ("/fc/Flatten", [("fc", "dense", [2, 2, 4])]),
        ("/Flatten", [("flatten", "flatten", [2, 2, 4]), ("fc", "dense", [1, 1, 16])]),
    ]:
        path = tmp_path / "m.onnx"
        save(onnx, path, [
            node(onnx, "Flatten", ["x"], ["f"], flatten_name),
            node(onnx, "Gemm", ["f", "D"], ["y"], "/fc/Gemm", transB=1),
        ], [weights(onnx, "D", [3, 16])], (1, 4, 2, 2))  # fmt: skip
        read = analysed(path)
        assert [(r.name, r.kind, r.input_shape.as_list()) for r in read.layers] == expected
        assert (read.totals.macs, read.totals.params) == (48, 48)


# --- PyTorch's LocalResponseNorm ----------------------------------------------------------


def export_lrn(path: Path, size: int, opset: int = 17, dynamic: bool = True) -> None:
    """A conv and PyTorch's LocalResponseNorm (α, β, k not the defaults), exported."""
    import torch

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 1), torch.nn.LocalResponseNorm(size, alpha=2e-4, beta=0.6, k=1.5)
    )
    torch.onnx.export(
        net.eval(), (torch.zeros(1, 3, 6, 5),), str(path), dynamo=False, opset_version=opset,
        input_names=["x"], dynamic_axes={"x": {0: "batch"}} if dynamic else None,
    )  # fmt: skip


@EXPORTER_NOTES
@pytest.mark.parametrize("opset", [13, 14, 15, 16, 17])
@pytest.mark.parametrize(("size", "dynamic"), [(5, True), (4, False), (1, True)])
def test_pytorch_local_response_norm_is_one_lrn(
    torch_present: None, onnx: Any, tmp_path: Path, opset: int, size: int, dynamic: bool
) -> None:
    """The chain of some thirty operators the exporter writes for nn.LocalResponseNorm (a
    square, reshapes, a pad, a 3-D average pool, an If, Mul, Add, Pow, Div) is one lrn layer
    of its size, named by its module, as ONNX's own LRN operator would be."""
    path = tmp_path / "lrn.onnx"
    export_lrn(path, size, opset, dynamic)
    ops = Counter(n.op_type for n in onnx.load(str(path)).graph.node)
    assert ops["AveragePool"] == ops["If"] == ops["Pow"] == 1
    read = analyze_spec(str(path), batch=2)[1]
    assert [(r.name, r.kind, r.config, r.output_shape.as_list()) for r in read.layers] == [
        ("0", "conv", "1x1 s1 valid", [6, 5, 8]), ("1", "lrn", f"size {size}", [6, 5, 8]),
    ]  # fmt: skip
    lrn = tmp_path / "onnx_lrn.onnx"
    save(onnx, lrn, [node(onnx, "LRN", ["x"], ["y"], size=size, alpha=2e-4, beta=0.6, bias=1.5)],
         inp=(2, 8, 6, 5), opset=opset)  # fmt: skip
    from_lrn = analyze_spec(str(lrn), batch=2)[1].layers[0]
    assert read.layers[1][2:] == from_lrn[2:]  # the layer, its shapes, counts and costs


def changed_lrn(onnx: Any, path: Path, change: str) -> Any:
    """The exported LocalResponseNorm of size 5 with one thing changed."""
    model = onnx.load(str(path))
    nodes = {n.op_type: n for n in model.graph.node}
    if change == "count_include_pad":
        for attribute in nodes["AveragePool"].attribute:
            if attribute.name == "count_include_pad":
                attribute.i = 0
    elif change == "beta":
        pow_node = nodes["Pow"]
        model.graph.initializer.append(floats(onnx, "two_betas", [0.6, 0.6], [2]))
        pow_node.input[1] = "two_betas"
    elif change == "pads":  # PyTorch's pad spec (…, 2, 2) for the channels made (…, 1, 3)
        for each in model.graph.node:
            value = each.attribute[0].t if each.op_type == "Constant" else None
            if value is not None and list(value.dims) == [6]:
                each.attribute[0].t.CopyFrom(ints(onnx, "", [0, 0, 0, 0, 1, 3]))
    elif change == "divide":
        divide = nodes["Div"]
        first, second = divide.input
        divide.input[0], divide.input[1] = second, first
    else:  # the square is read elsewhere too
        square = next(n for n in model.graph.node if n.op_type == "Mul")
        model.graph.node.append(onnx.helper.make_node("Relu", [square.output[0]], ["extra"],
                                                      name="/extra/Relu"))  # fmt: skip
        model.graph.output.append(onnx.helper.make_tensor_value_info("extra", 1, None))
    onnx.save(model, str(path))
    return model


NOT_LRN = (
    "node '/1/AveragePool' (AveragePool): an average pool over 3 axes of a square, as "
    "PyTorch's LocalResponseNorm starts, which convcost reads only as torch.onnx.export writes "
    "it; here "
)


@EXPORTER_NOTES
@pytest.mark.parametrize(
    ("change", "message"),
    [("count_include_pad", "it has count_include_pad 0 (PyTorch's: kernel_shape [size, 1, 1], "
      "strides 1, no pads, count_include_pad 1)"),
     ("beta", "the chain's β is [0.6000000238418579, 0.6000000238418579], not one number"),
     ("pads", "the chain's padding is [0, 0, 1, 0, 0, 0, 0, 3, 0, 0], not PyTorch's "
      "[0, 0, 2, 0, 0, 0, 0, 2, 0, 0] (size 5)"),
     ("divide", "the operators after the If, to the Div '/1/Div', are not x / (k + α·average)^β"),
     ("square", "the Mul '/1/Mul' is read by other than one Reshape")],
)  # fmt: skip
def test_a_local_response_norm_that_differs_is_refused(
    torch_present: None, runner: CliRunner, onnx: Any, tmp_path: Path, change: str,
    message: str,
) -> None:  # fmt: skip
    """A chain that starts as PyTorch's LocalResponseNorm (a square, reshaped, padded,
    averaged over 3 axes) but differs in an operator or a constant is refused, saying what
    differs: its operators read one by one would be a misreading or unknown."""
    path = tmp_path / "lrn.onnx"
    export_lrn(path, 5)
    changed_lrn(onnx, path, change)
    assert refused(runner, path) == f"convcost: {path}: {NOT_LRN}{message}\n"


def test_a_3d_average_pool_elsewhere_is_left_to_the_walk(onnx: Any, tmp_path: Path) -> None:
    """An average pool over 3 axes of something else than a padded square is read as any
    operator convcost does not count: an uncounted layer, with the walk's own reason."""
    path = tmp_path / "m.onnx"
    save(onnx, path, [
        node(onnx, "Reshape", ["x", "shape"], ["r"], "/r/Reshape"),
        node(onnx, "AveragePool", ["r"], ["y"], "/p/AveragePool", kernel_shape=[2, 1, 1],
             count_include_pad=1),
    ], [ints(onnx, "shape", [1, 1, 4, 5, 5])])  # fmt: skip
    read = analysed(path)
    assert [(r.name, r.kind, r.layer.op) for r in read.layers] == [  # type: ignore[attr-defined]
        ("r", "uncounted", "Reshape"), ("p", "uncounted", "AveragePool"),
    ]  # fmt: skip
    assert "LocalResponseNorm" not in read.layers[1].layer.reason  # type: ignore[attr-defined]


@EXPORTER_NOTES
def test_a_damaged_local_response_norm_is_refused_or_read(
    torch_present: None, tmp_path: Path
) -> None:
    """The LocalResponseNorm chain (an If with two graphs in its attributes) truncated at
    every length and with bytes changed at random: read or refused, never a crash."""

    source = tmp_path / "lrn.onnx"
    export_lrn(source, 5)
    data = source.read_bytes()
    outcomes = damaged_outcomes(data, tmp_path / "damaged.onnx")
    assert outcomes["read"] > 0 and outcomes["refused"] > len(data)
