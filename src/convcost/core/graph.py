"""The network as a graph of layers with explicit inputs (``convcost.core.analysis``
analyses it).

Every front end builds a ``Graph``: nodes in an order where each reads only nodes before it
(a topological order, the order written), each with a kind (its ``Layer``), the nodes it
reads and a scope (the named groups it is in, for hierarchical names and folded tables).
Merges (concat, add, mul) read two or more nodes; a network may end in several outputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from convcost.core.errors import Location
from convcost.core.kinds.base import Layer
from convcost.core.records import record_maker
from convcost.core.shapes import Shape

INPUT = -1
"""The index that stands for the network's input among a node's inputs."""


class Scope(NamedTuple):
    """A named group of nodes: a block, a repeat, a concat, a residual, a named branch."""

    name: str  # full name: ``layer1/0``
    local: str  # its name within its parent: ``0``
    kind: str  # what it is in tables: a block's name, ``block×4``, group, concat, residual
    depth: int  # 0 at the top level, +1 inside each scope
    parent: int  # the enclosing scope's index, -1 at the top
    location: Location | None = None


class GraphNode(NamedTuple):
    """A layer of the graph. Merges name the construct they close in ``origin`` and say
    in ``joins`` how their inputs were written, so a mismatch is reported in those words:
    ``branch`` (concat: branches), ``residual`` (body and shortcut) or ``input`` (from:)."""

    prefix: str  # the scopes it is in, joined and ended by the separator: ``layer1/0/``
    local: str  # its name within its scope: ``conv1``
    layer: Layer
    inputs: tuple[int, ...]  # the nodes it reads, by index (INPUT: the network's input)
    scope: int  # the innermost scope it is in, -1 at the top
    depth: int  # len of its scope path
    location: Location | None = None
    joins: str = "input"
    origin: str = ""
    # For a concat: construct, what its branches read: tables show it as the merge's input.
    shown_input: int | None = None

    @property
    def name(self) -> str:
        return self.prefix + self.local


make_graph_node = record_maker(GraphNode)
"""Makes a GraphNode as the class does, without the class call's dispatch (one a layer)."""


class Graph(NamedTuple):
    input_shape: Shape
    nodes: tuple[GraphNode, ...]
    scopes: tuple[Scope, ...] = ()
    separator: str = "/"

    @property
    def outputs(self) -> tuple[int, ...]:
        """The nodes no node reads, in order: the network's outputs."""
        read = {i for node in self.nodes for i in node.inputs}
        return tuple(i for i in range(len(self.nodes)) if i not in read)


def chain(input_shape: Shape, layers: Iterable[tuple[str, Layer]]) -> Graph:
    """A plain stack: each named layer reads the one before it."""
    nodes = tuple(
        GraphNode("", name, layer, (index - 1,), -1, 0)
        for index, (name, layer) in enumerate(layers)
    )
    return Graph(input_shape, nodes)
