"""Operators convcost cannot count, in ONNX files: each becomes an ``uncounted`` layer whose
output shape comes from the file (or ONNX's shape inference), shown with ``?`` for what it
cannot know, listed on stderr and in JSON (``uncounted_ops``), and refused by ``check``
unless ``--allow-uncounted``: never a silent zero."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.shapes import parse_shape
from convcost.frontends import analyze_spec
from tests.test_onnx import node, weights

WARNING = (
    "{path}: not counted: Sin ×1 (blk/sin); TopK ×1 (blk/topk): their MACs, parameters and "
    "operations are unknown and not in the totals\n"
)


def model(onnx: Any, path: Path, nodes: list[Any], inits: Sequence[Any] = (),
          shapes: Sequence[tuple[str, Sequence[int | str] | None]] = (),
          output: Sequence[int | str] | None = None, opset: int = 17,
          domains: Sequence[str] = ()) -> None:  # fmt: skip
    """A model reading x (N×4×5×5) and ending in y (of ``output``'s dims, when given), with
    value_info for the named ``shapes``."""
    helper, tensor = onnx.helper, onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", tensor, ["N", 4, 5, 5])],
        [helper.make_tensor_value_info("y", tensor, None if output is None else list(output))],
        initializer=list(inits),
        value_info=[helper.make_tensor_value_info(n, tensor, None if d is None else list(d))
                    for n, d in shapes],
    )  # fmt: skip
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, 1) for d in domains)]
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(path))


def sin_topk(onnx: Any, path: Path) -> None:
    """A conv, then two operators convcost cannot count (no shapes in the file: ONNX's
    shape inference gives them), then a relu."""
    model(onnx, path, [
        node(onnx, "Conv", ["x", "W"], ["a"], "/stem/conv/Conv", pads=[1, 1, 1, 1]),
        node(onnx, "Sin", ["a"], ["b"], "/blk/sin/Sin"),
        node(onnx, "TopK", ["b", "k"], ["c", "index"], "/blk/topk/TopK", axis=1),
        node(onnx, "Relu", ["c"], ["y"], "/Relu"),
    ], [weights(onnx, "W", [8, 4, 3, 3]),
        onnx.helper.make_tensor("k", onnx.TensorProto.INT64, [1], [3])])  # fmt: skip


@pytest.fixture
def onnx() -> Any:
    return pytest.importorskip("onnx", reason="onnx is not installed: pip install -e '.[test]'")


def test_uncounted_layers_go_on_with_unknown_figures(
    runner: CliRunner, onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    result = runner.invoke(app, ["analyze", str(path), "-f", "csv"])
    assert result.exit_code == 0
    assert result.stderr == WARNING.format(path=path)
    header, *lines = result.stdout.splitlines()
    assert header.split(",")[:10] == [
        "name", "kind", "config", "input_shape", "output_shape", "macs", "flops", "params",
        "buffers", "activations",
    ]  # fmt: skip
    # Unknown figures are empty cells; the shapes' own figures (values, bytes) are known.
    assert [line.split(",")[:13] for line in lines] == [
        ["stem/conv", "conv", "3x3 s1 p1", "5x5x4", "5x5x8", "7200", "14400", "288", "0", "200",
         "1152", "400", "800"],
        ["blk/sin", "uncounted", "Sin", "5x5x8", "5x5x8", "", "", "", "", "200", "", "800",
         "800"],
        ["blk/topk", "uncounted", "TopK", "5x5x8", "5x5x3", "", "", "", "", "75", "", "800",
         "300"],
        ["relu", "relu", "", "5x5x3", "5x5x3", "0", "0", "0", "0", "75", "0", "300", "300"],
        ["total", "total", "", "5x5x4", "5x5x3", "7200", "14400", "288", "0", "550", "1152",
         "2300", "2200"],
    ]  # fmt: skip


def test_json_carries_uncounted_ops_and_nulls(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    result = runner.invoke(app, ["analyze", str(path), "-f", "json", "--depth", "1"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["uncounted_ops"] == [
        {"op": "Sin", "count": 1, "layers": ["blk/sin"]},
        {"op": "TopK", "count": 1, "layers": ["blk/topk"]},
    ]
    layer = data["layers"][1]
    assert (layer["kind"], layer["macs"], layer["params"], layer["ops"], layer["activations"]) == (
        "uncounted", None, None, None, 200,
    )  # fmt: skip
    assert (data["totals"]["macs"], data["totals"]["params"]) == (7200, 288)
    explained = runner.invoke(app, ["analyze", str(path), "-f", "json", "--explain"])
    assert json.loads(explained.stdout)["layers"][1]["explain"] == [
        "not counted: the shape is the model file's (or ONNX's shape inference's); what Sin "
        "computes and holds, convcost does not know"
    ]
    counted = runner.invoke(app, ["analyze", "resnet18", "-f", "json"])
    assert json.loads(counted.stdout)["uncounted_ops"] == []


def test_table_shows_question_marks_and_says_why(
    runner: CliRunner, onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "uncounted Sin" in line)
    assert row.split()[-6:] == ["5×5×8", "?", "?", "?", "?", "200"]  # MACs, ≈, %, params
    assert (
        "not counted: Sin ×1 (blk/sin); TopK ×1 (blk/topk): their MACs, parameters and "
        "operations are unknown (?) and not in the totals"
    ) in " ".join(result.stdout.split())
    markdown = runner.invoke(app, ["analyze", str(path), "-f", "markdown"]).stdout
    row = "| `blk/sin` | uncounted | Sin | 5×5×8 | 5×5×8 | ? | ? | ? | ? | 200 | ? | ? |"
    assert row in markdown  # MACs, ≈, % MACs, params unknown; 200 output values


@pytest.mark.parametrize("output_format", ["table", "json", "csv"])
def test_a_group_holding_an_uncounted_operator_is_unknown_at_depth(
    runner: CliRunner, onnx: Any, tmp_path: Path, output_format: str
) -> None:
    # blk holds Sin and TopK only: folded at --depth 1 its figures are unknown, never 0.
    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    result = runner.invoke(app, ["analyze", str(path), "--depth", "1", "-f", output_format])
    assert result.exit_code == 0
    if output_format == "table":
        row = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["blk"])
        assert row.split()[-6:] == ["5×5×3", "?", "?", "?", "?", "275"]
        stem = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["stem"])
        assert "7,200" in stem and "?" not in stem
    elif output_format == "json":
        rows = {row["name"]: row for row in json.loads(result.stdout)["rows"]}
        assert (rows["blk"]["macs"], rows["blk"]["params"]) == (None, None)
        assert (rows["stem"]["macs"], rows["stem"]["params"]) == (7200, 288)
    else:
        rows = {line.split(",")[0]: line.split(",") for line in result.stdout.splitlines()}
        assert (rows["blk"][5], rows["stem"][5]) == ("", "7200")


def test_check_refuses_unless_allowed(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    refused = runner.invoke(app, ["check", str(path), "--max-macs", "1G", "-f", "json"])
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"convcost: {path}: operators convcost cannot count: Sin ×1 (blk/sin); TopK ×1 "
        "(blk/topk); its totals would leave them out: pass --allow-uncounted to check it "
        "anyway\n"
    )
    assert json.loads(refused.stdout)["configs"][0]["status"] == "ERROR"
    allowed = runner.invoke(
        app, ["check", str(path), "--max-macs", "1G", "--allow-uncounted", "-f", "json"]
    )
    assert allowed.exit_code == 0
    assert allowed.stderr == WARNING.format(path=path)
    assert json.loads(allowed.stdout)["configs"][0]["uncounted_ops"] == [
        {"op": "Sin", "count": 1, "layers": ["blk/sin"]},
        {"op": "TopK", "count": 1, "layers": ["blk/topk"]},
    ]
    failed = runner.invoke(app, ["check", str(path), "--max-macs", "7k", "--allow-uncounted"])
    assert failed.exit_code == 1


def test_diff_warns_and_export_refuses(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    result = runner.invoke(app, ["diff", str(path), str(path), "-f", "json"])
    assert result.exit_code == 0
    assert result.stderr == 2 * WARNING.format(path=path)
    written = runner.invoke(app, ["export", str(path), "-o", str(tmp_path / "out.onnx")])
    assert written.exit_code == 2
    assert written.stderr == (
        "convcost: layer 'blk/sin': the operator Sin, which convcost cannot count, cannot be "
        "written back: export from a config, or from the model's framework\n"
    )


def test_shapes_the_file_gives_are_used(onnx: Any, tmp_path: Path) -> None:
    """A custom domain's operator (which ONNX's shape inference cannot know), its output
    shape stored in the file: N×F and N×C×H×W outputs, both read."""
    path = tmp_path / "m.onnx"
    model(onnx, path, [
        onnx.helper.make_node("Pool9", ["x"], ["p"], name="/head/Pool9", domain="com.example"),
        node(onnx, "Relu", ["p"], ["r"], "/Relu"),
        onnx.helper.make_node("Embed", ["r"], ["y"], name="/Embed", domain="com.example"),
    ], shapes=[("p", ["N", 6, 3, 2])], output=["N", 10],
        domains=["com.example"])  # fmt: skip
    report = analyze_spec(str(path))[1]
    assert [(r.name, r.kind, r.config, r.output_shape.as_list()) for r in report.layers] == [
        ("head", "uncounted", "com.example.Pool9", [3, 2, 6]),
        ("relu", "relu", "", [3, 2, 6]),
        ("embed", "uncounted", "com.example.Embed", [1, 1, 10]),
    ]
    assert [(op.op, op.number) for op in report.uncounted] == [
        ("com.example.Pool9", 1), ("com.example.Embed", 1),
    ]  # fmt: skip


def refusal(runner: CliRunner, path: Path) -> str:
    result = runner.invoke(app, ["analyze", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    return result.stderr


def test_unknown_shapes_are_refused(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    model(onnx, path, [
        onnx.helper.make_node("Foo", ["x"], ["f"], name="/Foo", domain="com.example"),
        node(onnx, "Relu", ["f"], ["y"], "/Relu"),
    ], domains=["com.example"])  # fmt: skip
    assert refusal(runner, path) == (
        f"convcost: {path}: node '/Foo' (Foo): the operator com.example.Foo, which convcost "
        "cannot count, makes 'f', whose shape the file does not give and ONNX's shape "
        "inference gives none; convcost needs it to go on (store it with "
        "onnx.shape_inference.infer_shapes)\n"
    )


def message_without_onnx(path: Path) -> str:
    """What reading the file says where the onnx package is not installed."""
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "import importlib.util; importlib.util.find_spec = lambda name, *a: None\n"
        "from convcost.frontends import analyze_spec\n"
        "from convcost.core.errors import ConvcostError\n"
        f"try: analyze_spec({str(path)!r})\n"
        "except ConvcostError as e: print(e.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout


def test_without_onnx_the_message_says_how_to_infer(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    assert message_without_onnx(path) == (
        f"{path}: node '/blk/sin/Sin' (Sin): the operator Sin, which convcost cannot count, makes "
        "'b', whose shape the file does not give and pip install 'convcost[onnx]' lets ONNX's "
        "shape inference find it; convcost needs it to go on (store it with "
        "onnx.shape_inference.infer_shapes)\n"
    )


def test_a_tensor_of_another_rank_goes_on_into_uncounted_layers_only(
    runner: CliRunner, onnx: Any, tmp_path: Path
) -> None:
    """A rank-3 tensor (a detection head's N×anchors×4) made by an operator convcost cannot
    count: a counted operator reading it becomes uncounted too, saying why."""
    path = tmp_path / "m.onnx"
    model(onnx, path, [
        onnx.helper.make_node("Boxes", ["x"], ["f"], name="/Boxes", domain="com.example"),
        node(onnx, "Relu", ["f"], ["y"], "/Relu"),
    ], shapes=[("f", ["N", 8, 5])], output=["N", 8, 5], domains=["com.example"])  # fmt: skip
    result = runner.invoke(app, ["analyze", str(path), "-f", "json", "--explain"])
    assert result.exit_code == 0, result.stderr
    layers = json.loads(result.stdout)["layers"]
    assert [(x["name"], x["kind"], x["config"], x["output_shape"], x["activations"])
            for x in layers] == [("boxes", "uncounted", "com.example.Boxes", [1, 1, 40], 40),
                                 ("relu", "uncounted", "Relu", [1, 1, 40], 40)]  # fmt: skip
    assert layers[1]["explain"] == [
        "not counted: 'f' comes from the operator com.example.Boxes, which convcost cannot "
        "count, as a tensor of rank 3; convcost reads N×C×H×W and N×F tensors; the shape is "
        "the model file's (or ONNX's shape inference's)"
    ]


def test_symbolic_sizes_beyond_the_batch_are_refused(
    runner: CliRunner, onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    model(onnx, path, [
        onnx.helper.make_node("Foo", ["x"], ["f"], name="/Foo", domain="com.example"),
        node(onnx, "Relu", ["f"], ["y"], "/Relu"),
    ], shapes=[("f", ["N", "C", 5, 5])], domains=["com.example"])  # fmt: skip
    assert refusal(runner, path) == (
        f"convcost: {path}: node '/Foo' (Foo): the operator com.example.Foo, which convcost "
        "cannot count, makes 'f' of the dims ['N', 'C', '5', '5']: beyond the batch, convcost "
        "needs fixed sizes\n"
    )


def test_a_second_output_of_another_shape_goes_on_into_uncounted_layers_only(
    onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    model(onnx, path, [
        onnx.helper.make_node("Split2", ["x"], ["a", "b"], name="/Split2", domain="com.example"),
        node(onnx, "Relu", ["b"], ["y"], "/Relu"),
    ], shapes=[("a", ["N", 4, 5, 5]), ("b", ["N", 4, 5, 2])],
        domains=["com.example"])  # fmt: skip
    report = analyze_spec(str(path))[1]
    assert [(r.name, r.kind, r.config) for r in report.layers] == [
        ("split2", "uncounted", "com.example.Split2"), ("relu", "uncounted", "Relu"),
    ]  # fmt: skip
    assert report.layers[1].layer.reason == (  # type: ignore[attr-defined]
        "'b' is output 2 of the operator com.example.Split2, which convcost cannot count; it "
        "follows such an operator's first output only"
    )


FORMS = {
    "clip": ("Clip to [-1.0, 1.0]; convcost counts Clip as relu (0, none) or relu6 (0, 6) only"),
    "bias": ("a constant of dims [4, 1, 1] (a bias or scale of its own), which convcost does "
             "not count yet"),
    "second bias": ("a constant of dims [8, 1, 1] (a bias or scale of its own), which "
                    "convcost does not count yet"),
    "erf": "an Erf that is not part of a GELU, which convcost does not count",
    "transpose": "a transpose of an activation, which convcost does not read yet",
    "reduction": ("a reduction of ['N', 4, 5, 5] over [1]; convcost reads one over height and "
                  "width (axes [2, 3]) only"),
}  # fmt: skip


def forms(onnx: Any, path: Path, form: str) -> str:
    """A model with one known operator in a form convcost does not count; its op."""
    relu = node(onnx, "Relu", ["x"], ["r"], "/Relu")
    if form == "clip":
        model(onnx, path, [relu, node(onnx, "Clip", ["r", "lo", "hi"], ["y"], "/Clip")],
              [onnx.helper.make_tensor(n, onnx.TensorProto.FLOAT, [], [v])
               for n, v in (("lo", -1.0), ("hi", 1.0))])  # fmt: skip
        return "Clip"
    if form == "bias":
        model(onnx, path, [relu, node(onnx, "Add", ["r", "b"], ["y"], "/Add")],
              [weights(onnx, "b", [4, 1, 1])])  # fmt: skip
        return "Add"
    if form == "second bias":
        model(onnx, path, [node(onnx, "Conv", ["x", "W", "B"], ["c"], "/Conv"),
                           node(onnx, "Add", ["c", "cb"], ["y"], "/Add")],
              [weights(onnx, "W", [8, 4, 3, 3]), weights(onnx, "B", [8]),
               weights(onnx, "cb", [8, 1, 1])])  # fmt: skip
        return "Add"
    if form == "erf":
        model(onnx, path, [relu, node(onnx, "Erf", ["r"], ["y"], "/Erf")])
        return "Erf"
    if form == "transpose":
        model(onnx, path, [relu, node(onnx, "Transpose", ["r"], ["y"], "/Transpose",
                                      perm=[0, 2, 3, 1])])  # fmt: skip
        return "Transpose"
    model(onnx, path, [relu, node(onnx, "ReduceMean", ["r"], ["y"], "/ReduceMean", axes=[1])])
    return "ReduceMean"


@pytest.mark.parametrize("form", FORMS)
def test_known_operators_in_forms_convcost_does_not_count(
    runner: CliRunner, onnx: Any, tmp_path: Path, form: str
) -> None:
    """Uncounted layers, their reason in --explain; without a shape for them (no onnx to
    infer it), refused with that reason."""
    path = tmp_path / "m.onnx"
    op = forms(onnx, path, form)
    result = runner.invoke(app, ["analyze", str(path), "-f", "json", "--explain"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(u["op"], u["count"]) for u in data["uncounted_ops"]] == [(op, 1)]
    assert data["layers"][-1]["explain"] == [
        f"not counted: {FORMS[form]}; the shape is the model file's (or ONNX's shape inference's)"
    ]
    assert message_without_onnx(path) == f"{path}: node '/{op}' ({op}): {FORMS[form]}\n"


def test_the_api_checks_as_the_command_does(onnx: Any, tmp_path: Path) -> None:
    import convcost

    path = tmp_path / "m.onnx"
    sin_topk(onnx, path)
    assert [c.status for c in convcost.check(str(path), macs="1G").configs] == ["ERROR"]
    allowed = convcost.check(str(path), macs="1G", allow_uncounted=True)
    assert [c.status for c in allowed.configs] == ["PASS"]
    report = convcost.analyze(str(path)).analysis
    assert [(op.op, op.number, op.layers) for op in report.uncounted] == [
        ("Sin", 1, ("blk/sin",)), ("TopK", 1, ("blk/topk",)),
    ]  # fmt: skip


def test_shape_inference_takes_the_input_shape_asked(onnx: Any, tmp_path: Path) -> None:
    """A model of symbolic sizes: the uncounted operator's shape is inferred at the sizes
    --input-shape gives."""
    path = tmp_path / "m.onnx"
    helper, tensor = onnx.helper, onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        [node(onnx, "Conv", ["x", "W"], ["c"], "/c/Conv"),
         node(onnx, "Sin", ["c"], ["y"], "/s/Sin")],
        "g", [helper.make_tensor_value_info("x", tensor, ["N", 4, "H", "W"])],
        [helper.make_tensor_value_info("y", tensor, None)], [weights(onnx, "W", [8, 4, 3, 3])],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    report = analyze_spec(str(path), input_shape=parse_shape("12x10x4"))[1]
    assert [(r.name, r.kind, r.output_shape.as_list()) for r in report.layers] == [
        ("c", "conv", [10, 8, 8]), ("s", "uncounted", [10, 8, 8]),
    ]  # fmt: skip


def test_control_flow_is_refused(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    """An If's branches read the network's tensors without listing them: never a constant."""
    helper = onnx.helper
    branch = helper.make_graph(
        [node(onnx, "Relu", ["c"], ["o"], "/then/Relu")], "then", [],
        [helper.make_tensor_value_info("o", onnx.TensorProto.FLOAT, None)],
    )  # fmt: skip
    path = tmp_path / "m.onnx"
    model(onnx, path, [
        node(onnx, "Conv", ["x", "W"], ["c"], "/c/Conv"),
        node(onnx, "If", ["cond"], ["y"], "/If", then_branch=branch, else_branch=branch),
    ], [weights(onnx, "W", [8, 4, 3, 3]),
        helper.make_tensor("cond", onnx.TensorProto.BOOL, [], [True])])  # fmt: skip
    assert refusal(runner, path) == (
        f"convcost: {path}: node '/If' (If): it holds a subgraph (control flow), whose reads "
        "of the network's tensors convcost does not follow; export the model without If, Loop "
        "and Scan (traced at a fixed input shape)\n"
    )


def test_a_tensor_whose_first_axis_is_not_the_batch(onnx: Any, tmp_path: Path) -> None:
    """A reshape folding 4 groups into the batch: what reads it is not counted per sample
    as if the batch were 1 (it would be a quarter of the work)."""
    path = tmp_path / "m.onnx"
    helper, tensor = onnx.helper, onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        [node(onnx, "Conv", ["x", "W"], ["c"], "/a/Conv"),
         node(onnx, "Reshape", ["c", "shape"], ["r"], "/fold/Reshape"),
         node(onnx, "Conv", ["r", "V"], ["y"], "/b/Conv", pads=[1, 1, 1, 1])],
        "g", [helper.make_tensor_value_info("x", tensor, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", tensor, None)],
        [weights(onnx, "W", [16, 4, 1, 1]), weights(onnx, "V", [8, 4, 3, 3]),
         onnx.helper.make_tensor("shape", onnx.TensorProto.INT64, [4], [4, 4, 8, 8])],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    report = analyze_spec(str(path))[1]
    assert [(r.name, r.kind, r.counted, r.activations) for r in report.layers] == [
        ("a", "conv", True, 1024), ("fold", "uncounted", False, 1024),
        ("b", "uncounted", False, 2048),
    ]  # fmt: skip
    assert report.totals.macs == 64 * 16 * 4


def test_a_vector_model_keeps_its_vector_input(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    helper, tensor = onnx.helper, onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        [node(onnx, "Gemm", ["x", "D"], ["a"], "/fc/Gemm", transB=1),
         node(onnx, "Concat", ["x", "a"], ["y"], "/cat/Concat", axis=1)],
        "g", [helper.make_tensor_value_info("x", tensor, ["N", "F"])],
        [helper.make_tensor_value_info("y", tensor, None)], [weights(onnx, "D", [10, 512])],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    report = analyze_spec(str(path), input_shape=parse_shape("1x1x512"))[1]
    assert report.output_shape == parse_shape("1x1x522")._replace(flat=True)
    assert report.totals.macs == 5120


def test_a_reduction_without_output_is_refused(
    runner: CliRunner, onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    model(onnx, path, [
        node(onnx, "Relu", ["x"], ["y"], "/Relu"),
        onnx.helper.make_node("ReduceMean", ["y"], [], name="/R", axes=[2, 3], keepdims=0),
    ])  # fmt: skip
    assert refusal(runner, path) == f"convcost: {path}: node '/R' (ReduceMean): it has no output\n"


def test_an_erf_plus_a_per_channel_constant_is_no_gelu(onnx: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    scalar = [onnx.helper.make_tensor("r2", onnx.TensorProto.FLOAT, [], [2**0.5])]
    model(onnx, path, [
        node(onnx, "Relu", ["x"], ["r"], "/Relu"),
        node(onnx, "Div", ["r", "r2"], ["d"], "/Div"),
        node(onnx, "Erf", ["d"], ["e"], "/Erf"),
        node(onnx, "Add", ["e", "pc"], ["p"], "/Add"),
        node(onnx, "Mul", ["r", "p"], ["y"], "/Mul"),
    ], [*scalar, weights(onnx, "pc", [4, 1, 1])])  # fmt: skip
    report = analyze_spec(str(path))[1]
    assert "gelu" not in [r.kind for r in report.layers]
    assert [op.op for op in report.uncounted] == ["Erf", "Add"]


def test_constants_convcost_cannot_evaluate_need_no_shape_inference(
    onnx: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m.onnx"
    ints = [onnx.helper.make_tensor(n, onnx.TensorProto.INT64, [], [v])
            for n, v in (("a", 0), ("b", 5), ("one", 1))]  # fmt: skip
    model(onnx, path, [
        node(onnx, "Range", ["a", "b", "one"], ["unused"], "/Range"),
        node(onnx, "Relu", ["x"], ["y"], "/Relu"),
    ], ints)  # fmt: skip
    code = (
        "import sys; from convcost.frontends import analyze_spec\n"
        f"r = analyze_spec({str(path)!r})[1]\n"
        "print([l.kind for l in r.layers], 'onnx' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "['relu'] False\n"


def test_diff_shows_unknown_work_as_unknown(runner: CliRunner, onnx: Any, tmp_path: Path) -> None:
    """A conv replaced by an operator convcost cannot count: its delta is unknown, not
    −100 %, and --fail-above refuses to compare partial totals unless allowed."""
    old, new = tmp_path / "old.onnx", tmp_path / "new.onnx"
    conv = node(onnx, "Conv", ["x", "W"], ["y"], "/blk/mix/Conv", pads=[1, 1, 1, 1])
    model(onnx, old, [conv], [weights(onnx, "W", [4, 4, 3, 3])])
    foo = onnx.helper.make_node("Foo", ["x"], ["y"], name="/blk/mix/Foo", domain="com.x")
    model(onnx, new, [foo], shapes=[("y", ["N", 4, 5, 5])], domains=["com.x"])
    result = runner.invoke(app, ["diff", str(old), str(new), "-f", "json", "--all"])
    assert result.exit_code == 0
    (layer,) = json.loads(result.stdout)["layers"]
    assert (layer["macs_delta"], layer["params_delta"]) == (None, None)
    assert (layer["old"]["macs"], layer["new"]["macs"], layer["new"]["params"]) == (
        3600,
        None,
        None,
    )
    markdown = runner.invoke(app, ["diff", str(old), str(new), "-f", "markdown"]).stdout
    assert "| 3,600 → ? | ? | ? | 144 → ? | ? |" in markdown
    refused = runner.invoke(app, ["diff", str(old), str(new), "--fail-above", "5"])
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.endswith(
        "convcost diff: --fail-above would compare totals that leave out operators convcost "
        "cannot count (com.x.Foo ×1 (blk/mix)): pass --allow-uncounted to compare them anyway\n"
    )
    allowed = runner.invoke(app, ["diff", str(old), str(new), "--fail-above", "5",
                                  "--allow-uncounted"])  # fmt: skip
    assert allowed.exit_code == 0
