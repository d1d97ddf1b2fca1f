"""Names and file names cannot hijack or break an output (issue 11 §4): whatever a layer,
group, block or file is called, a terminal gets no control character, bidi override or
zero-width character; JUnit stays valid XML; Markdown keeps its table and shows no link or
HTML; GitHub workflow commands keep their fields; CSV keeps a row a line; an error keeps its
line; JSON carries the exact name. Every unsafe character is shown as a Python escape."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.render import table

# A name, and how every human-readable output shows it.
HOSTILE = [
    ("a\x1b[2Jb", r"a\x1b[2Jb"),  # clears the screen
    ("t\x1b]0;owned\x07", r"t\x1b]0;owned\x07"),  # retitles the terminal
    ("bell\x07", r"bell\x07"),
    ("cr\rx", r"cr\rx"),
    ("nl\nx", r"nl\nx"),
    ("tab\tx", r"tab\tx"),
    ("c0\x01\x1f", r"c0\x01\x1f"),
    ("del\x7f", r"del\x7f"),
    ("csi\x9b2J", r"csi\x9b2J"),  # C1's one-character CSI
    ("rtl\u202eok", r"rtl\u202eok"),
    ("iso\u2066x\u2069", r"iso\u2066x\u2069"),
    ("zero\u200bwidth", r"zero\u200bwidth"),
    ("ls\u2028x", r"ls\u2028x"),
    ("tag\U000e0001", r"tag\U000e0001"),
    ("tick`x", "tick`x"),
    ("``", "``"),
    ("pipe|x", "pipe|x"),
    ("back\\|x", "back\\|x"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("cdata]]>", "cdata]]>"),
    ("amp&x", "amp&x"),
    ("pct%x", "pct%x"),
    ("[x](http://e)", "[x](http://e)"),
]
hostile = pytest.mark.parametrize(("name", "shown"), HOSTILE, ids=[ascii(n) for n, _ in HOSTILE])


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar holding exactly ``text``."""
    inner = "".join(
        "\\" + c if c in '"\\' else c if " " <= c <= "~" else f"\\U{ord(c):08x}" for c in text
    )
    return f'"{inner}"'


def _config(name: str) -> str:
    """A conv, and a call of a block (a group whose kind is the block's name), called
    ``name``: rows ``name``, ``name1`` (the call) and ``name1/relu1`` (the block's layer)."""
    quoted = _quoted(name)
    return (
        f"input: 8x8x3\nblocks:\n  {quoted}: {{layers: [relu]}}\n"
        f"layers:\n  - {{type: conv, kernel: 1, filters: 3, name: {quoted}}}\n  - {quoted}: {{}}\n"
    )


def _safe(text: str) -> bool:
    """Nothing for a terminal or a browser to act on: printable characters and line ends."""
    return text.replace("\n", "").isprintable()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _net(name: str) -> str:
    Path("net.yaml").write_text(_config(name), encoding="utf-8")
    return "net.yaml"


# --- layer, group and block names -----------------------------------------------------------


@hostile
def test_table(runner: CliRunner, here: Path, name: str, shown: str) -> None:
    result = runner.invoke(app, ["analyze", _net(name)])
    assert result.exit_code == 0 and _safe(result.stdout)
    layer, group, inner = result.stdout.splitlines()[4:7]  # after title, blank, header, rule
    assert (layer.startswith(f" {shown}  "), group.startswith(f" {shown}1  ")) == (True, True)
    assert inner.startswith("   relu1  ")


@hostile
def test_table_through_rich(
    runner: CliRunner, here: Path, name: str, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rich's path (a terminal's, or a table that wraps) is safe too, however it lays the
    # table out.
    monkeypatch.setattr(table, "_unstyled", lambda _: False)
    for args in (["analyze", _net(name), "--explain"], ["diff", "net.yaml", "net.yaml", "--all"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and _safe(result.stdout), args
        assert f" {shown}  " in result.stdout
    narrow = CliRunner(env={"COLUMNS": "30", "NO_COLOR": "1", "TERM": "dumb"})
    result = narrow.invoke(app, ["analyze", "net.yaml"])
    assert result.exit_code == 0 and _safe(result.stdout)


def _cells(row: str) -> list[str]:
    """A GitHub table row's cells: split at each | not escaped, \\| read as |."""
    assert row.startswith("| ") and row.endswith(" |"), row
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row[1:-1])]


def _code(cell: str) -> str:
    """The text of a cell that is one code span, as CommonMark reads it."""
    match = re.fullmatch(r"(`+)(?!`)(.*?)(?<!`)\1", cell)
    assert match, cell
    text = match.group(2)
    return text[1:-1] if text.startswith(" ") and text.endswith(" ") and text.strip() else text


@hostile
def test_markdown_analyze(runner: CliRunner, here: Path, name: str, shown: str) -> None:
    result = runner.invoke(app, ["analyze", _net(name), "-f", "markdown", "--explain"])
    assert result.exit_code == 0 and _safe(result.stdout)
    table_text, footer, explained = result.stdout.split("\n\n")
    header, _, *lines = table_text.splitlines()
    rows = [_cells(row) for row in (header, *lines)]
    assert {len(row) for row in rows} == {12}  # the header, three rows and the total: intact
    assert all(line.startswith("- `") for line in footer.splitlines())  # code spans only
    layer, group, inner, total = rows[1:]
    assert _code(layer[0]) == shown
    assert _code(group[0].removeprefix("**").removesuffix("**")) == f"{shown}1"
    assert _code(group[1]) == shown  # a group's kind is its block's name: never bare text
    assert (_code(inner[0]), total[0]) == (f"{shown}1/relu1", "**total**")
    item = re.match(r"- (`+.*?`+): ", explained)  # the explanation's list, by name
    assert item and _code(item.group(1)) == shown


@hostile
def test_markdown_diff(runner: CliRunner, here: Path, name: str, shown: str) -> None:
    Path("old.yaml").write_text("input: 8x8x3\nlayers: [relu name=base]\n")
    result = runner.invoke(app, ["diff", "old.yaml", _net(name), "-f", "markdown"])
    assert result.exit_code == 0 and _safe(result.stdout)
    head, _, header, _, *rows, _, memory = result.stdout.splitlines()
    assert head.startswith("**convcost diff** `old.yaml` → `net.yaml`: ")
    assert memory.startswith("memory (fp32, adam): param bytes ")
    cells = [_cells(row) for row in (header, *rows)]
    assert {len(row) for row in cells} == {7}
    added = [_code(row[0]) for row in cells[1:-1] if row[1] == "added"]
    assert (added, len(cells)) == ([shown, f"{shown}1/relu1"], 5)  # header, base, total
    assert cells[-1][0] == "**total**"


@hostile
def test_csv(runner: CliRunner, here: Path, name: str, shown: str) -> None:
    result = runner.invoke(app, ["analyze", _net(name), "-f", "csv", "--depth", "1"])
    assert result.exit_code == 0 and _safe(result.stdout)
    lines = result.stdout.splitlines()
    rows = list(csv.reader(lines))
    assert len(rows) == len(lines) == 4  # a row a line
    folded = [[shown, "conv"], [f"{shown}1", shown], ["total", "total"]]  # (--depth 1)
    assert [row[:2] for row in rows[1:]] == folded


@hostile
def test_json_carries_the_exact_name(runner: CliRunner, here: Path, name: str, shown: str) -> None:
    result = runner.invoke(app, ["analyze", _net(name), "-f", "json"])
    assert result.exit_code == 0 and _safe(result.stdout)  # escaped as \uXXXX, all of them
    data = json.loads(result.stdout)
    assert [layer["name"] for layer in data["layers"]] == [name, f"{name}1/relu1"]
    assert [(group["name"], group["kind"]) for group in data["groups"]] == [(f"{name}1", name)]


@hostile
def test_error_line(runner: CliRunner, here: Path, name: str, shown: str) -> None:
    Path("net.yaml").write_text(
        "input: 8x8x3\nlayers:\n"
        f"  - {{type: relu, name: {_quoted(name)}}}\n  - {{type: relu, name: {_quoted(name)}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["analyze", "net.yaml"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"net.yaml:4:12: layer name '{shown}' is used twice (first used at net.yaml:3:12); "
        "names must be unique\n"
    )


# Names an inline spec can hold (it splits at white space and |).
INLINE = [(name, shown) for name, shown in HOSTILE if "|" not in name and name.split() == [name]]


@pytest.mark.parametrize(("name", "shown"), INLINE, ids=[ascii(n) for n, _ in INLINE])
def test_inline_error_caret(runner: CliRunner, name: str, shown: str) -> None:
    spec = f"8x8x3 | relu name={name} | relu name={name}"
    result = runner.invoke(app, ["analyze", spec])
    assert (result.exit_code, result.stdout) == (2, "")
    text = f"8x8x3 | relu name={shown} | relu name={shown}"
    second = text.rindex("relu")
    assert result.stderr == (
        f"<spec>:1:{spec.rindex('relu') + 1}: layer name '{shown}' is used twice (first used "
        f"at <spec>:1:9); names must be unique\n  {text}\n  {' ' * second}"
        f"{'^' * len(text[second:])}\n"
    )


# --- file names: check (junit, github, table, json), diff, errors ---------------------------

# As file names: a name holds no "/", and a path with "|" is read as an inline spec.
FILES = [(f"n{name}.yaml", f"n{shown}.yaml") for name, shown in HOSTILE if not {*"/|"} & {*name}]
files = pytest.mark.parametrize(("path", "shown"), FILES, ids=[ascii(p) for p, _ in FILES])
OVER_BUDGET = "input: 8x8x3\nbudget: {macs: 1, params: 1}\nlayers: [conv 3x3 4]\n"


@files
def test_junit(runner: CliRunner, here: Path, path: str, shown: str) -> None:
    Path(path).write_text(OVER_BUDGET)
    result = runner.invoke(app, ["check", path, "-f", "junit"])
    assert result.exit_code == 1 and _safe(result.stdout)
    (suite,) = ElementTree.fromstring(result.stdout).findall("testsuite")
    assert suite.get("name") == shown
    cases = suite.findall("testcase")
    assert [(case.get("name"), case.get("classname")) for case in cases] == [
        ("macs", shown), ("params", shown)
    ]  # fmt: skip


def test_junit_keeps_the_lines_of_an_inline_spec_error(runner: CliRunner) -> None:
    spec = "8x8x3 | r\x1b[2Jelu"
    result = runner.invoke(app, ["check", spec, "-f", "junit"])
    assert result.exit_code == 2 and _safe(result.stdout)
    (suite,) = ElementTree.fromstring(result.stdout).findall("testsuite")
    error = suite.find("testcase/error")
    assert error is not None and suite.get("name") == r"8x8x3 | r\x1b[2Jelu"
    assert error.get("message") == (error.text or "").split("\n")[0]
    assert (error.text or "").split("\n")[1:] == ["  8x8x3 | r\\x1b[2Jelu", "          " + "^" * 11]


def _decode(value: str) -> str:
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(code, char)
    return value


@files
def test_github(runner: CliRunner, here: Path, path: str, shown: str) -> None:
    Path(path).write_text(OVER_BUDGET)
    result = runner.invoke(app, ["check", path, "-f", "github"])
    assert result.exit_code == 1 and _safe(result.stdout)
    *commands, summary = result.stdout.splitlines()
    assert summary == "convcost check: 0 of 2 budgets within limits"
    fields = r"::error file=([^,:]*),line=2,title=convcost budget::(macs|params) .*"
    matches = [re.fullmatch(fields, command) for command in commands]
    assert [(_decode(m.group(1)), m.group(2)) for m in matches if m] == [
        (shown, "macs"), (shown, "params")
    ]  # fmt: skip


@files
def test_check_table_and_json(runner: CliRunner, here: Path, path: str, shown: str) -> None:
    Path(path).write_text("input: 8x8x3\nlayers: [relu]\n")
    result = runner.invoke(app, ["check", path])
    assert result.exit_code == 1 and _safe(result.stdout)
    assert result.stdout.splitlines()[3].startswith(f" {shown}  ")
    assert result.stderr == (
        f"{shown}: no budget: add a budget: section (macs, params, activations, memory, "
        "peak_memory, training_memory, latency) or pass --max-macs and the like\n"
    )
    result = runner.invoke(app, ["check", path, "-f", "json"])
    assert _safe(result.stdout) and json.loads(result.stdout)["configs"][0]["config"] == path


@files
def test_diff_title(runner: CliRunner, here: Path, path: str, shown: str) -> None:
    Path(path).write_text("input: 8x8x3\nlayers: [relu]\n")
    result = runner.invoke(app, ["diff", path, path])
    assert result.exit_code == 0 and _safe(result.stdout)
    assert result.stdout.splitlines()[0] == f"{shown} → {shown}"


@files
def test_error_line_of_a_file(runner: CliRunner, here: Path, path: str, shown: str) -> None:
    Path(path).write_text("input: 8x8x3\nlayers: [rleu]\n")
    result = runner.invoke(app, ["analyze", path])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"{shown}:2:10: unknown layer kind 'rleu'; ")
    assert result.stderr.count("\n") == 1 and _safe(result.stderr)


def test_the_installed_command_writes_no_escape(tmp_path: Path) -> None:
    convcost = shutil.which("convcost", path=str(Path(sys.executable).parent))
    assert convcost is not None
    for name, _ in HOSTILE[:2]:
        (tmp_path / f"n{name}.yaml").write_text(_config(name) + "budget: {macs: 1}\n")
    configs = sorted(str(p.name) for p in tmp_path.glob("n*.yaml"))
    runs = [
        ["analyze", configs[0]], ["analyze", configs[1], "--explain", "-f", "markdown"],
        ["analyze", configs[0], "-f", "csv"], ["analyze", configs[1], "-f", "json"],
        ["check", *configs], ["check", *configs, "-f", "junit"],
        ["check", *configs, "-f", "github"], ["check", *configs, "-f", "json"],
        ["diff", *configs], ["diff", *configs, "-f", "markdown"],
        ["analyze", "8x8x3 | rel\x1b[2Ju"],
    ]  # fmt: skip
    for args in runs:
        done = subprocess.run([convcost, *args], capture_output=True, cwd=tmp_path)
        assert done.returncode in (0, 1, 2), args
        assert done.stdout or done.stderr, args
        assert b"\x1b" not in done.stdout + done.stderr, args
        assert _safe(done.stdout.decode()) and _safe(done.stderr.decode()), args
