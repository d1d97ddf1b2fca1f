"""Direct K×K convolution versus the same convolution behind a 1×1 bottleneck."""

from __future__ import annotations

from math import gcd
from typing import TYPE_CHECKING, NamedTuple

from convcost.core.analysis import analyze
from convcost.core.costing import cost
from convcost.core.costs import Settings
from convcost.core.errors import ConvcostError
from convcost.core.graph import chain
from convcost.core.kinds.conv import Conv
from convcost.core.report import Report
from convcost.core.shapes import Shape

if TYPE_CHECKING:
    from fractions import Fraction


def _tenths_down(ratio: Ratio) -> str:
    """``= 154.8`` when exact, else rounded down to tenths: ``≈ 97.9`` for 97.96 (rounded
    up it would read "98.0", which breaks even no bottleneck narrower than 98 does)."""
    tenths, rest = divmod(10 * ratio.numerator, ratio.denominator)
    whole, tenth = divmod(tenths, 10)
    return f"{'≈' if rest else '='} {whole}.{tenth}"


class Ratio(NamedTuple):
    """An exact ratio of two whole numbers, kept as the pair (denominator > 0).

    ``float()`` and ``str()`` need no ``fractions``: int / int is correctly rounded, as
    ``float(Fraction)`` is, and the JSON output then starts ~4 ms sooner (fractions pulls in
    decimal). The human formats do arithmetic on ``exact()``.
    """

    numerator: int
    denominator: int

    def __float__(self) -> float:
        return self.numerator / self.denominator

    def __str__(self) -> str:
        """As ``str(Fraction)``: lowest terms, ``"n"`` when whole."""
        common = gcd(self.numerator, self.denominator)
        n, d = self.numerator // common, self.denominator // common
        return str(n) if d == 1 else f"{n}/{d}"

    def exact(self) -> Fraction:
        from fractions import Fraction

        return Fraction(self.numerator, self.denominator)


class Path(NamedTuple):
    name: str
    report: Report
    width: int | None  # the bottleneck width, None for the direct path


class Saving(NamedTuple):
    """How a bottleneck path compares with the direct one (ratios exact)."""

    path: Path
    macs_ratio: Ratio  # direct / bottleneck: "9.68× fewer"
    params_ratio: Ratio

    @property
    def macs_saving_percent(self) -> Ratio:
        """Per cent of the direct MACs saved (negative when the bottleneck costs more)."""
        direct, path = self.macs_ratio
        return Ratio(100 * (direct - path), direct)

    @property
    def latency_s(self) -> float | None:
        """The bottleneck path's roofline time (with a device)."""
        cost = self.path.report.totals.cost
        return None if cost is None else cost.latency_s


class Comparison(NamedTuple):
    input_shape: Shape
    kernel: tuple[int, int]
    filters: int
    direct: Path
    bottlenecks: tuple[Path, ...]
    savings: tuple[Saving, ...]
    break_even: Ratio
    break_even_formula: str

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.direct, *self.bottlenecks)

    def time_saving_percent(self, saving: Saving) -> float | None:
        """Per cent of the direct path's roofline time the bottleneck saves (a device's)."""
        direct = self.direct.report.totals.cost
        if direct is None or direct.latency_s is None or saving.latency_s is None:
            return None
        return 100 * (direct.latency_s - saving.latency_s) / direct.latency_s


def compare(
    input_shape: Shape,
    main: Conv,
    widths: tuple[int, ...],
    batch: int = 1,
    settings: Settings | None = None,
) -> Comparison:
    """The direct path and one bottleneck path per width, with savings and break-even, each
    path costed by ``settings`` (bytes, peak memory, and with a device time).

    A bottleneck path is a 1×1 conv to ``width`` channels at the input resolution (with the
    main conv's bias setting), then the main K×K conv.
    """
    if main.filters is None or main.groups != 1:
        raise ConvcostError("compare takes an ordinary conv: filters set, groups 1")
    kernel, filters, bias = main.kernel, main.filters, main.bias
    k_name = f"conv_{kernel[0]}x{kernel[1]}"
    direct_report = cost(analyze(chain(input_shape, ((k_name, main),)), batch), settings)
    direct = Path("direct", direct_report, None)
    paths: list[Path] = []
    for width in dict.fromkeys(widths):
        reduce = Conv(kernel=(1, 1), filters=width, bias=bias)
        nodes = (("reduce_1x1", reduce), (k_name, main))
        report = cost(analyze(chain(input_shape, nodes), batch), settings)
        paths.append(Path(f"bottleneck {width}", report, width))
    savings = tuple(
        Saving(
            p,
            Ratio(direct.report.totals.macs, p.report.totals.macs),
            Ratio(direct.report.totals.params, p.report.totals.params),
        )
        for p in paths
    )
    break_even, formula = break_even_width(input_shape, direct_report.output_shape, main)
    return Comparison(
        input_shape,
        kernel,
        filters,
        direct,
        tuple(paths),
        savings,
        break_even,
        formula,
    )


def break_even_width(inp: Shape, out: Shape, conv: Conv, metric: str = "macs") -> tuple[Ratio, str]:
    """b*, the 1×1 bottleneck's width at which the bottleneck and the one-group ``conv``
    (from ``inp`` to ``out``) cost the same ``metric`` (macs or params), and how it is
    worked out: ``b* = … = 460.8`` (``≈`` when rounded down). Narrower pays, wider does not.

    MACs b·(H·W·Cin + Ho·Wo·K²·Cout) equal the direct Ho·Wo·K²·Cin·Cout at b*; params
    b·(Cin + K²·Cout), and b more with a bias, equal K²·Cin·Cout (the conv's own bias is on
    both sides).
    """
    k2 = conv.kernel[0] * conv.kernel[1]
    cin, cout = inp.c, out.c
    if metric == "params":
        bias = int(conv.bias)
        ratio = Ratio(k2 * cin * cout, cin + k2 * cout + bias)
        formula = f"{k2}·{cin}·{cout} / ({cin} + {k2}·{cout}{' + 1' if bias else ''})"
    else:
        hw, howo = inp.h * inp.w, out.h * out.w
        ratio = Ratio(howo * k2 * cin * cout, hw * cin + howo * k2 * cout)
        if hw == howo:  # output as large as the input: K²·Cin·Cout / (Cin + K²·Cout)
            formula = f"{k2}·{cin}·{cout} / ({cin} + {k2}·{cout})"
        else:
            formula = f"{howo}·{k2}·{cin}·{cout} / ({hw}·{cin} + {howo}·{k2}·{cout})"
    return ratio, f"b* = {formula} {_tenths_down(ratio)}"
