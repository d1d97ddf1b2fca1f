"""The HTML report's charts as inline SVG: bars per layer (or group), the roofline, and
compare's break-even line. Pure functions of figures already computed; every name that
reaches the page goes through ``escape.html_text``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import floor, log10
from typing import NamedTuple

from convcost.render.escape import html_text
from convcost.render.numbers import rate, short

WIDTH = 1100  # every chart's width in pixels
_LEFT, _BOTTOM, _TOP = 70, 34, 14  # margins: axis labels left and below


class Bar(NamedTuple):
    name: str
    value: int
    tip: str  # the exact figure, as the table prints it


def bar_chart(title: str, bars: Sequence[Bar], height: int = 150) -> str:
    """One bar per row in network order; each bar's tooltip names it and gives the figure.
    Bars wide enough are named below the axis."""
    top = max((bar.value for bar in bars), default=0)
    plot_w, plot_h = WIDTH - _LEFT - 10, height - _TOP - 8
    step = plot_w / max(len(bars), 1)
    named = step >= 13
    total = height + (_NAMES if named else 0)
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {WIDTH} {total}" width="{WIDTH}" '
        f'height="{total}" role="img" aria-label="{html_text(title)}">',
        f'<text x="{_LEFT}" y="10" class="title">{html_text(title)}</text>',
        *_linear_grid(
            [],
            float,
            ticks(top, 3),
            lambda v: _TOP + plot_h * (1 - v / (top or 1)),
            _TOP,
            _TOP + plot_h,
            _LEFT,
            WIDTH - 10,
        ),
        _axis_line(_LEFT, _TOP, _LEFT, _TOP + plot_h),
        _axis_line(_LEFT, _TOP + plot_h, WIDTH - 10, _TOP + plot_h),
    ]
    width = max(step - (1 if step > 3 else 0), 0.5)
    for index, bar in enumerate(bars):
        h = plot_h * bar.value / top if top else 0
        x, y = _LEFT + index * step, _TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}">'
            f"<title>{html_text(bar.name)}: {html_text(bar.tip)}</title></rect>"
        )
        if named:
            name = bar.name if len(bar.name) <= 18 else bar.name[:17] + "…"
            at, below = x + width / 2 + 3, _TOP + plot_h + 6
            parts.append(f'<text x="{at:.1f}" y="{below}" class="tick end" transform="rotate('
                         f'-60 {at:.1f} {below})">{html_text(name)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


_NAMES = 96  # room under the bars for their names


def _axis_line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line class="axis" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'


class LogAxis(NamedTuple):
    """A decade-aligned logarithmic axis from ``low`` to ``high`` onto ``start``..``end``."""

    low: int  # exponent of 10
    high: int
    start: float
    end: float

    @classmethod
    def spanning(cls, values: Sequence[float], start: float, end: float) -> LogAxis:
        positive = [v for v in values if v > 0] or [1.0]
        low, high = floor(log10(min(positive))), floor(log10(max(positive))) + 1
        return cls(low, max(high, low + 1), start, end)

    def at(self, value: float) -> float:
        fraction = (log10(value) - self.low) / (self.high - self.low)
        return self.start + fraction * (self.end - self.start)


def _decade(exponent: int) -> str:
    """10**exponent as a tick says it: ``0.01``, ``1``, ``100``, ``10k``, ``1T``."""
    if exponent < 3:
        return f"{10.0**exponent:g}"
    prefix = "kMGTPE"[min(exponent // 3, 6) - 1]
    return f"{10 ** (exponent - 3 * min(exponent // 3, 6))}{prefix}"


class Point(NamedTuple):
    name: str
    x: float
    y: float
    kind: str  # a CSS class: compute, memory
    tip: str


def roofline(points: Sequence[Point], peak: float, bandwidth: float, device: str) -> str:
    """Arithmetic intensity (ops/byte) against achieved throughput (ops/s), log-log, with
    the device's roof: bandwidth × intensity up to the ridge, the peak after it."""
    height = 420
    ridge = peak / bandwidth
    xs = [p.x for p in points] + [ridge]
    x_axis = LogAxis.spanning([min(xs) / 2, max(xs) * 2], _LEFT, WIDTH - 20)
    ys = [p.y for p in points] + [peak, bandwidth * 10**x_axis.low]
    y_axis = LogAxis.spanning([min(ys), max(ys)], height - _BOTTOM, _TOP)
    parts = [
        f'<svg class="chart roofline" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" '
        f'aria-label="roofline on {html_text(device)}">',
        *_log_grid(x_axis, y_axis, height),
    ]
    low_x, high_x = 10.0**x_axis.low, 10.0**x_axis.high
    corner = max(low_x, min(ridge, high_x))
    roof = [
        (low_x, max(bandwidth * low_x, 10.0**y_axis.low)),
        (corner, min(peak, bandwidth * corner)),
        (high_x, peak),
    ]
    path = " ".join(f"{x_axis.at(x):.1f},{y_axis.at(y):.1f}" for x, y in roof)
    parts.append(f'<polyline class="roof" points="{path}" data-peak="{peak!r}" '
                 f'data-bandwidth="{bandwidth!r}"><title>{html_text(device)}: peak '
                 f"{rate(peak, 'ops/s')}, {rate(bandwidth, 'B/s')}, ridge at {ridge:.3g} "
                 "ops/byte</title></polyline>")  # fmt: skip
    ridge_x, peak_y = x_axis.at(corner), y_axis.at(min(peak, bandwidth * corner))
    parts.append(
        f'<text x="{WIDTH - 24}" y="{y_axis.at(peak) - 6:.1f}" class="label end">peak '
        f"{rate(peak, 'ops/s')}</text>"
        f'<text x="{ridge_x:.1f}" y="{peak_y - 6:.1f}" class="label end">ridge: '
        f"{ridge:.3g} ops/byte </text>"
        f'<text x="{x_axis.at(low_x) + 8:.1f}" y="{y_axis.at(roof[0][1]) - 8:.1f}" '
        f'class="label">bandwidth {rate(bandwidth, "B/s")}</text>'
    )
    for p in points:
        parts.append(
            f'<circle class="{p.kind}" cx="{x_axis.at(p.x):.1f}" cy="{y_axis.at(p.y):.1f}" r="4" '
            f'data-x="{p.x!r}" data-y="{p.y!r}"><title>{html_text(p.name)}: {html_text(p.tip)}'
            "</title></circle>"
        )
    parts.append(
        f'<text x="{(_LEFT + WIDTH) / 2:.0f}" y="{height - 2}" class="label mid">arithmetic '
        "intensity (operations per byte moved)</text>"
        f'<text x="14" y="{height / 2:.0f}" class="label mid" transform="rotate(-90 14 '
        f'{height / 2:.0f})">achieved throughput (operations/s)</text></svg>'
    )
    return "".join(parts)


def _log_grid(x_axis: LogAxis, y_axis: LogAxis, height: int) -> list[str]:
    parts = []
    for e in range(x_axis.low, x_axis.high + 1):
        x = x_axis.at(10.0**e)
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" '
                     f'y2="{height - _BOTTOM}"/><text x="{x:.1f}" y="{height - _BOTTOM + 16}" '
                     f'class="tick mid">{_decade(e)}</text>')  # fmt: skip
    for e in range(y_axis.low, y_axis.high + 1):
        y = y_axis.at(10.0**e)
        parts.append(f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - 20}" '
                     f'y2="{y:.1f}"/><text x="{_LEFT - 4}" y="{y + 4:.1f}" class="tick end">'
                     f"{_decade(e)}</text>")  # fmt: skip
    return parts


class Line(NamedTuple):
    width: int
    macs: int
    name: str


def ticks(top: float, count: int = 5) -> list[float]:
    """Round values from 0 to about ``top`` for a linear axis: steps of 1, 2 or 5 × 10^k."""
    if top <= 0:
        return [0.0]
    raw = top / count
    power = 10.0 ** floor(log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(int(top / step + 1e-9) + 1)]


def break_even_chart(direct: int, slope_num: int, slope_den: int, b_star: float,
                     paths: Sequence[Line]) -> str:  # fmt: skip
    """MACs against bottleneck width: the direct conv's (flat) and the bottleneck path's
    (``slope_num / slope_den`` MACs per channel of width: a line through 0), crossing at
    b*; each width compared is a point on the line, labelled with its width."""
    height = 380
    b_max = max([b_star * 2, *(1.2 * p.width for p in paths)])
    m_max = max(direct * 2, *(p.macs for p in paths))
    plot_w, plot_h = WIDTH - _LEFT - 30, height - _TOP - _BOTTOM - 10

    def x(b: float) -> float:
        return _LEFT + plot_w * b / b_max

    def y(m: float) -> float:
        return _TOP + plot_h * (1 - m / m_max)

    end = b_max * slope_num / slope_den
    slope = f"{slope_num // slope_den:,}" if slope_num % slope_den == 0 else (
        f"{slope_num:,}/{slope_den:,}")  # fmt: skip
    parts = [
        f'<svg class="chart break-even" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="break-even">',
        *_linear_grid(ticks(b_max), x, ticks(m_max), y, _TOP, _TOP + plot_h, _LEFT, x(b_max)),
        _axis_line(_LEFT, _TOP, _LEFT, _TOP + plot_h),
        _axis_line(_LEFT, _TOP + plot_h, _LEFT + plot_w, _TOP + plot_h),
        f'<line class="direct" x1="{x(0):.1f}" y1="{y(direct):.1f}" x2="{x(b_max):.1f}" '
        f'y2="{y(direct):.1f}"><title>direct: {direct:,} MACs</title></line>',
        f'<line class="path" x1="{x(0):.1f}" y1="{y(0):.1f}" '
        + (
            f'x2="{x(b_max):.1f}" y2="{y(end):.1f}"'
            if end <= m_max
            else f'x2="{x(m_max * slope_den / slope_num):.1f}" y2="{y(m_max):.1f}"'
        )
        + f"><title>bottleneck path: b × {slope} MACs</title></line>",
        f'<line class="bstar" x1="{x(b_star):.1f}" y1="{_TOP}" x2="{x(b_star):.1f}" '
        f'y2="{_TOP + plot_h}"/>',
        f'<text x="{x(b_star) + 6:.1f}" y="{_TOP + 14}" class="label">b* = {b_star:.1f}</text>',
        f'<text x="{x(b_max) - 4:.1f}" y="{y(direct) - 6:.1f}" class="label end">direct: '
        f"{short(direct)} MACs</text>",
        f'<text x="{x(b_max) - 4:.1f}" y="{y(min(end, m_max)) + 16:.1f}" class="label end">'
        f"bottleneck: b × {slope} MACs</text>",
        f'<text x="{_LEFT + plot_w / 2:.0f}" y="{height - 4}" class="label mid">bottleneck '
        "width b (channels)</text>",
        f'<text x="14" y="{_TOP + plot_h / 2:.0f}" class="label mid" transform="rotate(-90 14 '
        f'{_TOP + plot_h / 2:.0f})">MACs</text>',
    ]
    placed: list[tuple[float, float, float]] = []  # labels' left, right, baseline
    for p in sorted(paths, key=lambda p: p.width):
        text = f"b = {p.width}"
        left, base = x(p.width) + 8, y(p.macs) + 16
        while any(left < right + 4 and start < left + 7 * len(text) and abs(base - at) < 13
                  for start, right, at in placed):  # fmt: skip
            base += 13
        placed.append((left, left + 7 * len(text), base))
        parts.append(
            f'<circle class="width" cx="{x(p.width):.1f}" cy="{y(p.macs):.1f}" r="5">'
            f"<title>{html_text(p.name)}: {p.macs:,} MACs</title></circle>"
            f'<text x="{left:.1f}" y="{base:.1f}" class="label point">{text}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _linear_grid(x_ticks: Sequence[float], x: Callable[[float], float], y_ticks: Sequence[float],
                 y: Callable[[float], float], top: float, bottom: float, left: float,
                 right: float) -> list[str]:  # fmt: skip
    parts = []
    for value in x_ticks:
        at = x(value)
        parts.append(f'<line class="grid" x1="{at:.1f}" y1="{top}" x2="{at:.1f}" '
                     f'y2="{bottom}"/><text x="{at:.1f}" y="{bottom + 14}" class="tick mid">'
                     f"{value:g}</text>")  # fmt: skip
    for value in y_ticks:
        at = y(value)
        parts.append(f'<line class="grid" x1="{left}" y1="{at:.1f}" x2="{right:.1f}" '
                     f'y2="{at:.1f}"/><text x="{left - 4}" y="{at + 4:.1f}" class="tick end">'
                     f"{short(int(value))}</text>")  # fmt: skip
    return parts
