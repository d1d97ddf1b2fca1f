"""The HTML report's drawing of the network: a box per layer at its rank and lane
(``render.layout``), a frame per group that folds into one box, and the edges between them
(drawn by the page's script, which places everything again when a group folds).

Each box is coloured by its share of the network's MACs, or with a device of its time.
"""

from __future__ import annotations

from math import sqrt
from typing import TYPE_CHECKING, NamedTuple

from convcost.core.graph import INPUT, Graph, chain
from convcost.render.escape import html_lines, html_text
from convcost.render.layout import Frame, Layout, layered
from convcost.render.numbers import grouped, seconds, short

if TYPE_CHECKING:
    from convcost.core.report import LayerResult, Report, Totals

FOLD_ABOVE = 300
"""Above this many boxes the page opens with groups folded, as deep as keeps it under."""

BOX_CHARS = 24  # about what fits in a box's 150 pixels (the page shortens it further)
COLUMN = 184  # pixels from one lane to the next (report.js's COL)


class Drawing(NamedTuple):
    svg: str
    edges: list[tuple[int, int]]  # (from, to) node indices, INPUT for the network's input
    folded: list[int]  # frames folded when the page opens


def _graph_of(report: Report) -> Graph:
    if report.graph is not None:
        return report.graph
    return chain(report.input_shape, ((r.name, r.layer) for r in report.layers))


def _clip(text: str) -> str:
    return text if len(text) <= BOX_CHARS else text[: BOX_CHARS - 1] + "…"


def _fill(share: float) -> tuple[str, str]:
    """A box's colour for its share (0…1 of the largest): pale to deep red, and its text's:
    white or the page's #222, whichever contrasts more (WCAG's relative luminance)."""
    t = sqrt(max(0.0, min(share, 1.0)))
    r, g, b = (round(255 + (178 - 255) * t), round(247 + (24 - 247) * t),
               round(236 + (43 - 236) * t))  # fmt: skip
    lightness = _luminance(r, g, b)
    on_white, on_dark = 1.05 / (lightness + 0.05), (lightness + 0.05) / (_DARK_INK + 0.05)
    return f"#{r:02x}{g:02x}{b:02x}", ("light" if on_white > on_dark else "dark")


def _luminance(*channels: int) -> float:
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4
              for c in channels]  # fmt: skip
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


_DARK_INK = _luminance(0x22, 0x22, 0x22)


def legend(report: Report, timed: bool) -> str:
    """The colour scale under the graph: swatches from none to the largest layer's share."""
    share = _share(report, timed)
    cells = []
    for step in (0.0, 0.25, 0.5, 0.75, 1.0):
        value = share.largest * step * step  # the fill's square root undone
        fill, _ = _fill(step * step)
        said = seconds(value) if timed else f"{short(int(value))} MACs"
        cells.append(f'<span style="background:{fill}"></span>{said}')
    what = "time" if timed else "MACs"
    return f"<p class=\"legend\">colour: a layer's {what}, up to the largest's {''.join(cells)}</p>"


class Share(NamedTuple):
    """What colours the boxes: MACs, or with a device seconds."""

    timed: bool
    total: float
    largest: float

    def of(self, figures: LayerResult | Totals) -> float:
        if self.timed:
            cost = figures.cost
            return (cost.latency_s or 0.0) if cost is not None else 0.0
        return float(figures.macs)

    def text(self, value: float) -> str:
        part = f"{100 * value / self.total:.1f} %" if self.total else "0 %"
        what = seconds(value) if self.timed else f"{grouped(int(value))} MACs"
        return f"{what} ({part} of the network's {'time' if self.timed else 'MACs'})"


def _share(report: Report, timed: bool) -> Share:
    probe = Share(timed, 0.0, 0.0)
    values = [probe.of(layer) for layer in report.layers]
    return Share(timed, probe.of(report.totals), max(values, default=0.0))


def _initial_folds(graph: Graph, layout: Layout, depth: int | None) -> list[int]:
    """Frames folded on opening: those at ``--depth``'s last level, else for a big network
    the deepest level that keeps the boxes under ``FOLD_ABOVE``."""
    scopes = graph.scopes
    level = [scopes[frame.scope].depth for frame in layout.frames]
    if depth is not None:
        return [i for i, d in enumerate(level) if d == depth - 1]
    if len(graph.nodes) <= FOLD_ABOVE or not level:
        return []
    chosen = 0
    for d in range(max(level) + 1):
        boxes = sum(1 for node in graph.nodes if node.depth <= d) + level.count(d)
        if boxes <= FOLD_ABOVE:
            chosen = d
    return [i for i, at in enumerate(level) if at == chosen]


def draw(report: Report, timed: bool, depth: int | None) -> Drawing:
    graph = _graph_of(report)
    layout = layered(graph)
    share = _share(report, timed)
    largest = share.largest or 1.0
    index_of = {frame.scope: i for i, frame in enumerate(layout.frames)}
    groups = {group.name: group for group in report.groups}
    # Edges first: frames' labels and the boxes are drawn over them.
    parts = [f'<svg id="cc-net" class="net" width="{COLUMN * layout.width + 40}" height="600">',
             '<g class="edges"></g><g class="frames">']  # fmt: skip
    for i, frame in enumerate(layout.frames):
        parts.append(_frame(graph, frame, index_of, groups.get(graph.scopes[frame.scope].name),
                            share, largest, i))  # fmt: skip
    parts.append('</g><g class="nodes">')
    parts.append(
        f'<g class="input" data-i="{INPUT}" data-r="0" data-c="0"><rect width="150" '
        f'height="34" rx="4"/><text x="6" y="14" class="n">input</text><text x="6" y="28" '
        f'class="o">{report.input_shape}</text></g>'
    )
    edges: list[tuple[int, int]] = []
    for index, (node, result) in enumerate(zip(graph.nodes, report.layers, strict=True)):
        edges.extend((source, index) for source in dict.fromkeys(node.inputs))
        value = share.of(result)
        fill, ink = _fill(value / largest)
        op = f"{result.kind} {result.config}".strip()
        within = index_of.get(node.scope, -1)
        tip = html_lines(result.name, op, f"{result.input_shape} → {result.output_shape}",
                         share.text(value), f"{grouped(result.params)} params")  # fmt: skip
        parts.append(
            f'<g class="node {ink}" data-i="{index}" data-r="{layout.ranks[index]}" '
            f'data-c="{layout.columns[index]}" data-f="{within}"><rect width="150" height="34" '
            f'rx="4" fill="{fill}"/><text x="6" y="14" class="n">{html_text(_clip(node.local))}'
            f'</text><text x="6" y="28" class="o">{html_text(_clip(op))}</text>'
            f"<title>{tip}</title></g>"
        )
    parts.append("</g></svg>")
    return Drawing("".join(parts), edges, _initial_folds(graph, layout, depth))


def _frame(graph: Graph, frame: Frame, index_of: dict[int, int], group: object,
           share: Share, largest: float, index: int) -> str:  # fmt: skip
    scope = graph.scopes[frame.scope]
    totals = getattr(group, "totals", None)
    value = share.of(totals) if totals is not None else 0.0
    fill, ink = _fill(value / largest)
    name = scope.name or scope.local
    summary = f"{scope.kind} · {short(int(value))} MACs" if not share.timed else (
        f"{scope.kind} · {seconds(value)}")  # fmt: skip
    tip = html_lines(f"{name} ({scope.kind}): {frame.layers} layers", share.text(value))
    parent = index_of.get(frame.parent, -1)
    return (
        f'<g class="frame" data-f="{index}" data-p="{parent}" data-d="{scope.depth}" '
        f'data-r0="{frame.first_rank}" data-r1="{frame.last_rank}" '
        f'data-c0="{frame.first_column}" data-c1="{frame.last_column}">'
        f'<rect class="outline" rx="6"/><text class="label">▾ {html_text(_clip(name))} '
        f"<tspan>{html_text(_clip(summary))}</tspan></text>"
        f'<g class="box {ink}"><rect width="150" height="34" rx="4" fill="{fill}"/>'
        f'<text x="6" y="14" class="n">▸ {html_text(_clip(name))}</text><text x="6" y="28" '
        f'class="o">{html_text(_clip(summary))}</text></g>'
        f"<title>{tip}</title></g>"
    )
