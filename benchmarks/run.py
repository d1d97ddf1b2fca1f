"""convcost's performance targets, measured against baselines taken in the same run.

    python -m benchmarks.run            # start-up, engine, big configs, hostile input
    python -m benchmarks.run --peers    # also fvcore, ptflops, thop, torchinfo on ResNet-50
                                        # (pip install -e '.[bench]')
    python -m benchmarks.run --hostile  # also the catalogue of hostile inputs (hostile.py)

Prints one row per target: the median of several runs, the baseline's median, their ratio,
the goal and PASS/FAIL; exits 1 when a target is missed, so it can serve as a check. No
result is cached between runs: every command is a fresh process doing all its work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.generate import json_text, network, yaml_text

PYTHON = sys.executable
CONVCOST = shutil.which("convcost", path=str(Path(PYTHON).parent)) or "convcost"
HERE = Path(__file__).parent


@dataclass
class Row:
    target: str
    measured: float
    baseline: float | None
    ratio: float
    goal: str
    passed: bool
    unit: str = "s"


def wall(command: list[str], repeat: int) -> float:
    """Median wall time of a command, run ``repeat`` times after one warm-up run."""
    return walls([command], repeat)[0]


def walls(commands: list[list[str]], repeat: int) -> list[float]:
    """Median wall time of each command, the commands taking turns (a warm-up round first):
    on a shared machine whose speed drifts, a target and its baseline then see the same
    drift, and their ratio is fair even when the absolute times are not."""
    times: list[list[float]] = [[] for _ in commands]
    for round_ in range(repeat + 1):
        for command, taken in zip(commands, times, strict=True):
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            if round_:
                taken.append(time.perf_counter() - start)
    return [statistics.median(taken) for taken in times]


def max_rss_kb(command: list[str]) -> int:
    """Peak resident memory of a command, as the kernel counts it for the child."""
    code = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([PYTHON, "-c", code, *command], capture_output=True, text=True)
    return int(out.stdout.strip())


def ratio_row(target: str, measured: float, baseline: float, limit: float) -> Row:
    ratio = measured / baseline
    return Row(target, measured, baseline, ratio, f"≤ {limit}×", ratio <= limit)


def startup(repeat: int) -> list[Row]:
    compare = [CONVCOST, "compare", "28x28x192", "--5x5", "32", "--bottleneck", "16"]
    typer, typer_rich, table, json, version = walls(
        [[PYTHON, "-c", "import typer"], [PYTHON, "-c", "import typer, rich.table"], compare,
         [*compare, "-f", "json"], [CONVCOST, "--version"]],
        repeat,
    )  # fmt: skip
    return [
        ratio_row("start: compare (table) vs import typer, rich.table", table, typer_rich, 1.25),
        ratio_row("start: compare -f json vs import typer", json, typer, 1.25),
        ratio_row("start: --version vs import typer", version, typer, 1.1),
    ]


def engine(repeat: int) -> list[Row]:
    """analyze() on generated networks of 10,000 and 100,000 layers, the two sizes taking
    turns (a drift of the host's speed then hits both). The time is the call's own: the
    report is let go only after the clock stops, as freeing it is the caller's business."""
    from convcost.frontends.tree import analyze

    networks = {size: network(size) for size in (10_000, 100_000)}
    counts = {size: len(analyze(net).layers) for size, net in networks.items()}
    times: dict[int, list[float]] = {size: [] for size in networks}
    for _ in range(repeat):
        for size, net in networks.items():
            start = time.perf_counter()
            report = analyze(net)
            times[size].append(time.perf_counter() - start)
            del report
    medians = {size: (statistics.median(taken), counts[size]) for size, taken in times.items()}
    seconds, count = medians[100_000]
    rate = count / seconds
    growth = medians[100_000][0] / medians[10_000][0]
    return [
        Row(f"engine: {count:,} layers through analyze()", rate, None, rate / 200_000,
            "≥ 200,000 layers/s", rate >= 200_000, "layers/s"),
        Row("engine: 100k vs 10k layers", medians[100_000][0], medians[10_000][0], growth,
            "≤ 11×", growth <= 11),
    ]  # fmt: skip


def big_configs(repeat: int, folder: Path) -> list[Row]:
    rows = []
    for size in (10_000, 100_000):
        yaml_file, json_file = folder / f"net{size}.yaml", folder / f"net{size}.json"
        yaml_file.write_text(yaml_text(size))
        json_file.write_text(json_text(size))
        loader_code = "import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"
        load = [PYTHON, "-c", loader_code, str(yaml_file)]
        runs = max(3, repeat // 3) if size == 10_000 else 3
        # Past the default bound on layers (src/convcost/limits.py): these are meant.
        big = ["-f", "csv", "--max-layers", str(2 * size)]
        loader, analyze_yaml, analyze_json = walls(
            [load, [CONVCOST, "analyze", str(yaml_file), *big],
             [CONVCOST, "analyze", str(json_file), *big]],
            runs,
        )  # fmt: skip
        rows.append(ratio_row(f"config: analyze {size:,}-layer YAML vs CSafeLoader load",
                              analyze_yaml, loader, 1.2))  # fmt: skip
        speedup = analyze_yaml / analyze_json
        rows.append(Row(f"config: {size:,}-layer JSON vs the same YAML", analyze_json,
                        analyze_yaml, speedup, "≥ 5× faster", speedup >= 5))  # fmt: skip
        if size == 100_000:
            rss = max_rss_kb([CONVCOST, "analyze", str(yaml_file), *big])
            base = max_rss_kb(load)
            rows.append(Row("config: peak memory, 100k YAML vs CSafeLoader", rss / 1024,
                            base / 1024, rss / base, "≤ 2×", rss <= 2 * base, "MiB"))  # fmt: skip
    return rows


def distinct_layers(repeat: int, folder: Path) -> None:
    """The builder parses each distinct layer once per config, and the generated configs
    repeat their layers as networks do; this shows the same size with no two convs alike
    (printed for the reader; not a target)."""
    print("\nrepeating vs distinct layers, 10,000-layer YAML (not a target)")
    load_code = "import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"
    for distinct in (False, True):
        path = folder / f"net10000-{'distinct' if distinct else 'repeating'}.yaml"
        path.write_text(yaml_text(10_000, distinct))
        loader, analyze_yaml = walls(
            [[PYTHON, "-c", load_code, str(path)], [CONVCOST, "analyze", str(path), "-f", "csv"]],
            max(3, repeat // 3),
        )
        label = "no two convs alike" if distinct else "repeating (as above)"
        ratio = analyze_yaml / loader
        print(f"  {label:44s} {analyze_yaml:6.3f}  {ratio:.2f}× its CSafeLoader load")


def hostile(folder: Path) -> list[Row]:
    """Issue #5's resource attacks: refused (exit 2) within a second, whole process."""
    bomb = ["description:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    cases = {
        "billion laughs": "\n".join(bomb) + "\ninput: 8x8x3\nlayers: *a8\n",
        "100,000 nested lists": "input: 8x8x3\nlayers: " + "[" * 100_000 + "]" * 100_000,
    }
    rows = []
    for name, text in cases.items():
        path = folder / "attack.yaml"
        path.write_text(text)
        start = time.perf_counter()
        code = subprocess.run([CONVCOST, "analyze", str(path)], capture_output=True).returncode
        seconds = time.perf_counter() - start
        rows.append(Row(f"hostile: {name} refused (exit {code})", seconds, None, seconds,
                        "≤ 1 s, exit 2", seconds <= 1 and code == 2))  # fmt: skip
    return rows


def hostile_catalogue() -> list[Row]:
    """Issue #11's target over benchmarks/hostile.py's catalogue (its table printed first):
    every input of up to 1 MB refused or analysed in ≤ 2 s and ≤ 300 MB, without a crash."""
    from benchmarks import hostile as catalogue

    timeout = catalogue.TIMEOUT
    results = catalogue.run_all(catalogue.catalogue(), timeout, catalogue.MEMORY_LIMIT, None,
                                progress=False)  # fmt: skip
    catalogue.report(results, timeout)
    target = [r for r in results if not r.case.context]
    slowest = max(r.seconds for r in target)
    biggest = max(r.megabytes for r in target)
    clean = sum(r.exit in (0, 2) and not r.traceback for r in target)
    return [
        Row(f"hostile: worst time of {len(target)} inputs ≤ 1 MB", slowest, None,
            slowest / catalogue.SECONDS, "≤ 2 s", slowest <= catalogue.SECONDS),
        Row(f"hostile: worst peak MB of {len(target)} inputs ≤ 1 MB", biggest, None,
            biggest / catalogue.MEGABYTES, "≤ 300 MB", biggest <= catalogue.MEGABYTES, "MB"),
        Row("hostile: refused or analysed (exit 0/2, no traceback)", clean, len(target),
            clean / len(target), "all", clean == len(target), "cases"),
    ]  # fmt: skip


def peers() -> list[Row]:
    script = str(HERE / "peers_resnet50.py")
    rows = []
    tools = ("fvcore", "ptflops", "thop", "torchinfo", "flop_counter")
    ours = [CONVCOST, "analyze", "resnet50", "-f", "csv"]
    convcost, *seconds = walls([ours, *([PYTHON, script, tool] for tool in tools)], 5)
    out = subprocess.run(ours, capture_output=True, text=True).stdout.splitlines()[-1].split(",")
    print(f"\n{'tool':14s} {'seconds':>8s} {'MACs':>15s} {'params':>12s}")
    print(f"{'convcost':14s} {convcost:8.2f} {int(out[5]):15,d} {int(out[7]):12,d}")
    for tool, taken in zip(tools, seconds, strict=True):
        line = subprocess.run([PYTHON, script, tool], capture_output=True, text=True).stdout
        _, macs, params = line.split()[-3:]
        print(f"{tool:14s} {taken:8.2f} {int(macs):15,d} {int(params):12,d}")
    fastest = min(taken for tool, taken in zip(tools, seconds, strict=True)
                  if tool != "flop_counter")  # fmt: skip
    print("(fvcore counts conv and linear MACs and BatchNorm; ptflops and thop add BatchNorm,")
    print(" ReLU, pooling and bias work; torchinfo adds BatchNorm; flop_counter ÷ 2 is conv and")
    print(" linear only, as convcost counts.)")
    speedup = fastest / convcost
    rows.append(Row("peers: ResNet-50, fastest peer vs convcost", convcost, fastest, speedup,
                    "≥ 20× faster", speedup >= 20))  # fmt: skip
    return rows


_ONE_ROW_TABLE = (
    "import typer, rich.table, rich.console;"
    "table = rich.table.Table('a', 'b'); table.add_row('1', '2');"
    "rich.console.Console().print(table)"
)


def floors(repeat: int) -> None:
    """What the environment alone costs, before convcost does anything: the floor under the
    start-up and peer targets (printed for the reader; these are not targets)."""
    commands = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "import typer": [PYTHON, "-c", "import typer"],
        "import typer, rich.table": [PYTHON, "-c", "import typer, rich.table"],
        "the same + Console, print a one-row table": [PYTHON, "-c", _ONE_ROW_TABLE],
        "import typer, yaml": [PYTHON, "-c", "import typer, yaml"],
    }
    seconds = dict(zip(commands, walls(list(commands.values()), repeat), strict=True))
    table_base = seconds["import typer, rich.table"]
    print("\nwhat the environment alone costs (not targets)")
    for label, taken in seconds.items():
        note = ""
        if label.startswith("the same"):
            note = f"  {taken / table_base:.2f}× the compare-table baseline"
        print(f"  {label:44s} {taken:6.3f}{note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", action="store_true", help="also time the peer tools")
    parser.add_argument("--hostile", action="store_true",
                        help="also run the hostile-input catalogue (a few minutes)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=15, help="runs per timing (median)")
    args = parser.parse_args()
    # An installed package has its bytecode compiled (pip does it); an editable checkout run
    # with PYTHONDONTWRITEBYTECODE set (as on these machines) would recompile every module of
    # convcost on every start, while the baselines' packages are compiled. Compile it first.
    import convcost

    subprocess.run([PYTHON, "-m", "compileall", "-q", str(Path(convcost.__file__).parent)],
                   check=True)  # fmt: skip
    sections: list[Callable[[], list[Row]]] = [
        lambda: startup(args.repeat),
        lambda: engine(max(5, args.repeat // 2)),
    ]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sections += [lambda: big_configs(args.repeat, folder), lambda: hostile(folder)]
        if args.hostile:
            sections.append(hostile_catalogue)
        if args.peers:
            sections.append(peers)
        rows = [row for section in sections for row in section()]
        distinct_layers(args.repeat, folder)
    floors(args.repeat)
    header = f"{'target':58s} {'measured':>12s} {'baseline':>10s} {'ratio':>7s}  {'goal':18s}"
    print(f"\n{header} result")
    for r in rows:
        base = "" if r.baseline is None else f"{r.baseline:.3f}"
        base = f"{r.baseline:,.0f}" if r.unit == "cases" else base
        measured = f"{r.measured:,.0f}" if r.unit in ("layers/s", "cases") else f"{r.measured:.3f}"
        print(f"{r.target:58s} {measured:>12s} {base:>10s} {r.ratio:7.2f}  {r.goal:18s} "
              f"{'PASS' if r.passed else 'FAIL'}")  # fmt: skip
    print(f"\n{sum(r.passed for r in rows)} of {len(rows)} targets met "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)")  # fmt: skip
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
