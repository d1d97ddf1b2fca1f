"""Every figure of the seed notes (../shared/seeds), through the core API."""

from __future__ import annotations

from fractions import Fraction

import pytest

from convcost.analyses.compare import compare
from convcost.core.kinds.conv import Conv
from convcost.core.shapes import Shape
from convcost.frontends.inline import parse_inline
from convcost.frontends.tree import analyze


@pytest.mark.parametrize(
    ("shape", "k", "filters", "width", "direct", "reduce", "main", "direct_params",
     "bottleneck_params"),
    [
        (Shape(28, 28, 192), 5, 32, 16, 120_422_400, 2_408_448, 10_035_200, 153_632,
         (3_088, 12_832)),
        (Shape(14, 14, 480), 5, 48, 16, 112_896_000, 1_505_280, 3_763_200, 576_048,
         (7_696, 19_248)),
    ],
)  # fmt: skip
def test_bottleneck_seed_examples(
    shape: Shape, k: int, filters: int, width: int, direct: int, reduce: int, main: int,
    direct_params: int, bottleneck_params: tuple[int, int],
) -> None:  # fmt: skip
    result = compare(shape, Conv(kernel=(k, k), filters=filters), (width,))
    assert result.direct.report.totals.macs == direct
    (path,) = result.bottlenecks
    assert [r.macs for r in path.report.layers] == [reduce, main]
    assert path.report.totals.macs == reduce + main
    assert result.direct.report.totals.params == direct_params
    assert [r.params for r in path.report.layers] == list(bottleneck_params)


def test_first_seed_totals_ratio_and_break_even() -> None:
    result = compare(Shape(28, 28, 192), Conv(kernel=(5, 5), filters=32), (16,))
    assert result.bottlenecks[0].report.totals.macs == 12_443_648
    assert result.bottlenecks[0].report.totals.params == 15_920
    assert result.savings[0].macs_ratio.exact() == Fraction(120_422_400, 12_443_648)
    # b* = K²·Cin·Cout / (Cin + K²·Cout) = 25·192·32 / (192 + 800)
    assert result.break_even.exact() == Fraction(25 * 192 * 32, 192 + 25 * 32)
    assert round(float(result.break_even), 1) == 154.8


def test_break_even_width_really_breaks_even() -> None:
    # At an integer b*, the bottleneck path costs exactly the direct path's MACs.
    # 9·18·2 / (18 + 9·2) = 9
    shape, conv = Shape(8, 8, 18), Conv(kernel=(3, 3), filters=2)
    result = compare(shape, conv, ())
    b = result.break_even.exact()
    assert b == 9
    at_b = compare(shape, conv, (int(b),))
    assert at_b.bottlenecks[0].report.totals.macs == result.direct.report.totals.macs


def test_no_bias_params_match_weights_only() -> None:
    result = compare(Shape(28, 28, 192), Conv(kernel=(5, 5), filters=32, bias=False), (16,))
    assert result.direct.report.totals.params == 5 * 5 * 192 * 32
    assert [r.params for r in result.bottlenecks[0].report.layers] == [192 * 16, 25 * 16 * 32]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("6x6x1 | conv 3x3 1 valid", [4, 4, 1]),
        ("28x28x8 | conv 3x3 8 valid", [26, 26, 8]),
        ("28x28x8 | conv 3x3 8 valid s2", [13, 13, 8]),
        ("28x28x8 | conv 3x3 8 same", [28, 28, 8]),
    ],
)
def test_seed_shape_table(spec: str, expected: list[int]) -> None:
    assert analyze(parse_inline(spec)).output_shape.as_list() == expected


def test_inline_bottleneck_stack_reproduces_seed_total() -> None:
    report = analyze(parse_inline("28x28x192 | conv 1x1 16 relu | conv 5x5 32"))
    assert [r.macs for r in report.layers] == [2_408_448, 0, 10_035_200]
    assert report.totals.macs == 12_443_648
    assert report.totals.params == 15_920
