"""Analysis of a graph: each node's shapes and costs, in order, and the report's rows."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from typing import cast

from convcost.core.errors import ConvcostError
from convcost.core.gcpause import gc_paused
from convcost.core.graph import INPUT, Graph, GraphNode, Scope
from convcost.core.kinds.base import Evaluation
from convcost.core.kinds.merges import Merge
from convcost.core.limits import MAX_SIZE
from convcost.core.metrics import METRICS
from convcost.core.report import (
    COUNTED,
    GroupResult,
    LayerResult,
    Report,
    Row,
    Totals,
    make_layer_result,
)
from convcost.core.shapes import Shape


def node_error(node: GraphNode, inp: Shape, error: ConvcostError) -> ConvcostError:
    """A layer's error, said of the layer: its full name, its kind and its input."""
    layer = node.layer
    return ConvcostError(
        f"layer '{node.name}' ({layer.kind_name} on {inp}): {error.message}",
        error.location or node.location,
        error.field,
    )


def too_large(node: GraphNode, inp: Shape, out: Shape) -> ConvcostError:
    return ConvcostError(
        f"layer '{node.name}' ({node.layer.kind_name} on {inp}): its output {out} is larger "
        "than 2**40 in a dimension; sizes above 2**40 are refused",
        node.location,
    )


def evaluate_node(
    nodes: Sequence[GraphNode], input_shape: Shape, index: int, shapes: Sequence[Shape]
) -> Evaluation:
    """What node ``index`` of ``nodes`` does to one sample, given the network's input shape
    and the output shapes of the nodes before it; errors are located and say which layer."""
    node = nodes[index]
    inputs, layer = node.inputs, node.layer
    if len(inputs) != 1 or type(layer) is Merge:
        shapes_read = [input_shape if i == INPUT else shapes[i] for i in inputs]
        if isinstance(layer, Merge):
            return Evaluation(merged_shape(nodes, node, shapes_read))
        inp = shapes_read[0]
    else:  # the common case: one input, read without making a list
        source = inputs[0]
        inp = input_shape if source == INPUT else shapes[source]
    try:
        evaluation = layer.evaluate(inp)
    except ConvcostError as error:
        raise node_error(node, inp, error) from None
    out = evaluation[0]
    if out[0] > MAX_SIZE or out[1] > MAX_SIZE or out[2] > MAX_SIZE:
        raise too_large(node, inp, out)
    return evaluation


def merged_shape(nodes: Sequence[GraphNode], node: GraphNode, inputs: list[Shape]) -> Shape:
    """A merge's output: ``concat`` joins channels (heights and widths agree); ``add`` and
    ``mul`` work elementwise, a 1×1×C input broadcast over the other's H×W."""
    op = node.layer.kind_name
    what = f"{op} '{node.origin or node.name}'"
    if len(inputs) < 2:
        raise ConvcostError(
            f"{what} reads {len(inputs)} input; a merge reads two or more (from: [NAME, NAME])",
            node.location,
        )
    first = inputs[0]
    if node.joins == "residual":
        body, side = inputs
        if side != body:
            raise ConvcostError(
                f"residual '{node.origin}': the body gives {body} but the shortcut gives {side}; "
                "they must agree to be added (use shortcut: auto for a 1×1 projection)",
                node.location,
            )
        return body
    if op == "concat":
        for k, shape in enumerate(inputs[1:], 2):
            if (shape.h, shape.w, shape.flat) != (first.h, first.w, first.flat):
                raise ConvcostError(
                    f"{what}: {_part(nodes, node, k)} gives {shape} but "
                    f"{_part(nodes, node, 1)} gives {first}; the {_parts(node)}' height and "
                    "width must agree",
                    node.location,
                )
        merged = Shape(first.h, first.w, sum(shape.c for shape in inputs), first.flat)
        if merged.c > MAX_SIZE:
            raise ConvcostError(
                f"{what}: its output {merged} has more than 2**40 channels; sizes above 2**40 "
                "are refused",
                node.location,
            )
        return merged
    # add, mul: the largest input, which every other equals or broadcasts over (1×1×C).
    out = max(inputs, key=lambda shape: shape.h * shape.w)
    for k, shape in enumerate(inputs, 1):
        broadcast = (shape.h, shape.w, shape.c, shape.flat) == (1, 1, out.c, False)
        if shape != out and not (broadcast and not out.flat):
            raise ConvcostError(
                f"{what}: {_part(nodes, node, k)} gives {shape} but "
                f"{_part(nodes, node, inputs.index(out) + 1)} gives {out}; elementwise inputs "
                "must have the same shape, or be 1×1×C to scale each channel",
                node.location,
            )
    return out


def _part(nodes: Sequence[GraphNode], node: GraphNode, k: int) -> str:
    if node.joins == "branch":
        return f"branch {k}"
    source = node.inputs[k - 1]
    return f"input {k} ('{'the input' if source == INPUT else nodes[source].name}')"


def _parts(node: GraphNode) -> str:
    return "branches" if node.joins == "branch" else "inputs"


def evaluate_prefix(
    nodes: Sequence[GraphNode],
    input_shape: Shape,
    evaluations: list[Evaluation],
    shapes: list[Shape],
    stop: int,
) -> None:
    """Extend ``evaluations`` (those of the first nodes, in order) and ``shapes`` (their
    output shapes) through node ``stop``. A front end that needs some shapes while it
    builds the graph (where ``shortcut: auto`` projects) evaluates this way, and hands the
    evaluations to ``analyze``, which does not make them again."""
    for index in range(len(evaluations), stop + 1):
        evaluation = evaluate_node(nodes, input_shape, index, shapes)
        evaluations.append(evaluation)
        shapes.append(evaluation[0])


def analyze(graph: Graph, batch: int = 1, evaluated: Sequence[Evaluation] = ()) -> Report:
    """Propagate the input shape through every node, in order, and count what each costs.
    ``evaluated``: what the first nodes do to one sample, if already known (see
    ``evaluate_prefix``); they are not evaluated again."""
    if batch < 1:
        raise ConvcostError(f"batch size must be at least 1, got {batch}")
    with gc_paused():
        return _analyze(graph, batch, evaluated)


def _analyze(graph: Graph, batch: int, evaluated: Sequence[Evaluation]) -> Report:
    nodes, scopes, input_shape = graph.nodes, graph.scopes, graph.input_shape
    shapes: list[Shape] = []
    rows: list[Row | None] = []  # None: a group's row, filled once its layers are known
    leaves: list[LayerResult] = []
    add_shape, add_row, add_leaf = shapes.append, rows.append, leaves.append
    make = make_layer_result
    # The scopes open at the current node, innermost last: (scope, row, first leaf, input);
    # closed ones wait in ``groups`` for their totals, which come from the table of metrics.
    open_scopes: list[tuple[int, int, int, Shape]] = []
    groups: list[tuple[int, int, int, int, Shape, Shape]] = []
    current = -1
    known = len(evaluated)
    for index, node in enumerate(nodes):
        inputs = node.inputs
        source = inputs[0]
        inp = input_shape if source == INPUT else shapes[source]
        if node.scope != current:
            _enter(scopes, node.scope, open_scopes, groups, rows, shapes, index, inp)
            current = node.scope
        layer = node.layer
        if index < known:
            out, macs, params, buffers, bias_adds = evaluated[index]
        else:
            out, macs, params, buffers, bias_adds = evaluate_node(nodes, input_shape, index, shapes)
        shown = node.shown_input
        if shown is not None:
            inp = input_shape if shown == INPUT else shapes[shown]
        if batch != 1:
            macs *= batch
            bias_adds *= batch
        row = make(node.prefix, node.local, layer, inp, out, macs, params, buffers, bias_adds,
                   node.depth, batch)  # fmt: skip
        add_row(row)
        add_leaf(row)
        add_shape(out)
    _leave(-1, open_scopes, groups, shapes, len(nodes))
    totals = _totals(leaves, groups, scopes, rows)
    output = shapes[-1] if shapes else input_shape
    filled = cast("tuple[Row, ...]", tuple(rows))  # every group's row is filled by _totals
    return Report(input_shape, output, batch, tuple(leaves), totals, filled, graph)


def _totals(
    leaves: list[LayerResult],
    groups: list[tuple[int, int, int, int, Shape, Shape]],
    scopes: tuple[Scope, ...],
    rows: list[Row | None],
) -> Totals:
    """The network's totals and each group's (filled into its row), one figure per metric
    of ``Totals``, each summed (or maximised) over the layers as the metrics table says."""
    figures = []
    group_figures: list[list[int]] = [[] for _ in groups]
    for key in COUNTED:
        metric = METRICS[key]
        values = cast("list[int]", list(map(metric.read, leaves)))  # counts: whole numbers
        if metric.sums == "max":
            figures.append(max(values, default=0))
            for made, (_, _, first, end, _, _) in zip(group_figures, groups, strict=True):
                made.append(max(values[first:end], default=0))
            continue
        figures.append(sum(values))
        if groups:
            running = list(accumulate(values, initial=0))
            for made, (_, _, first, end, _, _) in zip(group_figures, groups, strict=True):
                made.append(running[end] - running[first])
    # A group holding an uncounted operator has partial totals: said, never shown as whole.
    uncounted = [not leaf.counted for leaf in leaves]
    missing = list(accumulate(uncounted, initial=0)) if any(uncounted) else None
    for made, (scope, at, first, end, inp, out) in zip(group_figures, groups, strict=True):
        info = scopes[scope]
        counted = missing is None or missing[end] == missing[first]
        rows[at] = GroupResult(info.name, info.kind, inp, out, _counts(made, counted),
                               info.depth, info.local)  # fmt: skip
    return _counts(figures)


def _counts(figures: list[int], counted: bool = True) -> Totals:
    """Totals of the counts, given in ``COUNTED``'s order (not yet costed)."""
    macs, flops, params, buffers, activations = figures
    return Totals(macs, flops, params, buffers, activations, counted=counted)


def _enter(
    scopes: tuple[Scope, ...],
    target: int,
    open_scopes: list[tuple[int, int, int, Shape]],
    groups: list[tuple[int, int, int, int, Shape, Shape]],
    rows: list[Row | None],
    shapes: list[Shape],
    index: int,
    inp: Shape,
) -> None:
    """Close the open scopes that do not hold ``target``, open those that do (outermost
    first), each with a row placed before its layers (a group's row is filled later)."""
    path: list[int] = []
    scope = target
    while scope != -1:
        path.append(scope)
        scope = scopes[scope].parent
    path.reverse()
    keep = 0
    while keep < len(open_scopes) and keep < len(path) and open_scopes[keep][0] == path[keep]:
        keep += 1
    _leave(open_scopes[keep - 1][0] if keep else -1, open_scopes, groups, shapes, index)
    for scope in path[keep:]:
        open_scopes.append((scope, len(rows), index, inp))
        rows.append(None)


def _leave(
    keep: int,
    open_scopes: list[tuple[int, int, int, Shape]],
    groups: list[tuple[int, int, int, int, Shape, Shape]],
    shapes: list[Shape],
    index: int,
) -> None:
    """Close open scopes, innermost first, until ``keep`` (-1: all) is the innermost; each
    covers the leaves from its first to ``index``, and ends with the last shape made."""
    while open_scopes and open_scopes[-1][0] != keep:
        scope, at, first, inp = open_scopes.pop()
        groups.append((scope, at, first, index, inp, shapes[-1]))
