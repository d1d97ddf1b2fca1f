"""A layer stack and its cost report: shape propagation and per-layer/total counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from convcost.errors import ConvcostError, Location
from convcost.geometry import Axis
from convcost.layers import Layer
from convcost.shapes import Shape

BYTES_PER_VALUE = 4  # float32, what every peer tool assumes by default


@dataclass(frozen=True)
class Node:
    """A named layer in a network, with where the user wrote it (for error messages)."""

    name: str
    layer: Layer
    location: Location | None = None


@dataclass(frozen=True)
class Network:
    input_shape: Shape
    nodes: tuple[Node, ...]
    name: str = ""


def name_nodes(
    layers: Iterable[tuple[str | None, Layer, Location | None]],
) -> tuple[Node, ...]:
    """Nodes with the user's names, or ``kind1``, ``kind2``… where none was given.

    Names must be unique, so that results (and later, diffs) can be matched by name.
    """
    counts: dict[str, int] = {}
    nodes: list[Node] = []
    seen: dict[str, Node] = {}
    for name, layer, location in layers:
        if name is None:
            counts[layer.kind_name] = counts.get(layer.kind_name, 0) + 1
            name = f"{layer.kind_name}{counts[layer.kind_name]}"
            while name in seen:
                name += "_"
        elif name in seen:
            first = seen[name].location
            where = f" (first used at {first})" if first else ""
            raise ConvcostError(
                f"layer name '{name}' is used twice{where}; names must be unique",
                location,
                field="name",
            )
        node = Node(name, layer, location)
        seen[name] = node
        nodes.append(node)
    return tuple(nodes)


@dataclass(frozen=True)
class LayerResult:
    """One layer's shapes and costs, already multiplied by the batch size (but params)."""

    name: str
    kind: str
    config: str
    input_shape: Shape
    output_shape: Shape
    macs: int
    flops: int
    params: int
    buffers: int
    activations: int
    mac_factors: tuple[tuple[str, int], ...]
    axes: tuple[Axis, Axis] | None
    param_formula: str
    layer: Layer


@dataclass(frozen=True)
class Totals:
    macs: int
    flops: int
    params: int
    buffers: int
    activations: int

    @property
    def param_bytes(self) -> int:
        return self.params * BYTES_PER_VALUE

    @property
    def activation_bytes(self) -> int:
        return self.activations * BYTES_PER_VALUE


@dataclass(frozen=True)
class Report:
    input_shape: Shape
    output_shape: Shape
    batch: int
    layers: tuple[LayerResult, ...]
    totals: Totals


def evaluate_layer(node: Node, inp: Shape, batch: int = 1) -> LayerResult:
    """One layer's result for one input shape; errors carry the layer's name and location."""
    try:
        ev = node.layer.evaluate(inp)
    except ConvcostError as error:
        raise ConvcostError(
            f"layer '{node.name}' ({node.layer.kind_name} on {inp}): {error.message}",
            error.location or node.location,
            error.field,
        ) from None
    factors = ev.mac_factors
    if batch > 1 and ev.macs:
        factors = (("N", batch), *factors)
    return LayerResult(
        name=node.name,
        kind=node.layer.kind_name,
        config=node.layer.config(),
        input_shape=inp,
        output_shape=ev.output_shape,
        macs=ev.macs * batch,
        # FLOPs count a multiply and an add per MAC, and the bias additions.
        flops=(2 * ev.macs + ev.bias_adds) * batch,
        params=ev.params,
        buffers=ev.buffers,
        activations=ev.output_shape.elements * batch,
        mac_factors=factors,
        axes=ev.axes,
        param_formula=ev.param_formula,
        layer=node.layer,
    )


def total(results: Sequence[LayerResult]) -> Totals:
    return Totals(
        macs=sum(r.macs for r in results),
        flops=sum(r.flops for r in results),
        params=sum(r.params for r in results),
        buffers=sum(r.buffers for r in results),
        activations=sum(r.activations for r in results),
    )


def analyze(network: Network, batch: int = 1) -> Report:
    """Propagate the input shape through every layer and count what each costs."""
    if batch < 1:
        raise ConvcostError(f"batch size must be at least 1, got {batch}")
    shape = network.input_shape
    results: list[LayerResult] = []
    for node in network.nodes:
        result = evaluate_layer(node, shape, batch)
        results.append(result)
        shape = result.output_shape
    return Report(network.input_shape, shape, batch, tuple(results), total(results))
