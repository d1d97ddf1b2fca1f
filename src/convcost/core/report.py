"""What an analysis reports: each layer's shapes and costs, group rows, totals."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from convcost.core.geometry import Axis
from convcost.core.graph import Graph
from convcost.core.kinds.base import Layer
from convcost.core.kinds.uncounted import Uncounted, UncountedOps, uncounted_ops
from convcost.core.records import record_maker
from convcost.core.shapes import Shape

if TYPE_CHECKING:
    from convcost.core.costs import LayerCost, NetworkCosts

BYTES_PER_VALUE = 4  # float32, what every peer tool assumes by default


class LayerResult(NamedTuple):
    """One layer's shapes and costs, already multiplied by the batch size (but params).

    A named tuple holding only what cannot be derived, as one is kept per layer and a
    network may have 100,000 of them; the rest (full name, FLOPs, output values, config
    text, MAC factors, params formula, the window's axes) is computed when asked for.
    """

    prefix: str  # the groups it is in, joined: ``layer2.0.``
    local_name: str  # its name within its group: ``conv1``
    layer: Layer
    input_shape: Shape
    output_shape: Shape
    macs: int
    params: int
    buffers: int
    bias_adds: int  # additions of biases (for FLOPs), batch included
    depth: int = 0  # nesting level: 0 at the top, +1 inside each named group
    batch: int = 1
    cost: LayerCost | None = None  # bytes and time, filled in by convcost.core.costing

    @property
    def name(self) -> str:
        return self.prefix + self.local_name

    @property
    def kind(self) -> str:
        return self.layer.kind_name

    @property
    def flops(self) -> int:
        """A multiply and an add per MAC, and the bias additions."""
        return 2 * self.macs + self.bias_adds

    @property
    def activations(self) -> int:
        out = self.output_shape
        return out.h * out.w * out.c * self.batch

    @property
    def config(self) -> str:
        return self.layer.config()

    @property
    def axes(self) -> tuple[Axis, Axis] | None:
        return self.layer.axes(self.input_shape)

    @property
    def mac_factors(self) -> tuple[tuple[str, int], ...]:
        factors = self.layer.mac_factors(self.input_shape, self.output_shape)
        return (("N", self.batch), *factors) if self.batch > 1 and factors else factors

    @property
    def param_formula(self) -> str:
        return self.layer.param_formula(self.input_shape, self.output_shape)

    @property
    def shape_formula(self) -> str:
        return self.layer.shape_formula(self.input_shape, self.output_shape)

    @property
    def counted(self) -> bool:
        """False for an operator convcost cannot count (its work and weights are unknown)."""
        return type(self.layer) is not Uncounted


make_layer_result = record_maker(LayerResult)
"""Makes a LayerResult as the class does, without the class call's dispatch (one a layer)."""


class Totals(NamedTuple):
    """The counts summed over layers, and once costed (``convcost.core.costing``) the sums
    of their bytes and time (``cost``) and, for the whole network, its peak and training
    memory (``network``)."""

    macs: int
    flops: int
    params: int
    buffers: int
    activations: int
    cost: LayerCost | None = None
    network: NetworkCosts | None = None
    # False for a group holding an operator convcost cannot count: its figures that depend
    # on the operators' work are unknown (the network's totals are what was counted).
    counted: bool = True

    @property
    def params_and_buffers(self) -> int:
        """What Keras calls "Total params": trainable plus BatchNorm's moving statistics."""
        return self.params + self.buffers

    @property
    def param_bytes(self) -> int:
        return self.params * BYTES_PER_VALUE if self.cost is None else self.cost.param_bytes

    @property
    def activation_bytes(self) -> int:
        """Every layer's output, summed."""
        if self.cost is None:
            return self.activations * BYTES_PER_VALUE
        return self.cost.output_bytes

    @property
    def costed(self) -> NetworkCosts:
        if self.network is None:
            raise ValueError("these totals are not costed: see convcost.core.costing.cost")
        return self.network

    @property
    def peak_activation_bytes(self) -> int:
        return self.costed.peak.bytes

    @property
    def saved_activation_bytes(self) -> int:
        return self.costed.training.saved_activations

    @property
    def training_bytes(self) -> int:
        return self.costed.training.total


make_totals = record_maker(Totals)
COUNTED: tuple[str, ...] = Totals._fields[:5]
"""The totals the analysis sums over layers (the rest are filled in by costing)."""


class GroupResult(NamedTuple):
    """A block, concat or residual: its shapes and the totals of every layer inside it."""

    name: str
    kind: str
    input_shape: Shape
    output_shape: Shape
    totals: Totals
    depth: int
    local_name: str


make_group_result = record_maker(GroupResult)

Row = LayerResult | GroupResult


class Report(NamedTuple):
    """``layers``: every layer (merges included), in order, with hierarchical names;
    ``rows``: the same with a GroupResult before each group's layers, for nested tables."""

    input_shape: Shape
    output_shape: Shape
    batch: int
    layers: tuple[LayerResult, ...]
    totals: Totals
    rows: tuple[Row, ...] = ()
    graph: Graph | None = None  # what was analysed: ``layers[i]`` is ``graph.nodes[i]``

    @property
    def outputs(self) -> tuple[LayerResult, ...]:
        """The layers no other layer reads: the network's outputs (detection heads, say)."""
        if self.graph is None:
            return self.layers[-1:]
        return tuple(self.layers[i] for i in self.graph.outputs)

    @property
    def uncounted(self) -> tuple[UncountedOps, ...]:
        """The operators of a model file convcost could not count, by type: their work and
        weights are unknown, and the totals leave them out."""
        return uncounted_ops((r.name, r.layer) for r in self.layers)

    @property
    def groups(self) -> tuple[GroupResult, ...]:
        return tuple(r for r in self.rows if isinstance(r, GroupResult))

    def rows_to_depth(self, depth: int | None) -> tuple[Row, ...]:
        """The rows a table shows with ``--depth``: everything nested less than ``depth``."""
        return self.rows if depth is None else tuple(r for r in self.rows if r.depth < depth)

    def partition(self, depth: int | None) -> tuple[Row, ...]:
        """Rows that cover every layer exactly once: layers above ``depth``, and groups at
        ``depth − 1`` folded into their totals (so the rows' sums are the network's)."""
        if depth is None:
            return self.layers
        return tuple(
            r
            for r in self.rows
            if r.depth < depth and (isinstance(r, LayerResult) or r.depth == depth - 1)
        )
