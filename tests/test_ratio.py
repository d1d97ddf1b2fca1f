"""compare's exact ratios, printed without the fractions module."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost.analyses.compare import Ratio
from convcost.render.numbers import fixed


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**30))
def test_ratio_reads_as_fraction_does(numerator: int, denominator: int) -> None:
    # The JSON output formats Ratio without fractions; it must print what Fraction would.
    ratio, fraction = Ratio(numerator, denominator), Fraction(numerator, denominator)
    assert (float(ratio), str(ratio), ratio.exact()) == (float(fraction), str(fraction), fraction)


def _fixed_by_fraction(value: Fraction, places: int) -> str:
    """The reference: round half up on the exact fraction."""
    scale = 10**places
    whole, frac = divmod(int((abs(value) * scale * 2 + 1) // 2), scale)
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


@given(
    st.integers(-(10**15), 10**15),
    st.integers(-(10**12), 10**12).filter(bool),
    st.integers(0, 4),
)
def test_fixed_rounds_as_the_exact_fraction_does(
    numerator: int, denominator: int, places: int
) -> None:
    expected = _fixed_by_fraction(Fraction(numerator, denominator), places)
    assert fixed(numerator, denominator, places) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "places", "text"),
    [(1, 8, 2, "0.13"), (-1, 8, 2, "-0.13"), (5, 100, 1, "0.1"), (120_422_400, 12_443_648, 2,
     "9.68"), (1, 3, 0, "0"), (1, 2, 0, "1"), (100 * 1, -3, 1, "-33.3")],
)  # fmt: skip
def test_fixed_examples(numerator: int, denominator: int, places: int, text: str) -> None:
    assert fixed(numerator, denominator, places) == text
