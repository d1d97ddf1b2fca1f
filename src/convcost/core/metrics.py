"""The metrics: one table of what convcost counts, from which the totals' JSON, the budgets
and their ``--max-*`` options, the schema's budget keys, diff's figures and every format's
metric columns are derived. A new metric is one entry here (and, for a new base count, how
each layer kind computes it)."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Literal, NamedTuple

from convcost.core.report import BYTES_PER_VALUE

if TYPE_CHECKING:
    from convcost.core.report import LayerResult, Totals

    Figures = LayerResult | Totals

Unit = Literal["count", "bytes", "seconds"]
Summing = Literal["sum", "max"]


class Metric(NamedTuple):
    """One figure convcost reports.

    ``key`` is its name everywhere a machine reads it: JSON, CSV header, budget key,
    ``--max-KEY``. ``read`` takes it from a layer's result (when ``per_layer``) or from
    totals. ``sums``: a group's figure is the sum of its layers' (or the largest of them).
    ``budget_example`` makes it budgetable: the example in its ``--max-KEY`` help.
    ``diffed``: ``convcost diff`` compares it (per layer, so only a per-layer metric).
    """

    key: str
    label: str  # what it counts, in words: budget help, schema description
    title: str  # its column's title in tables for people
    unit: Unit
    read: Callable[[Figures], int]
    per_layer: bool = True
    sums: Summing = "sum"
    budget_example: str | None = None
    diffed: bool = False  # diff compares it layer by layer and in total (--fail-above)

    @property
    def budgetable(self) -> bool:
        return self.budget_example is not None


def _memory(totals: Figures) -> int:
    return int(totals.param_bytes + totals.activation_bytes)  # type: ignore[union-attr]


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("macs", "multiply-accumulates of convolutions and dense layers", "MACs",
               "count", attrgetter("macs"), budget_example="1.6G", diffed=True),
        Metric("flops", "floating-point operations: 2 × MACs + bias additions", "FLOPs",
               "count", attrgetter("flops")),
        Metric("params", "trainable parameters", "params", "count", attrgetter("params"),
               budget_example="7M", diffed=True),
        Metric("buffers", "BatchNorm running statistics (non-trainable)", "buffers", "count",
               attrgetter("buffers")),
        Metric("activations", "output values of all layers", "activations", "count",
               attrgetter("activations"), budget_example="12M"),
        Metric("param_bytes", f"bytes of parameters, {BYTES_PER_VALUE} bytes a value",
               "param bytes", "bytes", attrgetter("param_bytes"), per_layer=False),
        Metric("activation_bytes", f"bytes of all layer outputs, {BYTES_PER_VALUE} bytes a value",
               "activation bytes", "bytes", attrgetter("activation_bytes"), per_layer=False),
        Metric("memory",
               f"bytes of parameters and of all layer outputs, {BYTES_PER_VALUE} bytes a value",
               "memory", "bytes", _memory, per_layer=False, budget_example="100MB or 95MiB"),
    )
}  # fmt: skip
"""Every metric, in the order every format lists them. Read through the functions below at
call time (never copied at import), so that the table is the one place to change."""


def metrics() -> tuple[Metric, ...]:
    return tuple(METRICS.values())


def per_layer() -> tuple[Metric, ...]:
    """The metrics a layer's row carries (the others are in totals only)."""
    return tuple(m for m in METRICS.values() if m.per_layer)


def diffed() -> tuple[Metric, ...]:
    """The metrics ``convcost diff`` compares, in its order."""
    return tuple(m for m in METRICS.values() if m.diffed)


def budgetable() -> tuple[Metric, ...]:
    """The metrics a budget can limit, in the order checks list them."""
    return tuple(m for m in METRICS.values() if m.budgetable)
