"""Test helper: activation memory as PyTorch sees it, independently of convcost's costing.

``fx_peak`` traces the bridge's GraphModule with torch.fx and walks its nodes under the
inference-memory rule of issue #13; ``measured_saved_bytes`` counts what autograd really
saves for backward in one training-mode forward. Neither reads convcost's kinds or memory
figures: only fx nodes, module types and tensor metadata (the report builds the module and
its input, and names the layer a step belongs to).

What PyTorch 2.13.0 (CPU) saves for backward, per kind, measured with saved_tensors_hooks on
one layer whose input requires grad (as inside a network); parameters excluded, storages
counted once. N: input elements, M: output elements, C: channels, all × batch; f32: 4 bytes,
i64: 8 bytes. Tested in tests/test_memory_torch.py (SAVED_BY_KIND).

  conv (plain, grouped, depthwise; ± bias)   input N f32 (also when the input has no grad:
                                             the weight's gradient needs it)
  convtranspose (ConvTranspose2d, likewise; an uneven padding's Crop after it is a view)
                                             input N f32, as conv
  dense (Flatten → Linear; ± bias)           input N f32 (the flatten view of the tensor before)
  maxpool                                    input N f32 + indices M i64
  avgpool                                    input N f32
  adaptiveavgpool (output ≠ 1×1)             input N f32
  globalavgpool (AdaptiveAvgPool2d(1))       nothing (a mean: its backward needs shapes only)
  globalmaxpool (AdaptiveMaxPool2d(1))       input N f32 + indices M (= C) i64
  batchnorm 2d and 1d, training              input N f32 + 4 vectors of C f32: save_mean,
                                             save_invstd and the running mean and variance
                                             (buffers, not parameters); the weight is a parameter
  lrn (LocalResponseNorm: x / (k + α·avg(x²))^β, composite)
                                             input N (read by x·x and by the division) +
                                             the zero-padded squares N·(C+size−1)/C (avg_pool3d's
                                             input) + the power's base N + its result N (the
                                             divisor); all f32: (3 + (C+size−1)/C)·N
  relu, sigmoid, tanh, softmax               output M f32 (= N)
  relu6 (hardtanh), gelu, silu/swish, elu, selu, leakyrelu, hardswish, hardsigmoid, mish
                                             input N f32
  identity, flatten                          nothing (views)
  layernorm (LayerNorm2d: permute, layer_norm, permute; or LayerNorm of a vector)
                                             input N f32 + a mean and an inverse standard
                                             deviation per position: 2·N/C f32
  groupnorm (GroupNorm)                      input N f32 + a mean and an inverse standard
                                             deviation per group: 2·groups × batch f32
  scale (a C×1×1 parameter times the input)  input N f32 (the parameter's gradient reads it)
  adaptivemaxpool (AdaptiveMaxPool2d)        input N f32 + indices M i64
  pixelshuffle, pixelunshuffle, channelshuffle (PixelShuffle, PixelUnshuffle, ChannelShuffle),
  crop (a slice), split (torch.chunk's part)  nothing
  dropout p > 0, training                    mask N f32 (CPU dropout multiplies by a float
                                             mask: 4 bytes an element, not a bool);
                                             p = 0: nothing
  pad (ZeroPad2d), upsample nearest and bilinear, cat, add (also broadcast)
                                             nothing
  mul (also by a 1×1×C operand)              both operands (N + the other's elements) f32

A layer whose input needs no grad and that has no parameters (a network's first relu,
maxpool or dropout) saves nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from convcost.core.report import Report
from tests.torch_bridge import _ACTIVATIONS, LEAVES, CenterCrop, Chunk, GraphModule, LayerScale

# Modules whose output reuses their input's buffer (rule 3): activations, BatchNorm, Dropout,
# and a per-channel scale (an affine layer, as BatchNorm at inference).
_IN_PLACE: tuple[type[nn.Module], ...] = (
    *_ACTIVATIONS.values(),
    nn.LeakyReLU,
    nn.Softmax,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.Dropout,
    LayerScale,
)
# Modules whose output is a view of their input: the same buffer (slices of it too).
_VIEWS: tuple[type[nn.Module], ...] = (nn.Flatten, nn.Identity, Chunk, CenterCrop)


class _Tracer(torch.fx.Tracer):
    """torch.fx's tracer, keeping the bridge's own modules whole as it keeps torch.nn's."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return isinstance(m, LEAVES) or super().is_leaf_module(m, module_qualified_name)


def network_input(report: Report) -> torch.Tensor:
    """The report's input batch, as the bridge's modules take it (NCHW)."""
    s = report.input_shape
    return torch.zeros(report.batch, s.c, s.h, s.w)


def traced(module: GraphModule, report: Report) -> torch.fx.GraphModule:
    """``module`` traced by torch.fx, every node's tensor metadata propagated."""
    module = module.eval()
    fx_module = torch.fx.GraphModule(module, _Tracer().trace(module))
    with torch.no_grad():
        ShapeProp(fx_module).propagate(network_input(report))
    return fx_module


def _bytes(node: torch.fx.Node, activation_bytes: int) -> int:
    return int(node.meta["tensor_meta"].shape.numel()) * activation_bytes


def _shares_input_buffer(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    """Whether ``node`` writes its output into its first argument's buffer (rule 3)."""
    if node.op == "call_module":
        return isinstance(modules[str(node.target)], _IN_PLACE + _VIEWS)
    if node.op == "call_function" and node.target in (operator.add, torch.add):
        first = node.args[0]
        assert isinstance(first, torch.fx.Node)
        return bool(first.meta["tensor_meta"].shape == node.meta["tensor_meta"].shape)
    return False


def _pads_a_window(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    """Whether ``node`` is the ZeroPad2d that the bridge puts before a conv or pool for
    uneven padding (inside that layer's Sequential), not a pad layer of its own."""
    if node.op != "call_module" or not isinstance(modules[str(node.target)], nn.ZeroPad2d):
        return False
    parent = str(node.target).rpartition(".")[0]
    return isinstance(modules[parent], nn.Sequential)


def fx_peak(
    report: Report, activation_bytes: int = 4, *, padded_copies: bool = False
) -> tuple[int, str]:
    """Peak inference activation memory of the traced network, and the name of the layer
    whose step first reaches it. Steps (fx nodes) run one at a time; a buffer lives from the
    step that makes it to the last step reading it (or any tensor sharing it), the network's
    input from the start, the network's outputs (nodes no node reads) to the end.

    A window layer's uneven padding is part of its step, as the rule says (its input and
    output alive together); ``padded_copies`` counts instead the padded copy that PyTorch
    makes in a step of its own before the conv or pool."""
    original = GraphModule(report)
    module = traced(original, report)
    # The traced module keeps the leaves, not the Sequentials around them: types come from
    # the module traced (an fx node's target is its path there).
    modules = dict(original.named_modules())
    nodes = [n for n in module.graph.nodes if n.op != "output"]
    (output,) = (n for n in module.graph.nodes if n.op == "output")
    # GraphModule returns every node's output, one per layer in order: the i-th is layer i's.
    layer_outputs = list(output.args[0])
    steps = [n for n in nodes if n.op != "placeholder"]
    # A layer's steps end with the node it returns (pad → conv, flatten → linear, …); a
    # layer that returns a tensor made before (an add of one input) has no step of its own.
    layer_of: dict[torch.fx.Node, str] = {}
    made = {n for n in nodes if n.op == "placeholder"}
    layer = 0
    for node in steps:
        while layer_outputs[layer] in made:
            layer += 1
        layer_of[node] = report.layers[layer].name
        made.add(node)
    step_of = {node: i for i, node in enumerate(steps)}
    step_of.update({n: 0 for n in nodes if n.op == "placeholder"})

    buffer: dict[torch.fx.Node, torch.fx.Node] = {}  # a node's tensor → the node that made it
    for node in nodes:
        buffer[node] = node
        folded = not padded_copies and _pads_a_window(node, modules)
        if node.op != "placeholder" and (folded or _shares_input_buffer(node, modules)):
            first = node.args[0]
            assert isinstance(first, torch.fx.Node)
            buffer[node] = buffer[first]
    last = len(steps) - 1
    end: dict[torch.fx.Node, int] = {}
    for node in nodes:
        readers = [user for user in node.users if user.op != "output"]
        dies = max((step_of[r] for r in readers), default=last)  # unread: a network output
        owner = buffer[node]
        end[owner] = max(end.get(owner, step_of[owner]), dies)
    alive = [0] * len(steps)
    for owner, stop in end.items():
        for step in range(step_of[owner], stop + 1):
            alive[step] += _bytes(owner, activation_bytes)
    peak = max(alive)
    return peak, layer_of[steps[alive.index(peak)]]


def saved_storages(run: Callable[[], object], parameters: Iterable[torch.Tensor]) -> list[int]:
    """The byte sizes of the distinct storages that autograd saves for backward while
    ``run`` runs, in the order first saved, the parameters' storages left out."""
    excluded = {p.untyped_storage().data_ptr() for p in parameters}
    saved: dict[int, int] = {}
    kept: list[torch.Tensor] = []  # held so that no storage is freed and its address reused

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        kept.append(tensor)
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in excluded:
            saved.setdefault(storage.data_ptr(), storage.nbytes())
        return tensor

    def unpack(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        run()
    return list(saved.values())


def measured_saved_bytes(report: Report) -> int:
    """Bytes of the tensors autograd saves for backward in one training-mode forward of
    GraphModule(report) at the report's batch, input without grad: distinct storages, the
    parameters' left out (BatchNorm's running statistics are buffers that its backward
    saves: counted)."""
    torch.manual_seed(0)
    module = GraphModule(report).train()
    x = network_input(report)
    return sum(saved_storages(lambda: module(x), module.parameters()))
