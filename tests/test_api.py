"""The Python API: what ``convcost.__all__`` lists, and the same figures as the CLI's JSON."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost import api
from convcost.api import CheckReport
from convcost.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
PUBLIC = [
    "AdviceReport", "CheckReport", "Comparison", "ConvcostError", "DiffReport", "Loaded",
    "Report", "advise", "analyze", "check", "compare", "diff", "load", "settings",
]  # fmt: skip
SEED = "28x28x192 | conv 5x5 32"
SEED_BOTTLENECK = "28x28x192 | conv 1x1 16 | conv 5x5 32"
RESNET18_MACS = 1_814_073_344


def cli_json(runner: CliRunner, *args: str, exit_code: int = 0) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == exit_code, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_all_is_the_documented_list() -> None:
    section = README.split("## Python API", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(?:convcost\.)?(\w+)", section, flags=re.M)
    assert convcost.__all__ == PUBLIC == sorted(documented)
    assert all(hasattr(api, name) for name in PUBLIC)
    for name in PUBLIC:
        assert getattr(convcost, name) is getattr(api, name)
    assert set(PUBLIC) <= set(dir(convcost))
    with pytest.raises(AttributeError):
        convcost.nothing_of_that_name  # noqa: B018


def test_import_convcost_imports_nothing_more() -> None:
    # The console script imports the package for __version__ on every start: the API's
    # names load on first use, and then without the CLI's Typer and Rich.
    code = (
        "import sys; import convcost; before = set(sys.modules); convcost.analyze; "
        "sys.stdout.write(repr((sorted(before), sorted(sys.modules))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    before, after = (set(modules) for modules in ast.literal_eval(done.stdout))
    assert {m for m in before if m.startswith("convcost")} == {"convcost"}
    assert "typing" not in before
    assert "convcost.api" in after
    assert {"typer", "rich", "yaml", "convcost.cli"} & after == set()


@pytest.mark.parametrize(
    ("spec", "macs"),
    [(SEED, 120_422_400), (SEED_BOTTLENECK, 12_443_648), ("resnet18", RESNET18_MACS)],
)
@pytest.mark.parametrize("explain", [False, True])
def test_analyze_is_the_clis_json(runner: CliRunner, spec: str, macs: int, explain: bool) -> None:
    report = convcost.analyze(spec)
    assert report.macs == macs
    cli = cli_json(runner, "analyze", spec, *(["--explain"] if explain else []))
    assert report.to_dict(explain=explain) == cli
    assert (report.flops, report.params, report.activations) == tuple(
        cli["totals"][key] for key in ("flops", "params", "activations")
    )
    assert list(report.output_shape) == cli["output_shape"]


def test_analyze_options_are_the_clis(runner: CliRunner) -> None:
    report = convcost.analyze("resnet18", batch=3, no_bias=True, max_layers=500)
    cli = cli_json(
        runner, "analyze", "resnet18", "--batch", "3", "--no-bias", "--max-layers", "500"
    )
    assert report.to_dict() == cli
    assert report.macs == 3 * RESNET18_MACS
    assert report.description == "ResNet-18 (He et al. 2015; torchvision.models.resnet18)"


@pytest.mark.parametrize("explain", [False, True])
def test_compare_is_the_clis_json(runner: CliRunner, explain: bool) -> None:
    comparison = convcost.compare("28x28x192", "5x5", 32, [16])
    assert (comparison.direct_macs, comparison.bottleneck_macs) == (120_422_400, {16: 12_443_648})
    assert (comparison.direct_params, comparison.bottleneck_params) == (153_632, {16: 15_920})
    assert round(comparison.break_even, 1) == 154.8
    args = ["compare", "28x28x192", "--5x5", "32", "-b", "16", *(["--explain"] if explain else [])]
    assert comparison.to_dict(explain=explain) == cli_json(runner, *args)


def test_compare_takes_numbers_and_the_clis_options(runner: CliRunner) -> None:
    comparison = convcost.compare(
        (14, 14, 480), (5, 5), 48, 16, stride=2, padding="valid", batch=2, no_bias=True
    )
    args = ["compare", "14x14x480", "--kernel", "5x5", "--filters", "48", "-b", "16",
            "--stride", "2", "--padding", "valid", "--batch", "2", "--no-bias"]  # fmt: skip
    assert comparison.to_dict() == cli_json(runner, *args)


CHECKED = ["resnet18", SEED]


@pytest.mark.parametrize(
    ("call", "options", "exit_code"),
    [
        (lambda: convcost.check(CHECKED, macs="2G"), ["--max-macs", "2G"], 0),
        (lambda: convcost.check(CHECKED, macs="1.6G", params=12_000_000),
         ["--max-macs", "1.6G", "--max-params", "12M"], 1),
        (lambda: convcost.check(CHECKED), [], 1),  # no budget
    ],
)  # fmt: skip
def test_check_is_the_clis_json(
    runner: CliRunner, call: Callable[[], CheckReport], options: list[str], exit_code: int
) -> None:
    result = call()
    assert (result.passed, result.exit_code) == (exit_code == 0, exit_code)
    cli = cli_json(runner, "check", *CHECKED, *options, exit_code=exit_code)
    assert result.to_dict() == cli
    if options:
        assert result.configs[0].verdicts[0].actual == RESNET18_MACS


def test_check_reports_a_spec_it_cannot_read(runner: CliRunner) -> None:
    result = convcost.check("resnet5", macs="1G")
    assert [c.status for c in result.configs] == ["ERROR"]
    assert result.exit_code == 2
    assert result.to_dict() == cli_json(runner, "check", "resnet5", "--max-macs", "1G", exit_code=2)


def test_check_takes_the_configs_budget(tmp_path: Path) -> None:
    config = tmp_path / "net.yaml"
    config.write_text("input: 28x28x192\nlayers: [conv 5x5 32]\nbudget: {macs: 100M}\n")
    assert convcost.load(str(config)).budget[0].value == 100_000_000
    assert convcost.analyze(str(config)).budget == convcost.load(str(config)).budget
    assert convcost.check(str(config)).exit_code == 1
    assert convcost.check(str(config), macs="121M").exit_code == 0  # the argument wins


@pytest.mark.parametrize("show_all", [False, True])
def test_diff_is_the_clis_json(runner: CliRunner, show_all: bool) -> None:
    result = convcost.diff("resnet18", "resnet50")
    assert result.macs_delta == 4_089_184_256 - RESNET18_MACS
    assert result.params_delta == 25_557_032 - 11_689_512
    cli = cli_json(runner, "diff", "resnet18", "resnet50", *(["--all"] if show_all else []))
    assert result.to_dict(show_all=show_all) == cli


def test_load_resolves_a_spec_as_the_cli_does() -> None:
    loaded = convcost.load("resnet18")
    assert isinstance(loaded, convcost.Loaded)
    assert loaded.description.startswith("ResNet-18")
    assert loaded.budget == ()
    assert convcost.load(SEED, no_bias=True).network.input_shape.as_list() == [28, 28, 192]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: convcost.analyze("resnet5"),
         "resnet5: no such file or built-in model; did you mean 'resnet50'? built-in models: "
         "alexnet, convnext_tiny, efficientnet_b0, googlenet, inception_3a, inception_4a, "
         "mobilenet_v1, mobilenet_v2, mobilenet_v3_large, nin, regnet_y_400mf, resnet18, "
         "resnet50, shufflenet_v2_x1_0, squeezenet1_0, unet, vgg16 (see convcost models)"),
        (lambda: convcost.analyze(SEED, batch=0), "batch: must be positive, got 0"),
        (lambda: convcost.load(SEED, max_layers=0), "max_layers: must be positive, got 0"),
        (lambda: convcost.compare("28x28x192", "5x5", 32, [0]),
         "bottlenecks: must be positive, got 0"),
        (lambda: convcost.compare("28x28", "5x5", 32),
         "input shape '28x28' is not HxWxC; write it like 28x28x192 (height x width x channels)"),
        (lambda: convcost.check("resnet18", mcas="1G"),
         "check has no limit 'mcas'; did you mean 'macs'? limits: macs, params, activations, "
         "memory, peak_memory, training_memory, latency"),
        (lambda: convcost.check("resnet18", macs="1,6G"),
         "macs: '1,6G' is ambiguous: 1.6G (a decimal comma) or 16G (a thousands separator)? "
         "write 1.6G or 16G"),
        (lambda: convcost.diff("-", "-"),
         "standard input can be read only once, but '-' is given 2 times; give '-' for one "
         "config and the others as files"),
    ],
)  # fmt: skip
def test_bad_input_raises_convcost_error(call: Any, message: str) -> None:
    with pytest.raises(convcost.ConvcostError) as error:
        call()
    assert error.value.message == message


def test_the_modules_examples_hold() -> None:
    import doctest

    results = doctest.testmod(api)
    assert (results.failed, results.attempted) == (0, 3)
