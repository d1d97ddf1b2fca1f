"""Machine-readable writers: JSON (a stable contract), CSV and Markdown of analyses,
comparisons, single layers and the model list. No Rich here."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from convcost.core.graph import INPUT, Graph
from convcost.core.report import BYTES_PER_VALUE, GroupResult, LayerResult, Report, Row, Totals
from convcost.core.shapes import Shape
from convcost.render.columns import (
    Column,
    has_device,
    layer_columns,
    layer_values,
    metric_column,
    share_column,
    share_columns,
    shown_rows,
    totals_values,
    work_columns,
)
from convcost.render.escape import json_safe, md_cell, md_code, md_text, visible
from convcost.render.explain import explain_layer
from convcost.render.numbers import Texts, rate
from convcost.render.registry import Document, Format, Options, writer
from convcost.render.words import footer_lines, saving_lines, time_lines

if TYPE_CHECKING:  # compare (and fractions) only when a comparison is rendered
    from convcost.analyses.compare import Comparison, Saving
    from convcost.analyses.models import Models
    from convcost.analyses.shape import LayerShape
    from convcost.core.devices import Device, Devices

# Results named, not imported: compare imports fractions, the model list the zoo.
_COMPARISON = "convcost.analyses.compare.Comparison"
_MODELS = "convcost.analyses.models.Models"
_LAYER_SHAPE = "convcost.analyses.shape.LayerShape"

SCHEMA_VERSION = 1


# --- JSON -----------------------------------------------------------------------------------


def json_text(data: Any) -> str:
    """JSON for scripts and people alike: objects and lists that hold a list of objects are
    spread over lines, two spaces a level; every other value (a layer, a group, totals, a
    shape) takes one line. One line per layer is easy to grep and quick to write: the json
    module's C encoder writes each, where ``indent=`` would make it fall back to its Python
    encoder for everything (~4× slower on a 100,000-layer report)."""
    import json  # here: the CSV and Markdown formats start faster without it

    raw = json.JSONEncoder(ensure_ascii=False).encode
    parts: list[str] = []

    def encode(value: Any) -> str:
        return json_safe(raw(value))

    def write(value: Any, indent: str) -> None:
        if not _spreads(value):
            parts.append(encode(value))
            return
        inner = indent + "  "
        items = value.items() if isinstance(value, dict) else enumerate(value)
        parts.append("{" if isinstance(value, dict) else "[")
        for i, (key, item) in enumerate(items):
            parts.append(("\n" if i == 0 else ",\n") + inner)
            if isinstance(value, dict):
                parts.append(encode(key) + ": ")
            write(item, inner)
        parts.append("\n" + indent + ("}" if isinstance(value, dict) else "]"))

    write(data, "")
    return "".join(parts)


@writer(Document, Format.json)
def document_json(document: Document, options: Options) -> str:
    import json

    return json.dumps(document.data, indent=2, ensure_ascii=False)


def _spreads(value: Any) -> bool:
    kind = type(value)  # decoded-JSON-like data: exact dicts and lists
    if kind is list:
        return dict in map(type, value)
    if kind is dict:
        for item in value.values():
            if type(item) in (dict, list) and _spreads(item):
                return True
    return False


def _layers_json(
    layers: tuple[LayerResult, ...],
    explain: str | None,
    graph: Graph | None = None,
    device: bool = False,
    total: Totals | None = None,
) -> list[dict[str, Any]]:
    # As Texts does for settings, each layer object's padding on each input shape is made once.
    texts = Texts()
    shares = [] if total is None else share_columns(total, device)
    paddings: dict[tuple[int, Shape], dict[str, int] | None] = {}
    rows = []
    # What each layer reads, by name (null: the network's input), from the graph analysed.
    names = [result.name for result in layers] if graph is not None else []
    nodes = graph.nodes if graph is not None else ()
    for index, result in enumerate(layers):
        layer, inp = result.layer, result.input_shape
        data: dict[str, Any] = {
            "name": result.name,
            "kind": result.kind,
            "config": texts.config(layer),
            "input_shape": inp.as_list(),
            "output_shape": result.output_shape.as_list(),
            **layer_values(result, device, shares),
            "depth": result.depth,
        }
        if device and result.cost is not None:
            data["bound"] = result.cost.bound
        key = (id(layer), inp)
        if key not in paddings:
            axes = result.axes
            paddings[key] = None if axes is None else {
                "top": axes[0].pad_before, "bottom": axes[0].pad_after,
                "left": axes[1].pad_before, "right": axes[1].pad_after,
            }  # fmt: skip
        padding = paddings[key]
        if padding is not None:
            data["padding"] = padding
        if explain:
            data["explain"] = explain_layer(result, explain)
        if nodes:
            data["inputs"] = [None if i == INPUT else names[i] for i in nodes[index].inputs]
        rows.append(data)
    return rows


def _totals_json(totals: Totals, device: bool = False) -> dict[str, Any]:
    data = totals_values(totals, device)
    network = totals.network
    if network is None:
        return data
    data["peak_layer"] = network.peak.layer or None
    return data


def _bytes_per_value(report: Report) -> int:
    """The activations' bytes a value (4 until costed at another format)."""
    network = report.totals.network
    return BYTES_PER_VALUE if network is None else network.settings.precision.activations.bytes


def _costs_json(totals: Totals) -> dict[str, Any]:
    """How the bytes and time were costed, and training memory part by part."""
    network = totals.network
    assert network is not None
    settings, training = network.settings, network.training
    precision = settings.precision
    device = settings.device
    return {
        "precision": {
            "weights": precision.weights.name,
            "activations": precision.activations.name,
        },
        "training": {
            "optimizer": training.optimizer,
            "params": training.params,
            "gradients": training.gradients,
            "optimizer_state": training.optimizer_state,
            "buffers": training.buffers,
            "saved_activations": training.saved_activations,
            "total": training.total,
        },
        "device": None if device is None else {
            "name": device.name,
            "peak_ops_per_s": device.peak[precision.activations.name],
            "bandwidth_bytes_per_s": device.bandwidth,
            "fused": settings.fuse,
        },
    }  # fmt: skip


def _rows_json(report: Report, depth: int) -> list[dict[str, Any]]:
    """The rows a table lists at ``--depth``, as one list: groups carry their totals."""
    device = has_device(report)
    shares = share_columns(report.totals, device)
    rows = []
    for row in shown_rows(report, depth):
        is_group = isinstance(row, GroupResult)
        rows.append({
            "name": row.name, "kind": row.kind, "row": "group" if is_group else "layer",
            "depth": row.depth, "input_shape": row.input_shape.as_list(),
            "output_shape": row.output_shape.as_list(),
            **layer_values(row.totals if isinstance(row, GroupResult) else row, device, shares),
        })  # fmt: skip
        if device and isinstance(row, LayerResult) and row.cost is not None:
            rows[-1]["bound"] = row.cost.bound
    return rows


def _group_json(group: GroupResult, device: bool) -> dict[str, Any]:
    return {
        "name": group.name,
        "kind": group.kind,
        "depth": group.depth,
        "input_shape": group.input_shape.as_list(),
        "output_shape": group.output_shape.as_list(),
        "totals": _totals_json(group.totals, device),
    }


def _report_json(report: Report, explain: str | None) -> dict[str, Any]:
    device = has_device(report)
    totals = _totals_json(report.totals, device)
    if device:
        latency = totals["latency_s"]
        totals["images_per_s"] = report.batch / latency if latency else None
    data = {
        "layers": _layers_json(report.layers, explain, report.graph, device, report.totals),
        "groups": [_group_json(g, device) for g in report.groups],
        "totals": totals,
    }
    if report.totals.network is not None:
        data.update(_costs_json(report.totals))
    return data


def _explained(options: Options) -> str | None:
    """With --explain, the unit its lines count work in (``explain_layer``); else None."""
    return options.unit if options.explain else None


def _dump(data: dict[str, Any]) -> str:
    return json_text({"schema_version": SCHEMA_VERSION, **data})


def scaling_json(options: Options) -> dict[str, Any]:
    """``{"scaling": ...}`` where the network was analysed scaled (``Scaling.fields``), else
    nothing: a JSON output records what it was computed at."""
    scaling = options.scaling
    return {} if scaling is None or not str(scaling) else {"scaling": scaling.fields()}


@writer(Report, Format.json)
def analyze_json(report: Report, options: Options) -> str:
    data = {
        "command": "analyze",
        "input_shape": report.input_shape.as_list(),
        "output_shape": report.output_shape.as_list(),
        "batch": report.batch,
        "bytes_per_value": _bytes_per_value(report),
        **scaling_json(options),
        **_report_json(report, _explained(options)),
    }
    if options.depth is not None:
        data["depth"] = options.depth
        data["rows"] = _rows_json(report, options.depth)
    data["outputs"] = [
        {"name": layer.name, "output_shape": layer.output_shape.as_list()}
        for layer in report.outputs
    ]
    data["uncounted_ops"] = uncounted_json(report)
    return _dump(data)


def uncounted_json(report: Report) -> list[dict[str, Any]]:
    """The operators convcost could not count, by type (their layers' figures are null)."""
    return [{"op": op.op, "count": op.number, "layers": list(op.layers)} for op in report.uncounted]


def _saving_json(comparison: Comparison, saving: Saving) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": saving.path.name,
        "macs_ratio": float(saving.macs_ratio),
        "macs_saving_percent": float(saving.macs_saving_percent),
        "params_ratio": float(saving.params_ratio),
    }
    time_saved = comparison.time_saving_percent(saving)
    if time_saved is not None:  # with a device
        data["latency_saving_percent"] = time_saved
    return data


@writer(_COMPARISON, Format.json)
def compare_json(comparison: Comparison, options: Options) -> str:
    explain = _explained(options)
    return _dump(
        {
            "command": "compare",
            "input_shape": comparison.input_shape.as_list(),
            "kernel": list(comparison.kernel),
            "filters": comparison.filters,
            "batch": comparison.direct.report.batch,
            "paths": [
                {"name": p.name, "bottleneck_width": p.width, **_report_json(p.report, explain)}
                for p in comparison.paths
            ],
            "savings": [_saving_json(comparison, s) for s in comparison.savings],
            "break_even_width": float(comparison.break_even),
            "break_even_width_exact": str(comparison.break_even),
        }
    )


@writer(_LAYER_SHAPE, Format.json)
def shape_json(result: LayerShape, options: Options) -> str:
    report = result.report
    (layer,) = report.layers
    (data,) = _layers_json(report.layers, _explained(options))
    assert layer.axes is not None
    return _dump(
        {
            "command": "shape",
            "input_shape": report.input_shape.as_list(),
            "output_shape": report.output_shape.as_list(),
            "formula": {"h": layer.axes[0].formula(), "w": layer.axes[1].formula()},
            "layer": data,
        }
    )


# --- CSV ------------------------------------------------------------------------------------

_CSV_HEAD = ["name", "kind", "config", "input_shape", "output_shape"]


def _csv_header(columns: list[Column], explain: str | None, bound: bool = False) -> list[str]:
    return [*_CSV_HEAD, *(c.key for c in columns), *(["bound"] if bound else []),
            *(["explain"] if explain else [])]  # fmt: skip


def _figures(row: Row | Report) -> Totals | LayerResult:
    if isinstance(row, LayerResult):
        return row
    return row.totals


def _csv_head(row: Row | Report, texts: Texts) -> list[object]:
    if isinstance(row, LayerResult):
        head: list[object] = [row.name, row.kind, texts.config(row.layer)]
    elif isinstance(row, GroupResult):
        head = [row.name, row.kind, ""]
    else:
        head = ["total", "total", ""]
    return [*head, texts.ascii(row.input_shape), texts.ascii(row.output_shape)]


def _csv_rows(
    report: Report, explain: str | None, columns: list[Column], depth: int | None = None
) -> list[list[object]]:
    """Every layer, or with ``depth`` the rows every format lists (render.columns), then
    the total."""
    texts = Texts()
    shown: list[Row | Report] = [
        *(report.layers if depth is None else shown_rows(report, depth)),
        report,
    ]
    bound = has_device(report)  # the roofline's bound after the time, with a device
    rows: list[list[object]] = []
    # Column by column, a slice of rows at a time: a column's reader mapped over the slice,
    # the cells then zipped into rows (a cell at a time costs a call more a cell: 100,000
    # layers × 12 columns; a slice keeps the columns' lists small beside the rows).
    for start in range(0, len(shown), _CSV_SLICE):
        part = shown[start : start + _CSV_SLICE]
        figures = [_figures(row) for row in part]
        cells: list[list[object]] = [list(map(column.value, figures)) for column in columns]
        if bound:
            cells.append([f.cost.bound if f.cost is not None else "" for f in figures])
        if explain:
            cells.append([
                "; ".join(explain_layer(row, explain)) if isinstance(row, LayerResult) else ""
                for row in part
            ])  # fmt: skip
        heads = (_csv_head(row, texts) for row in part)
        rows += (
            [*head, *values] for head, values in zip(heads, zip(*cells, strict=True), strict=True)
        )
    return rows


_CSV_SLICE = 4096


def _csv(header: list[str], rows: list[list[object]]) -> str:
    import csv  # here: the other formats start faster without it

    def write(rows: list[list[object]]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()

    text = write(rows)
    # A row a line, and nothing raw for a terminal: when a name (or a group's kind, a block's
    # name) is not one line of printable text, every text cell is made visible. Checked on
    # the whole text: cell by cell would cost 0.1 s on 100,000 layers.
    if text.count("\n") != len(rows) + 1 or not text.replace("\n", "").isprintable():
        text = write([[visible(c) if isinstance(c, str) else c for c in row] for row in rows])
    return text.rstrip("\n")


@writer(Report, Format.csv)
def analyze_csv(report: Report, options: Options, shares: bool = True) -> str:
    """``shares``: each row's shares of the totals (not for one layer: ``shape``)."""
    device = has_device(report)
    columns = layer_columns(device, report.totals if shares else None)
    header = _csv_header(columns, _explained(options), device)
    return _csv(header, _csv_rows(report, _explained(options), columns, options.depth))


@writer(_COMPARISON, Format.csv)
def compare_csv(comparison: Comparison, options: Options) -> str:
    device = has_device(comparison.direct.report)
    # each path's shares are of its own total
    columns = {p.name: layer_columns(device, p.report.totals) for p in comparison.paths}
    header = ["path", *_csv_header(columns["direct"], _explained(options), device)]
    rows = [
        [path.name, *row]
        for path in comparison.paths
        for row in _csv_rows(path.report, _explained(options), columns[path.name])
    ]
    return _csv(header, rows)


@writer(_LAYER_SHAPE, Format.csv)
def shape_csv(result: LayerShape, options: Options) -> str:
    return analyze_csv(result.report, options._replace(depth=None), shares=False)


# --- Markdown -------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(map(md_cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _md_columns(unit: str, device: bool = False, total: Totals | None = None) -> list[Column]:
    """The Markdown table's figures; with ``total`` (analyze) the shares of it beside the
    work and the time."""
    work = work_columns(unit)
    time = metric_column("latency_s")
    columns = [*work, *([] if total is None else [share_column(work[0], total)]),
               metric_column("params"), metric_column("activations"),
               metric_column("bytes_moved"), metric_column("arithmetic_intensity")]  # fmt: skip
    if device:
        columns += [time, *([] if total is None else [share_column(time, total)]), _BOUND]
    return columns


def _bound(figures: LayerResult | Totals) -> str:
    return figures.cost.bound if figures.cost is not None else ""


_BOUND = Column("bound", "bound", "left", _bound, lambda figures: None)


def _bold_total(index: int, column: Column) -> bool:
    """Whether a column's total is in bold: the exact work figure's (the first) and params'."""
    return index == 0 or column.key == "params"


def _md_row(row: Row | Report, columns: list[Column], prefix: list[str]) -> list[str]:
    f = _figures(row)
    if isinstance(row, Report):
        head = ["**total**", "", ""]
    elif isinstance(row, GroupResult):
        head = [f"**{md_code(row.name)}**", md_text(row.kind), ""]
    else:
        head = [md_code(row.name), md_text(row.kind), row.config]
    total = isinstance(row, Report)
    figures = [
        f"**{c.text(f)}**" if total and _bold_total(i, c) else c.text(f).strip()
        for i, c in enumerate(columns)
    ]
    return [*prefix, *head, str(row.input_shape), str(row.output_shape), *figures]


def _md_layers(
    report: Report, columns: list[Column], prefix: list[str], depth: int | None = None
) -> list[list[str]]:
    rows = report.layers if prefix else shown_rows(report, depth)
    return [_md_row(row, columns, prefix) for row in (*rows, report)]


_MD_HEAD = ["layer", "kind", "config", "input", "output"]


def _md_header(columns: list[Column]) -> list[str]:
    return [*_MD_HEAD, *(c.title for c in columns)]


def _md_right(columns: list[Column], offset: int = 0) -> set[int]:
    return {offset + len(_MD_HEAD) + i for i, c in enumerate(columns) if c.justify == "right"}


def _md_explain(results: list[LayerResult], unit: str) -> str:
    lines = []
    for r in results:
        for line in explain_layer(r, unit):
            lines.append(f"- {md_code(r.name)}: {line}")
    return "\n".join(lines)


@writer(Report, Format.markdown)
def analyze_markdown(report: Report, options: Options, shares: bool = True) -> str:
    """``shares``: each row's shares of the totals (not for one layer: ``shape``)."""
    columns = _md_columns(options.unit, has_device(report), report.totals if shares else None)
    rows = _md_layers(report, columns, [], options.depth)
    text = _md_table(_md_header(columns), rows, _md_right(columns))
    footer = footer_lines(report)
    if footer:
        text += "\n\n" + "\n".join(f"- {md_text(line)}" for line in footer)
    if _explained(options):
        text += "\n\n" + _md_explain(list(report.layers), options.unit)
    return text


@writer(_COMPARISON, Format.markdown)
def compare_markdown(comparison: Comparison, options: Options) -> str:
    columns = _md_columns(options.unit, has_device(comparison.direct.report))
    rows = [row for p in comparison.paths for row in _md_layers(p.report, columns, [p.name])]
    text = _md_table(["path", *_md_header(columns)], rows, _md_right(columns, 1))
    text += "\n\n" + "\n".join(f"- {line}" for line in saving_lines(comparison, options.unit))
    text += "".join(f"\n- {md_text(line)}" for line in time_lines(comparison, options.unit))
    if _explained(options):
        results = [r for p in comparison.paths for r in p.report.layers]
        text += "\n\n" + _md_explain(results, options.unit)
    return text


@writer(_LAYER_SHAPE, Format.markdown)
def shape_markdown(result: LayerShape, options: Options) -> str:
    return analyze_markdown(result.report, Options(explain=True), shares=False)


# --- the device presets ---------------------------------------------------------------------

_DEVICES = "convcost.core.devices.Devices"
_DTYPES = ("fp32", "fp16", "bf16", "int8")


@writer(_DEVICES, Format.json)
def devices_json(devices: Devices, options: Options) -> str:
    return _dump({
        "command": "devices",
        "devices": [
            {"name": d.key, "title": d.name,
             "peak_ops_per_s": {dtype: d.peak[dtype] for dtype in _DTYPES if dtype in d.peak},
             "bandwidth_bytes_per_s": d.bandwidth, "source": d.source, "note": d.note}
            for d in devices.entries
        ],
    })  # fmt: skip


@writer(_DEVICES, Format.csv)
def devices_csv(devices: Devices, options: Options) -> str:
    header = ["name", "title", *(f"peak_{dtype}" for dtype in _DTYPES), "bandwidth", "source"]
    rows: list[list[object]] = [
        [d.key, d.name, *(d.peak.get(dtype, "") for dtype in _DTYPES), d.bandwidth, d.source]
        for d in devices.entries
    ]
    return _csv(header, rows)


@writer(_DEVICES, Format.markdown)
def devices_markdown(devices: Devices, options: Options) -> str:
    rows = [
        [md_code(d.key), md_text(d.name), *device_rates(d), md_text(d.source)]
        for d in devices.entries
    ]
    return _md_table(["device", "name", *_DTYPES, "bandwidth", "source"], rows,
                     {2, 3, 4, 5, 6})  # fmt: skip


def device_rates(device: Device) -> list[str]:
    """A device's peaks by format (``—`` where none is published) and bandwidth, for people."""
    return [
        *(rate(device.peak[dtype], "OPS" if dtype == "int8" else "FLOPS") if dtype in device.peak
          else "—" for dtype in _DTYPES),
        rate(device.bandwidth, "B/s"),
    ]  # fmt: skip


# --- the model zoo --------------------------------------------------------------------------


@writer(_MODELS, Format.json)
def models_json(models: Models, options: Options) -> str:
    rows = models.entries
    return _dump(
        {
            "command": "models",
            "models": [
                {
                    "name": name,
                    "description": description,
                    "input_shape": report.input_shape.as_list(),
                    "output_shape": report.output_shape.as_list(),
                    "totals": _totals_json(report.totals),
                }
                for name, description, report in rows
            ],
        }
    )


@writer(_MODELS, Format.csv)
def models_csv(models: Models, options: Options) -> str:
    columns = [metric_column(key) for key in ("macs", "params", "buffers")]
    header = ["name", "input_shape", *(c.key for c in columns), "description"]
    return _csv(
        header,
        [
            [name, r.input_shape.ascii, *(c.value(r.totals) for c in columns), d]
            for name, d, r in models.entries
        ],
    )


@writer(_MODELS, Format.markdown)
def models_markdown(models: Models, options: Options) -> str:
    columns = [metric_column("macs"), metric_column("params")]
    return _md_table(
        ["model", "input", *(c.title for c in columns), "source"],
        [
            [f"`{name}`", str(r.input_shape), *(c.text(r.totals) for c in columns), d]
            for name, d, r in models.entries
        ],
        {2 + i for i, c in enumerate(columns) if c.justify == "right"},
    )
