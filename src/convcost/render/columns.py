"""The column model shared by the table, CSV, Markdown and JSON: which rows a format lists
at ``--depth``, and the metric columns, built from core.metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from convcost.core.metrics import METRICS, per_layer
from convcost.render.numbers import grouped, short

if TYPE_CHECKING:
    from convcost.core.report import LayerResult, Report, Row, Totals

    Figures = LayerResult | Totals

Justify = Literal["left", "right"]


class Column(NamedTuple):
    """A metric column: ``key`` (the metric's, as CSV and JSON name it), ``title`` (as
    tables for people head it), ``text`` (the cell people read) and ``value`` (the number
    JSON and CSV carry), both taken from a layer's result or from totals."""

    key: str
    title: str
    justify: Justify
    text: Callable[[Figures], str]
    value: Callable[[Figures], int]


def metric_column(key: str, style: Literal["grouped", "short"] = "grouped",
                  title: str | None = None) -> Column:  # fmt: skip
    """Metric ``key`` as a column: ``120,422,400`` (grouped) or ``120.4M`` (short)."""
    metric = METRICS[key]
    read = metric.read
    show = grouped if style == "grouped" else short
    return Column(key, metric.title if title is None else title, "right",
                  lambda f: show(read(f)), read)  # fmt: skip


def work_columns(unit: str) -> list[Column]:
    """The work figure the user asked for (``--unit macs|flops``), exact and rounded (≈)."""
    return [metric_column(unit), metric_column(unit, "short", "≈")]


def layer_columns() -> list[Column]:
    """Every metric a layer's row carries, as machine formats (CSV, JSON) list them."""
    return [metric_column(m.key) for m in per_layer()]


def layer_values(row: Figures) -> dict[str, int]:
    """A row's per-layer metrics by key, as JSON writes them."""
    return {m.key: m.read(row) for m in per_layer()}


def totals_values(totals: Totals) -> dict[str, Any]:
    """Every metric of totals by key, as JSON writes them."""
    return {m.key: m.read(totals) for m in METRICS.values()}


def shown_rows(report: Report, depth: int | None) -> tuple[Row, ...]:
    """The rows every format lists with ``--depth N``: everything nested less than N deep,
    a group's row carrying the totals of what folds into it. Without ``--depth``, a table
    lists every group and layer, CSV (flat) every layer, JSON layers and groups apart."""
    return report.rows_to_depth(depth)
