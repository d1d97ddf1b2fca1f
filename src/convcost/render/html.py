"""``--format html`` and ``convcost report``: one self-contained page (inline SVG, CSS and a
little script of convcost's own; nothing fetched) with the network drawn as a graph, the
per-layer table (sortable), bar charts of MACs, params and activation bytes, the roofline
with a device, and for ``compare`` the paths side by side with the break-even line.

Every figure is a metric column's (``render.columns``), as ``analyze --format json``
gives it; every name goes through ``escape.html_text``, and the page's data through
``escape.script_json``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from convcost.core.metrics import METRICS
from convcost.core.report import GroupResult, LayerResult, Report
from convcost.render.charts import Bar, Line, Point, bar_chart, break_even_chart, roofline
from convcost.render.columns import (
    Column,
    has_device,
    layer_columns,
    metric_column,
    totals_values,
)
from convcost.render.escape import html_text, script_json
from convcost.render.graphsvg import FOLD_ABOVE, draw, legend
from convcost.render.numbers import figure, rate
from convcost.render.registry import Format, Options, writer
from convcost.render.words import footer_lines, megabytes, saving_lines, time_lines

if TYPE_CHECKING:
    from convcost.analyses.compare import Comparison
    from convcost.core.report import Row, Totals

CHART_BARS = 400
"""At most this many bars a chart: a bigger network's are its groups, at the deepest level
that fits (``--depth`` chooses the level itself)."""

_HEADLINE = ("macs", "params", "activations", "memory", "peak_activation_bytes",
             "training_bytes", "latency_s")  # fmt: skip


_ROOFLINE_LINK = '<a href="#roofline">roofline</a>'


@cache
def _asset(name: str) -> str:
    return (files("convcost.render") / "assets" / name).read_text(encoding="utf-8")


def page(title: str, body: str, data: dict[str, object]) -> str:
    """The whole document: ``body`` with the style, the data the script reads, the script."""
    encoded = script_json(json.dumps(data, separators=(",", ":")))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_text(title)}</title><style>{_asset('report.css')}</style></head>"
        f'<body class="convcost-report">{body}'
        f'<script type="application/json" id="cc-data">{encoded}</script>'
        f"<script>{_asset('report.js')}</script></body></html>"
    )


# --- the table ------------------------------------------------------------------------------


def _figures(row: Row) -> LayerResult | Totals:
    return row.totals if isinstance(row, GroupResult) else row


def _op(row: Row) -> str:
    return row.kind if isinstance(row, GroupResult) else f"{row.kind} {row.config}".strip()


def _cells(figures: LayerResult | Totals, columns: list[Column]) -> str:
    cells = []
    for column in columns:
        cells.append(f'<td class="num">{html_text(column.text(figures))}</td>')
    return "".join(cells)


Cell = str | tuple[str, object]  # text, or a number's text and its value (to sort by)


def _row_cells(figures: LayerResult | Totals, columns: list[Column]) -> list[Cell]:
    return [(column.text(figures), column.value(figures)) for column in columns]


def layer_table(report: Report, depth: int | None) -> tuple[str, list[list[Cell]]]:
    """The table's head and foot, and its rows as data the page's script writes (sorted as
    asked; the first rows only, for a big network, until all are asked for): every layer
    (with ``--depth``, the layers above it and the groups folded there), in network order,
    every per-layer metric as ``analyze --format json`` gives it."""
    columns = layer_columns(has_device(report))
    head = "".join(
        f'<th class="num" title="{html_text(METRICS[c.key].label)}" data-key="{c.key}">'
        f"{html_text(c.title)}</th>"
        for c in columns
    )
    rows: list[list[Cell]] = [
        [(str(index), index), row.name, _op(row), str(row.input_shape), str(row.output_shape),
         *_row_cells(_figures(row), columns)]
        for index, row in enumerate(report.partition(depth))
    ]  # fmt: skip
    total = (f'<tr class="total"><td></td><td>total</td><td></td><td>{report.input_shape}</td>'
             f"<td>{report.output_shape}</td>{_cells(report.totals, columns)}</tr>")  # fmt: skip
    html = (
        '<div class="scroll"><table class="sortable" id="cc-layers"><thead><tr>'
        '<th class="num up" data-key="index" aria-sort="ascending">#</th>'
        '<th data-key="name">name</th>'
        f'<th data-key="op">op</th><th data-key="input_shape">input</th>'
        f'<th data-key="output_shape">output</th>{head}</tr></thead>'
        f"<tbody></tbody><tfoot>{total}</tfoot></table></div>"
        '<p class="sub" id="cc-more" hidden><button type="button">show all rows</button></p>'
    )
    return html, rows


# --- charts ---------------------------------------------------------------------------------


def _chart_depth(report: Report, depth: int | None) -> int | None:
    if depth is not None or len(report.layers) <= CHART_BARS:
        return depth
    deepest = max((group.depth for group in report.groups), default=0) + 1
    chosen = 1
    for level in range(1, deepest + 1):
        if len(report.partition(level)) <= CHART_BARS:
            chosen = level
    return chosen


def charts(report: Report, depth: int | None) -> str:
    level = _chart_depth(report, depth)
    rows = report.partition(level)
    costed = report.totals.cost is not None
    keys = ("macs", "params", "output_bytes" if costed else "activations")
    titles = {"macs": "MACs", "params": "parameters", "output_bytes": "activation bytes",
              "activations": "activation values"}  # fmt: skip
    where = "per layer" if level is None else f"per row at depth {level}"
    parts = [f'<p class="sub">{len(rows):,} bars, {where}, in network order.</p>']
    for key in keys:
        column = metric_column(key)
        bars = []
        for row in rows:
            figures = _figures(row)
            value = column.value(figures)
            bars.append(Bar(row.name, int(value or 0), column.text(figures)))
        parts.append(bar_chart(f"{titles[key]} {where}", bars))
    return "".join(parts)


def roofline_chart(report: Report) -> str:
    network = report.totals.network
    device = None if network is None else network.settings.device
    if network is None or device is None:
        return ""
    number_format = network.settings.precision.activations.name
    peak = device.peak[number_format]  # the roofline's own (core.costing): activations' format
    points = []
    for layer in report.layers:
        cost = layer.cost
        intensity = None if cost is None else cost.arithmetic_intensity
        if cost is None or intensity is None or not cost.latency_s or not cost.ops:
            continue
        achieved = cost.ops / cost.latency_s
        time = figure(cost.latency_s, "seconds")
        tip = (f"{intensity:.2f} ops/byte, {rate(achieved, 'ops/s')}, {time}, "
               f"{cost.bound}-bound")  # fmt: skip
        points.append(Point(layer.name, intensity, achieved, cost.bound, tip))
    return (
        f'<h2 id="roofline">Roofline on {html_text(device.name)} ({number_format})</h2>'
        '<p class="sub">Each layer: its arithmetic intensity (operations per byte it moves) '
        "against the throughput its roofline time gives; the roof is min(peak, bandwidth × "
        "intensity). Log-log.</p>"
        '<p class="legend"><span style="background:#c0392b"></span>compute-bound'
        '<span style="background:#2471a3"></span>memory-bound</p>'
        + roofline(points, peak, device.bandwidth, device.name)
    )


# --- pages ----------------------------------------------------------------------------------


def _headline(totals: Totals, device: bool) -> str:
    values = totals_values(totals, device)
    cells = []
    for key in _HEADLINE:
        if key in values and values[key] is not None:
            metric = METRICS[key]
            value = values[key]
            exact = figure(value, metric.unit)
            said = megabytes(int(value)) if metric.unit == "bytes" else exact
            name = html_text(metric.title)
            cells.append(f'<div title="{html_text(metric.label)}: {exact}"><span>{name}</span>'
                         f"<b>{html_text(said)}</b></div>")  # fmt: skip
    return f'<div class="totals">{"".join(cells)}</div>'


@writer(Report, Format.html)
def analyze_html(report: Report, options: Options) -> str:
    device = has_device(report)
    drawing = draw(report, device, options.depth)
    table, rows = layer_table(report, options.depth)
    title = options.title or "network"
    colour = "its share of the network's time" if device else "its share of the MACs"
    folded = ""
    if options.depth is not None and drawing.folded:
        folded = f"; groups below depth {options.depth} open folded"
    elif drawing.folded:
        folded = f"; groups open folded, to show at most {FOLD_ABOVE} boxes"
    notes = "".join(f'<p class="sub">{html_text(line)}</p>' for line in footer_lines(report))
    body = (
        f"<h1>convcost report: {html_text(title)}</h1>"
        f'<p class="sub">{report.input_shape} → {report.output_shape}, '
        f"{len(report.layers):,} layers, {len(report.groups):,} groups"
        f"{f', batch {report.batch}' if report.batch > 1 else ''}</p>"
        f"{_headline(report.totals, device)}{notes}"
        '<nav><a href="#graph">graph</a><a href="#table">table</a><a href="#charts">charts</a>'
        f"{_ROOFLINE_LINK if device else ''}</nav>"
        f'<h2 id="graph">Graph</h2><p class="sub">Each box is a layer, coloured by {colour}; '
        f"click a group's name to fold it{folded}. Hover for figures.</p>"
        f"{legend(report, device)}"
        '<button id="cc-fold" type="button">fold all</button>'
        '<button id="cc-unfold" type="button">unfold all</button>'
        f'<div class="scroll">{drawing.svg}</div>'
        f'<h2 id="table">Layers</h2><p class="sub">Click a heading to sort.</p>{table}'
        f'<h2 id="charts">Charts</h2>{charts(report, options.depth)}{roofline_chart(report)}'
    )
    data = {"edges": drawing.edges, "folded": drawing.folded, "rows": rows}
    return page(f"convcost: {title}", body, data)


def _path_section(name: str, report: Report) -> str:
    columns = [metric_column("macs"), metric_column("params")]
    rows = "".join(
        f"<tr><td>{html_text(layer.name)}</td><td>{html_text(_op(layer))}</td>"
        f"<td>{layer.output_shape}</td>{_cells(layer, columns)}</tr>"
        for layer in report.layers
    )
    total = f'<tr class="total"><td>total</td><td></td><td>{report.output_shape}</td>' + _cells(
        report.totals, columns
    )
    chain = " → ".join(html_text(layer.local_name) for layer in report.layers)
    return (
        f'<section><h3>{html_text(name)}</h3><p class="sub">input → {chain}</p>'
        '<table class="figures"><thead><tr><th>layer</th><th>op</th><th>output</th>'
        f'<th class="num">MACs</th><th class="num">params</th></tr></thead><tbody>{rows}'
        f"</tbody><tfoot>{total}</tr></tfoot></table></section>"
    )


@writer("convcost.analyses.compare.Comparison", Format.html)
def compare_html(comparison: Comparison, options: Options) -> str:
    k = comparison.kernel
    conv = comparison.direct.report.layers[-1]
    title = (f"{comparison.input_shape} → {k[0]}×{k[1]} conv, {comparison.filters} filters "
             f"({conv.config})")  # fmt: skip
    direct = comparison.direct.report.totals.macs
    b = comparison.break_even
    # A bottleneck path's MACs are width × slope; b* = direct / slope, so slope = direct / b*.
    lines = [Line(p.width, p.report.totals.macs, p.name) for p in comparison.bottlenecks
             if p.width is not None]  # fmt: skip
    chart = break_even_chart(direct, direct * b.denominator, b.numerator, float(b), lines)
    lines_said = [*saving_lines(comparison, options.unit), *time_lines(comparison, options.unit)]
    said = "".join(f"<li>{html_text(line)}</li>" for line in lines_said)
    paths = "".join(_path_section(p.name, p.report) for p in comparison.paths)
    body = (
        f"<h1>convcost compare: {html_text(title)}</h1><ul>{said}</ul>"
        f'<h2 id="paths">Paths</h2><div class="paths">{paths}</div>'
        '<h2 id="break-even">Break-even</h2><p class="sub">MACs against the bottleneck\'s '
        "width: the direct conv's are flat, a bottleneck path's grow with its width; they "
        "cross at b*.</p>"
        f"{chart}"
    )
    return page(f"convcost compare: {title}", body, {"edges": [], "folded": [], "rows": []})
