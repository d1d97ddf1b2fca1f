"""convcost diff: layers matched by name; deltas per layer and in total; --fail-above."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcost.analyses.diff import diff
from convcost.cli import app
from convcost.frontends import zoo
from convcost.frontends.inline import parse_inline
from convcost.frontends.tree import analyze

OLD = "28x28x192 | conv 5x5 32 name=main"
NEW = "28x28x192 | conv 1x1 16 name=reduce relu | conv 5x5 32 name=main"

TABLE = """\
28x28x192 | conv 5x5 32 name=main → 28x28x192 | conv 1x1 16
name=reduce relu | conv 5x5 32 name=main

 layer   change                     Δ MACs      Δ %  Δ params
 ────────────────────────────────────────────────────────────
 reduce  added                  +2,408,448      new    +3,088
 relu1   added                           0      0 %         0
 main    input, macs, params  −110,387,200  −91.7 %  −140,800

MACs 120,422,400 → 12,443,648 (−107,978,752, −89.7 %); params 153,632 → 15,920 (−137,712, −89.6 %);
3 of 3 layers differ
memory (fp32, adam): param bytes 0.61 MB → 0.06 MB (−89.6 %); peak memory 0.70 MB → 0.65 MB (−7.1
%); training memory 3.06 MB → 0.91 MB (−70.4 %)
"""

MARKDOWN = """\
**convcost diff** `28x28x192 | conv 5x5 32 name=main` → `28x28x192 | conv 1x1 16 name=reduce relu | conv 5x5 32 name=main`: MACs −107,978,752 (−89.7 %), params −137,712 (−89.6 %)

| layer | change | MACs | Δ MACs | Δ % | params | Δ params |
|---|---|---:|---:|---:|---:|---:|
| `reduce` | added | 0 → 2,408,448 | +2,408,448 | new | 0 → 3,088 | +3,088 |
| `relu1` | added | 0 → 0 | 0 | 0 % | 0 → 0 | 0 |
| `main` | changed: input, macs, params | 120,422,400 → 10,035,200 | −110,387,200 | −91.7 % | 153,632 → 12,832 | −140,800 |
| **total** | 3 of 3 layers differ | 120,422,400 → 12,443,648 | −107,978,752 | −89.7 % | 153,632 → 15,920 | −137,712 |

memory (fp32, adam): param bytes 0.61 MB → 0.06 MB (−89.6 %); peak memory 0.70 MB → 0.65 MB (−7.1 %); training memory 3.06 MB → 0.91 MB (−70.4 %)
"""  # noqa: E501


def test_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["diff", OLD, NEW])
    assert (result.exit_code, result.stdout, result.stderr) == (0, TABLE, "")


def test_markdown_for_pull_request_comments(runner: CliRunner) -> None:
    result = runner.invoke(app, ["diff", OLD, NEW, "-f", "markdown"])
    assert (result.exit_code, result.stdout) == (0, MARKDOWN)


def test_json(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(app, ["diff", OLD, NEW, "-f", "json"]).stdout)
    assert data["totals"]["macs"] | {"percent": None} == {
        "old": 120_422_400, "new": 12_443_648, "delta": -107_978_752, "percent": None,
    }  # fmt: skip
    assert [(c["name"], c["status"], c["macs_delta"]) for c in data["layers"]] == [
        ("reduce", "added", 2_408_448), ("relu1", "added", 0), ("main", "changed", -110_387_200),
    ]  # fmt: skip
    assert data["unchanged"] == 0


def test_removed_and_unchanged_layers() -> None:
    old = analyze(parse_inline("8x8x3 | conv 3x3 8 name=a | conv 3x3 8 name=b | relu name=c"))
    new = analyze(parse_inline("8x8x3 | conv 3x3 8 name=a | relu name=c"))
    result = diff(old, new)
    assert [(c.name, c.status) for c in result.layers] == [
        ("a", "same"), ("b", "removed"), ("c", "same"),
    ]  # fmt: skip
    assert result.layers[1].macs_delta == -(8 * 8 * 8 * 9 * 8)


def test_identical_networks_differ_nowhere() -> None:
    report = analyze(zoo.load_model("googlenet"))
    result = diff(report, report)
    assert result.changed == () and len(result.layers) == len(report.layers)


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        ([OLD, NEW, "--fail-above", "0"], 0, ""),  # shrinking never fails
        ([NEW, OLD, "--fail-above", "868"], 0, ""),  # MACs +867.7 %, params +865.0 %
        ([NEW, OLD, "--fail-above", "867.5"], 1,
         "convcost diff: macs grow by more than 867.5 %\n"),
        (["28x28x192 | conv 5x5 32", "28x28x192 | conv 5x5 33", "--fail-above", "3.125"], 0, ""),
        (["28x28x192 | conv 5x5 32", "28x28x192 | conv 5x5 33", "--fail-above", "3.1"], 1,
         "convcost diff: macs and params grow by more than 3.1 %\n"),
        (["28x28x192 | conv 5x5 32", "28x28x192 | conv 5x5 32 nobias", "--fail-above", "0"], 0, ""),
        (["resnet18", "resnet50", "--fail-above", "120"], 1,
         "convcost diff: macs grow by more than 120 %\n"),
    ],
)  # fmt: skip
def test_fail_above(runner: CliRunner, args: list[str], code: int, stderr: str) -> None:
    # conv 5x5 32 → 33 filters: MACs and params grow by exactly 1/32 = 3.125 %.
    result = runner.invoke(app, ["diff", *args, "-f", "json"])
    assert (result.exit_code, result.stderr) == (code, stderr)


def test_bad_input_is_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["diff", OLD, "28x28x192 | cnv 3"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("<spec>:1:13: unknown layer kind 'cnv'")
