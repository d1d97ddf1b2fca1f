"""The in-process measurements, run by run.py under the measured tree's own interpreter.

    python benchmarks/probe.py engine NET10k.json NET100k.json --repeat N
    python benchmarks/probe.py read NET.yaml NET.json --repeat N [--clock cpu]

Prints one JSON object: the smallest time of each quantity over ``repeat`` turns, the
quantities taking turns (a drift of the host's speed hits each alike), the cyclic GC off
(as the command line runs) and collected between turns, off the clock. It imports only the
standard library and convcost, and finds convcost's reader and engine in any layout the
renovation (#12) has had, so that one runner measures the code before and after it.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

# Where the layouts keep the engine and the config reader, newest first: the first that
# imports is used. A later layout adds its own places here.
ANALYZE = (
    "convcost.core.analysis:analyze",  # the graph core: a graph's nodes analysed in order
    "convcost.core.network:analyze",  # the layout of #12 (core/, frontends/, ...)
    "convcost.network:analyze",  # before #12: flat modules
)
# What turns a read network into what the engine takes, outside the clock (as building and
# naming the network always was): the graph core lowers a config's constructs to its graph.
# Layouts without one analyse the network as read.
LOWER = ("convcost.frontends.tree:lower",)
LOAD = (
    "convcost.frontends:load_spec",  # returns a Loaded: its network, description, budget
    "convcost.frontends:load_network",
)

# Past the default bound on layers: these sizes are meant.
MAX_LAYERS = 10**7


def find(places: tuple[str, ...]) -> Callable[..., Any]:
    """The first function of ``module:name`` that imports."""
    for place in places:
        module, name = place.split(":")
        try:
            function: Callable[..., Any] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        return function
    raise SystemExit(f"probe: none of {', '.join(places)} imports; add this layout's place")


def load(path: str) -> Any:
    """The network of a config file: reading and building, nothing analysed."""
    loaded = find(LOAD)(path, max_layers=MAX_LAYERS)
    return getattr(loaded, "network", loaded)


def layer_count(report: Any) -> int:
    """The layers a report holds, under the names the layouts have given them."""
    for name in ("layers", "nodes"):
        if hasattr(report, name):
            return len(getattr(report, name))
    raise SystemExit("probe: the report has no layers or nodes; add this layout's name")


def smallest(
    work: Mapping[str, Callable[[], object]], repeat: int, clock: Callable[[], float]
) -> dict[str, float]:
    """The smallest time of each piece of work over ``repeat`` turns (a warm-up turn first).
    What the work returns is let go after the clock stops: freeing it is the caller's."""
    best = dict.fromkeys(work, float("inf"))
    for turn in range(repeat + 1):
        for label, job in work.items():
            gc.collect()
            start = clock()
            result = job()
            taken = clock() - start
            del result
            if turn:
                best[label] = min(best[label], taken)
    return best


def engine(paths: list[str], repeat: int, clock: Callable[[], float]) -> dict[str, Any]:
    """analyze() on networks read beforehand: layers counted and the smallest times."""
    analyze = find(ANALYZE)
    try:
        lower = find(LOWER)
    except SystemExit:  # a layout whose engine takes the network as read
        lower = None
    networks = {path: load(path) for path in paths}
    if lower is not None:
        networks = {path: lower(network) for path, network in networks.items()}
    counts = {path: layer_count(analyze(network)) for path, network in networks.items()}
    work = {path: partial(analyze, network) for path, network in networks.items()}
    seconds = smallest(work, repeat, clock)
    return {"layers": counts, "seconds": seconds, "analyze": analyze.__module__}


def read(paths: list[str], repeat: int, clock: Callable[[], float]) -> dict[str, Any]:
    """Reading configs: the file read, parsed and built into a network (not analysed)."""
    seconds = smallest({path: partial(load, path) for path in paths}, repeat, clock)
    return {"seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("engine", "read"))
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall seconds, or this process's CPU seconds",
    )
    args = parser.parse_args()
    gc.disable()
    measure = engine if args.what == "engine" else read
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    json.dump(measure(args.paths, args.repeat, clock), sys.stdout)


if __name__ == "__main__":
    main()
