"""Memory and time of an analysed network, at a precision and optionally on a device.

Four figures, each by a stated rule (the README's "Memory and time" says them to users):

- **Bytes.** Each layer reads its weights (parameters and buffers, at the weights' format)
  and its inputs, and writes its output (at the activations' format).
- **Peak inference memory.** Layers run one at a time in the graph's order (the order
  written: a concat's branches each to its end, then the merge; a residual's body, then its
  shortcut, then the addition). A tensor is alive from the step that makes it to the last
  step that reads it (the network's outputs to the end; the network's input from the
  start); during a step its inputs and its output are alive together. A layer whose
  ``storage()`` is ``inplace`` (activations, BatchNorm) or a ``view`` (flatten, identity,
  dropout) keeps its input's buffer, which lives until the last reader of either; an ``add``
  writes into its first input when that input has the output's shape (a residual's body);
  every other layer makes a new tensor. Peak: the largest sum of live bytes over the steps.
  Parameters are not counted.
- **Training memory.** Parameters, their gradients, the optimizer's state (per parameter:
  none for SGD, one for momentum, two for Adam and AdamW), buffers, and the activations
  autograd saves for the backward pass: each layer's ``saved()`` (its input or output,
  shared tensors counted once, plus masks, indices and statistics). Tensors are those of
  PyTorch's modules written without ``inplace=True``: only views share a tensor.
- **Roofline time** (with a device). A layer does ``ops`` (2 per MAC, bias additions and its
  ``other_ops()``) and moves ``bytes_moved`` (weights, inputs and output once each: a lower
  bound that assumes perfect reuse inside the layer; a view moves nothing); it takes
  max(ops / peak at the activations' format, bytes / bandwidth), bound by whichever is
  larger. With ``fuse``, BatchNorm and activations that follow a conv or dense layer (each
  the only reader of what it follows) fold into it and move no memory: a BatchNorm folds
  into the weights (no arithmetic left) only straight after the conv or after a BatchNorm
  folded so; an activation is the conv's epilogue after any of those or another activation
  fused so. Anything else stays as it is.

Merges are the graph's (as their shapes are, in ``convcost.core.analysis``): ``add`` and
``mul`` do one operation per output value per input after the first, ``concat`` none;
``mul`` saves its inputs for training (each factor's gradient reads the other), ``add`` and
``concat`` nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcost.core.costs import (
    OPTIMIZERS,
    Hardware,
    LayerCost,
    NetworkCosts,
    Peak,
    Settings,
    Training,
    optimizer_states,
)
from convcost.core.errors import ConvcostError
from convcost.core.graph import INPUT, Graph, chain
from convcost.core.kinds.base import Layer, Saved
from convcost.core.kinds.merges import Merge
from convcost.core.report import GroupResult, LayerResult, Report, Row
from convcost.core.shapes import Shape


def cost(report: Report, settings: Settings | None = None) -> Report:
    """``report`` with every layer's, group's and the network's costs filled in
    (``settings``: fp32, Adam, no device, when None)."""
    if settings is None:
        settings = Settings()
    graph = report.graph
    if graph is None:
        graph = chain(report.input_shape, ((layer.name, layer.layer) for layer in report.layers))
    states = optimizer_states(settings.optimizer)
    precision = settings.precision
    activation_bytes = precision.activations.bytes
    if settings.device is not None and precision.activations.name not in settings.device.peak:
        have = ", ".join(settings.device.peak)
        raise ConvcostError(
            f"{settings.device.name} has no published {precision.activations.name} peak "
            f"(it has: {have}); choose one of those with --dtype/--activation-dtype, or give "
            "the peak with --peak"
        )
    layers = report.layers
    shapes = [layer.output_shape for layer in layers]
    live, peak = _inference_memory(graph, report, activation_bytes)
    fused = _fused(graph) if settings.fuse else [False] * len(layers)
    costs = [
        _layer_cost(graph, report, index, shapes, live[index], fused[index], settings)
        for index in range(len(layers))
    ]
    costed = tuple(
        layer._replace(cost=layer_cost) for layer, layer_cost in zip(layers, costs, strict=True)
    )
    timed = settings.device is not None
    weights = precision.weights.bytes
    params, buffers = report.totals.params, report.totals.buffers
    training = Training(
        settings.optimizer.strip().lower(),
        params * weights,
        params * weights,
        states * params * weights,
        buffers * weights,
        _saved_activations(graph, report, activation_bytes),
    )
    network = NetworkCosts(settings, peak, training)
    totals = report.totals._replace(cost=_summed(costs, timed), network=network)
    return report._replace(layers=costed, rows=_costed_rows(report.rows, costed, costs, timed),
                           totals=totals)  # fmt: skip


def _costed_rows(
    rows: Sequence[Row], costed: Sequence[LayerResult], costs: Sequence[LayerCost], timed: bool
) -> tuple[Row, ...]:
    """The rows with each layer replaced by its costed self and each group's totals
    given the sums of its layers' costs (a group's layers follow its row, in order)."""
    made: list[Row] = []
    at = 0
    spans: list[tuple[int, int]] = []  # per group row: (its index in made, first layer)
    depths: list[int] = []
    for row in rows:
        if isinstance(row, GroupResult):
            while depths and depths[-1] >= row.depth:
                _close(made, spans, depths, costs, at, timed)
            spans.append((len(made), at))
            depths.append(row.depth)
            made.append(row)
        else:
            while depths and depths[-1] >= row.depth:
                _close(made, spans, depths, costs, at, timed)
            made.append(costed[at])
            at += 1
    while depths:
        _close(made, spans, depths, costs, at, timed)
    return tuple(made)


def _close(made: list[Row], spans: list[tuple[int, int]], depths: list[int],
           costs: Sequence[LayerCost], end: int, timed: bool) -> None:  # fmt: skip
    index, first = spans.pop()
    depths.pop()
    group = made[index]
    assert isinstance(group, GroupResult)
    made[index] = group._replace(
        totals=group.totals._replace(cost=_summed(costs[first:end], timed))
    )


def _summed(costs: Sequence[LayerCost], timed: bool) -> LayerCost:
    """The sum of ``costs`` (the most live bytes of any); time when ``timed`` (a device)."""
    latency = sum(c.latency_s or 0.0 for c in costs) if timed else None
    return LayerCost(
        sum(c.param_bytes for c in costs),
        sum(c.weight_bytes for c in costs),
        sum(c.input_bytes for c in costs),
        sum(c.output_bytes for c in costs),
        sum(c.ops for c in costs),
        sum(c.bytes_moved for c in costs),
        max((c.live_bytes for c in costs), default=0),
        latency,
    )


def _read_shapes(graph: Graph, index: int, shapes: Sequence[Shape]) -> list[Shape]:
    return [graph.input_shape if i == INPUT else shapes[i] for i in graph.nodes[index].inputs]


def _is_merge(layer: Layer) -> bool:
    return isinstance(layer, Merge)


def _inference_storage(graph: Graph, index: int, shapes: Sequence[Shape]) -> str:
    layer = graph.nodes[index].layer
    if _is_merge(layer):
        reads = _read_shapes(graph, index, shapes)
        return "inplace" if layer.kind_name == "add" and reads[0] == shapes[index] else "new"
    return layer.storage()


def _inference_memory(graph: Graph, report: Report, value_bytes: int) -> tuple[list[int], Peak]:
    """The activation bytes alive at each step, and the peak, by the rule above."""
    nodes, layers, batch = graph.nodes, report.layers, report.batch
    shapes = [layer.output_shape for layer in layers]
    per_value = value_bytes * batch
    if not nodes:  # the input alone: it is the whole of the memory
        return [], Peak(graph.input_shape.elements * per_value, -1, "")
    buffer_of = [0] * len(nodes)
    sizes = [graph.input_shape.elements * per_value]  # buffer 0: the network's input
    born = [0]
    last = [0]
    for index, node in enumerate(nodes):
        reads = [0 if i == INPUT else buffer_of[i] for i in node.inputs]
        for buffer in reads:
            last[buffer] = index
        if _inference_storage(graph, index, shapes) == "new":
            buffer_of[index] = len(sizes)
            sizes.append(shapes[index].elements * per_value)
            born.append(index)
            last.append(index)
        else:
            buffer_of[index] = reads[0]
    end = len(nodes) - 1
    for output in graph.outputs:
        last[buffer_of[output]] = end
    change = [0] * (len(nodes) + 1)
    for size, start, stop in zip(sizes, born, last, strict=True):
        change[start] += size
        change[max(stop, start) + 1] -= size
    live: list[int] = []
    running = 0
    for step in range(len(nodes)):
        running += change[step]
        live.append(running)
    most = max(live)
    step = live.index(most)
    return live, Peak(most, step, layers[step].name)


def _saved_activations(graph: Graph, report: Report, value_bytes: int) -> int:
    """Bytes autograd keeps for the backward pass, by each layer's ``saved()``."""
    nodes, layers, batch = graph.nodes, report.layers, report.batch
    shapes = [layer.output_shape for layer in layers]
    tensor_of = [0] * len(nodes)
    values = [graph.input_shape.elements * batch]  # tensor 0: the network's input
    # Whether a node's output needs a gradient: it has parameters or reads one that does.
    graded = [False] * len(nodes)
    kept: set[int] = set()
    extra = 0
    for index, node in enumerate(nodes):
        layer = node.layer
        read = [0 if i == INPUT else tensor_of[i] for i in node.inputs]
        graded[index] = layers[index].params > 0 or any(
            i != INPUT and graded[i] for i in node.inputs
        )
        if not _is_merge(layer) and layer.storage(training=True) == "view":
            tensor_of[index] = read[0]
        else:
            tensor_of[index] = len(values)
            values.append(shapes[index].elements * batch)
        if not graded[index]:
            continue  # autograd records nothing for it
        if _is_merge(layer):
            if layer.kind_name == "mul":
                kept.update(read)
            continue
        saved: Saved = layer.saved(layers[index].input_shape, shapes[index])
        if saved.input:
            kept.add(read[0])
        if saved.output:
            kept.add(tensor_of[index])
        extra += (saved.extra_values * value_bytes + saved.extra_bytes) * batch
        extra += saved.fixed_bytes
    return sum(values[t] for t in kept) * value_bytes + extra


def _fused(graph: Graph) -> list[bool]:
    """Which layers ``--fuse`` folds into the conv or dense layer before them."""
    nodes = graph.nodes
    readers = [0] * len(nodes)
    for node in nodes:
        for i in node.inputs:
            if i != INPUT:
                readers[i] += 1
    fused = [False] * len(nodes)
    # Whether a node's output is still the conv's own (no activation since): only then can
    # a BatchNorm fold into its weights.
    linear = [False] * len(nodes)
    for index, node in enumerate(nodes):
        fusion = type(node.layer).fusion
        if fusion == "producer":
            linear[index] = True
        if fusion not in ("folded", "epilogue") or len(node.inputs) != 1:
            continue
        source = node.inputs[0]
        if source == INPUT or readers[source] != 1:
            continue
        if fusion == "folded" and linear[source]:
            fused[index] = linear[index] = True
        elif fusion == "epilogue" and (linear[source] or fused[source]):
            fused[index] = True
    return fused


def _layer_cost(
    graph: Graph,
    report: Report,
    index: int,
    shapes: Sequence[Shape],
    live: int,
    fused: bool,
    settings: Settings,
) -> LayerCost:
    result = report.layers[index]
    layer = result.layer
    precision, batch = settings.precision, report.batch
    per_value = precision.activations.bytes * batch
    reads = _read_shapes(graph, index, shapes)
    out = shapes[index]
    input_bytes = sum(shape.elements for shape in reads) * per_value
    output_bytes = out.elements * per_value
    weight_bytes = (result.params + result.buffers) * precision.weights.bytes
    if _is_merge(layer):
        other = 0 if layer.kind_name == "concat" else (len(reads) - 1) * out.elements
        view = False
    else:
        other = layer.other_ops(result.input_shape, out)
        view = layer.storage() == "view"
    ops = result.flops + other * batch
    if fused and type(layer).fusion == "folded":
        ops = 0
    moved = 0 if view or fused else weight_bytes + input_bytes + output_bytes
    device = settings.device
    latency: float | None = None
    bound = ""
    if device is not None:
        compute = ops / device.peak[precision.activations.name]
        memory = moved / device.bandwidth
        latency = max(compute, memory)
        if view:
            bound = "none"  # nothing to do: the same values, nothing moved
        elif fused:
            bound = "fused"
        else:
            bound = "compute" if compute >= memory else "memory"
    return LayerCost(result.params * precision.weights.bytes, weight_bytes, input_bytes,
                     output_bytes, ops, moved, live, latency, bound, fused)  # fmt: skip


def peak_memory(report: Report, activation_bytes: int = 4) -> Peak:
    """Peak inference activation memory of ``report``, by the rule above."""
    graph = report.graph or chain(
        report.input_shape, ((layer.name, layer.layer) for layer in report.layers)
    )
    return _inference_memory(graph, report, activation_bytes)[1]


def saved_activation_bytes(report: Report, activation_bytes: int = 4) -> int:
    """Bytes of activations training saves for the backward pass, by the rule above."""
    graph = report.graph or chain(
        report.input_shape, ((layer.name, layer.layer) for layer in report.layers)
    )
    return _saved_activations(graph, report, activation_bytes)


__all__ = [
    "OPTIMIZERS", "Hardware", "LayerCost", "NetworkCosts", "Peak", "Settings", "Training",
    "cost", "peak_memory", "saved_activation_bytes",
]  # fmt: skip
