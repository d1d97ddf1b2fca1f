"""How well a roofline ranks ResNet-50's layers by time on this CPU: reported, not gated.

    python -m benchmarks.honesty                 # measure this machine, time every layer
    python -m benchmarks.honesty --repeat 20     # more turns per layer (smallest kept)
    python -m benchmarks.honesty --threads 1     # one thread (a machine shared with others)

First this machine's peak and bandwidth are measured and written to
``benchmarks/this-machine.yaml`` (a device file, read back through the project's device
file reader): the fp32 peak from a large torch matmul on all threads (or --threads; 2·n³
FLOPs over its smallest time), the bandwidth from a large tensor copy, STREAM's "copy"
(read and write: 2 × its bytes over its smallest time). Then each layer of the built-in
resnet50 (batch 1) runs alone in torch (eval mode, no_grad, the smallest of several
turns), and its roofline time is convcost's own (``--device benchmarks/this-machine.yaml``:
max(ops / peak, bytes / bandwidth) by the rule of ``convcost.core.costing``, ops counting a
pool's comparisons and an activation's arithmetic too). Prints the Spearman rank
correlation of measured and predicted times and the ten slowest layers by each.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch
from tests.torch_bridge import torch_module

import convcost
from convcost.core.report import LayerResult
from convcost.frontends.devicefile import read_device_file

HERE = Path(__file__).parent
DEVICE_FILE = HERE / "this-machine.yaml"
MATMUL_SIZE = 4096  # 3 × 64 MiB of fp32: past every cache, long enough to time
COPY_BYTES = 512 * 2**20  # each of source and destination: far past the 32 MiB L3
MERGES = ("add", "mul", "concat")


def smallest_time(work: Callable[[], object], repeat: int, least: float = 0.05) -> float:
    """The smallest time of ``work`` over ``repeat`` turns (more while the turns add up to
    under ``least`` seconds, for layers of microseconds), after one turn to warm up."""
    work()
    best, spent, turns = float("inf"), 0.0, 0
    while turns < repeat or (spent < least and turns < 100 * repeat):
        start = time.perf_counter()
        work()
        took = time.perf_counter() - start
        best, spent, turns = min(best, took), spent + took, turns + 1
    return best


def measure_peak(repeat: int) -> float:
    """fp32 FLOP/s of one large matmul on all threads."""
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    out = torch.empty(MATMUL_SIZE, MATMUL_SIZE)
    took = smallest_time(lambda: torch.mm(a, b, out=out), repeat)
    return 2 * MATMUL_SIZE**3 / took


def measure_bandwidth(repeat: int) -> float:
    """Bytes a second of a large copy, counted as STREAM counts it: what is read and what
    is written."""
    source = torch.ones(COPY_BYTES // 4)
    target = torch.empty_like(source)
    took = smallest_time(lambda: target.copy_(source), repeat)
    return 2 * COPY_BYTES / took


def cpu_model() -> str:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    for line in text.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def write_device_file(peak: float, bandwidth: float, repeat: int) -> None:
    threads = torch.get_num_threads()
    name = f"{cpu_model()}, {os.cpu_count()} CPUs (torch {torch.__version__}, threads: {threads})"
    note = (
        f"fp32 peak = 2*{MATMUL_SIZE}^3 FLOPs / smallest time of torch.mm of two "
        f"{MATMUL_SIZE}x{MATMUL_SIZE} fp32 matrices on {threads} threads ({repeat} turns); "
        f"bandwidth = 2 * {COPY_BYTES // 2**20} MiB / smallest time of a {COPY_BYTES // 2**20}"
        " MiB fp32 tensor copy (STREAM's copy: bytes read plus bytes written)"
    )
    DEVICE_FILE.write_text(
        "# This machine, as benchmarks/honesty.py measured it (it rewrites this file on each\n"
        "# run). Measured, not derived from lscpu: the hypervisor hides the clock and turbo.\n"
        f"name: {json.dumps(name)}\n"
        f"peak: {{fp32: {peak / 1e9:.1f}G}}\n"
        f"bandwidth: {bandwidth / 1e9:.2f}GB/s\n"
        f"source: {json.dumps('measured by benchmarks/honesty.py on this machine')}\n"
        f"note: {json.dumps(note)}\n",
        encoding="utf-8",
    )


class Timed(NamedTuple):
    name: str
    kind: str
    measured: float  # seconds
    predicted: float  # seconds, the roofline's
    bound: str  # "compute" or "memory"


def time_layer(result: LayerResult, inputs: int, repeat: int) -> float:
    s = result.input_shape
    shape = (result.batch, s.c) if s.flat else (result.batch, s.c, s.h, s.w)
    values = [torch.randn(*shape) for _ in range(inputs)]
    run: Callable[[], Any]
    if result.kind == "add":
        a, b = values
        run = lambda: torch.add(a, b)  # noqa: E731
    else:
        module = torch_module(result).eval()
        (x,) = values
        run = lambda: module(x)  # noqa: E731
    with torch.no_grad():
        return smallest_time(run, repeat)


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of their places."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for place in range(start, end + 1):
            result[order[place]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks."""
    rx, ry = ranks(xs), ranks(ys)
    n = len(rx)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / math.sqrt(vx * vy)


def table(title: str, rows: Sequence[Timed]) -> str:
    lines = [
        title,
        f"  {'layer':<28} {'kind':<10} {'measured µs':>12} {'roofline µs':>12} {'ratio':>6}  bound",
    ]
    for row in rows:
        lines.append(
            f"  {row.name:<28} {row.kind:<10} {row.measured * 1e6:>12.1f} "
            f"{row.predicted * 1e6:>12.1f} {row.measured / row.predicted:>6.1f}  {row.bound}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="turns per layer (default 10)")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="torch threads for the peak and the layers alike (default: every CPU; on a "
        "machine another process is busy on, 1: a thread waiting for a taken core costs "
        "whole scheduler slices)",
    )
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    peak = measure_peak(args.repeat)
    bandwidth = measure_bandwidth(args.repeat)
    write_device_file(peak, bandwidth, args.repeat)
    device = read_device_file(str(DEVICE_FILE))
    print(f"device: {device.name}")
    print(f"  fp32 peak {device.peak['fp32'] / 1e9:.1f} GFLOP/s (torch.mm {MATMUL_SIZE}²)")
    print(f"  bandwidth {device.bandwidth / 1e9:.2f} GB/s (tensor copy, STREAM-counted)")
    print(f"  ridge point {device.peak['fp32'] / device.bandwidth:.1f} FLOPs/byte")

    settings = convcost.settings(device=str(DEVICE_FILE))
    report = convcost.analyze("resnet50", settings=settings).analysis
    assert report.graph is not None
    timed = []
    for result, node in zip(report.layers, report.graph.nodes, strict=True):
        if result.kind in MERGES and result.kind != "add":
            raise SystemExit(f"honesty: no timing for a {result.kind} layer ({result.name})")
        assert result.cost is not None and result.cost.latency_s is not None
        measured = time_layer(result, len(node.inputs), args.repeat)
        timed.append(
            Timed(result.name, result.kind, measured, result.cost.latency_s, result.cost.bound)
        )

    rho = spearman([t.measured for t in timed], [t.predicted for t in timed])
    convs = [t for t in timed if t.kind == "conv"]
    rho_conv = spearman([t.measured for t in convs], [t.predicted for t in convs])
    total_measured = sum(t.measured for t in timed)
    total_predicted = sum(t.predicted for t in timed)
    print(f"\nresnet50, batch 1: {len(timed)} layers timed one by one in torch {torch.__version__}")
    print(f"  Spearman rank correlation, measured vs roofline: {rho:.3f} (all layers)")
    print(f"  Spearman rank correlation, convolutions only:     {rho_conv:.3f} ({len(convs)})")
    print(
        f"  sum of layer times: measured {total_measured * 1e3:.2f} ms, roofline "
        f"{total_predicted * 1e3:.2f} ms (measured / roofline "
        f"{total_measured / total_predicted:.2f})"
    )
    print()
    print(table("slowest 10 by measured time:", sorted(timed, key=lambda t: -t.measured)[:10]))
    print()
    print(table("slowest 10 by roofline time:", sorted(timed, key=lambda t: -t.predicted)[:10]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
