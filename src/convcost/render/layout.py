"""Where the HTML report draws each layer: a layered layout of the graph, computed here so
the page only moves boxes when a group is folded.

Each node's rank (its row) is one more than the largest of its inputs' (the network's input
is rank 0), so data flows down and the branches of a concat sit side by side. Its column is
its first input's when that place is free at its rank, else the next free one to the right:
a chain stays in one lane, a branch opens the next, a merge returns to its first input's.
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
    ranks: list[int] = []
    columns: list[int] = []
    taken: dict[int, set[int]] = {0: {0}}  # the input's place
    for node in graph.nodes:
        rank = 1 + max((ranks[i] for i in node.inputs if i != INPUT), default=0)
        first = node.inputs[0] if node.inputs else INPUT
        column = 0 if first == INPUT else columns[first]
        busy = taken.setdefault(rank, set())
        while column in busy:
            column += 1
        busy.add(column)
        ranks.append(rank)
        columns.append(column)
    return Layout(tuple(ranks), tuple(columns), _frames(graph, ranks, columns))


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
