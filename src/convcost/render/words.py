"""Sentences shared by the human formats (table and Markdown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcost.render.numbers import fixed

if TYPE_CHECKING:
    from fractions import Fraction

    from convcost.compare import Comparison


def saving_lines(comparison: Comparison) -> list[str]:
    """``bottleneck 16: 9.68× fewer MACs (−89.7 %), …`` and the break-even width."""
    lines = [
        f"{saving.path.name}: {_times(saving.macs_ratio.exact(), 'MACs')}, "
        f"{_times(saving.params_ratio.exact(), 'params')}"
        for saving in comparison.savings
    ]
    b = comparison.break_even.exact()
    if b.denominator == 1:
        verdict = f"up to {b.numerator - 1} channels save MACs, {b.numerator} breaks even"
    else:
        verdict = f"up to {int(b)} channels save MACs, wider ones cost more"
    lines.append(f"break-even width {comparison.break_even_formula}: bottlenecks of {verdict}")
    return lines


def _times(ratio: Fraction, what: str) -> str:
    change = (1 / ratio - 1) * 100  # the bottleneck's change against the direct path
    sign = "−" if change < 0 else "+"
    percent = f"({sign}{fixed(abs(change), 1)} %)"
    if ratio >= 1:
        return f"{fixed(ratio, 2)}× fewer {what} {percent}"
    return f"{fixed(1 / ratio, 2)}× more {what} {percent}"
