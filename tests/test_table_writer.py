"""The table renderer writes plain tables itself (Rich takes ~1 ms a row): its text must be
exactly what Rich writes, for every table, width and name it takes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from convcost.cli import app
from convcost.frontends.zoo import model_names
from convcost.render import table

WIDE_NAMES = """\
input: 16x16x3
layers:
  - {name: "层一", type: conv, filters: 4, kernel: 3}
  - {name: "naïve→ok", type: conv, filters: 4, kernel: 3}
  - {name: "a[b]", type: relu}
  - group: [conv 1x1 2, bn]
    name: "ブロック"
"""

# Names Rich does not print as written (it expands tabs, drops control codes): Rich's job.
CONTROL_NAMES = """\
input: 8x8x3
layers:
  - {name: "tab\\there", type: relu}
  - {name: "zero\\u200bwidth", type: relu}
  - {name: "bell\\a", type: relu}
"""

CASES = [
    *(["analyze", name] for name in model_names()),
    ["analyze", "googlenet", "--depth", "1"],
    ["analyze", "resnet50", "--depth", "2", "--count-buffers"],
    ["analyze", "28x28x192 | conv 1x1 16 relu | conv 5x5 32", "--unit", "flops"],
    ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16", "--bottleneck", "64"],
    ["compare", "14x14x480", "--5x5", "48", "--bottleneck", "16", "--explain"],
    ["analyze", "wide.yaml", "--depth", "1"],
    ["analyze", "wide.yaml"],
    ["analyze", "names.yaml"],
]


@pytest.mark.parametrize("columns", [40, 60, 72, 80, 100, 140, 250])
@pytest.mark.parametrize("args", CASES, ids=lambda args: " ".join(args)[:60])
def test_plain_tables_are_what_rich_writes(
    args: list[str], columns: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("wide.yaml").write_text(WIDE_NAMES)
    Path("names.yaml").write_text(CONTROL_NAMES)
    runner = CliRunner(env={"COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"})
    ours = runner.invoke(app, args)
    with monkeypatch.context() as patch:
        patch.setattr(table, "_unstyled", lambda _: False)
        rich = runner.invoke(app, args)
    # The same rows and the same cells in each, in the same order; the spacing and rules
    # between cells are Rich's choice and may change between its releases.
    assert (ours.exit_code, words(ours.stdout)) == (rich.exit_code, words(rich.stdout))
    assert ours.exit_code == 0, ours.stderr
    assert max(map(cell_len, ours.stdout.splitlines())) <= columns


def words(text: str) -> list[list[str]]:
    """A table's text as its lines' words, rules dropped: what does not depend on spacing."""
    return [line.split() for line in text.splitlines() if line.strip() and set(line) != {"─", " "}]


def test_plain_writer_is_used_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # The case above would pass with the plain writer never used: make sure it is.
    used = []
    original = table._plain

    def spy(*args: object) -> str:
        text = original(*args)  # type: ignore[arg-type]
        used.append(True)
        return text

    monkeypatch.setattr(table, "_plain", spy)
    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    assert runner.invoke(app, ["analyze", "resnet18"]).exit_code == 0
    assert used == [True]


_ALL = ["layer", "op", "input", "output", "MACs", "≈", "% MACs", "params", "outputs"]


@pytest.mark.parametrize(
    ("columns", "headers"),
    [
        (None, _ALL),
        (250, _ALL),
        (80, ["layer", "op", "input", "output", "MACs", "≈", "% MACs", "params"]),
        (40, ["layer", "op", "output", "MACs"]),  # nothing fits: the narrowest, unwrapped
    ],
)
def test_long_tables_obey_the_width_unwrapped(
    columns: int | None, headers: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past BIG_TABLE rows a table is not wrapped by Rich (~1,000 rows a second): the widest
    # column set that fits unwrapped (it was the natural width whatever COLUMNS said), all
    # rows, through the plain writer.
    monkeypatch.chdir(tmp_path)
    repeat = table.BIG_TABLE // 2  # the repeat's row, a row and a layer per copy, the total
    Path("long.yaml").write_text(
        "input: 8x8x3\nblocks:\n  b: {layers: [relu name=a_rather_long_layer_name]}\n"
        f"layers:\n  - b: {{repeat: {repeat}}}\n"
    )
    runner = CliRunner(env={"COLUMNS": None if columns is None else str(columns),
                            "NO_COLOR": "1", "TERM": "dumb"})  # fmt: skip
    result = runner.invoke(app, ["analyze", "long.yaml"])
    assert (result.exit_code, result.stderr) == (0, "")
    table_text, footer = result.stdout.split("\n\nparams size: ")  # the memory footer after it
    assert footer.startswith("0.00 MB (0 × 4 B, fp32)\n")
    lines = table_text.splitlines()
    assert lines[2].split() == [w for h in headers for w in h.split()]
    rows = words(table_text)[2:]  # after the title and the header
    assert len(rows) == table.BIG_TABLE + 2
    assert [row[0] for row in rows[:5]] == [f"b×{repeat}_1", "0", "a_rather_long_layer_name", "1",
                                            "a_rather_long_layer_name"]  # fmt: skip
    assert rows[-1][0] == "total"
    if columns is not None and columns > 40:
        assert max(cell_len(line) for line in lines) <= columns
