"""Rich tables for people. Imported only for ``--format table``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

from convcost.core.report import GroupResult, LayerResult, Report, Row, Totals
from convcost.render.columns import (
    UNKNOWN,
    Column,
    has_device,
    metric_column,
    shown_rows,
    work_columns,
)
from convcost.render.escape import visible
from convcost.render.explain import explain_layer
from convcost.render.numbers import Texts, count, grouped, short, unit_label
from convcost.render.registry import Format, Options, writer
from convcost.render.words import footer_lines, saving_lines, time_lines

if TYPE_CHECKING:  # each result's module only when its table is drawn: compare's start-up
    from convcost.analyses.budget import Checks
    from convcost.analyses.compare import Comparison
    from convcost.analyses.diff import Diff
    from convcost.analyses.models import Models
    from convcost.analyses.shape import LayerShape
    from convcost.core.devices import Devices


class _Console(Console):
    """Every string Rich shows (cells, titles, lines) becomes Text here: the one place where
    names and file names enter the terminal, made ``visible`` (an escape sequence in a name
    would clear the screen or retitle it; Rich writes ESC as it is). The plain writer leaves
    any text that is not printable to Rich, and so to this."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(visible(text), **options)


@contextmanager
def _console() -> Iterator[Console]:
    """A console whose output is written in one piece at the end, trailing blanks trimmed."""
    # Text is shown as given: Rich would otherwise colour numbers (highlight), read "[...]"
    # in a layer's name as a style tag (markup; "[/]" was a crash) and ":name:" as an emoji.
    console = _Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
    with console.capture() as capture:
        yield console
    sys.stdout.write("".join(line.rstrip() + "\n" for line in capture.get().splitlines()))


class _Line(NamedTuple):
    """What one table row shows, whatever it stands for (layer, group or total)."""

    name: str
    op: str
    input: str
    output: str
    figures: LayerResult | Totals | None  # None: a heading row (a compare path's name)
    bold: bool = False
    last: bool = False


def _line(row: Row | Report, compare: bool, indent: str, texts: Texts) -> _Line:
    shapes = texts.shape(row.input_shape), texts.shape(row.output_shape)
    if isinstance(row, Report):
        return _Line(indent + "total", "", *shapes, row.totals, bold=True, last=True)
    name = indent + "  " * row.depth + (row.name if compare else row.local_name)
    if isinstance(row, GroupResult):
        return _Line(name, row.kind, *shapes, row.totals, bold=True)
    return _Line(name, f"{row.kind} {texts.config(row.layer)}".strip(), *shapes, row)


def _metric_columns(unit: str) -> list[Column]:
    return [
        *work_columns(unit), metric_column("params"),
        metric_column("activations", "short", "outputs"), metric_column("buffers"),
        metric_column("latency_s"),
    ]  # fmt: skip


def _columns(unit: str) -> dict[str, tuple[bool, Callable[[_Line], str]]]:
    """header → (numbers: right-aligned and never wrapped, cell)."""

    def figure(column: Column) -> Callable[[_Line], str]:
        text = column.text
        return lambda x: "" if x.figures is None else text(x.figures)

    return {
        "layer": (False, lambda x: x.name),
        "op": (False, lambda x: x.op),
        "input": (True, lambda x: x.input),
        "output": (True, lambda x: x.output),
        **{c.title: (True, figure(c)) for c in _metric_columns(unit)},
        "bound": (True, _bound),
    }


def _bound(line: _Line) -> str:
    figures = line.figures
    return figures.cost.bound if figures is not None and figures.cost is not None else ""


_TEXT_MIN_WIDTH = 6  # a text column (layer, op) folds when space is short, but not below this


def _justify(header: str, number: bool) -> Literal["left", "right"]:
    return "right" if number and header not in ("input", "output", "bound") else "left"


def _cells(unit: str, lines: list[_Line], headers: list[str]) -> list[list[str]]:
    columns = _columns(unit)
    cell_of = [columns[h][1] for h in headers]
    return [[cell(line) for cell in cell_of] for line in lines]


def _table(
    title: str, unit: str, lines: list[_Line], headers: list[str], cells: list[list[str]]
) -> Table:
    table = Table(
        title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False,
        collapse_padding=True, padding=(0, 1),
    )  # fmt: skip
    columns = _columns(unit)
    for header in headers:
        number, _ = columns[header]
        if number:  # numbers and shapes never wrap; text columns fold when space is short
            table.add_column(header, justify=_justify(header, number), no_wrap=True)
        else:
            table.add_column(header, overflow="fold", min_width=_TEXT_MIN_WIDTH)
    for line, row in zip(lines, cells, strict=True):
        table.add_row(*row, style="bold" if line.bold else None, end_section=line.last)
    return table


def _plain(
    console: Console,
    title: str,
    unit: str,
    lines: list[_Line],
    headers: list[str],
    cells: list[list[str]],
    any_width: bool = False,
) -> str | None:
    """The text Rich writes for ``_table`` when nothing needs folding and no style shows (not
    a terminal), made directly: Rich renders ~1,000 rows a second, which made a 10,000-layer
    table take 14 s. None when Rich's own layout is needed (tests keep the two identical).
    ``any_width``: made whatever the console, at the table's natural width, names escaped
    (for tables too long for Rich to lay out in time: see BIG_TABLE)."""
    if any_width:
        title = visible(title)
        cells = [row if "".join(row).isprintable() else [visible(c) for c in row] for row in cells]
    elif console.is_terminal or not title.isprintable():
        return None
    columns = _columns(unit)
    numbers = [columns[h][0] for h in headers]
    widths = [
        max(cell_len(h), 0 if n else _TEXT_MIN_WIDTH) for h, n in zip(headers, numbers, strict=True)
    ]
    for row in cells:
        if not "".join(row).isprintable():  # Rich expands tabs, drops control codes, ...
            return None
        for i, cell in enumerate(row):
            if len(cell) > widths[i] or not cell.isascii():
                widths[i] = max(widths[i], cell_len(cell))
    # SIMPLE_HEAD, padding 1 collapsed between cells, none at the edges: " a  b  c "
    width = sum(widths) + 2 * (len(widths) - 1) + 2
    if not any_width and (width > console.width or cell_len(title) > width):
        return None
    right = [_justify(h, n) == "right" for h, n in zip(headers, numbers, strict=True)]

    def row_text(row: list[str]) -> str:
        padded = []
        for cell, w, r in zip(row, widths, right, strict=True):
            fill = " " * (w - (len(cell) if cell.isascii() else cell_len(cell)))
            padded.append(fill + cell if r else cell + fill)
        return (" " + "  ".join(padded)).rstrip()

    out = [title, "", row_text(headers), " " + "─" * (width - 2)]
    last = len(cells) - 1
    for i, (line, row) in enumerate(zip(lines, cells, strict=True)):
        out.append(row_text(row))
        if line.last and i != last:
            out.append("")  # a section's end: SIMPLE_HEAD's row line is blank
    out.append("")  # the bottom edge
    return "\n".join(out) + "\n"


def _lines(report: Report, compare: bool, path: str | None, depth: int | None) -> list[_Line]:
    lines = []
    if path is not None:
        lines.append(_Line(f"{path}:", "", "", "", None, bold=True))
    indent = "  " if compare else ""
    rows = report.layers if compare else shown_rows(report, depth)
    texts = Texts()
    lines += [_line(row, compare, indent, texts) for row in rows]
    lines.append(_line(report, compare, indent, texts))
    return lines


def _if_fits(console: Console, table: Table) -> Segments | None:
    """The table rendered, if every number and shape shows whole (Rich crops them when space
    runs out). Rendered once: printing the segments costs nothing more."""
    # What console.print(table) would write: its lines cropped to the console's width.
    lines = Segment.split_and_crop_lines(console.render(table), console.width, pad=False)
    segments = [segment for line in lines for segment in line]
    text = "".join(segment.text for segment in segments)
    whole = all(
        str(cell) in text for column in table.columns if column.no_wrap for cell in column.cells
    )
    return Segments(segments) if whole else None


BIG_TABLE = 2_000
"""Rows past which a table is not fitted to the terminal: Rich lays out ~1,000 rows a
second, so a 20,000-row table that needed folding took 20 s."""


def _print_table(
    console: Console,
    title: str,
    unit: str,
    lines: list[_Line],
    header_choices: list[list[str]],
    reports: list[tuple[str | None, Report]],
    drop_before_folding: bool = False,
) -> None:
    """The widest table that fits the terminal, or one block per layer if none does; a table
    of more than BIG_TABLE rows at its natural width, whatever the terminal's.
    ``drop_before_folding``: every narrower choice is tried unfolded before any is folded
    (names stay whole, figures go first)."""
    if len(lines) > BIG_TABLE:
        cells = _cells(unit, lines, header_choices[0])
        text = _plain(console, title, unit, lines, header_choices[0], cells, any_width=True)
        assert text is not None
        console.print(Segments([Segment(text)]), crop=False)
        return
    if drop_before_folding:
        for headers in header_choices:
            plain = _plain(console, title, unit, lines, headers, _cells(unit, lines, headers))
            if plain is not None:
                console.print(Segments([Segment(plain)]), crop=False)
                return
    for headers in header_choices:
        cells = _cells(unit, lines, headers)
        plain = _plain(console, title, unit, lines, headers, cells)
        if plain is not None:
            console.print(Segments([Segment(plain)]), crop=False)
            return
        rendered = _if_fits(console, _table(title, unit, lines, headers, cells))
        if rendered is not None:
            console.print(rendered)
            return
    console.print(title, overflow="fold")
    for path, report in reports:
        if path is not None:
            console.print(f"{path}:", style="bold")
        for r in report.layers:
            console.print(f"{r.name}: {r.kind} {r.config}".rstrip(), overflow="fold")
            console.print(f"  {r.input_shape} → {r.output_shape}", overflow="fold")
            work = (
                f"{grouped(count(r, unit))} ({short(count(r, unit))}), params {grouped(r.params)}"
                if r.counted
                else f"{UNKNOWN}, params {UNKNOWN}"
            )
            console.print(f"  {unit_label(unit)} {work}", overflow="fold")
        t = report.totals
        console.print(
            f"total: {unit_label(unit)} {grouped(count(t, unit))} ({short(count(t, unit))}),"
            f" params {grouped(t.params)}",
            style="bold",
            overflow="fold",
        )


def _explain(console: Console, results: list[tuple[str, LayerResult]]) -> None:
    console.print()
    for label, r in results:
        console.print(f"{label} ({r.kind}):")
        for line in explain_layer(r):
            console.print(f"  {line}", overflow="fold")


_ANALYZE_HEADERS = ["layer", "op", "input", "output", "MACS", "≈", "params", "outputs"]


@writer(Report, Format.table)
def analyze_table(report: Report, options: Options) -> None:
    print_analyze(report, options.unit, options.explain, options.title, options.depth,
                  options.count_buffers)  # fmt: skip


def print_analyze(
    report: Report,
    unit: str,
    explain: bool,
    title: str,
    depth: int | None = None,
    count_buffers: bool = False,
) -> None:
    headers = [unit_label(unit) if h == "MACS" else h for h in _ANALYZE_HEADERS]
    if count_buffers:
        headers.insert(headers.index("params") + 1, "buffers")
    if has_device(report):
        headers += ["time", "bound"]
    # Narrower terminals first lose the output-values column, then the input shapes.
    narrower = [h for h in headers if h != "outputs"]
    choices = [headers, narrower, [h for h in narrower if h != "input"]]
    timed = has_device(report)
    if timed:  # the time columns are new and wide: figures give way before names fold
        choices.append([h for h in choices[-1] if h != "≈"])
        choices.append([h for h in choices[-1] if h != "params"])
    with _console() as console:
        lines = _lines(report, False, None, depth)
        _print_table(console, title, unit, lines, choices, [(None, report)], timed)
        if count_buffers:
            t = report.totals
            console.print(
                f"params + buffers: {grouped(t.params_and_buffers)} (Keras: trainable "
                f"{grouped(t.params)} + non-trainable BatchNorm moving mean/variance "
                f"{grouped(t.buffers)})",
                overflow="fold",
            )
        for line in footer_lines(report):
            console.print(line, overflow="fold")
        if explain:
            _explain(console, [(r.name, r) for r in report.layers])


@writer("convcost.analyses.compare.Comparison", Format.table)
def print_compare(comparison: Comparison, options: Options) -> None:
    unit, explain = options.unit, options.explain
    k = comparison.kernel
    conv = comparison.direct.report.layers[-1]
    title = (
        f"{comparison.input_shape} → {k[0]}×{k[1]} conv, {comparison.filters} filters "
        f"({conv.config})"
    )
    lines = [line for p in comparison.paths for line in _lines(p.report, True, p.name, None)]
    headers = ["layer", "op", "output", unit_label(unit), "≈", "params"]
    choices = [headers]
    if has_device(comparison.direct.report):
        headers += ["time", "bound"]
        # Narrower terminals first lose the rounded MACs, then the params.
        choices += [
            [h for h in headers if h != "≈"],
            [h for h in headers if h not in ("≈", "params")],
        ]
    with _console() as console:
        reports: list[tuple[str | None, Report]] = [(p.name, p.report) for p in comparison.paths]
        # With a device the table is new and wide: figures give way before names fold.
        _print_table(console, title, unit, lines, choices, reports, len(choices) > 1)
        for line in saving_lines(comparison) + time_lines(comparison):
            console.print(line, overflow="fold")
        if explain:
            labelled = [
                (f"{p.name}/{r.name}", r) for p in comparison.paths for r in p.report.layers
            ]
            _explain(console, labelled)


@writer("convcost.analyses.shape.LayerShape", Format.table)
def print_shape(result: LayerShape, options: Options) -> None:
    report, explain = result.report, options.explain
    (layer,) = report.layers
    assert layer.axes is not None
    h, w = layer.axes
    with _console() as console:
        console.print(f"{report.input_shape} → {layer.kind} {layer.config} → {report.output_shape}")
        console.print(f"H: {h.formula()}", overflow="fold")
        console.print(f"W: {w.formula()}", overflow="fold")
        if explain:
            for line in explain_layer(layer):
                if not line.startswith(("H:", "W:", "H, W:")):
                    console.print(line, overflow="fold")


@writer("convcost.analyses.models.Models", Format.table)
def print_models(models: Models, options: Options) -> None:
    columns = [*work_columns("macs"), metric_column("params")]
    with _console() as console:
        # The sources read badly folded into a narrow column: only where there is room.
        with_source = console.width >= 120
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, padding=(0, 1))
        for header in ("model", "input"):
            table.add_column(header, no_wrap=True, justify="left")
        for column in columns:
            table.add_column(column.title, no_wrap=True, justify=column.justify)
        if with_source:
            table.add_column("source", overflow="fold")
        for name, description, report in models.entries:
            cells = [name, str(report.input_shape), *(c.text(report.totals) for c in columns)]
            table.add_row(*cells, *([description] if with_source else []))
        console.print(table)


@writer("convcost.core.devices.Devices", Format.table)
def print_devices(devices: Devices, options: Options) -> None:
    from convcost.render.text import device_rates

    with _console() as console:
        # The names read badly folded into a narrow column: only where there is room.
        with_name = console.width >= 120
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, padding=(0, 1))
        table.add_column("device", no_wrap=True)
        for header in ("fp32", "fp16", "bf16", "int8", "bandwidth"):
            table.add_column(header, justify="right", no_wrap=True)
        if with_name:
            table.add_column("name", overflow="fold")
        for device in devices.entries:
            table.add_row(device.key, *device_rates(device), *([device.name] if with_name else []))
        console.print(table)
        console.print("Dense peaks (no sparsity); sources: convcost devices --format markdown "
                      "or json.", overflow="fold")  # fmt: skip


@writer("convcost.analyses.budget.Checks", Format.table)
def print_checks(checks: Checks, options: Options) -> None:
    from convcost.render import checks as check_rows

    rows = check_rows.checks_table_rows(checks)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, padding=(0, 1))
    table.add_column("config", overflow="fold")
    table.add_column("budget", no_wrap=True)
    for header in ("actual", "limit", "headroom", "%"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for row in rows:
        table.add_row(*row, style="bold" if row[-1] != "PASS" else None)
    with _console() as console:
        console.print(table)


@writer("convcost.analyses.diff.Diff", Format.table)
def print_diff(result: Diff, options: Options) -> None:
    from convcost.render import diffs

    rows, headers = diffs.table_rows(result, options.show_all), diffs.TABLE_HEADERS
    title, summary = " → ".join(options.names), diffs.summary(result)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True, padding=(0, 1))  # fmt: skip
    for header in headers:
        numeric = header not in ("layer", "change")
        table.add_column(header, justify="right" if numeric else "left", overflow="fold",
                         no_wrap=numeric)  # fmt: skip
    for row in rows:
        table.add_row(*row)
    with _console() as console:
        if rows:
            console.print(table)
        else:
            console.print(title)
        console.print(summary, overflow="fold")
        console.print(diffs.memory_line(result), overflow="fold")
