"""Sentences shared by the human formats (table and Markdown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcost.render.numbers import fixed

if TYPE_CHECKING:
    from convcost.analyses.compare import Comparison, Ratio


def saving_lines(comparison: Comparison) -> list[str]:
    """``bottleneck 16: 9.68× fewer MACs (−89.7 %), …`` and the break-even width."""
    lines = [
        f"{saving.path.name}: {_times(saving.macs_ratio, 'MACs')}, "
        f"{_times(saving.params_ratio, 'params')}"
        for saving in comparison.savings
    ]
    b = comparison.break_even
    whole, rest = divmod(b.numerator, b.denominator)  # both positive
    if rest == 0:
        verdict = f"up to {whole - 1} channels save MACs, {whole} breaks even"
    else:
        verdict = f"up to {whole} channels save MACs, wider ones cost more"
    lines.append(f"break-even width {comparison.break_even_formula}: bottlenecks of {verdict}")
    return lines


def _times(ratio: Ratio, what: str) -> str:
    direct, path = ratio  # both positive
    # The bottleneck's change against the direct path: (path − direct) / direct, in per cent.
    sign = "−" if path < direct else "+"
    percent = f"({sign}{fixed(100 * abs(path - direct), direct, 1)} %)"
    if direct >= path:
        return f"{fixed(direct, path, 2)}× fewer {what} {percent}"
    return f"{fixed(path, direct, 2)}× more {what} {percent}"
