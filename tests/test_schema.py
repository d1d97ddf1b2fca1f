"""The JSON Schema: generated from the parser's definitions, current in configs/, and in
agreement with the parser on valid and invalid configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from convcost.cli import app
from convcost.frontends import zoo
from convcost.frontends.schema import config_schema

CONFIGS = Path(__file__).parent.parent / "configs"
VALIDATOR = Draft202012Validator(config_schema())


def test_schema_is_valid_json_schema() -> None:
    Draft202012Validator.check_schema(config_schema())


def test_committed_schema_is_current(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    committed = (CONFIGS / "convcost.schema.json").read_text(encoding="utf-8")
    assert committed == result.stdout, "configs/convcost.schema.json is stale: run convcost schema"
    assert json.loads(committed) == config_schema()


@pytest.mark.parametrize("name", zoo.model_names())
def test_every_config_validates(name: str) -> None:
    document = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert list(VALIDATOR.iter_errors(document)) == []


VALID = [
    {"input": "28x28x192",
     "layers": ["conv 1x1 16 relu", {"conv": {"kernel": "5x5", "filters": 32}}]},
    {"input": [8, 8, 3],
     "layers": [{"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True}]},
    {"input": {"h": 8, "w": 8, "c": 3}, "budget": {"macs": "1.6G", "memory": "10MiB"},
     "layers": [{"residual": {"body": ["conv 3x3 3"], "shortcut": "auto"}}]},
    {"input": "8x8x3", "blocks": {"b": {"params": ["w"], "layers": ["conv 3x3 $w"]}},
     "layers": [{"b": {"w": 4, "repeat": 2, "name": "stage"}}, {"concat": [["relu"], ["tanh"]]}]},
    {"input": "8x8x3", "layers": [
        {"group": ["relu"], "repeat": 2, "name": "g"}, {"b": None, "repeat": 2, "start": 1},
        {"conv": {"kernel": 3, "filters": 2}, "repeat": 2, "first": {"stride": 2}},
        {"type": "conv", "kernel": 1, "filters": 2, "repeat": 2},
        {"residual": ["relu"], "repeat": 2}], "blocks": {"b": {"layers": ["relu"]}}},
    {"input": "8x8x3", "defaults": {"conv2d": {"padding": 0}, "maxpool": {"ceil_mode": True}},
     "layers": ["conv 3x3 4", {"conv": {"kernel": 3, "filters": 2, "padding": "0x1"}}]},
]  # fmt: skip
# The schema lets "$name" stand for any value, since JSON Schema cannot tell whether a value
# lies inside a block; the parser refuses one outside a block (tests/test_errors.py).
INVALID = [
    {"input": "8x8x3"},
    {"input": "8x8", "layers": ["relu"]},
    {"input": "8x8x3", "layers": []},
    {"input": "8x8x3", "layers": ["relu"], "layres": []},
    {"input": "8x8x3", "layers": [{"type": "conv", "kernel": 3, "filtres": 3}]},
    {"input": "8x8x3", "layers": [{"conv": {"kernel": 0, "filters": 3}}]},
    {"input": "8x8x3", "layers": [{"conv": {"kernel": 3, "filters": True}}]},
    {"input": "8x8x3", "layers": [{"conv": {"kernel": 3, "filters": 2, "padding": [1, 2, 3]}}]},
    {"input": "8x8x3", "layers": [{"dropout": {"rate": 1.5}}]},
    {"input": "8x8x3", "layers": [{"residual": {"body": ["relu"], "shortcut": "sometimes"}}]},
    {"input": "8x8x3", "layers": [{"concat": [["relu"]]}]},
    {"input": "8x8x3", "layers": ["relu"], "budget": {"flops": "1G"}},
    {"input": "8x8x3", "layers": ["relu"], "separator": "|"},
    {"input": "8x8x3", "layers": [{"conv": {"kernel": 3, "filters": 2}, "relu": None}]},
    {"input": "8x8x3", "layers": [{"name": "x", "repeat": 2}]},
    {"input": "8x8x3", "layers": [{"group": ["relu"], "repeat": 0}]},
    {"input": "8x8x3", "defaults": {"conv": {"paddin": 0}}, "layers": ["relu"]},
    {"input": "8x8x3", "defaults": {"conv": {"name": "c"}}, "layers": ["relu"]},
    {"input": "8x8x3", "defaults": {"cnv": {}}, "layers": ["relu"]},
    {"input": "8x8x3", "defaults": ["conv"], "layers": ["relu"]},
]  # fmt: skip


@pytest.mark.parametrize("document", VALID)
def test_schema_accepts_what_the_parser_accepts(document: object, runner: CliRunner) -> None:
    assert list(VALIDATOR.iter_errors(document)) == []
    result = runner.invoke(app, ["analyze", "-", "-f", "json"], input=yaml.safe_dump(document))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("document", INVALID)
def test_schema_refuses_what_the_parser_refuses(document: object, runner: CliRunner) -> None:
    assert list(VALIDATOR.iter_errors(document)) != []
    result = runner.invoke(app, ["analyze", "-"], input=yaml.safe_dump(document))
    assert result.exit_code == 2
