"""Memory and time of an analysed network, at a precision and optionally on a device.

Four figures, each by a stated rule (the README's "Memory and time" says them to users):

- **Bytes.** Each layer reads its weights (parameters and buffers, at the weights' format)
  and its inputs, and writes its output (at the activations' format).
- **Peak inference memory.** Layers run one at a time in the graph's order (the order
  written: a concat's branches each to its end, then the merge; a residual's body, then its
  shortcut, then the addition). A tensor is alive from the step that makes it to the last
  step that reads it (the network's outputs to the end; the network's input from the
  start); during a step its inputs and its output are alive together. A layer whose
  ``storage()`` is ``inplace`` (activations, BatchNorm, a scale) or a ``view`` (flatten,
  identity, dropout, crops, splits) keeps its input's buffer, which lives until the last
  reader of either; an ``add``
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
``mul`` saves for training each input another input's gradient needs (each factor's
gradient reads the other), ``add`` and ``concat`` nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from typing import NamedTuple

from convcost.core.costs import (
    OPTIMIZERS,
    Hardware,
    LayerCost,
    NetworkCosts,
    Peak,
    Settings,
    Training,
    make_layer_cost,
    optimizer_states,
)
from convcost.core.errors import ConvcostError
from convcost.core.graph import INPUT, Graph, chain
from convcost.core.kinds.base import NOTHING_SAVED, Saved, Storage
from convcost.core.kinds.merges import Merge
from convcost.core.report import (
    GroupResult,
    LayerResult,
    Report,
    Row,
    make_group_result,
    make_layer_result,
    make_totals,
)
from convcost.core.shapes import Shape


class _Facts(NamedTuple):
    """What a layer's kind says of it on its shapes (see ``Layer``): made once per distinct
    layer and shapes, as a 100,000-layer network repeats a few."""

    inference: Storage  # where its output lives at inference
    training_view: bool  # its output is its input's tensor in training
    saved: Saved
    other_ops: int  # per sample
    fusion: str


def _facts(graph: Graph, layers: Sequence[LayerResult]) -> list[_Facts]:
    made: dict[tuple[int, Shape, Shape], _Facts] = {}
    facts: list[_Facts] = []
    append = facts.append
    for node, result in zip(graph.nodes, layers, strict=True):
        layer, inp, out = node.layer, result.input_shape, result.output_shape
        if type(layer) is Merge:  # the graph's: see the module's docstring
            op = layer.kind_name
            first = node.inputs[0]
            reads_first = graph.input_shape if first == INPUT else layers[first].output_shape
            inplace = op == "add" and reads_first == out
            other = 0 if op == "concat" else (len(node.inputs) - 1) * out.elements
            saved = _ALL_INPUTS if op == "mul" else NOTHING_SAVED
            append(_Facts("inplace" if inplace else "new", False, saved, other, "none"))
            continue
        key = (id(layer), inp, out)
        found = made.get(key)
        if found is None:
            found = made[key] = _Facts(
                layer.storage(),
                layer.storage(training=True) == "view",
                layer.saved(inp, out),
                layer.other_ops(inp, out),
                type(layer).fusion,
            )
        append(found)
    return facts


_ALL_INPUTS = Saved(input=True)  # a mul's, told apart by identity: every input it reads


def cost(report: Report, settings: Settings | None = None) -> Report:
    """``report`` with every layer's, group's and the network's costs filled in
    (``settings``: fp32, Adam, no device, when None)."""
    if settings is None:
        settings = Settings()
    graph = _graph(report)
    states = optimizer_states(settings.optimizer)
    precision, device = settings.precision, settings.device
    dtype = precision.activations.name
    if device is not None and dtype not in device.peak:
        raise ConvcostError(
            f"{device.name} has no published {dtype} peak (it has: {', '.join(device.peak)}); "
            "choose one of those with --dtype/--activation-dtype, or give the peak with --peak"
        )
    layers = report.layers
    facts = _facts(graph, layers)
    value_bytes = precision.activations.bytes
    live, peak = _inference_memory(graph, report, value_bytes, facts)
    fused = _fused(graph) if settings.fuse else [False] * len(layers)
    costs = _layer_costs(graph, report, facts, live, fused, settings)
    make = make_layer_result
    costed = tuple([make(*layer[:11], c) for layer, c in zip(layers, costs, strict=True)])
    timed = device is not None
    weights = precision.weights.bytes
    params, buffers = report.totals.params, report.totals.buffers
    training = Training(
        settings.optimizer.strip().lower(),
        params * weights,
        params * weights,
        states * params * weights,
        buffers * weights,
        _saved_activations(graph, report, value_bytes, facts),
    )
    network = NetworkCosts(settings, peak, training)
    sums = _Sums(costs, timed)
    totals = report.totals._replace(cost=sums.over(0, len(costs)), network=network)
    return report._replace(layers=costed, rows=_costed_rows(report.rows, costed, sums),
                           totals=totals)  # fmt: skip


def _graph(report: Report) -> Graph:
    if report.graph is not None:
        return report.graph
    return chain(report.input_shape, ((layer.name, layer.layer) for layer in report.layers))


class _Sums:
    """Each cost field's running sums over the layers, so that any run of layers (a group)
    is summed in constant time; live bytes, the most of them, by a slice's max."""

    def __init__(self, costs: Sequence[LayerCost], timed: bool) -> None:
        fields = list(zip(*costs, strict=True)) if costs else [()] * len(LayerCost._fields)
        self.columns = [list(accumulate(fields[i], initial=0)) for i in range(_SUMMED)]
        self.live = fields[_SUMMED]
        self.latency = list(accumulate(fields[_SUMMED + 1], initial=0.0)) if timed else None

    def over(self, first: int, end: int) -> LayerCost:
        param, weight, inp, out, ops, moved = (
            column[end] - column[first] for column in self.columns
        )
        latency = None if self.latency is None else self.latency[end] - self.latency[first]
        return LayerCost(param, weight, inp, out, ops, moved,
                         max(self.live[first:end], default=0), latency)  # fmt: skip


_SUMMED = LayerCost._fields.index("live_bytes")  # the fields before it are summed


def _costed_rows(
    rows: Sequence[Row], costed: Sequence[LayerResult], sums: _Sums
) -> tuple[Row, ...]:
    """The rows with each layer replaced by its costed self and each group's totals
    given the sums of its layers' costs (a group's layers follow its row, in order)."""
    made: list[Row] = []
    at = 0
    open_groups: list[tuple[int, int, int]] = []  # (index in made, first layer, depth)

    def close() -> None:
        index, first, _ = open_groups.pop()
        group = made[index]
        assert isinstance(group, GroupResult)
        totals = group.totals
        made[index] = make_group_result(
            *group[:4],
            make_totals(*totals[:5], sums.over(first, at), None, totals.counted),
            *group[5:],
        )

    for row in rows:
        while open_groups and open_groups[-1][2] >= row.depth:
            close()
        if isinstance(row, GroupResult):
            open_groups.append((len(made), at, row.depth))
            made.append(row)
        else:
            made.append(costed[at])
            at += 1
    while open_groups:
        close()
    return tuple(made)


def _buffers(
    graph: Graph, report: Report, per_value: int, facts: Sequence[_Facts]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """The activation buffers by the rule above: each one's bytes, the step that makes it
    and the last step that reads it (buffer 0: the network's input), and each node's."""
    nodes, layers = graph.nodes, report.layers
    buffer_of = [0] * len(nodes)
    sizes = [graph.input_shape.elements * per_value]  # buffer 0: the network's input
    born = [0]
    last = [0]
    for index, node in enumerate(nodes):
        inputs = node.inputs
        first = inputs[0]
        reads = buffer_of[first] if first != INPUT else 0
        last[reads] = index
        for i in inputs[1:]:
            last[0 if i == INPUT else buffer_of[i]] = index
        if facts[index].inference == "new":
            buffer_of[index] = len(sizes)
            out = layers[index].output_shape
            sizes.append(out[0] * out[1] * out[2] * per_value)
            born.append(index)
            last.append(index)
        else:
            buffer_of[index] = reads
    end = len(nodes) - 1
    for output in graph.outputs:
        last[buffer_of[output]] = end
    return sizes, born, last, buffer_of


def _inference_memory(
    graph: Graph, report: Report, value_bytes: int, facts: Sequence[_Facts]
) -> tuple[list[int], Peak]:
    """The activation bytes alive at each step, and the peak, by the rule above."""
    nodes, layers = graph.nodes, report.layers
    if not nodes:  # the input alone: it is the whole of the memory
        return [], Peak(graph.input_shape.elements * value_bytes * report.batch, -1, "")
    sizes, born, last, _ = _buffers(graph, report, value_bytes * report.batch, facts)
    change = [0] * (len(nodes) + 1)
    for size, start, stop in zip(sizes, born, last, strict=True):
        change[start] += size
        change[stop + 1] -= size
    live = list(accumulate(change[:-1]))
    most = max(live)
    step = live.index(most)
    return live, Peak(most, step, layers[step].name)


class Substitution:
    """Peak inference memory of ``report`` with one layer replaced by a chain of layers that
    reads what it read and ends in a tensor of its output's shape, in constant time a
    substitution after linear time once.

    Only the chain's steps change: every other step keeps the tensors it had alive (the
    replaced layer's input lives until its last reader, its output from the chain's end,
    as before). At the chain's step ``j`` the other tensors of the layer's step are alive
    with the tensor the step reads and the one it makes; the layer's input stays alive
    after the first step only if a later layer reads it or the network gives it out (the
    network's end is then the chain's last step, when the layer was the last).
    """

    def __init__(self, report: Report, settings: Settings | None = None) -> None:
        graph = _graph(report)
        value_bytes = (settings or Settings()).precision.activations.bytes
        facts = _facts(graph, report.layers)
        self.per_value = value_bytes * report.batch
        self.live, _ = _inference_memory(graph, report, value_bytes, facts)
        self.sizes, _, self.last, self.buffer_of = _buffers(graph, report, self.per_value, facts)
        self.nodes, self.facts = graph.nodes, facts
        # Buffers the network gives out: they live to its end, which a chain in place of
        # the last layer moves to the chain's last step.
        self.outputs = {self.buffer_of[output] for output in graph.outputs}
        self.before = list(accumulate(self.live, max, initial=0))  # before[i]: steps < i
        self.after = list(accumulate(reversed(self.live), max, initial=0))[::-1]  # steps ≥ i

    def peak(self, index: int, made: Sequence[Shape]) -> int:
        """The peak with node ``index`` (one input, a new tensor: a conv) replaced by a
        chain whose layers before the last make tensors of shapes ``made`` (batch aside)."""
        node = self.nodes[index]
        assert len(node.inputs) == 1 and self.facts[index].inference == "new"
        source = node.inputs[0]
        reads = 0 if source == INPUT else self.buffer_of[source]
        x, y = self.sizes[reads], self.sizes[self.buffer_of[index]]
        others = self.live[index] - x - y
        stays = x if self.last[reads] > index or reads in self.outputs else 0
        sizes = [shape.elements * self.per_value for shape in made] + [y]
        most = max(self.before[index], self.after[index + 1])
        previous, first = x, True
        for size in sizes:
            held = previous + (0 if first else stays)
            most = max(most, others + held + size)
            previous, first = size, False
        return most


def _saved_activations(
    graph: Graph, report: Report, value_bytes: int, facts: Sequence[_Facts]
) -> int:
    """Bytes autograd keeps for the backward pass, by each layer's ``saved()``."""
    nodes, layers, batch = graph.nodes, report.layers, report.batch
    tensor_of = [0] * len(nodes)
    values = [graph.input_shape.elements * batch]  # tensor 0: the network's input
    # Whether a node's output needs a gradient: it has parameters or reads one that does.
    graded = [False] * len(nodes)
    kept: set[int] = set()
    extra_values = extra_bytes = fixed = 0
    for index, node in enumerate(nodes):
        inputs = node.inputs
        fact = facts[index]
        first = inputs[0]
        read = 0 if first == INPUT else tensor_of[first]
        if fact.training_view:
            tensor_of[index] = read
        else:
            tensor_of[index] = len(values)
            out = layers[index].output_shape
            values.append(out[0] * out[1] * out[2] * batch)
        if layers[index].params > 0 or any(i != INPUT and graded[i] for i in inputs):
            graded[index] = True
        else:
            continue  # autograd records nothing for it
        saved = fact.saved
        if saved is _ALL_INPUTS:  # each factor's gradient reads the others: kept if one needs it
            for k, i in enumerate(inputs):
                if any(j != INPUT and graded[j] for m, j in enumerate(inputs) if m != k):
                    kept.add(0 if i == INPUT else tensor_of[i])
            continue
        if saved.input:
            kept.add(read)
        if saved.output:
            kept.add(tensor_of[index])
        extra_values += saved.extra_values
        extra_bytes += saved.extra_bytes
        fixed += saved.fixed_bytes
    counted = sum(values[t] for t in kept) + extra_values * batch
    return counted * value_bytes + extra_bytes * batch + fixed


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


def _layer_costs(
    graph: Graph,
    report: Report,
    facts: Sequence[_Facts],
    live: Sequence[int],
    fused: Sequence[bool],
    settings: Settings,
) -> list[LayerCost]:
    precision, batch, device = settings.precision, report.batch, settings.device
    per_value = precision.activations.bytes * batch
    weight_size = precision.weights.bytes
    input_elements = graph.input_shape.elements
    layers = report.layers
    peak = bandwidth = 0.0
    if device is not None:
        peak, bandwidth = device.peak[precision.activations.name], device.bandwidth
    make = make_layer_cost
    costs = []
    for index, (node, result, fact) in enumerate(zip(graph.nodes, layers, facts, strict=True)):
        inputs = node.inputs
        if len(inputs) == 1:
            source = inputs[0]
            read = input_elements if source == INPUT else layers[source].output_shape.elements
        else:
            read = sum(
                input_elements if i == INPUT else layers[i].output_shape.elements for i in inputs
            )
        out = result.output_shape
        input_bytes = read * per_value
        output_bytes = out[0] * out[1] * out[2] * per_value
        params = result.params
        weight_bytes = (params + result.buffers) * weight_size
        ops = 2 * result.macs + result.bias_adds + fact.other_ops * batch
        is_fused, view = fused[index], fact.inference == "view"
        if is_fused and fact.fusion == "folded":
            ops = 0
        moved = 0 if view or is_fused else weight_bytes + input_bytes + output_bytes
        latency: float | None = None
        bound = ""
        if device is not None:
            compute, memory = ops / peak, moved / bandwidth
            latency = compute if compute >= memory else memory
            if view:
                bound = "none"  # nothing to do: the same values, nothing moved
            elif is_fused:
                bound = "fused"
            else:
                bound = "compute" if compute >= memory else "memory"
            if not result.counted:
                bound = "?"  # its own arithmetic and weights are unknown
        costs.append(make(params * weight_size, weight_bytes, input_bytes, output_bytes, ops,
                          moved, live[index], latency, bound, is_fused))  # fmt: skip
    return costs


def peak_memory(report: Report, activation_bytes: int = 4) -> Peak:
    """Peak inference activation memory of ``report``, by the rule above."""
    graph = _graph(report)
    return _inference_memory(graph, report, activation_bytes, _facts(graph, report.layers))[1]


def saved_activation_bytes(report: Report, activation_bytes: int = 4) -> int:
    """Bytes of activations training saves for the backward pass, by the rule above."""
    graph = _graph(report)
    return _saved_activations(graph, report, activation_bytes, _facts(graph, report.layers))


__all__ = [
    "OPTIMIZERS",
    "Hardware",
    "LayerCost",
    "NetworkCosts",
    "Peak",
    "Settings",
    "Substitution",
    "Training",
    "cost",
    "peak_memory",
    "saved_activation_bytes",
]  # fmt: skip
