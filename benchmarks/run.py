"""convcost's performance targets (#12), each a ratio to a baseline measured in the same run.

    python -m benchmarks.run                    # every target but the peers, this interpreter
    python -m benchmarks.run --peers            # also fvcore, ptflops, thop, torchinfo on
                                                # ResNet-50 (pip install -e '.[bench]')
    python -m benchmarks.run --hostile          # also the hostile-input catalogue (hostile.py)
    python -m benchmarks.run --onnx             # also ResNet-50 as a .onnx file with its
                                                # weights against onnx-tool (#14)
    python -m benchmarks.run --tree A --tree B  # trees A and B side by side, interleaved
                                                # (each through its own A/.venv)
    python -m benchmarks.run --details          # also the floors and the peers' totals

Prints one table: target, baseline, measured, ratio, goal, PASS/FAIL (with several trees, a
row per tree, then the ratios side by side); exits 1 when a target is missed. A target and
its baseline (and the trees) take turns, round by round, and each keeps its smallest time:
on a shared machine noise only ever adds time. Every command is a fresh process doing all
its work; the in-process quantities (engine, config reading) are measured by probe.py under
the tree's own interpreter, the cyclic GC off as in the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import json_text, yaml_text

HERE = Path(__file__).parent
PROBE = str(HERE / "probe.py")
PEER_TOOLS = ("fvcore", "ptflops", "thop", "torchinfo", "flop_counter")
LOADER = "import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"
# onnx-tool 1.0.1's two documented ways to profile a file: its command line (`python -m
# onnx_tool -i FILE`, which calls onnx_tool.model_profile) and its Model API as its
# benchmark/examples.py profile_model does it. Each prints its table, Total row last.
ONNX_TOOL_CLI = ("-m", "onnx_tool", "-i")
ONNX_TOOL_MODEL = (
    "import sys, onnx_tool; model = onnx_tool.Model(sys.argv[1]);"
    "model.graph.shape_infer(None); model.graph.profile(); model.graph.print_node_map()"
)


@dataclass(frozen=True)
class Tree:
    """A source tree measured: its interpreter and its installed command."""

    label: str
    python: str
    convcost: str

    def run(self, *args: str) -> list[str]:
        return [self.convcost, *args]

    def code(self, code: str, *args: str) -> list[str]:
        return [self.python, "-c", code, *args]


@dataclass(frozen=True)
class Row:
    target: str
    tree: str
    measured: float
    baseline: float
    ratio: float
    goal: str
    passed: bool
    unit: str = "s"


def at_most(
    target: str, tree: Tree, measured: float, baseline: float, limit: float, unit: str = "s"
) -> Row:
    """A cost that may be at most ``limit`` times its baseline's."""
    ratio = measured / baseline
    return Row(target, tree.label, measured, baseline, ratio, f"≤ {limit:g}×", ratio <= limit, unit)


def at_most_each(target: str, trees: list[Tree], seconds: list[float], limit: float) -> list[Row]:
    """``at_most`` for each tree, from times measured as (baseline, measured) pairs in the
    trees' order."""
    return [
        at_most(target, tree, seconds[2 * i + 1], seconds[2 * i], limit)
        for i, tree in enumerate(trees)
    ]


def faster(target: str, tree: Tree, measured: float, baseline: float, factor: float) -> Row:
    """A time that must be ``factor`` times shorter than its baseline's at least."""
    ratio = baseline / measured
    return Row(
        target, tree.label, measured, baseline, ratio, f"≥ {factor:g}× faster", ratio >= factor
    )


# What a time is: "wall" (the default: what a user waits) or "cpu", the child's user and
# system seconds, which the other work on a loaded host barely touches (--clock).
CLOCK = "wall"


def timed(command: list[str], clock: str | None = None) -> float:
    """One run of a command, its output thrown away: wall or CPU seconds (``CLOCK``)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    usage = os.wait4(child.pid, 0)[2]
    child.returncode = 0  # reaped here; Popen must not wait for it again
    if (clock or CLOCK) == "cpu":
        return usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start


def walls(commands: list[list[str]], repeat: int, clock: str | None = None) -> list[float]:
    """The smallest time of each command over ``repeat`` rounds, the commands taking turns
    (a warm-up round first): a drift of the host's speed hits a target and its baseline
    alike, and on a shared machine noise only ever adds time."""
    best = [float("inf")] * len(commands)
    for round_ in range(repeat + 1):
        for index, command in enumerate(commands):
            taken = timed(command, clock)
            if round_:
                best[index] = min(best[index], taken)
    return best


def max_rss_kb(command: list[str]) -> int:
    """Peak resident memory of a command, as the kernel counts it for the child. A small
    interpreter starts it: a child's peak begins at its parent's size when it is forked."""
    code = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True)
    return int(done.stdout.strip())


def probe(
    trees: list[Tree], what: str, paths: list[Path], repeat: int, rounds: int = 2
) -> dict[str, dict[str, Any]]:
    """probe.py in each tree's interpreter, the trees taking turns for ``rounds`` rounds of
    ``repeat`` turns each; the smallest time of each quantity is kept."""
    found: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for tree in trees:
            command = [tree.python, PROBE, what, *map(str, paths), "--repeat", str(repeat)]
            command += ["--clock", CLOCK]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"{tree.label}: probe.py {what} failed:\n{done.stderr}")
            result = json.loads(done.stdout)
            if tree.label in found:
                kept = found[tree.label]["seconds"]
                for path, seconds in result["seconds"].items():
                    kept[path] = min(kept[path], seconds)
            else:
                found[tree.label] = result
    return found


def startup(trees: list[Tree], repeat: int) -> list[Row]:
    compare = ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16"]
    commands = [
        command
        for tree in trees
        for command in (
            tree.code("import typer"),
            tree.code("import typer, rich.table"),
            tree.run(*compare),
            tree.run(*compare, "-f", "json"),
            tree.run("--version"),
        )
    ]
    seconds = walls(commands, repeat)
    rows = []
    for index, tree in enumerate(trees):
        typer, typer_rich, table, as_json, version = seconds[5 * index : 5 * index + 5]
        rows += [
            at_most(
                "start: compare (table) vs import typer, rich.table", tree, table, typer_rich, 1.25
            ),
            at_most("start: compare -f json vs import typer", tree, as_json, typer, 1.25),
            at_most("start: --version vs import typer", tree, version, typer, 1.1),
        ]
    return rows


def engine(trees: list[Tree], repeat: int, folder: Path) -> list[Row]:
    """analyze() on the generated networks of 10,000 and 100,000 layers, read beforehand
    (the two sizes take turns in one process). The time is the call's own."""
    paths = [folder / "net10000.json", folder / "net100000.json"]
    found = probe(trees, "engine", paths, repeat)
    rows = []
    for tree in trees:
        small, big = (found[tree.label]["seconds"][str(path)] for path in paths)
        count = found[tree.label]["layers"][str(paths[1])]
        rate = count / big
        rows += [
            Row(
                f"engine: {count:,} layers through analyze(), layers/s",
                tree.label,
                rate,
                200_000,
                rate / 200_000,
                "≥ 1×",
                rate >= 200_000,
                "layers/s",
            ),
            at_most("engine: 100k vs 10k layers", tree, big, small, 11),
        ]
    return rows


def config_reading(trees: list[Tree], repeat: int, folder: Path) -> list[Row]:
    """Reading a config, in-process: the file read, parsed and built into a network."""
    rows = []
    for size, turns in ((10_000, repeat), (100_000, max(2, repeat // 4))):
        paths = [folder / f"net{size}.yaml", folder / f"net{size}.json"]
        found = probe(trees, "read", paths, turns)
        for tree in trees:
            yaml_s, json_s = (found[tree.label]["seconds"][str(path)] for path in paths)
            rows.append(
                faster(
                    f"read: {size:,}-layer JSON config vs the same YAML", tree, json_s, yaml_s, 3
                )
            )
    return rows


def big_configs(trees: list[Tree], repeat: int, folder: Path) -> list[Row]:
    """The whole run, `convcost analyze FILE -f csv`, against PyYAML's C loader loading the
    same file in a fresh interpreter; peak memory at 100,000 layers likewise."""
    rows = []
    for size, limit, runs in ((10_000, 1.5, max(3, repeat // 2)), (100_000, 1.2, 3)):
        path = str(folder / f"net{size}.yaml")
        # Past the default bound on layers: these sizes are meant.
        big = ["-f", "csv", "--max-layers", str(2 * size)]
        commands = [
            c for tree in trees for c in (tree.code(LOADER, path), tree.run("analyze", path, *big))
        ]
        seconds = walls(commands, runs)
        for index, tree in enumerate(trees):
            loader, analyze = seconds[2 * index : 2 * index + 2]
            rows.append(
                at_most(
                    f"config: analyze {size:,}-layer YAML vs CSafeLoader load",
                    tree,
                    analyze,
                    loader,
                    limit,
                )
            )
        if size == 100_000:
            for tree in trees:
                rss = min(max_rss_kb(tree.run("analyze", path, *big)) for _ in range(2))
                base = min(max_rss_kb(tree.code(LOADER, path)) for _ in range(2))
                rows.append(
                    at_most(
                        "config: peak memory, 100k YAML vs CSafeLoader",
                        tree,
                        rss / 1024,
                        base / 1024,
                        2,
                        "MiB",
                    )
                )
    return rows


def tables(trees: list[Tree], repeat: int, folder: Path) -> list[Row]:
    """Issue #16: the 10,000-layer table written to a file or a pipe (COLUMNS unset: at its
    natural width, not wrapped) against the same run writing CSV."""
    path = str(folder / "net10000.yaml")
    big = ["--max-layers", "20000"]
    unset = ["env", "-u", "COLUMNS"]  # as a pipe in a CI job has it, whatever this shell says
    commands = [
        c
        for tree in trees
        for c in (
            [*unset, *tree.run("analyze", path, "-f", "csv", *big)],
            [*unset, *tree.run("analyze", path, *big)],
        )
    ]
    seconds = walls(commands, max(3, repeat // 2))
    return at_most_each("table: 10,000-layer table to a pipe vs its CSV", trees, seconds, 1.3)


def advise_run(trees: list[Tree], repeat: int, folder: Path) -> list[Row]:
    """`convcost advise` of the 10,000-layer YAML against `convcost analyze` of it: advise
    analyses the network once, then each conv's substitutes on their own (linear time)."""
    path = str(folder / "net10000.yaml")
    big = [path, "-f", "csv", "--max-layers", "20000"]
    commands = [c for tree in trees for c in (tree.run("analyze", *big), tree.run("advise", *big))]
    seconds = walls(commands, repeat)
    return at_most_each("advise: 10,000-layer YAML vs analyze of it", trees, seconds, 2)


def resnet_floor(trees: list[Tree], repeat: int) -> list[Row]:
    """ResNet-50's whole run against the stack's own floor: the interpreter importing Typer
    and PyYAML, which every run of convcost needs."""
    commands = [
        c
        for tree in trees
        for c in (tree.code("import typer, yaml"), tree.run("analyze", "resnet50", "-f", "csv"))
    ]
    seconds = walls(commands, repeat)
    return at_most_each("resnet50: whole run vs import typer, yaml", trees, seconds, 1.3)


def peers(trees: list[Tree], details: bool) -> list[Row]:
    """ResNet-50 counted by each tree against the fastest peer tool. The peers run in the
    first tree's interpreter (they do not depend on convcost): pip install -e '.[bench]'."""
    script = str(HERE / "peers_resnet50.py")
    python = trees[0].python
    check = subprocess.run(
        [python, "-c", "import fvcore, ptflops, thop, torchinfo"], capture_output=True, text=True
    )
    if check.returncode:
        raise SystemExit(
            f"{trees[0].label}: the peers are not installed there; "
            f"pip install -e '.[bench]'\n{check.stderr}"
        )
    ours = [tree.run("analyze", "resnet50", "-f", "csv") for tree in trees]
    theirs = [[python, script, tool] for tool in PEER_TOOLS]
    # Wall seconds whatever --clock says: a peer's threads would count their CPU seconds twice.
    seconds = walls([*ours, *theirs], 5, "wall")
    peer_seconds = dict(zip(PEER_TOOLS, seconds[len(trees) :], strict=True))
    # torch's flop_counter is a reference for the totals, not a peer tool.
    fastest = min(taken for tool, taken in peer_seconds.items() if tool != "flop_counter")
    if details:
        print(f"\nResNet-50 ({trees[0].label}'s interpreter for the peers)")
        print(f"  {'tool':22s} {'seconds':>8s} {'MACs':>15s} {'params':>12s}")
        for tree, taken in zip(trees, seconds[: len(trees)], strict=True):
            last = subprocess.run(
                tree.run("analyze", "resnet50", "-f", "csv"), capture_output=True, text=True
            ).stdout.splitlines()[-1]
            cells = last.split(",")
            print(
                f"  {'convcost ' + tree.label:22s} {taken:8.2f} {int(cells[5]):15,d} "
                f"{int(cells[7]):12,d}"
            )
        for tool, taken in peer_seconds.items():
            line = subprocess.run([python, script, tool], capture_output=True, text=True).stdout
            _, macs, params = line.split()[-3:]
            print(f"  {tool:22s} {taken:8.2f} {int(macs):15,d} {int(params):12,d}")
        print("  (fvcore counts conv and linear MACs and BatchNorm; ptflops and thop add")
        print("  BatchNorm, ReLU, pooling and bias work; torchinfo adds BatchNorm; flop_counter")
        print("  ÷ 2 is conv and linear only, as convcost counts.)")
    return [
        faster("peers: ResNet-50 whole run vs the fastest peer", tree, taken, fastest, 15)
        for tree, taken in zip(trees, seconds[: len(trees)], strict=True)
    ]


def onnx_resnet50(trees: list[Tree], folder: Path, details: bool) -> list[Row]:
    """Issue #14: ResNet-50 exported to ONNX with its weights (onnx_resnet50.py, about 102 MB,
    made here by the first tree's torch), `convcost analyze FILE -f csv` against onnx-tool's
    profile of the same file (the faster of its two documented ways), and convcost's peak
    memory against the file's size. onnx-tool runs in the first tree's interpreter."""
    python = trees[0].python
    check = subprocess.run(
        [python, "-c", "import onnx_tool, torch"], capture_output=True, text=True
    )
    if check.returncode:
        raise SystemExit(
            f"{trees[0].label}: onnx-tool or torch is not installed there; "
            f"pip install -e '.[bench]'\n{check.stderr}"
        )
    path = folder / "resnet50.onnx"
    made = subprocess.run(
        [python, "-W", "ignore", "-m", "benchmarks.onnx_resnet50", str(path)],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
    )
    if made.returncode:
        raise SystemExit(f"exporting ResNet-50 to ONNX failed:\n{made.stderr}")
    size = path.stat().st_size
    ours = [tree.run("analyze", str(path), "-f", "csv") for tree in trees]
    for tree, command in zip(trees, ours, strict=True):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:  # an older tree refusing the file would otherwise look fast
            raise SystemExit(f"{tree.label}: convcost analyze {path} failed:\n{done.stderr}")
    theirs = [[python, *ONNX_TOOL_CLI, str(path)], [python, "-c", ONNX_TOOL_MODEL, str(path)]]
    # Wall seconds whatever --clock says, as for the peers (numpy's threads).
    seconds = walls([*ours, *theirs], 5, "wall")
    cli, model = seconds[len(trees) :]
    fastest = min(cli, model)
    rows = [
        faster("onnx: ResNet-50 .onnx analyze -f csv vs onnx-tool", tree, taken, fastest, 5)
        for tree, taken in zip(trees, seconds[: len(trees)], strict=True)
    ]
    for tree, command in zip(trees, ours, strict=True):
        rss = min(max_rss_kb(command) for _ in range(2))
        rows.append(
            at_most(
                "onnx: peak memory, ResNet-50 .onnx vs the file's size",
                tree,
                rss / 1024,
                size / 2**20,
                1.5,
                "MiB",
            )
        )
    if details:
        print(f"\nResNet-50 as ONNX, {size:,} bytes ({trees[0].label}'s interpreter for onnx-tool)")
        print(f"  {'tool':26s} {'seconds':>8s} {'peak MiB':>9s} {'MACs':>15s} {'params':>12s}")
        for tree, command, taken in zip(trees, ours, seconds[: len(trees)], strict=True):
            written = subprocess.run(command, capture_output=True, text=True).stdout
            cells = written.splitlines()[-1].split(",")  # the total row
            peak = max_rss_kb(command) / 1024
            print(
                f"  {'convcost ' + tree.label:26s} {taken:8.2f} {peak:9.1f} {int(cells[5]):15,d} "
                f"{int(cells[7]):12,d}  (+ {int(cells[8]):,d} buffers)"
            )
        for label, command, taken in (
            ("onnx-tool (command line)", theirs[0], cli),
            ("onnx-tool (Model API)", theirs[1], model),
        ):
            printed = subprocess.run(command, capture_output=True, text=True).stdout
            row = next(line for line in printed.splitlines() if line.startswith("Total"))
            # Total  _  MACs  100%  memory  100%  params  100%  _  _
            macs, params = (int(row.split()[i].replace(",", "")) for i in (2, 6))
            peak = max_rss_kb(command) / 1024
            print(f"  {label:26s} {taken:8.2f} {peak:9.1f} {macs:15,d} {params:12,d}")
        print("  (onnx-tool counts every operator's arithmetic as MACs — BatchNorm 31 per")
        print("  element, ReLU, max pool, Add, global pool, the Gemm's bias — and every")
        print("  initializer as a parameter, BatchNorm's running statistics too; convcost's")
        print("  MACs are conv and dense only, the running statistics buffers.)")
    return rows


def hostile(trees: list[Tree], folder: Path) -> list[Row]:
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
        for tree in trees:
            codes: set[int] = set()
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                codes.add(
                    subprocess.run(tree.run("analyze", str(path)), capture_output=True).returncode
                )
                best = min(best, time.perf_counter() - start)
            if codes != {2}:
                print(f"{tree.label}: {name}: exit {codes}, not 2", file=sys.stderr)
            rows.append(
                Row(
                    f"hostile: {name} refused (exit 2), vs 1 s",
                    tree.label,
                    best,
                    1.0,
                    best,
                    "≤ 1×",
                    best <= 1 and codes == {2},
                )
            )
    return rows


def hostile_catalogue(trees: list[Tree]) -> list[Row]:
    """Issue #11's target over benchmarks/hostile.py's catalogue (its table printed first):
    every input of up to 1 MB refused or analysed in ≤ 2 s and ≤ 300 MB, without a crash."""
    from benchmarks import hostile as catalogue

    rows = []
    for tree in trees:
        catalogue.CONVCOST = tree.convcost
        timeout = catalogue.TIMEOUT
        results = catalogue.run_all(
            catalogue.catalogue(), timeout, catalogue.MEMORY_LIMIT, None, progress=False
        )
        print(f"\n{tree.label}:", end="")
        catalogue.report(results, timeout)
        target = [r for r in results if not r.case.context]
        slowest = max(r.seconds for r in target)
        biggest = max(r.megabytes for r in target)
        clean = sum(r.exit in (0, 2) and not r.traceback for r in target)
        rows += [
            Row(
                f"hostile: worst time of {len(target)} inputs ≤ 1 MB, vs 2 s",
                tree.label,
                slowest,
                catalogue.SECONDS,
                slowest / catalogue.SECONDS,
                "≤ 1×",
                slowest <= catalogue.SECONDS,
            ),
            Row(
                f"hostile: worst peak MB of {len(target)} inputs ≤ 1 MB, vs 300 MB",
                tree.label,
                biggest,
                catalogue.MEGABYTES,
                biggest / catalogue.MEGABYTES,
                "≤ 1×",
                biggest <= catalogue.MEGABYTES,
                "MB",
            ),
            Row(
                "hostile: refused or analysed (exit 0/2, no traceback)",
                tree.label,
                clean,
                len(target),
                clean / len(target),
                "all",
                clean == len(target),
                "cases",
            ),
        ]
    return rows


_ONE_ROW_TABLE = (
    "import typer, rich.table, rich.console;"
    "table = rich.table.Table('a', 'b'); table.add_row('1', '2');"
    "rich.console.Console().print(table)"
)


def floors(tree: Tree, repeat: int) -> None:
    """What the environment alone costs, before convcost does anything: the floor under the
    start-up and ResNet-50 targets (printed with --details; not targets)."""
    commands = {
        "python -c pass": tree.code("pass"),
        "import typer": tree.code("import typer"),
        "import typer, rich.table": tree.code("import typer, rich.table"),
        "the same + Console, print a one-row table": tree.code(_ONE_ROW_TABLE),
        "import typer, yaml": tree.code("import typer, yaml"),
    }
    seconds = dict(zip(commands, walls(list(commands.values()), repeat), strict=True))
    print(f"\nwhat the environment alone costs ({tree.label}; not targets)")
    for label, taken in seconds.items():
        print(f"  {label:44s} {taken:6.3f}")


def distinct_layers(tree: Tree, repeat: int, folder: Path) -> None:
    """The builder parses each distinct layer once per config, and the generated configs
    repeat their layers as networks do; this shows the same size with no two convs alike
    (printed with --details; not a target)."""
    print(f"\nrepeating vs distinct layers, 10,000-layer YAML ({tree.label}; not a target)")
    for distinct in (False, True):
        path = folder / f"net10000-{'distinct' if distinct else 'repeating'}.yaml"
        path.write_text(yaml_text(10_000, distinct))
        loader, analyze = walls(
            [tree.code(LOADER, str(path)), tree.run("analyze", str(path), "-f", "csv")],
            max(3, repeat // 3),
        )
        label = "no two convs alike" if distinct else "repeating (as the targets)"
        print(f"  {label:44s} {analyze:6.3f}  {analyze / loader:.2f}× its CSafeLoader load")


def tree_of(root: str | None) -> Tree:
    """The tree at ``root`` through its own .venv, or (None) this interpreter's."""
    if root is None:
        python = sys.executable
        label = "current"
    else:
        python = str(Path(root, ".venv", "bin", "python"))
        label = Path(root).resolve().name
        if not Path(python).exists():
            raise SystemExit(
                f"{root}: no .venv; cd {root} && python3 -m venv .venv && "
                f". .venv/bin/activate && pip install -e '.[test,bench]'"
            )
    convcost = Path(python).parent / "convcost"
    if not convcost.exists():
        raise SystemExit(f"{convcost}: no such command; pip install -e . in that environment")
    return Tree(label, python, str(convcost))


def prepare(tree: Tree) -> str:
    """Where the tree's interpreter finds convcost, compiled first: an installed package has
    its bytecode, and an editable checkout run with PYTHONDONTWRITEBYTECODE set (as on these
    machines) would recompile every module of convcost on every start."""
    where = subprocess.run(
        tree.code("import convcost, os; print(os.path.dirname(convcost.__file__))"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([tree.python, "-m", "compileall", "-q", where], check=True)
    return where


def show(value: float, unit: str) -> str:
    if unit in ("layers/s", "cases"):
        return f"{value:,.0f}"
    return f"{value:.1f}" if unit in ("MiB", "MB") else f"{value:.3f}"


def table(rows: list[Row], trees: list[Tree]) -> None:
    several = len(trees) > 1
    width = max(len(r.target) for r in rows)
    tree_width = max(len(t.label) for t in trees)
    tree_head = f" {'tree':{tree_width}s}" if several else ""
    print(
        f"\n{'target':{width}s}{tree_head} {'baseline':>10s} {'measured':>10s} {'ratio':>6s}"
        f"  {'goal':16s} result"
    )
    for r in rows:
        cell = f" {r.tree:{tree_width}s}" if several else ""
        print(
            f"{r.target:{width}s}{cell} {show(r.baseline, r.unit):>10s} "
            f"{show(r.measured, r.unit):>10s} {r.ratio:6.2f}  {r.goal:16s} "
            f"{'PASS' if r.passed else 'FAIL'}"
        )
    for tree in trees:
        mine = [r for r in rows if r.tree == tree.label]
        print(f"{tree.label}: {sum(r.passed for r in mine)} of {len(mine)} targets met", end="; ")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    if several:  # the ratios side by side, as Markdown for a note
        print(f"\n| target | goal | {' | '.join(t.label for t in trees)} |")
        print(f"|---|---|{'---|' * len(trees)}")
        for index in range(0, len(rows), len(trees)):
            group = rows[index : index + len(trees)]
            cells = " | ".join(f"{r.ratio:.2f}{'' if r.passed else ' ✗'}" for r in group)
            print(f"| {group[0].target} | {group[0].goal} | {cells} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", action="store_true", help="also time the peer tools")
    parser.add_argument(
        "--onnx",
        action="store_true",
        help="also ResNet-50 as a .onnx file with its weights against onnx-tool (#14)",
    )
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="also run the hostile-input catalogue (a few minutes a tree)",
    )
    parser.add_argument("--repeat", type=int, default=15, help="rounds per timing (smallest)")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time as wall seconds, or as CPU seconds (user + system: steadier on a loaded "
        "host; the hostile rows stay wall seconds)",
    )
    parser.add_argument(
        "--tree",
        action="append",
        metavar="PATH",
        help="measure the source tree at PATH through PATH/.venv (repeatable: "
        "the trees take turns); default: this interpreter's convcost",
    )
    parser.add_argument(
        "--details",
        action="store_true",
        help="also print the floors, distinct layers and the peers' totals",
    )
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    trees = [tree_of(root) for root in args.tree or [None]]
    if len({t.label for t in trees}) < len(trees):
        raise SystemExit("--tree: two trees of the same folder name")
    for tree in trees:
        print(f"{tree.label}: {tree.python} (convcost from {prepare(tree)})", file=sys.stderr)
    repeat = args.repeat
    with tempfile.TemporaryDirectory(prefix="convcost-bench-") as name:
        folder = Path(name)
        for size in (10_000, 100_000):
            (folder / f"net{size}.yaml").write_text(yaml_text(size))
            (folder / f"net{size}.json").write_text(json_text(size))
        sections: dict[str, Callable[[], list[Row]]] = {
            "start-up": lambda: startup(trees, repeat),
            "engine": lambda: engine(trees, max(3, repeat // 3), folder),
            "config reading": lambda: config_reading(trees, max(3, repeat // 2), folder),
            "big configs": lambda: big_configs(trees, repeat, folder),
            "ResNet-50 floor": lambda: resnet_floor(trees, repeat),
            "tables": lambda: tables(trees, repeat, folder),
            "advise": lambda: advise_run(trees, max(3, repeat // 3), folder),
            "hostile": lambda: hostile(trees, folder),
        }
        if args.peers:
            sections["peers"] = lambda: peers(trees, args.details)
        if args.onnx:
            sections["ONNX"] = lambda: onnx_resnet50(trees, folder, args.details)
        if args.hostile:
            sections["hostile catalogue"] = lambda: hostile_catalogue(trees)
        rows: list[Row] = []
        for label, section in sections.items():
            print(f"measuring {label}...", file=sys.stderr, flush=True)
            rows += section()
        if args.details:
            for tree in trees:
                distinct_layers(tree, repeat, folder)
                floors(tree, repeat)
    # Rows grouped by target, the trees' rows together.
    order = {target: index for index, target in enumerate(dict.fromkeys(r.target for r in rows))}
    rows.sort(key=lambda r: order[r.target])
    table(rows, trees)
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
