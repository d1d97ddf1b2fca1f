"""convcost check: budgets from configs and flags, every exit code and format."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from convcost.analyses.quantities import parse_quantity
from convcost.cli import app
from convcost.core.errors import ConvcostError

GOOD = """\
input: 28x28x192
budget:
  macs: 13M
  params: 16k
layers:
  - conv 1x1 16 relu
  - conv 5x5 32
"""
BAD = """\
input: 28x28x192
budget:
  macs: 100M
  memory: 1MB
layers:
  - conv 5x5 32
"""
NO_BUDGET = "input: 8x8x3\nlayers: [relu]\n"


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in (("good", GOOD), ("bad", BAD), ("none", NO_BUDGET)):
        (tmp_path / f"{name}.yaml").write_text(text)
    (tmp_path / "broken.yaml").write_text("input: 8x8x3\nlayers: [rleu]\n")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "metric", "value"),
    [
        ("1.6G", "macs", 1_600_000_000), ("7M", "params", 7_000_000), ("12k", "macs", 12_000),
        ("2T", "macs", 2 * 10**12), ("12443648", "macs", 12_443_648), (42, "params", 42),
        ("1_000", "params", 1000), ("100MB", "memory", 100_000_000),
        ("95MiB", "memory", 95 * 2**20),
        ("1.5GiB", "memory", 3 * 2**29), ("512KiB", "memory", 2**19), ("64kB", "memory", 64_000),
        ("2GB", "memory", 2 * 10**9), ("4096", "memory", 4096), ("0", "macs", 0),
        ("1,600,000", "macs", 1_600_000), ("1,600.5M", "macs", 1_600_500_000),
        ("12,443,648", "macs", 12_443_648), ("1_000_000", "params", 10**6), ("1_0", "params", 10),
    ],
)  # fmt: skip
def test_quantities_are_exact(text: str | int, metric: str, value: int) -> None:
    assert parse_quantity(text, metric) == value


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("1.6g", "macs"),
        ("7 m", "params"),
        ("100MB", "macs"),
        ("1.2345k", "macs"),
        ("-5", "macs"),
        ("M", "macs"),
        ("1e9", "macs"),
        ("10Mb", "memory"),
        ("", "macs"),
        ("inf", "macs"),
        ("nan", "macs"),
        ("1e400", "macs"),
    ],
)
def test_malformed_quantities_are_refused(text: str, metric: str) -> None:
    with pytest.raises(ConvcostError):
        parse_quantity(text, metric)


TABLE = """\

 config     budget       actual        limit     headroom        %  status
 ─────────────────────────────────────────────────────────────────────────
 good.yaml  macs     12,443,648   13,000,000     +556,352   +4.3 %  PASS
 good.yaml  params       15,920       16,000          +80   +0.5 %  PASS
 bad.yaml   macs    120,422,400  100,000,000  −20,422,400  −20.4 %  FAIL
 bad.yaml   memory      714,880    1,000,000     +285,120  +28.5 %  PASS

"""


def test_table_and_exit_1_when_a_budget_is_exceeded(runner: CliRunner, configs: Path) -> None:
    result = runner.invoke(app, ["check", "good.yaml", "bad.yaml"])
    assert (result.exit_code, result.stdout, result.stderr) == (1, TABLE, "")


def test_exit_0_when_all_within_budget(runner: CliRunner, configs: Path) -> None:
    result = runner.invoke(app, ["check", "good.yaml", "-f", "github"])
    assert (result.exit_code, result.stdout) == (
        0,
        "convcost check: 2 of 2 budgets within limits\n",
    )


def test_exactly_at_the_limit_passes(runner: CliRunner, configs: Path) -> None:
    result = runner.invoke(
        app, ["check", "good.yaml", "--max-macs", "12443648", "--max-params", "15920", "-f", "json"]
    )
    assert result.exit_code == 0
    budgets = json.loads(result.stdout)["configs"][0]["budgets"]
    assert [(b["metric"], b["headroom"], b["passed"]) for b in budgets] == [
        ("macs", 0, True),
        ("params", 0, True),
    ]
    over = runner.invoke(app, ["check", "good.yaml", "--max-macs", "12443647"])
    assert over.exit_code == 1


def test_flags_override_the_config_budget(runner: CliRunner, configs: Path) -> None:
    result = runner.invoke(app, ["check", "bad.yaml", "--max-macs", "121M", "-f", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0
    assert data["passed"] is True
    assert data["configs"][0]["budgets"] == [
        {"metric": "macs", "actual": 120_422_400, "limit": 121_000_000, "headroom": 577_600,
         "passed": True, "source": "flag", "line": None},
        {"metric": "memory", "actual": 714_880, "limit": 1_000_000, "headroom": 285_120,
         "passed": True, "source": "config", "line": 4},
    ]  # fmt: skip


def test_github_annotations_point_at_the_budget_line(runner: CliRunner, configs: Path) -> None:
    result = runner.invoke(app, ["check", "good.yaml", "bad.yaml", "none.yaml", "-f", "github"])
    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=bad.yaml,line=3,title=convcost budget::macs 120,422,400 exceed the budget "
        "100,000,000 by 20,422,400 (+20.4 %25)\n"
        "::error file=none.yaml,title=convcost::no budget: add a budget: section (macs, params, "
        "activations, memory, peak_memory, training_memory, latency) or pass --max-macs and the "
        "like\n"
        "convcost check: 3 of 4 budgets within limits\n"
    )


def test_a_config_without_budget_is_reported_not_passed(runner: CliRunner, configs: Path) -> None:
    result = runner.invoke(app, ["check", "none.yaml"])
    assert result.exit_code == 1
    assert "NO BUDGET" in result.stdout
    assert result.stderr == (
        "none.yaml: no budget: add a budget: section (macs, params, activations, memory, "
        "peak_memory, training_memory, latency) or pass --max-macs and the like\n"
    )


def test_bad_input_is_exit_2_and_the_others_are_still_checked(
    runner: CliRunner, configs: Path
) -> None:
    result = runner.invoke(app, ["check", "good.yaml", "broken.yaml", "-f", "json"])
    assert result.exit_code == 2
    assert result.stderr.startswith("broken.yaml:2:10: unknown layer kind 'rleu'")
    data = json.loads(result.stdout)
    assert [c["status"] for c in data["configs"]] == ["PASS", "ERROR"]


@pytest.mark.parametrize(
    "flag", ["--max-macs", "--max-params", "--max-activations", "--max-memory"]
)
def test_malformed_flag_is_a_usage_error(runner: CliRunner, configs: Path, flag: str) -> None:
    result = runner.invoke(app, ["check", "good.yaml", flag, "lots"])
    assert (result.exit_code, result.stdout) == (2, "")
    metric = flag.removeprefix("--max-")
    assert result.stderr.startswith(f"convcost check: --max-{metric}: 'lots' is not a quantity")


GROUPS = (
    "a comma only groups digits in threes (1,600,000 or 1,600.5M); write the number without commas"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,6G", "'1,6G' is ambiguous: 1.6G (a decimal comma) or 16G (a thousands separator)? "
                 "write 1.6G or 16G"),
        ("1,600G", "'1,600G' is ambiguous: 1.600G (a decimal comma) or 1600G (a thousands "
                   "separator)? write 1.600G or 1600G"),
        ("7,000", "'7,000' is ambiguous: 7.000 (a decimal comma) or 7000 (a thousands "
                  "separator)? write 7.000 or 7000"),
        ("2,,,,0", f"'2,,,,0' is not a quantity: {GROUPS}"),
        ("1,60,000", f"'1,60,000' is not a quantity: {GROUPS}"),
        ("1,6,0G", f"'1,6,0G' is not a quantity: {GROUPS}"),
        ("1,6.5G", f"'1,6.5G' is not a quantity: {GROUPS}"),
        ("1,000_000", f"'1,000_000' is not a quantity: {GROUPS}"),
        ("1__000", "'1__000' is not a quantity: an underscore only stands between two digits "
                   "(1_000_000)"),
        ("1_", "'1_' is not a quantity: an underscore only stands between two digits "
               "(1_000_000)"),
    ],
)  # fmt: skip
def test_a_number_that_reads_two_ways_is_refused(
    runner: CliRunner, configs: Path, text: str, message: str
) -> None:
    # resnet18 has 1.8G MACs: --max-macs 1,6G read as 16G passed it once.
    with pytest.raises(ConvcostError) as error:
        parse_quantity(text, "macs")
    assert error.value.message == f"macs: {message}"
    result = runner.invoke(app, ["check", "resnet18", "--max-macs", text])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"convcost check: --max-macs: {message}\n"
    )  # fmt: skip
    (configs / "comma.yaml").write_text(GOOD.replace("macs: 13M", f"macs: '{text}'"))
    result = runner.invoke(app, ["check", "comma.yaml"])  # its row says ERROR on stdout
    assert (result.exit_code, result.stderr) == (2, f"comma.yaml:3:9: budget macs: {message}\n")


def test_junit_xml_follows_the_common_schema(runner: CliRunner, configs: Path) -> None:
    # The structure the Apache Ant JUnitReport schema (the one CI dashboards read) requires of
    # an aggregated report, checked element by element.
    result = runner.invoke(app, ["check", "good.yaml", "bad.yaml", "broken.yaml", "-f", "junit"])
    assert result.exit_code == 2
    root = ElementTree.fromstring(result.stdout)
    assert root.tag == "testsuites" and root.attrib == {}
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["good.yaml", "bad.yaml", "broken.yaml"]
    required = {"package", "id", "name", "timestamp", "hostname", "tests", "failures", "errors",
                "time"}  # fmt: skip
    for index, suite in enumerate(suites):
        assert required <= set(suite.attrib) <= required | {"skipped"}
        assert suite.get("id") == str(index)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.get("timestamp", ""))
        children = [child.tag for child in suite]
        assert children[0] == "properties" and children[-2:] == ["system-out", "system-err"]
        cases = suite.findall("testcase")
        assert children[1:-2] == ["testcase"] * len(cases)
        for case in cases:
            assert set(case.attrib) == {"name", "classname", "time"}
            assert len(case) <= 1 and all(c.tag in ("failure", "error", "skipped") for c in case)
            assert all(c.get("type") for c in case)
        failures = sum(1 for case in cases for c in case if c.tag == "failure")
        errors = sum(1 for case in cases for c in case if c.tag == "error")
        assert suite.get("tests") == str(len(cases))
        assert (suite.get("failures"), suite.get("errors")) == (str(failures), str(errors))
    names = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert names == [
        ("good.yaml", "macs"), ("good.yaml", "params"), ("bad.yaml", "macs"),
        ("bad.yaml", "memory"), ("broken.yaml", "config"),
    ]  # fmt: skip
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.get("message") == (
        "macs 120,422,400 exceed the budget 100,000,000 by 20,422,400 (+20.4 %)"
    )


def test_budget_section_errors_are_located(runner: CliRunner, configs: Path) -> None:
    (configs / "typo.yaml").write_text(GOOD.replace("macs: 13M", "macs: 13m"))
    result = runner.invoke(app, ["check", "typo.yaml"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "typo.yaml:3:9: budget macs: '13m' is not a quantity; write an integer or a number "
        "with one of k, M, G, T (e.g. 1.6G)"
    )
