"""The one output path (issue #12): the metrics table drives budgets, options, the schema and
columns; every format a command accepts has a writer; ``--depth`` lists the same rows in
every format; the check loop and shape's rules work without the CLI."""

from __future__ import annotations

import csv
import io
import json
from operator import attrgetter
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from convcost.analyses.budget import Checks, check_configs, flag_limits, no_budget
from convcost.analyses.compare import Comparison
from convcost.analyses.diff import Diff
from convcost.analyses.models import Models
from convcost.analyses.quantities import SUFFIXES
from convcost.analyses.shape import LayerShape, layer_shape
from convcost.cli import app
from convcost.core import metrics
from convcost.core.errors import ConvcostError
from convcost.core.metrics import METRICS, Metric, budgetable
from convcost.core.report import Report
from convcost.frontends import analyze_spec
from convcost.frontends.schema import config_schema
from convcost.render.columns import shown_rows
from convcost.render.registry import Document, Format, find

COMMAND = typer.main.get_command(app)
# What each command hands to emit.
RESULTS: dict[str, type] = {
    "analyze": Report, "shape": LayerShape, "compare": Comparison, "models": Models,
    "check": Checks, "diff": Diff,
}  # fmt: skip


def _params(command: str) -> dict[str, Any]:
    sub = COMMAND.commands[command]  # type: ignore[attr-defined]
    return {p.name: p for p in sub.params}


def _formats(command: str) -> list[str]:
    return list(_params(command)["output_format"].type.choices)


# --- the metrics table ----------------------------------------------------------------------


def test_every_budgetable_metric_has_an_option_a_schema_key_and_suffixes() -> None:
    keys = [m.key for m in budgetable()]
    assert keys == ["macs", "params", "activations", "memory", "peak_activation_bytes",
                    "training_bytes", "latency_s"]  # fmt: skip
    names = [m.budget_name for m in budgetable()]
    assert names == [*keys[:4], "peak_memory", "training_memory", "latency"]
    options = [p for p in _params("check").values() if p.opts[0].startswith("--max-")]
    assert [p.opts for p in options if p.name != "max_layers"] == [
        [f"--max-{name.replace('_', '-')}"] for name in names
    ]
    budget = config_schema()["properties"]["budget"]["properties"]
    assert list(budget) == names
    assert all(m.unit in SUFFIXES for m in budgetable())


def test_a_metric_is_read_through_the_table() -> None:
    report = analyze_spec("28x28x192 | conv 1x1 16 relu | conv 5x5 32")[1]
    totals = report.totals
    assert {k: m.read(totals) for k, m in METRICS.items()} == {
        "macs": totals.macs, "flops": totals.flops, "params": totals.params,
        "buffers": totals.buffers, "activations": totals.activations,
        "param_bytes": totals.param_bytes, "activation_bytes": totals.activation_bytes,
        "memory": totals.param_bytes + totals.activation_bytes,
        **{field: getattr(totals.cost, field) for field in (
            "weight_bytes", "input_bytes", "output_bytes", "ops", "bytes_moved", "live_bytes",
            "arithmetic_intensity", "latency_s")},
        "peak_activation_bytes": totals.costed.peak.bytes,
        "saved_activation_bytes": totals.costed.training.saved_activations,
        "training_bytes": totals.costed.training.total,
    }  # fmt: skip


@pytest.fixture
def weights_kib(monkeypatch: pytest.MonkeyPatch) -> Metric:
    """A new metric: one entry in the table, read from the base counts."""
    metric = Metric(
        "weights_kib", "kibibytes of parameters", "weights KiB", "count",
        lambda f: f.params * 4 // 1024, budget_example="64",
    )  # fmt: skip
    monkeypatch.setitem(metrics.METRICS, metric.key, metric)
    return metric


SPEC = "28x28x192 | conv 1x1 16 relu | conv 5x5 32"


def test_a_new_metric_shows_up_in_json_totals_and_layers(
    runner: CliRunner, weights_kib: Metric
) -> None:
    data = json.loads(runner.invoke(app, ["analyze", SPEC, "-f", "json"]).stdout)
    params = data["totals"]["params"]
    assert data["totals"]["weights_kib"] == params * 4 // 1024
    metrics = [key for key in data["totals"] if key in METRICS]
    assert metrics[-1] == "weights_kib"  # added last: older keys keep their place
    assert [layer["weights_kib"] for layer in data["layers"]] == [
        layer["params"] * 4 // 1024 for layer in data["layers"]
    ]


def test_a_new_metric_is_a_csv_column(runner: CliRunner, weights_kib: Metric) -> None:
    rows = list(csv.reader(io.StringIO(runner.invoke(app, ["analyze", SPEC, "-f", "csv"]).stdout)))
    header, *body = rows
    # after the metrics, before the shares of the totals
    assert header[-3:] == ["weights_kib", "macs_share", "flops_share"]
    at = header.index("params")
    assert [row[-3] for row in body] == [str(int(row[at]) * 4 // 1024) for row in body]


def test_a_new_budgetable_metric_is_checked(weights_kib: Metric) -> None:
    flags = flag_limits({"weights_kib": "1"})
    checks = check_configs([SPEC], flags, analyze_spec, lambda line: None)
    (verdict,) = checks.configs[0].verdicts
    assert (verdict.metric, verdict.actual, verdict.passed) == ("weights_kib", 62, False)
    assert no_budget().startswith(
        "no budget: add a budget: section (macs, params, activations, memory, peak_memory, "
        "training_memory, latency, weights_kib)"
    )


def test_totals_only_metrics_stay_out_of_layer_rows(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(app, ["analyze", SPEC, "-f", "json"]).stdout)
    per_layer = [m.key for m in METRICS.values() if m.per_layer and m.source != "device"]
    assert [k for k in data["layers"][0] if k in METRICS] == per_layer
    without_device = [m.key for m in METRICS.values() if m.source != "device"]
    assert [k for k in data["totals"] if k in METRICS] == without_device


def test_diff_compares_the_diffed_metrics(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(app, ["diff", "resnet18", "resnet50", "-f", "json"]).stdout)
    per_layer = [m.key for m in METRICS.values() if m.diffed]
    whole = [m.key for m in METRICS.values() if m.diff_total]
    assert list(data["totals"]) == [*per_layer, *whole]
    assert whole == ["param_bytes", "peak_activation_bytes", "training_bytes"]
    fp16 = json.loads(
        runner.invoke(app, ["diff", "resnet18", "resnet50", "-f", "json", "--dtype", "fp16"]).stdout
    )
    assert fp16["totals"]["peak_activation_bytes"] == {
        "old": 4_014_080 // 2, "new": 7_225_344 // 2, "delta": 3_211_264 // 2, "percent": 80.0
    }  # fmt: skip


# --- the writer registry --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "formats"),
    [
        ("analyze", ["table", "json", "csv", "markdown", "html"]),
        ("shape", ["table", "json", "csv", "markdown"]),
        ("compare", ["table", "json", "csv", "markdown", "html"]),
        ("models", ["table", "json", "csv", "markdown"]),
        ("check", ["table", "json", "github", "junit"]),
        ("diff", ["table", "json", "markdown"]),
    ],
)
def test_every_format_a_command_accepts_has_a_writer(command: str, formats: list[str]) -> None:
    assert _formats(command) == formats
    for name in formats:
        assert callable(find(RESULTS[command], Format(name)))


def test_the_schema_is_a_json_document() -> None:
    assert callable(find(Document, Format.json))
    assert "output_format" not in _params("schema")


@pytest.mark.parametrize(
    ("args", "accepted"),
    [
        (["check", "resnet18", "-f", "csv"], "'table', 'json', 'github', 'junit'"),
        (["analyze", "resnet18", "-f", "github"], "'table', 'json', 'csv', 'markdown', 'html'"),
        (["diff", "a", "b", "-f", "csv"], "'table', 'json', 'markdown'"),
        (["models", "-f", "junit"], "'table', 'json', 'csv', 'markdown'"),
    ],
)
def test_a_format_the_command_has_no_writer_for_is_refused(
    runner: CliRunner, args: list[str], accepted: str
) -> None:
    result = runner.invoke(app, args)
    command = f"convcost {args[0]}"
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        f"{command}: Invalid value for '--format' / '-f': '{args[-1]}' is not one of "
        f"{accepted}. (see {command} --help)\n",
    )


def test_no_writer_is_a_lookup_error() -> None:
    with pytest.raises(
        LookupError, match=r"^no csv writer for convcost\.analyses\.budget\.Checks$"
    ):
        find(Checks, Format.csv)


# --- --depth: the same rows in every format -------------------------------------------------


def _names(runner: CliRunner, model: str, fmt: str, depth: int) -> list[str]:
    out = runner.invoke(app, ["analyze", model, "-f", fmt, "--depth", str(depth)]).stdout
    if fmt == "csv":
        return [row[0] for row in csv.reader(io.StringIO(out))][1:-1]
    if fmt == "json":
        return [row["name"] for row in json.loads(out)["rows"]]
    table = out.split("\n\n", 1)[0]  # the table, before the footer
    lines = table.splitlines()[2:-1]  # Markdown: header, rule, rows, total
    return [line.split(" | ")[0].removeprefix("| ").strip("*`") for line in lines]


@pytest.mark.parametrize("model", ["resnet18", "googlenet", "mobilenet_v2"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_depth_lists_the_same_rows_in_every_format(
    runner: CliRunner, model: str, depth: int
) -> None:
    report = analyze_spec(model)[1]
    expected = [row.name for row in shown_rows(report, depth)]
    assert {fmt: _names(runner, model, fmt, depth) for fmt in ("csv", "json", "markdown")} == {
        fmt: expected for fmt in ("csv", "json", "markdown")
    }
    wide = CliRunner(env={"COLUMNS": "1000", "NO_COLOR": "1", "TERM": "dumb"})  # no folding
    table = wide.invoke(app, ["analyze", model, "--depth", str(depth)]).stdout
    body = table.split("─\n", 1)[1].splitlines()
    assert body.index(next(line for line in body if line.lstrip().startswith("total"))) == len(
        expected
    )


def test_json_rows_at_depth_carry_their_figures(runner: CliRunner) -> None:
    data = json.loads(
        runner.invoke(app, ["analyze", "resnet18", "-f", "json", "--depth", "1"]).stdout
    )
    assert data["depth"] == 1
    top = [row for row in data["rows"] if row["depth"] == 0]
    assert top == data["rows"]
    # At depth 1 every row is a top-level layer or group: together they are the network.
    per_layer = [
        m.key for m in METRICS.values() if m.per_layer and m.sums == "sum" and m.source != "device"
    ]
    assert {k: sum(row[k] for row in top) for k in per_layer} == {
        k: data["totals"][k] for k in per_layer
    }
    layer2 = next(row for row in data["rows"] if row["name"] == "layer2")
    group = next(g for g in data["groups"] if g["name"] == "layer2")
    assert (layer2["row"], layer2["macs"]) == ("group", group["totals"]["macs"])


def test_json_without_depth_has_no_rows(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(app, ["analyze", "resnet18", "-f", "json"]).stdout)
    assert "rows" not in data and "depth" not in data


# --- the work the CLI hands over ------------------------------------------------------------


def test_check_configs_reports_errors_and_missing_budgets() -> None:
    said: list[str] = []
    checks = check_configs(["8x8x3 | relu", "8x8x3 | rleu"], {}, analyze_spec, said.append)
    assert [c.status for c in checks.configs] == ["NO BUDGET", "ERROR"]
    assert said[0] == f"8x8x3 | relu: {no_budget()}"
    assert said[1].startswith("convcost: ") or "rleu" in said[1]
    assert checks.exit_code == 2


def test_flag_limits_name_the_option() -> None:
    with pytest.raises(ConvcostError) as caught:
        flag_limits({"macs": "1,6G"})
    assert caught.value.message.startswith("--max-macs: '1,6G' is ambiguous")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pool": "max", "filters": 3}, "--filters applies to a conv, not to a pool"),
        ({"ceil_mode": True}, "--ceil-mode applies to pools (--pool max|avg), not to a conv"),
    ],
)
def test_layer_shape_refuses_options_of_the_other_kind(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConvcostError) as caught:
        layer_shape("28x28x8", "3", **options)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("options", "kind", "output"),
    [
        ({}, "conv", (28, 28, 8)),
        ({"filters": 16, "stride": "2", "padding": "valid"}, "conv", (13, 13, 16)),
        ({"pool": "avg", "stride": "2"}, "avgpool", (13, 13, 8)),
        ({"pool": "max", "stride": "2", "ceil_mode": True}, "maxpool", (14, 14, 8)),
    ],
)
def test_layer_shape_builds_a_conv_or_a_pool(
    options: dict[str, Any], kind: str, output: tuple[int, int, int]
) -> None:
    (layer,) = layer_shape("28x28x8", "3", **options).report.layers
    assert (layer.kind, attrgetter("h", "w", "c")(layer.output_shape)) == (kind, output)
