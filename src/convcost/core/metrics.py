"""The metrics: one table of what convcost counts, from which the totals' JSON, the budgets
and their ``--max-*`` options, the schema's budget keys, diff's figures and every format's
metric columns are derived. A new metric is one entry here (and, for a new base count, how
each layer kind computes it)."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from convcost.core.report import LayerResult, Totals

    Figures = LayerResult | Totals

Unit = Literal["count", "bytes", "seconds", "ratio"]
Summing = Literal["sum", "max", "derived"]
Source = Literal["count", "cost", "device"]
Number = int | float | None


class Metric(NamedTuple):
    """One figure convcost reports.

    ``key`` is its name everywhere a machine reads it: JSON, CSV header, budget key,
    ``--max-KEY``. ``read`` takes it from a layer's result (when ``per_layer``) or from
    totals. ``sums``: a group's figure is the sum of its layers' (or the largest of them, or
    ``derived`` from the group's own sums, as operations per byte are).
    ``budget_example`` makes it budgetable: the example in its ``--max-KEY`` help.
    ``diffed``: ``convcost diff`` compares it (per layer, so only a per-layer metric).
    ``source``: ``count`` (the analysis sums it), ``cost`` (bytes and memory, once costed:
    ``convcost.core.costing``) or ``device`` (time: only when a device is given).
    ``budget_key``: its name as a budget key and ``--max-`` option, when not ``key``.
    ``diff_total``: ``convcost diff`` compares the two networks' figures (not per layer).
    ``of_shapes``: a layer's figure follows from its tensors' shapes alone, so it is known
    even for an operator convcost cannot count (``kinds.uncounted``); the others are not.
    """

    key: str
    label: str  # what it counts, in words: budget help, schema description
    title: str  # its column's title in tables for people
    unit: Unit
    read: Callable[[Figures], Number]
    per_layer: bool = True
    sums: Summing = "sum"
    budget_example: str | None = None
    diffed: bool = False  # diff compares it layer by layer and in total (--fail-above)
    source: Source = "count"
    diff_total: bool = False  # diff compares the networks' figures (a whole-network metric)
    budget_key: str | None = None
    of_shapes: bool = False

    @property
    def budgetable(self) -> bool:
        return self.budget_example is not None

    def count(self, figures: Figures) -> int:
        """The figure of a metric that counts (``read`` typed as a whole number)."""
        value = self.read(figures)
        if not isinstance(value, int):
            raise TypeError(f"{self.key} is not a count: {value!r}")
        return value

    @property
    def budget_name(self) -> str:
        """Its key in a config's ``budget:`` and in ``--max-NAME`` (dashes there)."""
        return self.budget_key or self.key


def _memory(totals: Figures) -> int:
    return int(totals.param_bytes + totals.activation_bytes)  # type: ignore[union-attr]


def _cost(field: str) -> Callable[[Figures], Number]:
    """A reader of a costed layer's or totals' figure (``convcost.core.costing``)."""

    def read(figures: Figures) -> Number:
        cost = figures.cost
        if cost is None:
            raise ValueError("not costed: see convcost.core.costing.cost")
        value: Number = getattr(cost, field)
        return value

    return read


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
               attrgetter("activations"), budget_example="12M", of_shapes=True),
        Metric("param_bytes", "bytes of parameters, at the weights' format (--dtype)",
               "param bytes", "bytes", attrgetter("param_bytes"), per_layer=False,
               diff_total=True),
        Metric("activation_bytes", "bytes of all layer outputs, at the activations' format",
               "activation bytes", "bytes", attrgetter("activation_bytes"), per_layer=False),
        Metric("memory",
               "bytes of parameters and of all layer outputs (not what is alive at once: see "
               "peak_memory)",
               "memory", "bytes", _memory, per_layer=False, budget_example="100MB or 95MiB"),
        Metric("weight_bytes", "bytes of parameters and buffers a layer reads",
               "weight bytes", "bytes", _cost("weight_bytes"), source="cost"),
        Metric("input_bytes", "bytes of the tensors a layer reads", "input bytes", "bytes",
               _cost("input_bytes"), source="cost", of_shapes=True),
        Metric("output_bytes", "bytes of the tensor a layer writes", "output bytes", "bytes",
               _cost("output_bytes"), source="cost", of_shapes=True),
        Metric("ops", "arithmetic operations: 2 per MAC, bias additions and the layer's own "
               "(activations, pools, merges, BatchNorm at inference)", "ops", "count",
               _cost("ops"), source="cost"),
        Metric("bytes_moved",
               "bytes a layer moves: weights, inputs and output once each (a lower bound)",
               "bytes moved", "bytes", _cost("bytes_moved"), source="cost"),
        Metric("live_bytes", "activation bytes alive during a layer's step, at inference",
               "live bytes", "bytes", _cost("live_bytes"), sums="max", source="cost",
               of_shapes=True),
        Metric("arithmetic_intensity", "operations per byte moved (arithmetic intensity)",
               "ops/byte", "ratio", _cost("arithmetic_intensity"), sums="derived",
               source="cost"),
        Metric("peak_activation_bytes",
               "bytes of activations alive at once at the peak of inference",
               "peak memory", "bytes", attrgetter("peak_activation_bytes"), per_layer=False,
               budget_example="8MB", source="cost", budget_key="peak_memory", diff_total=True),
        Metric("saved_activation_bytes",
               "bytes of activations training saves for the backward pass", "saved activations",
               "bytes", attrgetter("saved_activation_bytes"), per_layer=False, source="cost"),
        Metric("training_bytes",
               "bytes training holds: parameters, gradients, optimizer state, buffers and "
               "saved activations", "training memory", "bytes", attrgetter("training_bytes"),
               per_layer=False, budget_example="2GB", source="cost",
               budget_key="training_memory", diff_total=True),
        Metric("latency_s", "seconds of roofline time on the device", "time", "seconds",
               _cost("latency_s"), budget_example="2ms", source="device",
               budget_key="latency"),
    )
}  # fmt: skip
"""Every metric, in the order every format lists them. Read through the functions below at
call time (never copied at import), so that the table is the one place to change."""


def metrics() -> tuple[Metric, ...]:
    return tuple(METRICS.values())


def per_layer(device: bool = False) -> tuple[Metric, ...]:
    """The metrics a layer's row carries (the others are in totals only); time only with a
    device."""
    return tuple(m for m in METRICS.values() if m.per_layer and (device or m.source != "device"))


def totals(device: bool = False) -> tuple[Metric, ...]:
    """The metrics totals carry; time only with a device."""
    return tuple(m for m in METRICS.values() if device or m.source != "device")


def counted() -> tuple[Metric, ...]:
    """The metrics the analysis itself sums over layers (``Totals``' first fields)."""
    return tuple(m for m in METRICS.values() if m.source == "count" and m.per_layer)


def diffed() -> tuple[Metric, ...]:
    """The metrics ``convcost diff`` compares, in its order."""
    return tuple(m for m in METRICS.values() if m.diffed)


def diffed_totals() -> tuple[Metric, ...]:
    """The whole-network figures ``convcost diff`` compares besides, at the formats asked."""
    return tuple(m for m in METRICS.values() if m.diff_total)


def budgetable() -> tuple[Metric, ...]:
    """The metrics a budget can limit, in the order checks list them."""
    return tuple(m for m in METRICS.values() if m.budgetable)
