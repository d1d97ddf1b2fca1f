"""Rich tables for people. Imported only for ``--format table``."""

from __future__ import annotations

import os
import re
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


def _set_columns() -> int | None:
    """COLUMNS as a width, or None where it is unset or no width (``0``, ``-5``, ``abc``):
    such a value is ignored, as if unset."""
    text = os.environ.get("COLUMNS", "").strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


def _on_a_terminal() -> bool:
    """Whether stdout is a terminal: the stream's own answer, not Rich's (FORCE_COLOR and
    TTY_COMPATIBLE make Rich colour a pipe, which is still no terminal to fit)."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _terminal_width() -> int:
    """The terminal's width, as Rich finds it but for COLUMNS (80 when it says none)."""
    for fd in (1, 0, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (OSError, ValueError):
            continue
    return 80


def _width_to_fit() -> int:
    """The width tables are fitted to: COLUMNS where it is a width, else the terminal's;
    off a terminal, _UNBOUNDED (the natural width, as ``docker ps`` and ``kubectl`` do)."""
    columns = _set_columns()
    if columns is not None:
        return columns
    return _terminal_width() if _on_a_terminal() else _UNBOUNDED


_UNBOUNDED = 1 << 20
"""The width of a console off a terminal: no line of text is folded."""


def _natural(console: Console) -> bool:
    """Whether tables are printed at their natural width (``_width_to_fit``)."""
    return console.width >= _UNBOUNDED


@contextmanager
def _console() -> Iterator[Console]:
    """A console whose output is written in one piece at the end, trailing blanks trimmed."""
    # Text is shown as given: Rich would otherwise colour numbers (highlight), read "[...]"
    # in a layer's name as a style tag (markup; "[/]" was a crash) and ":name:" as an emoji.
    # The height too, or a dumb terminal (TERM=dumb) would be 80 wide whatever was set.
    console = _Console(highlight=False, markup=False, emoji=False, soft_wrap=False,
                       width=_width_to_fit(), height=25)  # fmt: skip
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
    """A column of a table: how it is aligned, its cell for a row, and whether it wraps:
    ``fold`` 0, never (a name, a figure); else between words, never within one, and never
    narrower than ``fold`` where its cells are wider (a column of one word a line reads
    badly: a figure gives way first)."""

    justify: Literal["left", "right"]
    cell: Callable[[Any], str]
    fold: int = 0


_OP_WIDTH = 12
"""The op column's narrowest width where its cells are wider ("conv 3x3 s2" on a line)."""


def _columns(unit: str, total: Totals | None = None) -> dict[str, _Cell]:
    """header → column. ``total``: the network's totals, for the share columns (analyze)."""

    def figure(column: Column) -> Callable[[_Line], str]:
        text = column.text
        return lambda x: "" if x.figures is None else text(x.figures)

    return {
        "layer": _Cell("left", lambda x: x.name),
        "op": _Cell("left", lambda x: x.op, _OP_WIDTH),
        "input": _Cell("left", lambda x: x.input),
        "output": _Cell("left", lambda x: x.output),
        **{c.title: _Cell(c.justify, figure(c)) for c in _metric_columns(unit, total)},
        "bound": _Cell("left", _bound),
    }


def _bound(line: _Line) -> str:
    figures = line.figures
    return figures.cost.bound if figures is not None and figures.cost is not None else ""


def _cells(columns: dict[str, _Cell], lines: Sequence[Any], headers: list[str]) -> list[list[str]]:
    """The lines' cells, made ``visible`` (as Rich's console would) so that their widths are
    what shows."""
    cell_of = [columns[h].cell for h in headers]
    cells = [[cell(line) for cell in cell_of] for line in lines]
    return [row if "".join(row).isprintable() else [visible(c) for c in row] for row in cells]


def _widths(
    columns: dict[str, _Cell], headers: list[str], cells: list[list[str]], least: bool = False
) -> list[int]:
    """Each column's width unwrapped, or (``least``) its narrowest: a wrapping column's
    longest word (``_Cell.fold``), any other cell whole (a name is never split)."""
    widths = [cell_len(h) for h in headers]
    folds = [columns[h].fold if least else 0 for h in headers]
    natural = [0] * len(headers)
    for row in cells:
        for i, cell in enumerate(row):
            if folds[i]:
                widths[i] = max(widths[i], *map(cell_len, cell.split()), 0)
                natural[i] = max(natural[i], cell_len(cell))
            elif len(cell) > widths[i] or not cell.isascii():
                widths[i] = max(widths[i], cell_len(cell))
    return [max(w, min(n, f)) if f else w for w, n, f in zip(widths, natural, folds, strict=True)]


def _width(widths: list[int]) -> int:
    """A table's width from its columns': SIMPLE_HEAD, padding 1 collapsed between cells,
    none at the edges (" a  b  c ")."""
    return sum(widths) + 2 * (len(widths) - 1) + 2


def _table(
    columns: dict[str, _Cell], lines: Sequence[Any], headers: list[str], cells: list[list[str]],
    least: list[int],
) -> Table:  # fmt: skip
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, padding=(0, 1))
    for header, width in zip(headers, least, strict=True):
        column = columns[header]
        if column.fold:  # wraps between words, never within one
            table.add_column(header, overflow="fold", min_width=width)
        else:
            table.add_column(header, justify=column.justify, no_wrap=True)
    for line, row in zip(lines, cells, strict=True):
        table.add_row(*row, style="bold" if line.bold else None, end_section=line.last)
    return table


def _plain(
    columns: dict[str, _Cell], lines: Sequence[Any], headers: list[str], cells: list[list[str]]
) -> str:
    """The text Rich writes for ``_table`` when nothing wraps and no style shows, made
    directly: Rich lays out ~1,000 rows a second, which made a 10,000-layer table take 14 s
    (tests keep the two alike)."""
    widths = _widths(columns, headers, cells)
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
    title: str | None,
    columns: dict[str, _Cell],
    lines: Sequence[Any],
    header_choices: list[list[str]],
    narrow: Callable[[], None],
) -> None:
    """The title, then the widest table whose columns fit the width whole (a name is never
    split, a ``fold`` column wraps between words), or ``narrow`` (a block per row) if none
    does. Off a terminal (``_natural``) the first table, unwrapped at its natural width.
    Past BIG_TABLE rows nothing wraps: the widest table that fits unwrapped, else the
    narrowest, through the plain writer."""
    if title is not None:
        _pack(console, _title_words(visible(title)))
    natural, big = _natural(console), len(lines) > BIG_TABLE
    for headers in header_choices[:1] if natural else header_choices:
        cells = _cells(columns, lines, headers)
        fits = natural or _width(_widths(columns, headers, cells)) <= console.width
        if big or (fits and _unstyled(console)):
            if fits or headers is header_choices[-1]:
                plain = _plain(columns, lines, headers, cells)
                console.print(Segments([Segment(plain)]), crop=False)
                return
            continue
        least = _widths(columns, headers, cells, least=True)
        if natural or _width(least) <= console.width:
            # Rich wraps a fold column between words, and shows a bold row in bold
            console.print(_table(columns, lines, headers, cells, least), crop=not natural)
            return
    narrow()


_UNITS = re.compile(r"[%×]|[kMGT]?B(/s)?|[µmn]?s|MACs|FLOPs|params|channels?")
"""A word that stays on the line of the number before it (``12.35 µs``, ``(−89.7 %)``)."""


def _title_words(title: str) -> list[str]:
    """A title's words for ``_pack``: an inline spec's layers (``conv 1x1 16 |``) and the
    sides of a diff (``... →``) each kept whole, so a wrapped title never parts a layer's
    kernel from its filters."""
    if " | " not in title:
        return _words(title)
    return [part for part in re.split(r"(?<=[|→]) ", title) if part]


def _words(text: str) -> list[str]:
    """``text``'s words, a number and its unit as one."""
    words: list[str] = []
    for word in text.split(" "):
        if words and words[-1][-1:].isdigit() and _UNITS.fullmatch(word.rstrip(",.;:)")):
            words[-1] += " " + word
        else:
            words.append(word)
    return words


def _pack(
    console: Console, words: list[str], indent: str = "", style: str | None = None,
    hanging: str | None = None,
) -> None:  # fmt: skip
    """``words`` (each never broken) as lines as wide as the console: the first after
    ``indent``, the others after ``hanging`` (``indent`` unless given)."""
    width, lead = console.width, indent
    line: list[str] = []
    for word in words:
        if line and cell_len(lead + " ".join([*line, word])) > width:
            console.print(Text(lead + " ".join(line).rstrip(), style=style or ""), overflow="fold")
            line, lead = [], indent if hanging is None else hanging
        if line or word:  # no blank at a line's start
            line.append(word)
    console.print(Text(lead + " ".join(line).rstrip(), style=style or ""), overflow="fold")


def _say(console: Console, text: str, style: str | None = None, hanging: str | None = None) -> None:
    """A line of text, wrapped between words (never between a number and its unit), its
    continuation lines indented as it is (or by ``hanging``)."""
    text = visible(text)
    body = text.lstrip(" ")
    _pack(console, _words(body), text[: len(text) - len(body)], style, hanging)


def _items(items: Sequence[tuple[str, str]]) -> list[str]:
    """``label value, label value`` as words for ``_pack``: a label never apart from its
    value's first word."""
    words: list[str] = []
    for i, (label, value) in enumerate(items):
        parts = _words(visible(value))
        parts[0] = f"{visible(label)} {parts[0]}"
        if i < len(items) - 1:
            parts[-1] += ","
        words += parts
    return words


def _print_blocks(console: Console, blocks: _Blocks, unit: str) -> None:
    """The narrow layout: a few lines a row (its name first, whole), the rows the table
    would list (``--depth`` holds)."""
    texts = Texts()
    for path, rows, report in blocks:
        if path is not None:
            _say(console, f"{path}:", style="bold")
        for row in rows:
            figures: LayerResult | Totals = row.totals if isinstance(row, GroupResult) else row
            if isinstance(row, GroupResult):
                head, style = f"{row.name}: {row.kind}", "bold"
            else:
                head, style = f"{row.name}: {_op(row, texts)}", None
            _say(console, head.rstrip(), style, hanging=_HEAD_HANGING)
            _say(console, f"  {row.input_shape} → {row.output_shape}")
            _pack(console, _items(_work(figures, unit)), "  ")
        work = _items(_work(report.totals, unit))
        _pack(console, ["total:", *work], style="bold", hanging="  ")


_HEAD_HANGING = "    "
"""The indent of a block's first line's continuation: deeper than the block's lines."""


def _work(figures: LayerResult | Totals, unit: str) -> list[tuple[str, str]]:
    """A row's work and params for the narrow layout (``?`` where unknown)."""
    known = metric_column(unit).text(figures)
    work = known if known == UNKNOWN else f"{known} ({short(count(figures, unit))})"
    return [(unit_label(unit), work), ("params", metric_column("params").text(figures))]


class _Row(NamedTuple):
    """A row of a table of text cells (check, diff, models, devices)."""

    cells: Sequence[str]
    bold: bool = False
    last: bool = False


def _grid(headers: Sequence[str], right: Sequence[str] = (),
          fold: dict[str, int] | None = None) -> dict[str, _Cell]:  # fmt: skip
    """Columns for ``_Row``s: the i-th header, the i-th cell; ``right`` aligned right,
    ``fold`` (header → narrowest width) wrapped between words."""
    fold = fold or {}

    def nth(i: int) -> Callable[[_Row], str]:
        return lambda row: row.cells[i]

    return {
        h: _Cell("right" if h in right else "left", nth(i), fold.get(h, 0))
        for i, h in enumerate(headers)
    }


def _print_rows(
    console: Console, title: str | None, columns: dict[str, _Cell], rows: list[_Row],
    give_way: list[str], head: int = 1,
) -> None:  # fmt: skip
    """A table of text cells as analyze's is laid out (``_print_table``); where no columns
    fit, a block per row: its first ``head`` cells, then ``header value`` for the others
    (a row whose head is empty goes on the block above)."""
    headers = list(columns)

    def narrow() -> None:
        for row in rows:
            style = "bold" if row.bold else None
            first = "  ".join(c for c in row.cells[:head] if c)
            if first:
                _say(console, first, style, _HEAD_HANGING)
            pairs = zip(headers[head:], row.cells[head:], strict=True)
            shown = [(h, c) for h, c in pairs if c]
            if shown:
                _pack(console, _items(shown), "  ", style=style)

    _print_table(console, title, columns, rows, _choices(headers, give_way), narrow)


def print_grid(
    title: str, headers: Sequence[str], right: Sequence[str], rows: Sequence[Sequence[str]],
    give_way: list[str], after: Sequence[str] = (), head: int = 1,
) -> None:  # fmt: skip
    """A table of text cells (``right``: the right-aligned headers) laid out as every
    table is: its natural width off a terminal, the widest that fits on one (``give_way``:
    the columns dropped first, in order), else a block per row headed by its first ``head``
    cells; then the lines ``after``, wrapped between words."""
    columns = _grid(headers, right)
    with _console() as console:
        _print_rows(console, title, columns, [_Row(r) for r in rows], give_way, head)
        for line in after:
            _say(console, line)


def _explain(console: Console, results: list[tuple[str, LayerResult]], unit: str) -> None:
    """Each layer's arithmetic, in ``unit``; layers with none to write out (a ReLU) skipped."""
    console.print()
    for label, r in results:
        lines = explain_layer(r, unit)
        if lines:
            console.print(f"{label} ({r.kind}):")
        for line in lines:
            _say(console, f"  {line}")


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
        choices = _choices(headers, give_way)
        _print_table(console, title, columns, lines, choices,
                     lambda: _print_blocks(console, blocks, unit))  # fmt: skip
        if count_buffers:
            t = report.totals
            _say(console, f"params + buffers: {grouped(t.params_and_buffers)} (Keras: trainable "
                          f"{grouped(t.params)} + non-trainable BatchNorm moving mean/variance "
                          f"{grouped(t.buffers)})")  # fmt: skip
        for line in footer_lines(report):
            _say(console, line)
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
        _print_table(console, title, _columns(unit), lines, choices,
                     lambda: _print_blocks(console, blocks, unit))  # fmt: skip
        for line in saving_lines(comparison, unit) + time_lines(comparison, unit):
            _say(console, line)
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
        _say(console, f"H: {h.formula()}")
        _say(console, f"W: {w.formula()}")
        if explain:
            for line in explain_layer(layer):
                if not line.startswith(("H:", "W:", "H, W:")):
                    _say(console, line)


@writer("convcost.analyses.models.Models", Format.table)
def print_models(models: Models, options: Options) -> None:
    figures = [*work_columns("macs"), metric_column("params")]
    headers = ["model", "input", *(c.title for c in figures), "source"]
    columns = _grid(headers, [c.title for c in figures], {"source": _SOURCE_WIDTH})
    rows = [
        _Row([name, str(report.input_shape), *(c.text(report.totals) for c in figures), source])
        for name, source, report in models.entries
    ]
    with _console() as console:
        _print_rows(console, None, columns, rows, ["source", "≈", "input"])


_SOURCE_WIDTH = 40
"""The narrowest a source or a device's name is shown: folded narrower, they read badly."""


@writer("convcost.core.devices.Devices", Format.table)
def print_devices(devices: Devices, options: Options) -> None:
    from convcost.render.text import device_rates

    rates = ["fp32", "fp16", "bf16", "int8", "bandwidth"]
    columns = _grid(["device", *rates, "name"], rates, {"name": _SOURCE_WIDTH})
    rows = [_Row([d.key, *device_rates(d), d.name]) for d in devices.entries]
    with _console() as console:
        _print_rows(console, None, columns, rows, ["name", "bf16", "int8", "fp16"])
        _say(console, "Dense peaks (no sparsity); sources: convcost devices --format markdown "
                      "or json.")  # fmt: skip


@writer("convcost.analyses.budget.Checks", Format.table)
def print_checks(checks: Checks, options: Options) -> None:
    from convcost.render import checks as check_rows

    figures = ["actual", "limit", "headroom", "%"]
    columns = _grid(["config", "budget", *figures, "status"], figures)
    rows = [_Row(row, bold=row[-1] != "PASS") for row in check_rows.checks_table_rows(checks)]
    with _console() as console:
        _print_rows(console, None, columns, rows, ["%", "limit", "headroom"])


@writer("convcost.analyses.diff.Diff", Format.table)
def print_diff(result: Diff, options: Options) -> None:
    from convcost.render import diffs

    rows, headers = diffs.table_rows(result, options.show_all), diffs.TABLE_HEADERS
    title, summary = " → ".join(options.names), diffs.summary(result)
    columns = _grid(headers, [h for h in headers if h not in ("layer", "change")],
                    {"change": _OP_WIDTH})  # fmt: skip
    with _console() as console:
        if rows:
            _print_rows(console, title, columns, [_Row(r) for r in rows], ["Δ %", "Δ params"])
        else:
            _say(console, title)
        _say(console, summary)
        _say(console, diffs.memory_line(result))
