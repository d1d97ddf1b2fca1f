"""The column model shared by the table, CSV, Markdown and JSON: which rows a format lists
at ``--depth``, and the metric columns, built from core.metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from convcost.core.metrics import METRICS, Metric, Number, per_layer
from convcost.core.metrics import totals as totals_metrics
from convcost.render.numbers import figure, fixed, short

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
    value: Callable[[Figures], Number]


UNKNOWN = "?"
"""A figure convcost cannot know, an uncounted operator's MACs say (JSON: null)."""


def _known(metric: Metric) -> Callable[[Figures], Number]:
    """The metric's reader, giving None for an operator convcost could not count when the
    figure depends on what the operator computes (``Metric.of_shapes``)."""
    read = metric.read
    if metric.of_shapes:
        return read
    # Every Figures (a layer's result or totals) says whether it was counted.
    return lambda f: read(f) if f.counted else None


def metric_column(key: str, style: Literal["grouped", "short"] = "grouped",
                  title: str | None = None) -> Column:  # fmt: skip
    """Metric ``key`` as a column: ``120,422,400`` (grouped) or ``120.4M`` (short); ``?``
    where the figure is unknown (an uncounted operator)."""
    metric = METRICS[key]
    read, unit = _known(metric), metric.unit

    def text(f: Figures) -> str:
        value = read(f)
        if value is None and not f.counted:
            return UNKNOWN
        return short(int(value or 0)) if style == "short" else figure(value, unit)

    return Column(key, metric.title if title is None else title, "right", text, read)


def work_columns(unit: str) -> list[Column]:
    """The work figure the user asked for (``--unit macs|flops``), exact and rounded (≈)."""
    return [metric_column(unit), metric_column(unit, "short", "≈")]


BAR_CELLS = 10
"""The widest share bar, in character cells (each cell eight steps: ▏▎▍▌▋▊▉█)."""
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(eighths: int) -> str:
    """A bar ``eighths`` eighths of a cell long: 13 → ``█▋``."""
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def share_column(column: Column, total: Figures) -> Column:
    """What share of ``total``'s figure each row's is, headed ``% TITLE``: per cent to one
    decimal and a bar of up to BAR_CELLS cells (``12.3 █▎``; the total's row: ``100.0``).
    Its value is the fraction (None where the figure is unknown or the total is 0)."""
    whole = column.value(total)

    def value(f: Figures) -> Number:
        part = column.value(f)
        return None if part is None or not whole else part / whole

    def text(f: Figures) -> str:
        part = column.value(f)
        if part is None:
            return UNKNOWN
        if not whole:
            return ""
        if f is total:
            return "100.0"
        steps = 8 * BAR_CELLS
        if isinstance(part, int) and isinstance(whole, int):  # counts: exact, half up
            percent = fixed(100 * part, whole, 1)
            eighths = (2 * steps * part + whole) // (2 * whole)
        else:
            percent, eighths = f"{100 * part / whole:.1f}", round(steps * part / whole)
        return f"{percent:>5} {bar(eighths)}".rstrip()

    return Column(f"{column.key}_share", f"% {column.title}", "left", text, value)


def has_device(report: Report) -> bool:
    """Whether ``report`` was timed on a device (its rows then carry time)."""
    network = report.totals.network
    return network is not None and network.settings.device is not None


def layer_columns(device: bool = False, total: Totals | None = None) -> list[Column]:
    """Every metric a layer's row carries, as machine formats (CSV, JSON) list them; with
    ``total``, then each row's shares of it (``share_columns``)."""
    columns = [metric_column(m.key) for m in per_layer(device)]
    return columns if total is None else [*columns, *share_columns(total, device)]


def share_columns(total: Totals, device: bool = False) -> list[Column]:
    """A row's shares of ``total``'s MACs and FLOPs, and with a device of its time: the
    fractions machine formats carry (``macs_share``, ...)."""
    keys = ["macs", "flops", *(["latency_s"] if device else [])]
    return [share_column(metric_column(key), total) for key in keys]


def layer_values(
    row: Figures, device: bool = False, shares: Sequence[Column] = ()
) -> dict[str, Number]:
    """A row's per-layer metrics by key, as JSON writes them, then its ``shares``."""
    values = {m.key: _known(m)(row) for m in per_layer(device)}
    for column in shares:
        values[column.key] = column.value(row)
    return values


def totals_values(totals: Totals, device: bool = False) -> dict[str, Any]:
    """Every metric of totals by key, as JSON writes them (a group's totals: those that
    add up over layers, not the network's peak and training memory)."""
    whole = totals.network is not None
    return {
        m.key: m.read(totals)
        for m in totals_metrics(device)
        if whole or m.per_layer or m.source == "count"
    }


def shown_rows(report: Report, depth: int | None) -> tuple[Row, ...]:
    """The rows every format lists with ``--depth N``: everything nested less than N deep,
    a group's row carrying the totals of what folds into it. Without ``--depth``, a table
    lists every group and layer, CSV (flat) every layer, JSON layers and groups apart."""
    return report.rows_to_depth(depth)
