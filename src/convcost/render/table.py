"""Rich tables for people. Imported only for ``--format table``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich import box
from rich.console import Console
from rich.table import Table

from convcost.compare import Comparison
from convcost.explain import explain_layer
from convcost.network import LayerResult, Report, Totals
from convcost.render.numbers import count, grouped, short, unit_label
from convcost.render.words import saving_lines


@contextmanager
def _console() -> Iterator[Console]:
    """A console whose output is written in one piece at the end, trailing blanks trimmed."""
    # highlight=False: Rich would otherwise colour numbers in plain strings.
    console = Console(highlight=False, soft_wrap=False)
    with console.capture() as capture:
        yield console
    sys.stdout.write("".join(line.rstrip() + "\n" for line in capture.get().splitlines()))


def _table(title: str, unit: str, compare: bool) -> Table:
    table = Table(
        title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False,
        collapse_padding=True, padding=(0, 1),
    )  # fmt: skip
    # Text columns fold when the terminal is narrow; numbers and shapes never wrap.
    table.add_column("layer", overflow="fold", min_width=6)
    table.add_column("op", overflow="fold", min_width=8)
    if not compare:
        table.add_column("input", no_wrap=True)
    table.add_column("output", no_wrap=True)
    headers = (unit_label(unit), "≈", "params") + (() if compare else ("outputs",))
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    return table


def _row(
    table: Table, report: Report, r: LayerResult | None, unit: str, compare: bool, indent: str
) -> None:
    item: LayerResult | Totals = report.totals if r is None else r
    shapes = [str(report.output_shape if r is None else r.output_shape)]
    if not compare:
        shapes.insert(0, str(report.input_shape if r is None else r.input_shape))
    cells = [
        indent + ("total" if r is None else r.name),
        "" if r is None else f"{r.kind} {r.config}".strip(),
        *shapes,
        grouped(count(item, unit)),
        short(count(item, unit)),
        grouped(item.params),
    ]
    if not compare:
        cells.append(short(item.activations))
    table.add_row(*cells, style="bold" if r is None else None, end_section=r is None)


def _add_report(table: Table, report: Report, unit: str, path: str | None) -> None:
    compare = path is not None
    if path is not None:
        table.add_row(f"{path}:", style="bold")
    indent = "  " if compare else ""
    for r in report.layers:
        _row(table, report, r, unit, compare, indent)
    _row(table, report, None, unit, compare, indent)


def _print_table(
    console: Console, table: Table, reports: list[tuple[str | None, Report]], unit: str
) -> None:
    """The table, or one block per layer where the terminal is too narrow for the table."""
    # Rich folds the text columns a little; past that the numbers would be cut.
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    if natural - 12 <= console.width:
        console.print(table)
        return
    if table.title:
        console.print(table.title, overflow="fold")
    for path, report in reports:
        if path is not None:
            console.print(f"{path}:", style="bold")
        for r in report.layers:
            console.print(f"{r.name}: {r.kind} {r.config}".rstrip(), overflow="fold")
            console.print(f"  {r.input_shape} → {r.output_shape}", overflow="fold")
            console.print(
                f"  {unit_label(unit)} {grouped(count(r, unit))} ({short(count(r, unit))}),"
                f" params {grouped(r.params)}",
                overflow="fold",
            )
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


def print_analyze(report: Report, unit: str, explain: bool, title: str) -> None:
    with _console() as console:
        table = _table(title, unit, compare=False)
        _add_report(table, report, unit, None)
        _print_table(console, table, [(None, report)], unit)
        if explain:
            _explain(console, [(r.name, r) for r in report.layers])


def print_compare(comparison: Comparison, unit: str, explain: bool) -> None:
    k = comparison.kernel
    conv = comparison.direct.report.layers[-1]
    title = (
        f"{comparison.input_shape} → {k[0]}×{k[1]} conv, {comparison.filters} filters "
        f"({conv.config})"
    )
    table = _table(title, unit, compare=True)
    for path in comparison.paths:
        _add_report(table, path.report, unit, path.name)
    with _console() as console:
        _print_table(console, table, [(p.name, p.report) for p in comparison.paths], unit)
        for line in saving_lines(comparison):
            console.print(line, overflow="fold")
        if explain:
            _explain(
                console,
                [(f"{p.name}/{r.name}", r) for p in comparison.paths for r in p.report.layers],
            )


def print_shape(report: Report, unit: str, explain: bool) -> None:
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
