"""The HTML report's charts as inline SVG: bars per layer (or group), the roofline, and
compare's break-even line. Pure functions of figures already computed; every name that
reaches the page goes through ``escape.html_text``."""

from __future__ import annotations

from collections.abc import Sequence
from math import floor, log10
from typing import NamedTuple

from convcost.render.escape import html_text
from convcost.render.numbers import short

WIDTH = 1100  # every chart's width in pixels
_LEFT, _BOTTOM, _TOP = 70, 34, 14  # margins: axis labels left and below


class Bar(NamedTuple):
    name: str
    value: int
    tip: str  # the exact figure, as the table prints it


def bar_chart(title: str, bars: Sequence[Bar], height: int = 150) -> str:
    """One bar per row in network order; each bar's tooltip names it and gives the figure."""
    top = max((bar.value for bar in bars), default=0)
    plot_w, plot_h = WIDTH - _LEFT - 10, height - _TOP - 8
    step = plot_w / max(len(bars), 1)
    parts = [
        f'<svg class="chart bars" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{html_text(title)}">',
        f'<text x="{_LEFT}" y="10" class="title">{html_text(title)}</text>',
        _axis_line(_LEFT, _TOP, _LEFT, _TOP + plot_h),
        _axis_line(_LEFT, _TOP + plot_h, WIDTH - 10, _TOP + plot_h),
        f'<text x="{_LEFT - 4}" y="{_TOP + 8}" class="tick end">{short(top)}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_h}" class="tick end">0</text>',
    ]
    width = max(step - (1 if step > 3 else 0), 0.5)
    for index, bar in enumerate(bars):
        h = plot_h * bar.value / top if top else 0
        x, y = _LEFT + index * step, _TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}">'
            f"<title>{html_text(bar.name)}: {html_text(bar.tip)}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


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


def _decade(exponent: int, unit: str) -> str:
    return f"{short(10**exponent)}{unit}" if exponent >= 0 else f"1e{exponent}{unit}"


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
        f'<svg class="chart roofline" width="{WIDTH}" height="{height}" role="img" '
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
    parts.append(f'<polyline class="roof" points="{path}"><title>{html_text(device)}: peak '
                 f"{peak:.4g} ops/s, {bandwidth:.4g} B/s, ridge at {ridge:.3g} ops/byte"
                 "</title></polyline>")  # fmt: skip
    for p in points:
        parts.append(
            f'<circle class="{p.kind}" cx="{x_axis.at(p.x):.1f}" cy="{y_axis.at(p.y):.1f}" r="4">'
            f"<title>{html_text(p.name)}: {html_text(p.tip)}</title></circle>"
        )
    parts.append(
        f'<text x="{(_LEFT + WIDTH) / 2:.0f}" y="{height - 4}" class="label mid">arithmetic '
        "intensity (operations per byte moved)</text>"
        f'<text x="14" y="{height / 2:.0f}" class="label mid" transform="rotate(-90 14 '
        f'{height / 2:.0f})">achieved operations/s</text></svg>'
    )
    return "".join(parts)


def _log_grid(x_axis: LogAxis, y_axis: LogAxis, height: int) -> list[str]:
    parts = []
    for e in range(x_axis.low, x_axis.high + 1):
        x = x_axis.at(10.0**e)
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" '
                     f'y2="{height - _BOTTOM}"/><text x="{x:.1f}" y="{height - _BOTTOM + 14}" '
                     f'class="tick mid">{_decade(e, "")}</text>')  # fmt: skip
    for e in range(y_axis.low, y_axis.high + 1):
        y = y_axis.at(10.0**e)
        parts.append(f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - 20}" '
                     f'y2="{y:.1f}"/><text x="{_LEFT - 4}" y="{y + 4:.1f}" class="tick end">'
                     f"{_decade(e, '')}</text>")  # fmt: skip
    return parts


class Line(NamedTuple):
    width: int
    macs: int
    name: str


def break_even_chart(direct: int, slope_num: int, slope_den: int, b_star: float,
                     paths: Sequence[Line]) -> str:  # fmt: skip
    """MACs against bottleneck width: the direct conv's (flat) and the bottleneck path's
    (``slope_num / slope_den`` MACs per channel of width: a line through 0), crossing at
    b*; each width compared is a point on the line."""
    height = 360
    b_max = max([b_star * 2, *(1.2 * p.width for p in paths)])
    m_max = max(direct * 2, *(p.macs for p in paths))
    plot_w, plot_h = WIDTH - _LEFT - 30, height - _TOP - _BOTTOM

    def x(b: float) -> float:
        return _LEFT + plot_w * b / b_max

    def y(m: float) -> float:
        return _TOP + plot_h * (1 - m / m_max)

    end = b_max * slope_num / slope_den
    parts = [
        f'<svg class="chart break-even" width="{WIDTH}" height="{height}" role="img" '
        'aria-label="break-even">',
        _axis_line(_LEFT, _TOP, _LEFT, _TOP + plot_h),
        _axis_line(_LEFT, _TOP + plot_h, _LEFT + plot_w, _TOP + plot_h),
        f'<text x="{_LEFT - 4}" y="{y(direct) + 4:.1f}" class="tick end">{short(direct)}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_h}" class="tick end">0</text>',
        f'<line class="direct" x1="{x(0):.1f}" y1="{y(direct):.1f}" x2="{x(b_max):.1f}" '
        f'y2="{y(direct):.1f}"><title>direct: {direct:,} MACs</title></line>',
        f'<line class="path" x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(b_max):.1f}" '
        f'y2="{y(min(end, m_max)):.1f}"/>'
        if end <= m_max
        else f'<line class="path" x1="{x(0):.1f}" y1="{y(0):.1f}" '
        f'x2="{x(m_max * slope_den / slope_num):.1f}" y2="{y(m_max):.1f}"/>',
        f'<line class="bstar" x1="{x(b_star):.1f}" y1="{_TOP}" x2="{x(b_star):.1f}" '
        f'y2="{_TOP + plot_h}"/>',
        f'<text x="{x(b_star) + 6:.1f}" y="{_TOP + 14}" class="label">b* = {b_star:.1f}</text>',
        f'<text x="{x(b_max) - 4:.1f}" y="{y(direct) - 6:.1f}" class="label end">direct</text>',
        f'<text x="{_LEFT + plot_w / 2:.0f}" y="{height - 4}" class="label mid">bottleneck '
        "width (channels)</text>",
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_h + 14}" class="tick end">0</text>',
        f'<text x="{x(b_max):.1f}" y="{_TOP + plot_h + 14}" class="tick end">{b_max:.0f}</text>',
    ]
    for p in paths:
        parts.append(
            f'<circle class="width" cx="{x(p.width):.1f}" cy="{y(p.macs):.1f}" r="5">'
            f"<title>{html_text(p.name)}: {p.macs:,} MACs</title></circle>"
            f'<text x="{x(p.width) + 8:.1f}" y="{y(p.macs) - 6:.1f}" class="label">'
            f"{html_text(p.name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
