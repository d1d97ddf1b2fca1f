"""Rich tables for people. Imported only for ``--format table``."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

from convcost.core.kinds.conv import Conv, ConvTranspose
from convcost.core.report import GroupResult, LayerResult, Report, Row, Totals
from convcost.render.columns import (
    UNKNOWN,
    Column,
    has_device,
    metric_column,
    share_column,
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


def _natural(console: Console) -> bool:
    """Whether tables are printed at their natural width: off a terminal (a file, a pipe, a
    CI log), unless COLUMNS sets a width, as ``docker ps`` and ``kubectl`` do."""
    return not console.is_terminal and not os.environ.get("COLUMNS", "").strip()


_UNBOUNDED = 1 << 20
"""The width of a console off a terminal: no line of text is folded."""


@contextmanager
def _console() -> Iterator[Console]:
    """A console whose output is written in one piece at the end, trailing blanks trimmed."""
    # Text is shown as given: Rich would otherwise colour numbers (highlight), read "[...]"
    # in a layer's name as a style tag (markup; "[/]" was a crash) and ":name:" as an emoji.
    console = _Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
    if _natural(console):  # lines, as tables, whole: a file or a log wraps them if it will
        console.width = _UNBOUNDED
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
    return _Line(name, _op(row, texts), *shapes, row)


def _op(row: LayerResult, texts: Texts) -> str:
    """A layer's kind and settings, as the op column shows them: a conv without a bias says
    so, as a dense layer's settings do (``conv 1x1 s1 same no bias``)."""
    text = f"{row.kind} {texts.config(row.layer)}".strip()
    layer = row.layer
    return f"{text} no bias" if isinstance(layer, Conv | ConvTranspose) and not layer.bias else text


def _metric_columns(unit: str, total: Totals | None) -> list[Column]:
    work = work_columns(unit)
    time = metric_column("latency_s")
    shares = [] if total is None else [share_column(work[0], total)]
    return [
        *work, *shares, metric_column("params"),
        metric_column("activations", "short", "outputs"), metric_column("buffers"),
        time, *([] if total is None or total.cost is None else [share_column(time, total)]),
    ]  # fmt: skip


class _Cell(NamedTuple):
    """A column of the table: whether it holds figures (never wrapped), how it is aligned,
    and its cell for a line."""

    number: bool
    justify: Literal["left", "right"]
    cell: Callable[[_Line], str]


def _columns(unit: str, total: Totals | None = None) -> dict[str, _Cell]:
    """header → column. ``total``: the network's totals, for the share columns (analyze)."""

    def figure(column: Column) -> Callable[[_Line], str]:
        text = column.text
        return lambda x: "" if x.figures is None else text(x.figures)

    return {
        "layer": _Cell(False, "left", lambda x: x.name),
        "op": _Cell(False, "left", lambda x: x.op),
        "input": _Cell(True, "left", lambda x: x.input),
        "output": _Cell(True, "left", lambda x: x.output),
        **{c.title: _Cell(True, c.justify, figure(c)) for c in _metric_columns(unit, total)},
        "bound": _Cell(True, "left", _bound),
    }


def _bound(line: _Line) -> str:
    figures = line.figures
    return figures.cost.bound if figures is not None and figures.cost is not None else ""


def _cells(columns: dict[str, _Cell], lines: list[_Line], headers: list[str]) -> list[list[str]]:
    """The lines' cells, made ``visible`` (as Rich's console would) so that their widths are
    what shows."""
    cell_of = [columns[h].cell for h in headers]
    cells = [[cell(line) for cell in cell_of] for line in lines]
    return [row if "".join(row).isprintable() else [visible(c) for c in row] for row in cells]


def _widths(headers: list[str], cells: list[list[str]], least: bool = False) -> list[int]:
    """Each column's width unwrapped, or (``least``) its narrowest: the op's longest word
    (it wraps between words), any other cell whole (a layer's name is never split)."""
    widths = [cell_len(h) for h in headers]
    op = headers.index("op") if least and "op" in headers else -1
    natural_op = 0
    for row in cells:
        for i, cell in enumerate(row):
            if i == op:
                widths[i] = max(widths[i], *map(cell_len, cell.split()), 0)
                natural_op = max(natural_op, cell_len(cell))
            elif len(cell) > widths[i] or not cell.isascii():
                widths[i] = max(widths[i], cell_len(cell))
    if op >= 0:  # a column of one word a line reads badly: a figure gives way first
        widths[op] = max(widths[op], min(natural_op, _OP_WIDTH))
    return widths


_OP_WIDTH = 12
"""The op column's narrowest width where its cells are wider ("conv 3x3 s2" on a line)."""


def _width(widths: list[int]) -> int:
    """A table's width from its columns': SIMPLE_HEAD, padding 1 collapsed between cells,
    none at the edges (" a  b  c ")."""
    return sum(widths) + 2 * (len(widths) - 1) + 2


def _table(
    columns: dict[str, _Cell], lines: list[_Line], headers: list[str], cells: list[list[str]],
    op_width: int,
) -> Table:  # fmt: skip
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, padding=(0, 1))
    for header in headers:
        if header == "op":  # wraps between words, never within one
            table.add_column(header, overflow="fold", min_width=op_width)
        else:
            table.add_column(header, justify=columns[header].justify, no_wrap=True)
    for line, row in zip(lines, cells, strict=True):
        table.add_row(*row, style="bold" if line.bold else None, end_section=line.last)
    return table


def _plain(
    columns: dict[str, _Cell], lines: list[_Line], headers: list[str], cells: list[list[str]]
) -> str:
    """The text Rich writes for ``_table`` when nothing wraps and no style shows, made
    directly: Rich lays out ~1,000 rows a second, which made a 10,000-layer table take 14 s
    (tests keep the two alike)."""
    widths = _widths(headers, cells)
    right = [columns[h].justify == "right" for h in headers]

    def row_text(row: list[str]) -> str:
        padded = []
        for cell, w, r in zip(row, widths, right, strict=True):
            fill = " " * (w - (len(cell) if cell.isascii() else cell_len(cell)))
            padded.append(fill + cell if r else cell + fill)
        return (" " + "  ".join(padded)).rstrip()

    out = ["", row_text(headers), " " + "─" * (_width(widths) - 2)]  # the top edge: blank
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


_Blocks = Sequence[tuple[str | None, Sequence[Row], Report]]
"""What the narrow layout lists: per report (a compare path's name first), its rows."""

BIG_TABLE = 2_000
"""Rows past which a table is not fitted to the terminal: Rich lays out ~1,000 rows a
second, so a 20,000-row table that needed folding took 20 s."""


def _unstyled(console: Console) -> bool:
    """Whether no style shows (not a terminal): a table that needs no wrapping is then
    ``_plain``'s text rather than Rich's (tests keep the two alike)."""
    return not console.is_terminal


def _print_table(
    console: Console,
    title: str,
    columns: dict[str, _Cell],
    lines: list[_Line],
    header_choices: list[list[str]],
    blocks: _Blocks,
    unit: str,
) -> None:
    """The title, then the widest table whose columns fit the terminal whole (a layer's
    name is never split, an op wraps between words), or one block per row if none does.
    Off a terminal (``_natural``), or past BIG_TABLE rows, the first table unwrapped at its
    natural width."""
    console.print(title, overflow="fold")
    if _natural(console) or len(lines) > BIG_TABLE:
        headers = header_choices[0]
        plain = _plain(columns, lines, headers, _cells(columns, lines, headers))
        console.print(Segments([Segment(plain)]), crop=False)
        return
    for headers in header_choices:
        cells = _cells(columns, lines, headers)
        least = _widths(headers, cells, least=True)
        if _width(least) > console.width:
            continue
        if _width(_widths(headers, cells)) <= console.width and _unstyled(console):
            plain = _plain(columns, lines, headers, cells)
            console.print(Segments([Segment(plain)]), crop=False)
        else:  # Rich wraps the op between words, and shows the total in bold
            op_width = least[headers.index("op")] if "op" in headers else 0
            console.print(_table(columns, lines, headers, cells, op_width))
        return
    _print_blocks(console, blocks, unit)


def _print_blocks(console: Console, blocks: _Blocks, unit: str) -> None:
    """The narrow layout: a few lines a row (its name first, whole), the rows the table
    would list (``--depth`` holds)."""
    texts = Texts()
    for path, rows, report in blocks:
        if path is not None:
            console.print(f"{path}:", style="bold")
        for row in rows:
            figures: LayerResult | Totals = row.totals if isinstance(row, GroupResult) else row
            if isinstance(row, GroupResult):
                head, style = f"{row.name}: {row.kind}", "bold"
            else:
                head, style = f"{row.name}: {_op(row, texts)}", None
            console.print(head.rstrip(), overflow="fold", style=style)
            console.print(f"  {row.input_shape} → {row.output_shape}", overflow="fold")
            work = (
                f"{grouped(count(figures, unit))} ({short(count(figures, unit))}), "
                f"params {grouped(figures.params)}"
                if getattr(figures, "counted", True)
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


def _explain(console: Console, results: list[tuple[str, LayerResult]], unit: str) -> None:
    """Each layer's arithmetic, in ``unit``; layers with none to write out (a ReLU) skipped."""
    console.print()
    for label, r in results:
        lines = explain_layer(r, unit)
        if lines:
            console.print(f"{label} ({r.kind}):")
        for line in lines:
            console.print(f"  {line}", overflow="fold")


def _choices(headers: list[str], give_way: list[str]) -> list[list[str]]:
    """``headers``, then narrower and narrower: the columns of ``give_way`` dropped one by
    one, in order, for terminals too narrow for the rest (names are never dropped)."""
    choices = [headers]
    for header in give_way:
        if header in choices[-1]:
            choices.append([h for h in choices[-1] if h != header])
    return choices


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
    work, share = unit_label(unit), f"% {unit_label(unit)}"
    headers = ["layer", "op", "input", "output", work, "≈", share, "params",
               *(["buffers"] if count_buffers else []), "outputs"]  # fmt: skip
    if has_device(report):
        headers += ["time", "% time", "bound"]
    # Narrower terminals lose the figures most easily done without first.
    give_way = ["outputs", "input", "≈", "buffers", "% time", share, "params", "bound"]
    columns = _columns(unit, report.totals)
    with _console() as console:
        lines = _lines(report, False, None, depth)
        blocks = [(None, shown_rows(report, depth), report)]
        _print_table(console, title, columns, lines, _choices(headers, give_way), blocks, unit)
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
            _explain(console, [(r.name, r) for r in report.layers], unit)


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
    if has_device(comparison.direct.report):
        headers += ["time", "bound"]
    blocks = [(p.name, p.report.layers, p.report) for p in comparison.paths]
    with _console() as console:
        choices = _choices(headers, ["≈", "params", "bound"])
        _print_table(console, title, _columns(unit), lines, choices, blocks, unit)
        for line in saving_lines(comparison, unit) + time_lines(comparison):
            console.print(line, overflow="fold")
        if explain:
            labelled = [
                (f"{p.name}/{r.name}", r) for p in comparison.paths for r in p.report.layers
            ]
            _explain(console, labelled, unit)


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
