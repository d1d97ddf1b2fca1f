"""Where the HTML report draws each layer: a layered layout of the graph, computed here so
the page only moves boxes when a group is folded.

Each node's rank (its row) is one more than the largest of its inputs' (the network's input
is rank 0), so data flows down and the branches of a concat sit side by side. Its column is
its first input's when that place is free at its rank, else the next free one to the right:
a chain stays in one lane, a branch opens the next, a merge returns to its first input's.
A layer that starts its group from outside it for readers inside only moves down to just
above its first reader (``_sink``), so that a group's frame holds its own layers only.
Linear in the number of nodes (a 100,000-layer network is laid out in well under a second).
"""

from __future__ import annotations

from typing import NamedTuple

from convcost.core.graph import INPUT, Graph


class Frame(NamedTuple):
    """A group's extent: the ranks and columns its layers take, and its nesting."""

    scope: int  # index in graph.scopes
    parent: int  # the enclosing group's scope index, -1 at the top
    first_rank: int
    last_rank: int
    first_column: int
    last_column: int
    layers: int  # how many layers it holds, nested ones included


class Layout(NamedTuple):
    """``ranks[i]`` and ``columns[i]``: node i's row and lane (the input: rank 0, column 0);
    ``frames``: one per group that holds a layer, outer groups first."""

    ranks: tuple[int, ...]
    columns: tuple[int, ...]
    frames: tuple[Frame, ...]

    @property
    def height(self) -> int:
        """Rows, the input's included."""
        return 1 + max(self.ranks, default=0)

    @property
    def width(self) -> int:
        """Lanes."""
        return 1 + max(self.columns, default=0)


def layered(graph: Graph) -> Layout:
    nodes = graph.nodes
    ranks: list[int] = []
    for node in nodes:
        ranks.append(1 + max((ranks[i] for i in node.inputs if i != INPUT), default=0))
    sunk = _sink(graph, ranks)
    columns = [0] * len(nodes)
    taken: dict[int, set[int]] = {0: {0}}  # the input's place
    # Rank by rank, a sunk node after the others: the trunk keeps its lane.
    for index in sorted(range(len(nodes)), key=lambda i: (ranks[i], i in sunk, i)):
        inputs = [i for i in nodes[index].inputs if i not in sunk] or nodes[index].inputs
        first = inputs[0] if inputs else INPUT
        column = 0 if first == INPUT else columns[first]
        busy = taken.setdefault(ranks[index], set())
        while column in busy:
            column += 1
        busy.add(column)
        columns[index] = column
    return Layout(tuple(ranks), tuple(columns), _frames(graph, ranks, columns))


def _sink(graph: Graph, ranks: list[int]) -> set[int]:
    """Moves down, to just above its first reader, a layer that takes its input from outside
    its group for readers inside it only (U-Net's crop of a skip, read by the decoder's
    concat far below): its group's frame then holds its own layers, not the ones between."""
    readers: list[list[int]] = [[] for _ in graph.nodes]
    for index, node in enumerate(graph.nodes):
        for source in node.inputs:
            if source != INPUT:
                readers[source].append(index)
    sunk = set()
    for index, node in enumerate(graph.nodes):
        scope = node.scope
        if scope == -1 or not readers[index]:
            continue
        inside = [_within(graph, i, scope) for i in readers[index]]
        outside = [i == INPUT or not _within(graph, i, scope) for i in node.inputs]
        lowest = min(ranks[i] for i in readers[index]) - 1
        if all(inside) and all(outside) and lowest > ranks[index]:
            ranks[index] = lowest
            sunk.add(index)
    return sunk


def _within(graph: Graph, index: int, scope: int) -> bool:
    at = graph.nodes[index].scope
    while at not in (-1, scope):
        at = graph.scopes[at].parent
    return at == scope


def _frames(graph: Graph, ranks: list[int], columns: list[int]) -> tuple[Frame, ...]:
    scopes = graph.scopes
    extent: dict[int, list[int]] = {}  # scope → [first rank, last rank, first col, last col, n]
    for index, node in enumerate(graph.nodes):
        scope = node.scope
        rank, column = ranks[index], columns[index]
        while scope != -1:
            box = extent.get(scope)
            if box is None:
                extent[scope] = [rank, rank, column, column, 1]
            else:
                box[0], box[1] = min(box[0], rank), max(box[1], rank)
                box[2], box[3] = min(box[2], column), max(box[3], column)
                box[4] += 1
            scope = scopes[scope].parent
    return tuple(
        Frame(scope, scopes[scope].parent, *extent[scope])
        for scope in sorted(extent, key=lambda s: (scopes[s].depth, s))
    )
