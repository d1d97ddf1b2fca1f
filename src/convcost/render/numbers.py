"""Number and text formatting shared by the renderers."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcost.core.kinds.base import Layer
    from convcost.core.report import LayerResult, Totals
    from convcost.core.shapes import Shape

_PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


class Texts:
    """Texts a big report repeats, made once per rendering: each distinct shape's (a network
    of 100,000 layers has a few hundred) and each layer object's settings (a config's repeated
    layers are one object: see structure.Builder). Layers are keyed by id: the report being
    rendered keeps them alive meanwhile."""

    def __init__(self) -> None:
        self._shapes: dict[Shape, str] = {}
        self._ascii: dict[Shape, str] = {}
        self._configs: dict[int, str] = {}

    def shape(self, shape: Shape) -> str:
        """``28×28×192``, for tables."""
        text = self._shapes.get(shape)
        if text is None:
            text = self._shapes[shape] = str(shape)
        return text

    def ascii(self, shape: Shape) -> str:
        """``28x28x192``, for CSV."""
        text = self._ascii.get(shape)
        if text is None:
            text = self._ascii[shape] = shape.ascii
        return text

    def config(self, layer: Layer) -> str:
        text = self._configs.get(id(layer))
        if text is None:
            text = self._configs[id(layer)] = layer.config()
        return text


def grouped(n: int) -> str:
    """120422400 → ``120,422,400``."""
    return f"{n:,}"


def seconds(value: float) -> str:
    """0.0018734 → ``1.873 ms``: four significant digits in s, ms, µs or ns."""
    magnitude = float(f"{abs(value):.4g}")  # rounded first: 0.99998 s is 1 s, not 1000 ms
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if magnitude >= scale:
            shown = value / scale
            return f"{shown:,.0f} {unit}" if abs(shown) >= 1e4 else f"{shown:.4g} {unit}"
    return f"{value / 1e-9:.4g} ns"


def rate(value: float, unit: str) -> str:
    """1.95e13 → ``19.5 TFLOPS``: four significant digits, k M G T P."""
    for scale, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def ratio(value: float | None) -> str:
    """An arithmetic intensity: ``12.5``; ``-`` where nothing moves."""
    return "-" if value is None else f"{value:.1f}"


def figure(value: int | float | None, unit: str) -> str:
    """A metric's value as people read it, by the metric's unit."""
    if value is None:
        return "-"
    if unit == "seconds":
        return seconds(value)
    if unit == "ratio":
        return ratio(value)
    return grouped(int(value))


@lru_cache(maxsize=1 << 16)  # pure; big tables repeat their values (outputs, MACs)
def short(n: int) -> str:
    """120422400 → ``120.4M`` (one decimal, rounded half up)."""
    magnitude = abs(n)
    sign = "-" if n < 0 else ""
    for i, (scale, prefix) in enumerate(_PREFIXES):
        if magnitude >= scale or (
            i + 1 < len(_PREFIXES) and _tenths(magnitude, _PREFIXES[i + 1][0]) >= 10_000
        ):
            tenths = _tenths(magnitude, scale)
            return f"{sign}{tenths // 10}.{tenths % 10}{prefix}"
    return str(n)


def _tenths(n: int, scale: int) -> int:
    """n / scale in tenths, rounded half up, exactly."""
    return (n * 20 + scale) // (2 * scale)


def fixed(numerator: int, denominator: int, places: int) -> str:
    """numerator / denominator rounded half up (away from zero) to ``places`` decimals, in
    integers: no float error, and no ``fractions`` import on the way to a table."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    scale = 10**places
    scaled = (2 * abs(numerator) * scale + denominator) // (2 * denominator)
    sign = "-" if numerator < 0 else ""
    whole, frac = divmod(scaled, scale)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def unit_label(unit: str) -> str:
    return "FLOPs" if unit == "flops" else "MACs"


def count(item: LayerResult | Totals, unit: str) -> int:
    """The MACs or FLOPs of a layer or total, whichever the user asked to see."""
    return item.flops if unit == "flops" else item.macs
