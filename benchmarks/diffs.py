"""How long ``convcost diff`` takes to match the layers of two large networks.

    python -m benchmarks.diffs                      # 10,000 layers, a row per case
    python -m benchmarks.diffs --layers 100000 --repeat 1
    python -m benchmarks.diffs --flat               # one long group of convs alone

Each case is a generated config (benchmarks/generate.py) against itself with one change:
one 1×1 conv inserted near the start, in the middle or near the end, or none; against the
same size with every conv of another width (nearly everything differs); and with every conv
wider but one in 140 (the exact alignment's worst case, bounded by its budget). ``--flat``:
convs alone, their widths in a cycle of four, so that every generated name after an
insertion shifts and no layer is unlike all others (nothing to anchor on by name or by
settings).

Both networks are read and analysed outside the clock; the clock measures ``diff(old,
new)`` alone, the smallest of ``repeat`` turns with the cyclic GC off (as the command line
runs); ``--clock cpu`` takes the process's CPU time instead, which other work on a loaded
host barely touches. Each row also says how many layers the diff lists as changed, added or
removed and how many renamed, so a faster but worse matching shows. It imports only the
standard library, PyYAML and convcost, and runs against any tree whose
``convcost.analyses.diff.diff`` takes two reports (``PYTHONPATH=OTHER/src`` measures another).
"""

from __future__ import annotations

import argparse
import copy
import gc
import time
from collections import Counter
from typing import Any

from benchmarks.generate import config

MAX_LAYERS = 10**7


def flat(layers: int, distinct: bool = False) -> dict[str, Any]:
    """A plain stack of 3×3 convs (``distinct``: widths all different)."""
    widths = [16 + i if distinct else 16 + 8 * (i % 4) for i in range(layers)]
    items = [{"type": "conv", "kernel": "3x3", "filters": w, "bias": False} for w in widths]
    return {"name": f"flat-{layers}", "input": "32x32x16", "layers": items}


def islands(document: dict[str, Any], every: int) -> dict[str, Any]:
    """``document`` with every conv 1,000 filters wider but for two in every ``every``: the
    second of each two keeps its shapes, so the exact alignment would fill (n/every)
    squares of every² cells between them (the most work it can be given)."""
    changed = copy.deepcopy(document)
    convs = [item for item in changed["layers"] if isinstance(item, dict) and "filters" in item]
    for index, conv in enumerate(convs):
        if index % every < every - 2:
            conv["filters"] += 1000
    return changed


def inserted(document: dict[str, Any], at: int) -> dict[str, Any]:
    """``document`` with one 1×1 conv before its item ``at`` (of the top-level list)."""
    changed = copy.deepcopy(document)
    changed["layers"].insert(at, {"type": "conv", "kernel": "1x1", "filters": 16})
    return changed


def report_of(document: dict[str, Any]) -> Any:
    import json
    import tempfile

    from convcost.frontends import analyze_spec

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(document, file)
    return analyze_spec(file.name, max_layers=MAX_LAYERS)[1]


def timed(old: Any, new: Any, repeat: int, clock: str) -> tuple[float, Any]:
    from convcost.analyses.diff import diff

    now = time.process_time if clock == "cpu" else time.perf_counter
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        gc.disable()
        start = now()
        result = diff(old, new)
        best = min(best, now() - start)
        gc.enable()
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--distinct", action="store_true", help="no two convs alike")
    parser.add_argument("--flat", action="store_true", help="convs alone, no groups")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="cpu: on a loaded host"
    )
    args = parser.parse_args()
    make = flat if args.flat else config
    document = make(args.layers, args.distinct)
    items = len(document["layers"])
    old = report_of(document)
    cases = {"itself": document}
    for label, at in (("insert at 1%", items // 100), ("insert at 50%", items // 2),
                      ("insert at 99%", items * 99 // 100)):  # fmt: skip
        cases[label] = inserted(document, at)
    cases["other widths"] = make(args.layers, not args.distinct)
    cases["same every 140th"] = islands(document, 140)
    shape = "flat, " if args.flat else ""
    print(
        f"{len(old.layers):,} layers ({shape}{'distinct' if args.distinct else 'repeating'} convs)"
    )
    print("| case | diff time | changed, added, removed | renamed |")
    print("|---|---:|---:|---:|")
    for label, changed in cases.items():
        seconds, result = timed(old, report_of(changed), args.repeat, args.clock)
        statuses = Counter(c.status for c in result.layers)
        real = statuses["changed"] + statuses["added"] + statuses["removed"]
        print(f"| {label} | {seconds:.3f} s | {real:,} | {statuses['renamed']:,} |")


if __name__ == "__main__":
    main()
