"""Issue #16's table rules: off a terminal the table is whole at its natural width (unless
COLUMNS sets one); at any width a layer's name is never split or dropped, the op wraps only
between words, and the narrow layout keeps --depth; the share columns; --unit flops in
compare and --explain; the title, the break-even line and the help."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.report import Totals
from convcost.frontends import analyze_spec
from convcost.render.columns import bar, metric_column, share_column

LONG = """\
name: long names
input: 16x16x8
layers:
  - {name: stem_convolution_1, type: conv, filters: 8, kernel: 3, bias: false}
  - group: [conv 1x1 8, relu]
    name: downsample
  - {name: head, type: gap}
"""
ARGS = [
    "analyze",
    "long.yaml",
    "--depth",
    "1",
    "--count-buffers",
    "--batch",
    "64",
    "--unit",
    "flops",
]

# Off a terminal, COLUMNS unset: every column, nothing wrapped (the footer neither).
NATURAL = """\
long names  (batch 64)

 layer               op                        input    output        FLOPs      ≈  % FLOPs          params  buffers  outputs
 ────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 stem_convolution_1  conv 3x3 s1 same no bias  16×16×8  16×16×8  18,874,368  18.9M   89.4 █████████     576        0   131.1k
 downsample          group                     16×16×8  16×16×8   2,228,224   2.2M   10.6 █              72        0   262.1k
 head                globalavgpool             16×16×8  1×1×8             0      0    0.0                 0        0      512
 total                                         16×16×8  1×1×8    21,102,592  21.1M  100.0               648        0   393.7k

params + buffers: 648 (Keras: trainable 648 + non-trainable BatchNorm moving mean/variance 0)
params size: 0.00 MB (648 × 4 B, fp32)
peak activation memory: 1.05 MB at stem_convolution_1 (fp32, batch 64)
training memory (adam): 1.58 MB = params 0.00 MB + gradients 0.00 MB + optimizer state 0.01 MB + buffers 0.00 MB + saved activations 1.57 MB
"""

# COLUMNS set: fitted to it; figures give way, names stay whole, the op wraps between words.
FITTED = {
    60: """\
long names  (batch 64)

 layer               op                 output        FLOPs
 ──────────────────────────────────────────────────────────
 stem_convolution_1  conv 3x3 s1 same   16×16×8  18,874,368
                     no bias
 downsample          group              16×16×8   2,228,224
 head                globalavgpool      1×1×8             0
 total                                  1×1×8    21,102,592

params + buffers: 648 (Keras: trainable 648 + non-trainable
BatchNorm moving mean/variance 0)
params size: 0.00 MB (648 × 4 B, fp32)
peak activation memory: 1.05 MB at stem_convolution_1 (fp32,
batch 64)
training memory (adam): 1.58 MB = params 0.00 MB + gradients
0.00 MB + optimizer state 0.01 MB + buffers 0.00 MB + saved
activations 1.57 MB
""",
    80: """\
long names  (batch 64)

 layer               op                        output        FLOPs  params
 ─────────────────────────────────────────────────────────────────────────
 stem_convolution_1  conv 3x3 s1 same no bias  16×16×8  18,874,368     576
 downsample          group                     16×16×8   2,228,224      72
 head                globalavgpool             1×1×8             0       0
 total                                         1×1×8    21,102,592     648

params + buffers: 648 (Keras: trainable 648 + non-trainable BatchNorm moving
mean/variance 0)
params size: 0.00 MB (648 × 4 B, fp32)
peak activation memory: 1.05 MB at stem_convolution_1 (fp32, batch 64)
training memory (adam): 1.58 MB = params 0.00 MB + gradients 0.00 MB + optimizer
state 0.01 MB + buffers 0.00 MB + saved activations 1.57 MB
""",
    120: """\
long names  (batch 64)

 layer               op                  input    output        FLOPs      ≈  % FLOPs          params  buffers  outputs
 ──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 stem_convolution_1  conv 3x3 s1 same    16×16×8  16×16×8  18,874,368  18.9M   89.4 █████████     576        0   131.1k
                     no bias
 downsample          group               16×16×8  16×16×8   2,228,224   2.2M   10.6 █              72        0   262.1k
 head                globalavgpool       16×16×8  1×1×8             0      0    0.0                 0        0      512
 total                                   16×16×8  1×1×8    21,102,592  21.1M  100.0               648        0   393.7k

params + buffers: 648 (Keras: trainable 648 + non-trainable BatchNorm moving mean/variance 0)
params size: 0.00 MB (648 × 4 B, fp32)
peak activation memory: 1.05 MB at stem_convolution_1 (fp32, batch 64)
training memory (adam): 1.58 MB = params 0.00 MB + gradients 0.00 MB + optimizer state 0.01 MB + buffers 0.00 MB + saved
activations 1.57 MB
""",
}

# On a terminal (a pseudo-terminal of that width): the same rules, and past the narrowest
# table, one block per row, --depth kept (the group "downsample", not its layers).
TERMINAL = {
    40: """\
long names  (batch 64)
stem_convolution_1: conv 3x3 s1 same no
    bias
  16×16×8 → 16×16×8
  FLOPs 18,874,368 (18.9M), params 576
downsample: group
  16×16×8 → 16×16×8
  FLOPs 2,228,224 (2.2M), params 72
head: globalavgpool
  16×16×8 → 1×1×8
  FLOPs 0 (0), params 0
total: FLOPs 21,102,592 (21.1M),
  params 648
params + buffers: 648 (Keras: trainable
648 + non-trainable BatchNorm moving
mean/variance 0)
params size: 0.00 MB (648 × 4 B, fp32)
peak activation memory: 1.05 MB at
stem_convolution_1 (fp32, batch 64)
training memory (adam): 1.58 MB = params
0.00 MB + gradients 0.00 MB + optimizer
state 0.01 MB + buffers 0.00 MB + saved
activations 1.57 MB
""",
    # where a table fits, a terminal shows what COLUMNS of its width gives
    60: FITTED[60],
    120: FITTED[120],
}


@pytest.fixture
def long_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "long.yaml"
    path.write_text(LONG)
    return path


def _runner(columns: int | None) -> CliRunner:
    # None: COLUMNS unset (the default of a pipe or a file)
    return CliRunner(env={"COLUMNS": None if columns is None else str(columns),
                          "NO_COLOR": "1", "TERM": "dumb"})  # fmt: skip


def test_off_a_terminal_the_table_is_whole(long_yaml: Path) -> None:
    result = _runner(None).invoke(app, ARGS)
    assert (result.exit_code, result.stdout, result.stderr) == (0, NATURAL, "")


@pytest.mark.parametrize("columns", sorted(FITTED))
def test_columns_sets_the_width(long_yaml: Path, columns: int) -> None:
    result = _runner(columns).invoke(app, ARGS)
    assert (result.exit_code, result.stdout) == (0, FITTED[columns])
    assert max(map(len, result.stdout.splitlines())) <= columns


def _on_a_terminal(columns: int, args: list[str], **extra: str) -> str:
    """What convcost writes to a pseudo-terminal ``columns`` wide, styles taken out."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm", NO_COLOR="1", **extra)
    child = subprocess.Popen([sys.executable, "-m", "convcost", *args], stdin=slave,
                             stdout=slave, stderr=slave, env=env, close_fds=True)  # fmt: skip
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert child.wait() == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.decode().replace("\r\n", "\n"))
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


@pytest.mark.parametrize("columns", sorted(TERMINAL))
def test_on_a_terminal(long_yaml: Path, columns: int) -> None:
    assert _on_a_terminal(columns, ARGS) == TERMINAL[columns]


def _unstyled(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


@pytest.mark.parametrize("forced", ["FORCE_COLOR", "TTY_COMPATIBLE"])
def test_forced_colour_is_not_a_terminal(long_yaml: Path, forced: str) -> None:
    # CI systems set FORCE_COLOR: Rich then takes a pipe for a terminal, and the table was
    # fitted to 80 columns. Colour or not, a pipe gets the natural width.
    runner = CliRunner(env={"COLUMNS": None, "NO_COLOR": None, "TERM": "xterm", forced: "1"})
    result = runner.invoke(app, ARGS)
    assert (result.exit_code, _unstyled(result.stdout)) == (0, NATURAL)


@pytest.mark.parametrize("columns", ["0", "-5", "abc", " ", "80x"])
def test_columns_that_is_no_width_is_ignored(long_yaml: Path, columns: str) -> None:
    # COLUMNS=0 printed nothing; "abc" or -5 counted as set, and the table was 80 wide.
    result = CliRunner(env={"COLUMNS": columns, "NO_COLOR": "1"}).invoke(app, ARGS)
    assert (result.exit_code, result.stdout) == (0, NATURAL)


def test_columns_that_is_no_width_leaves_the_terminal_s(long_yaml: Path) -> None:
    assert _on_a_terminal(60, ARGS, COLUMNS="0") == TERMINAL[60]


def _tokens(text: str) -> set[str]:
    return {word.rstrip(",") for word in text.split() if word.strip("─")}


@pytest.mark.parametrize("columns", [40, 60, 80])
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["check", "resnet50", "mobilenet_v2", "--max-macs", "4G", "--max-params", "10M"], 1),
        (["diff", "resnet18", "resnet50"], 0),
        (["models"], 0),
        (["devices"], 0),
    ],
    ids=["check", "diff", "models", "devices"],
)
def test_every_table_keeps_names_and_numbers_whole(
    args: list[str], code: int, columns: int
) -> None:
    # check, diff, models and devices drew their own Rich tables: a config's name dropped or
    # split ("resnet / 50"), a layer's split ("layer1.0.c / onv1"), numbers cut ("4,089,1…").
    # They are laid out as analyze's is: columns give way, then a block per row.
    natural = _runner(None).invoke(app, args)
    narrow = _runner(columns).invoke(app, args)
    assert (natural.exit_code, narrow.exit_code) == (code, code)
    assert "…" not in narrow.stdout
    assert max(map(len, narrow.stdout.splitlines())) <= columns
    table = natural.stdout.split("─\n")[1].split("\n\n")[0]
    names = [line.split()[0] for line in table.splitlines()]
    starts = {line.split()[0] for line in narrow.stdout.splitlines() if line.strip()}
    assert set(names) <= starts  # each row's name whole, first on a line
    assert _tokens(narrow.stdout) <= _tokens(natural.stdout)  # no word or number split


@pytest.mark.parametrize("columns", [60, 80, 100, 140])
@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "googlenet"],
        ["analyze", "resnet50", "--batch", "64", "--count-buffers", "--unit", "flops"],
    ],
    ids=["googlenet", "resnet50 batch 64 buffers flops"],
)
def test_names_and_headers_are_never_cut(args: list[str], columns: int) -> None:
    # At 80 columns the layer and op columns vanished ("outpu…"); names folded mid-word
    # ("conv1/7x7" / "_s2"): every row now starts with its name whole, as the table indents
    # it, and no cell or header is cut.
    result = _runner(columns).invoke(app, args)
    assert result.exit_code == 0
    lines = result.stdout.split("\n\n")[1].splitlines()
    assert lines[0].split()[:2] == ["layer", "op"]
    assert "…" not in result.stdout
    _, report = analyze_spec(args[1])
    for row in report.rows:  # the row's line: its name whole, indented by its depth
        start = " " + "  " * row.depth + row.local_name + " "
        assert any(line.startswith(start) for line in lines), start
    assert max(map(len, result.stdout.splitlines())) <= columns


@pytest.mark.parametrize(
    ("eighths", "text"), [(0, ""), (1, "▏"), (7, "▉"), (8, "█"), (13, "█▋"), (80, "█" * 10)]
)
def test_bar(eighths: int, text: str) -> None:
    assert bar(eighths) == text


@pytest.mark.parametrize(
    ("macs", "text", "value"),
    [
        (1, "  0.0", 1 / 3000),  # 0.033 %: no eighth of a cell
        (1000, " 33.3 ███▍", 1 / 3),  # 26.67 eighths, rounded to 27: 3 cells and 3 eighths
        (1500, " 50.0 █████", 1 / 2),
        (2999, "100.0 ██████████", 2999 / 3000),  # 99.97 % rounds to 100.0
    ],
)
def test_share_of_the_total(macs: int, text: str, value: float) -> None:
    total = Totals(macs=3000, flops=6000, params=0, buffers=0, activations=0)
    row = total._replace(macs=macs)
    column = share_column(metric_column("macs"), total)
    assert (column.key, column.title) == ("macs_share", "% MACs")
    assert (column.text(row), column.value(row), column.text(total)) == (text.rstrip(), value,
                                                                         "100.0")  # fmt: skip


def test_compare_counts_flops_when_asked() -> None:
    result = _runner(100).invoke(
        app, ["compare", "28x28x192", "--5x5", "8", "-b", "16", "--unit", "flops", "--explain"]
    )
    # direct: 2 × 28·28·8·5·5·192 + 28·28·8 bias additions = 60,217,472 FLOPs; bottleneck 16:
    # 2 × 28·28·16·192 + 28·28·16 + 2 × 28·28·8·5·5·16 + 28·28·8 = 9,853,312;
    # 60,217,472 / 9,853,312 = 6.11×, 1 − 9,853,312 / 60,217,472 = 83.6 %
    assert "bottleneck 16: 6.11× fewer FLOPs (−83.6 %), 6.10× fewer params (−83.6 %)\n" in (
        result.stdout
    )
    assert "  FLOPs: 2 × 30,105,600 + 6,272 (bias additions) = 60,217,472\n" in result.stdout
    assert "MACs (" not in result.stdout.split("\n\n")[2]  # the savings name FLOPs only


def test_break_even_rounds_down() -> None:
    # b* = 25·192·8 / (192 + 25·8) = 4800/49 = 97.96: 97 channels save, 98 cost more
    result = _runner(200).invoke(app, ["compare", "28x28x192", "--5x5", "8", "-b", "16"])
    assert (
        "break-even width b* = 25·192·8 / (192 + 25·8) ≈ 97.9: bottlenecks of up to 97 channels "
        "save MACs, wider ones cost more\n"
    ) in result.stdout
    data = json.loads(
        _runner(200).invoke(app, ["compare", "28x28x192", "--5x5", "8", "-b", "16", "-f", "json"])
        .stdout
    )  # fmt: skip
    assert (data["break_even_width"], data["break_even_width_exact"]) == (4800 / 49, "4800/49")


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        # b* = 9·18·2 / (18 + 9·2) = 9 exactly: 9 channels tie on MACs
        (["8x8x18", "--3x3", "2", "-b", "9"], [
            "bottleneck 9: the same MACs, 1.03× more params (+2.8 %)",
            "break-even width b* = 9·18·2 / (18 + 9·2) = 9.0: bottlenecks of up to 8 channels "
            "save MACs, 9 breaks even",
        ]),
        # in FLOPs b = 9 costs more (its 1x1's bias additions): the break-even said to be MACs'.
        # direct 64·2·(2·9·18 + 1) = 41,600; b = 9: 64·9·(2·18 + 1) + 64·2·(2·9·9 + 1) = 42,176
        (["8x8x18", "--3x3", "2", "-b", "9", "--unit", "flops"], [
            "bottleneck 9: 1.01× more FLOPs (+1.4 %), 1.03× more params (+2.8 %)",
            "MAC break-even width b* = 9·18·2 / (18 + 9·2) = 9.0: bottlenecks of up to 8 "
            "channels save MACs, 9 breaks even",
        ]),
        (["8x8x1", "--3x3", "1", "-b", "1"], [  # b* = 0.9: not "up to 0 channels"
            "bottleneck 1: 1.11× more MACs (+11.1 %), 1.20× more params (+20.0 %)",
            "break-even width b* = 9·1·1 / (1 + 9·1) = 0.9: no bottleneck saves MACs",
        ]),
        (["8x8x2", "--3x3", "1", "-b", "1"], [  # b* = 18/11
            "bottleneck 1: 1.64× fewer MACs (−38.9 %), 1.46× fewer params (−31.6 %)",
            "break-even width b* = 9·2·1 / (2 + 9·1) ≈ 1.6: a bottleneck of 1 channel saves "
            "MACs, wider ones cost more",
        ]),
    ],
)  # fmt: skip
def test_break_even_words(args: list[str], lines: list[str]) -> None:
    result = _runner(200).invoke(app, ["compare", *args])
    assert result.stdout.splitlines()[-2:] == lines


def test_time_lines_count_the_unit() -> None:
    # With --unit flops the time line spoke of MACs ("for 1.11× fewer MACs ... than MACs").
    args = ["compare", "8x8x18", "--3x3", "2", "-b", "8", "--device", "a100", "--unit", "flops"]
    line = _runner(300).invoke(app, args).stdout.splitlines()[-1]
    assert line.endswith(
        "for 1.11× fewer FLOPs (−9.8 %): it saves less time than FLOPs, as reduce_1x1 and "
        "conv_3x3 are memory-bound (bytes moved, not FLOPs, set their time)"
    )
    assert "MACs" not in line


def test_explain_skips_layers_with_nothing_to_explain() -> None:
    result = _runner(100).invoke(app, ["analyze", "8x8x3 | conv 3x3 4 nobias relu", "--explain"])
    explained = result.stdout.split("\n\n")[-1]
    assert explained.splitlines() == [
        "conv1 (conv):",
        "  H, W: ⌈8 / 1⌉ = 8  (same: pad 1 before, 1 after)",
        "  MACs: 8 × 8 × 4 × 3 × 3 × 3 = 6,912  (H_out × W_out × C_out × K_h × K_w × C_in)",
        "  params: 3 × 3 × 3 × 4 = 108",
    ]


@pytest.mark.parametrize(
    ("columns", "title"),
    [
        (200, "64x64x3 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16"),
        (60, "64x64x3 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16 |\nconv 3x3 16 | conv 3x3 16"),
    ],
)
def test_an_inline_spec_is_its_title_whole(columns: int, title: str) -> None:
    spec = "64x64x3 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16"
    result = _runner(columns).invoke(app, ["analyze", spec])
    assert result.stdout.startswith(title + "\n\n")


def test_a_config_title_is_its_name(long_yaml: Path) -> None:
    assert _runner(None).invoke(app, ["analyze", "long.yaml"]).stdout.startswith("long names\n\n")


def test_help_explains_the_columns() -> None:
    result = _runner(100).invoke(app, ["analyze", "--help"])
    assert "≈ the same rounded (k, M, G: thousands," in result.stdout
    assert "% MACs its share of the total, with a bar" in result.stdout


def test_show_completion() -> None:
    # The script is the running shell's (Typer detects it); under the tests, bash's.
    result = CliRunner().invoke(app, ["--show-completion"], prog_name="convcost")
    assert result.exit_code == 0
    assert "_CONVCOST_COMPLETE=complete_bash" in result.stdout and "complete " in result.stdout


def _completed(words: str, tmp_path: Path) -> list[str]:
    env = {**os.environ, "_CONVCOST_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - 1), "HOME": str(tmp_path)}  # fmt: skip
    # the console script: completion is keyed on the program's name
    script = str(Path(sys.executable).parent / "convcost")
    done = subprocess.run([script], env=env, capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_completion_completes(tmp_path: Path) -> None:
    assert _completed("convcost an", tmp_path) == ["analyze"]
    assert "--count-buffers" in _completed("convcost analyze --co", tmp_path)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("convcost analyze res", ["resnet18", "resnet50"]),
        ("convcost check vgg16 goo", ["googlenet"]),
        ("convcost diff vgg16 mobilenet_v", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large"]),
        ("convcost advise squeeze", ["squeezenet1_0"]),
        ("convcost analyze vgg16 --device a1", ["a100"]),
    ],
)
def test_completion_offers_models_and_devices(
    words: str, expected: list[str], tmp_path: Path
) -> None:
    assert _completed(words, tmp_path) == expected


def test_completion_offers_files_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "resnet_mine.yaml").write_text("", encoding="utf-8")
    (tmp_path / "results").mkdir()
    monkeypatch.chdir(tmp_path)
    assert _completed("convcost analyze res", tmp_path) == [
        "resnet18", "resnet50", "resnet_mine.yaml", "results/"
    ]  # fmt: skip


def test_install_completion(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    script = str(Path(sys.executable).parent / "convcost")
    done = subprocess.run([script, "--install-completion", "bash"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    installed = tmp_path / ".bash_completions" / "convcost.sh"
    assert str(installed) in (tmp_path / ".bashrc").read_text()
    assert "_CONVCOST_COMPLETE=complete_bash" in installed.read_text()
