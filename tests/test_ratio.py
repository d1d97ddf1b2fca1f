"""compare's exact ratios, printed without the fractions module."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from convcost.compare import Ratio


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**30))
def test_ratio_reads_as_fraction_does(numerator: int, denominator: int) -> None:
    # The JSON output formats Ratio without fractions; it must print what Fraction would.
    ratio, fraction = Ratio(numerator, denominator), Fraction(numerator, denominator)
    assert (float(ratio), str(ratio), ratio.exact()) == (float(fraction), str(fraction), fraction)
