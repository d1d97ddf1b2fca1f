"""JSON configs (the same schema as YAML): read fast by the json module, located on error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from convcost.cli import app
from convcost.entry import main
from convcost.frontends import analyze_spec, zoo
from tests.test_errors import ours


@pytest.mark.parametrize("name", ["googlenet", "resnet50", "mobilenet_v2", "squeezenet1_0"])
def test_json_and_yaml_give_the_same_report(name: str, tmp_path: Path) -> None:
    document = yaml.safe_load(zoo.model_text(name))
    (tmp_path / "net.json").write_text(json.dumps(document))
    (tmp_path / "net.yaml").write_text(zoo.model_text(name))
    _, from_json = analyze_spec(str(tmp_path / "net.json"))
    _, from_yaml = analyze_spec(str(tmp_path / "net.yaml"))
    assert from_json.layers == from_yaml.layers
    assert from_json.totals == from_yaml.totals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"input": "3x3x1",\n "layers": [\n  "conv 5x5 2 valid"]}\n',
         "net.json:3:4: layer 'conv1' (conv on 3×3×1): kernel 5x5 does not fit the 3x3 input "
         "with valid padding; the smallest input it fits is 5x5 (or pad more, e.g. padding: same)"),
        ('{"input": "3x3x1",\n "layers": [\n  {"type": "conv", "kernel": 3, "filtres": 2}]}\n',
         "net.json:3:33: conv has no setting 'filtres'; did you mean 'filters'? it takes kernel, "
         "filters, stride, padding, dilation, groups, bias"),
        ('{"input": "3x3x1", "input": "3x3x2", "layers": ["relu"]}',
         "net.json:1:20: key 'input' appears twice"),
    ],
)  # fmt: skip
def test_json_errors_are_located(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.json").write_text(text)
    result = runner.invoke(app, ["analyze", "net.json"])
    assert (result.exit_code, result.stdout, ours(result.stderr)) == (2, "", ours(message + "\n"))


# Text that is not JSON is refused where the json module stops; never re-read as YAML.
NOT_JSON = [
    ('{"input": "3x3x1", "layers": ["relu"]', 1, 38),
    ("input: 8x8x3\nlayers: [relu]\n", 1, 1),  # YAML in a .json file: analysed once
    ('{"input": "8x8x3",\n "layers": [\'relu\']}', 2, 13),
    ('{"input": "8x8x3", "layers": ["relu"], "budget": {"macs": 017}}', 1, 60),
    ("", 1, 1),
]


@pytest.mark.parametrize(("text", "line", "column"), NOT_JSON)
def test_a_json_config_that_is_not_json_is_refused(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    text: str, line: int, column: int,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.json").write_text(text)
    with pytest.raises(json.JSONDecodeError) as fault:  # its words are the json module's
        json.loads(text)
    result = runner.invoke(app, ["analyze", "net.json"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"net.json:{line}:{column}: not valid JSON: {fault.value.msg}; a .json config "
        "is read as JSON only (a YAML config is named .yaml)\n",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"input": "8x8x3",\n "layers": [{"type": "dropout", "rate": NaN}]}',
         "net.json:2:41: NaN is not JSON (JSON numbers are finite); write a number"),
        ('{"name": "NaN -Infinity", "input": "8x8x3", "layers": [{"dropout": {"rate": -Infinity'
         "}}]}", "net.json:1:77: -Infinity is not JSON (JSON numbers are finite); write a number"),
    ],
)  # fmt: skip
def test_nan_and_infinity_are_not_json(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    # Python's json module reads them, although JSON has neither.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.json").write_text(text)
    result = runner.invoke(app, ["analyze", "net.json"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")


def test_version_answers_without_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from convcost import __version__

    monkeypatch.setattr(sys, "argv", ["convcost", "--version"])
    main()
    assert capsys.readouterr().out == f"convcost {__version__}\n"
