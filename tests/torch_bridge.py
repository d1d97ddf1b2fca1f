"""Test helper: the torch.nn equivalent of a convcost network, layer by layer.

Each convcost layer becomes one nn.Module (a Sequential where PyTorch needs two, e.g.
asymmetric 'same' padding before a conv), so shapes, params and MACs can be compared per
layer against what PyTorch itself reports. A whole network (GraphModule) holds them in
modules nested as convcost's groups, each named by its local name, so that an exported
model names its operators as convcost names the layers (tests/test_onnx.py reads them back).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from convcost.core.kinds.activations import Activation, Identity, LeakyReLU, Softmax
from convcost.core.kinds.conv import Conv, ConvTranspose
from convcost.core.kinds.dense import Dense
from convcost.core.kinds.normalization import (
    BatchNorm,
    GroupNorm,
    LayerNorm,
    LocalResponseNorm,
    Scale,
)
from convcost.core.kinds.pooling import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
)
from convcost.core.kinds.resampling import Upsample
from convcost.core.kinds.reshaping import (
    ChannelShuffle,
    Dropout,
    Flatten,
    PixelShuffle,
    PixelUnshuffle,
    Split,
    ZeroPad,
)
from convcost.core.kinds.reshaping import Crop as CropLayer
from convcost.core.report import LayerResult, Report

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "gelu": nn.GELU, "silu": nn.SiLU, "swish": nn.SiLU, "elu": nn.ELU, "selu": nn.SELU,
    "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid, "mish": nn.Mish,
}  # fmt: skip


class OneLayer(nn.Sequential):
    """One convcost layer that PyTorch computes with two modules (a ZeroPad2d before a conv
    or pool for uneven padding, a Flatten before a Linear). Exported, its parts' operators
    are this layer's own (``/conv1/Pad``, ``/conv1/Conv``): the exporter names operators by
    the modules entered, so the parts are run without being entered as modules then, and
    entered otherwise (torch.fx, which the memory tests trace, sees the two modules)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.onnx.is_in_onnx_export():
            return super().forward(x)  # type: ignore[no-untyped-call,no-any-return]
        for part in self:
            x = part.forward(x)
        return x


def _padded(pad: nn.Module | None, module: nn.Module) -> nn.Module:
    return module if pad is None else OneLayer(pad, module)


def _window_padding(result: LayerResult) -> tuple[nn.Module | None, Any]:
    """PyTorch padding for a window layer: symmetric → an argument; else a ZeroPad2d."""
    assert result.axes is not None
    h, w = result.axes
    if h.pad_before == h.pad_after and w.pad_before == w.pad_after:
        return None, (h.pad_before, w.pad_before)
    return nn.ZeroPad2d((w.pad_before, w.pad_after, h.pad_before, h.pad_after)), 0


class Crop(nn.Module):
    """Rows and columns taken off a tensor's edges: the uneven padding of a transposed conv,
    which PyTorch's ConvTranspose2d takes off both sides alike."""

    def __init__(self, top: int, bottom: int, left: int, right: int) -> None:
        super().__init__()
        self.edges = (top, bottom, left, right)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom, left, right = self.edges
        return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]


class LayerNorm2d(nn.LayerNorm):
    """torchvision's ConvNeXt LayerNorm2d: nn.LayerNorm over the channels, applied
    channels-last (torchvision/models/convnext.py)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """ConvNeXt's layer scale: a parameter of C × 1 × 1 times the input
    (``self.layer_scale * x`` in torchvision's CNBlock)."""

    def __init__(self, channels: int, flat: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones((channels,) if flat else (channels, 1, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x


class Chunk(nn.Module):
    """One of torch.chunk's parts of the channels (ShuffleNet v2's ``x.chunk(2, dim=1)``)."""

    def __init__(self, parts: int, index: int) -> None:
        super().__init__()
        self.parts, self.index = parts, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.chunk(self.parts, dim=1)[self.index]


class CenterCrop(nn.Module):
    """The centre of a tensor, by slicing: an odd row or column off the bottom or right
    (the original U-Net's crop of its skips to the up path's size), or given edges."""

    def __init__(self, size: tuple[int, int] | None, edges: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.size, self.edges = size, edges

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2], x.shape[3]
        if self.size is None:
            top, bottom, left, right = self.edges
            return x[:, :, top : height - bottom, left : width - right]
        h, w = self.size
        top, left = (height - h) // 2, (width - w) // 2
        return x[:, :, top : top + h, left : left + w]


LEAVES: tuple[type[nn.Module], ...] = (LayerNorm2d, LayerScale, Chunk, CenterCrop)
"""The modules here that torch.fx keeps whole (as it does torch.nn's own)."""


def _transposed(result: LayerResult, layer: ConvTranspose) -> nn.Module:
    """nn.ConvTranspose2d with padding and output_padding as convcost's axes give them; an
    uneven padding is taken off by a Crop after an unpadded one."""
    assert result.axes is not None
    h, w = result.axes
    inp, out = result.input_shape, result.output_shape
    groups = inp.c if layer.groups == "depthwise" else layer.groups
    even = h.pad_before == h.pad_after and w.pad_before == w.pad_after
    conv = nn.ConvTranspose2d(
        inp.c, out.c, layer.kernel, layer.stride,
        padding=(h.pad_before, w.pad_before) if even else 0,
        output_padding=(h.output_padding, w.output_padding), groups=groups, bias=layer.bias,
        dilation=layer.dilation,
    )  # fmt: skip
    if even:
        return conv
    return nn.Sequential(conv, Crop(h.pad_before, h.pad_after, w.pad_before, w.pad_after))


def torch_module(result: LayerResult) -> nn.Module:
    layer = result.layer
    inp, out = result.input_shape, result.output_shape
    if isinstance(layer, Conv):
        pad, padding = _window_padding(result)
        groups = inp.c if layer.groups == "depthwise" else layer.groups
        conv = nn.Conv2d(
            inp.c, out.c, layer.kernel, layer.stride, padding, layer.dilation, groups,
            bias=layer.bias,
        )  # fmt: skip
        return _padded(pad, conv)
    if isinstance(layer, ConvTranspose):
        return _transposed(result, layer)
    if isinstance(layer, MaxPool):
        pad, padding = _window_padding(result)
        pool: nn.Module = nn.MaxPool2d(
            layer.kernel, layer._stride(), padding, layer.dilation, ceil_mode=layer.ceil_mode
        )
        return _padded(pad, pool)
    if isinstance(layer, AvgPool):
        pad, padding = _window_padding(result)
        pool = nn.AvgPool2d(layer.kernel, layer._stride(), padding, ceil_mode=layer.ceil_mode)
        return _padded(pad, pool)
    if isinstance(layer, GlobalAvgPool):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, AdaptiveAvgPool):
        return nn.AdaptiveAvgPool2d(layer.size)
    if isinstance(layer, GlobalMaxPool):
        return nn.AdaptiveMaxPool2d(1)
    if isinstance(layer, Dense):
        return OneLayer(nn.Flatten(), nn.Linear(inp.elements, layer.units, layer.bias))
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if isinstance(layer, BatchNorm):
        if inp.flat:
            return nn.BatchNorm1d(inp.c, affine=layer.affine)
        return nn.BatchNorm2d(inp.c, affine=layer.affine)
    if isinstance(layer, Activation):
        return _ACTIVATIONS[layer.fn]()
    if isinstance(layer, LeakyReLU):
        return nn.LeakyReLU(layer.slope)
    if isinstance(layer, Softmax):
        return nn.Softmax(dim={"channels": 1, "height": 2, "width": 3}[layer.axis])
    if isinstance(layer, Identity):
        return nn.Identity()
    if isinstance(layer, LayerNorm):
        if inp.flat:
            return nn.LayerNorm(inp.c, layer.eps, elementwise_affine=layer.affine)
        return LayerNorm2d(inp.c, layer.eps, elementwise_affine=layer.affine)
    if isinstance(layer, GroupNorm):
        return nn.GroupNorm(layer.groups, inp.c, layer.eps, affine=layer.affine)
    if isinstance(layer, Scale):
        return LayerScale(inp.c, inp.flat)
    if isinstance(layer, AdaptiveMaxPool):
        return nn.AdaptiveMaxPool2d(layer.size)
    if isinstance(layer, PixelShuffle):
        return nn.PixelShuffle(layer.factor)
    if isinstance(layer, PixelUnshuffle):
        return nn.PixelUnshuffle(layer.factor)
    if isinstance(layer, ChannelShuffle):
        return nn.ChannelShuffle(layer.groups)
    if isinstance(layer, CropLayer):
        return CenterCrop(layer.size, layer.edges or (0, 0, 0, 0))
    if isinstance(layer, Split):
        return Chunk(layer.parts, layer.index)
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.rate)
    if isinstance(layer, LocalResponseNorm):
        return nn.LocalResponseNorm(layer.size)
    if isinstance(layer, ZeroPad):
        top, bottom, left, right = layer.padding
        return nn.ZeroPad2d((left, right, top, bottom))
    if isinstance(layer, Upsample):
        if layer.size is not None:
            return nn.Upsample(size=layer.size, mode=layer.mode)
        assert layer.scale is not None
        return nn.Upsample(scale_factor=tuple(map(float, layer.scale)), mode=layer.mode)
    raise AssertionError(f"no torch equivalent for {layer!r}")


def torch_shape(tensor: torch.Tensor) -> list[int]:
    """A torch activation's shape as convcost writes it: [h, w, c] (vectors: [1, 1, n])."""
    if tensor.dim() == 2:
        return [1, 1, int(tensor.shape[1])]
    _, c, h, w = tensor.shape
    return [int(h), int(w), int(c)]


def check_against_torch(report: Report) -> None:
    """Every layer's output shape, params, buffers and MACs equal what PyTorch reports."""
    torch.manual_seed(0)
    s = report.input_shape
    x = torch.zeros(report.batch, s.c, s.h, s.w)
    for result in report.layers:
        module = torch_module(result).eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            x = module(x)
        name = result.name
        assert torch_shape(x) == result.output_shape.as_list(), name
        assert sum(p.numel() for p in module.parameters()) == result.params, name
        running = sum(b.numel() for b in module.buffers() if b.is_floating_point())
        assert running == result.buffers, name
        # flop_counter counts 2 FLOPs per multiply-accumulate of conv and linear layers.
        assert counter.get_total_flops() == 2 * result.macs, name


# --- whole networks: the graph convcost analysed, wired node by node ---------------------------

MERGES = ("concat", "add", "mul")


class Merge(nn.Module):
    """A merge layer (torch.cat along channels, +, *) as a module of its own, so that an
    exporter names its operators after the layer (``/layer1/0/add1/Add``)."""

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op

    def forward(self, *read: torch.Tensor) -> torch.Tensor:
        if self.op == "concat":
            return torch.cat(read, dim=1)
        out = read[0]
        for other in read[1:]:
            out = out + other if self.op == "add" else out * other
        return out


def module_name(container: nn.Module, local: str) -> str:
    """A convcost name as the name of a child module: PyTorch refuses '.' and a name that
    is an attribute of the container (``forward``, ``training``), so '%' and '.' are
    percent-encoded, and so is the first character of such a name; ``unquote`` reverses it.
    No zoo model holds such a name: what an exporter writes is the name itself."""
    name = local.replace("%", "%25").replace(".", "%2E")
    if hasattr(container, name) and name not in container._modules:
        name = f"%{ord(name[0]):02X}{name[1:]}"
    assert name and unquote(name) == local, local
    return name


class Scope(nn.Module):
    """A convcost scope (a group, a block call, a residual) as a module: its layers and
    inner scopes are its children, named by their local names and run in graph order, so
    an exporter names each layer's operators by its hierarchical name."""

    def __init__(self) -> None:
        super().__init__()
        # (child, the node it computes or -1 for an inner scope, the nodes that node reads)
        self.steps: list[tuple[str, int, tuple[int, ...]]] = []

    def adopt(self, local: str, module: nn.Module, index: int, inputs: tuple[int, ...]) -> None:
        name = module_name(self, local)
        self.add_module(name, module)
        self.steps.append((name, index, inputs))

    def run(self, x: torch.Tensor, outputs: dict[int, torch.Tensor]) -> None:
        for name, index, inputs in self.steps:
            child = self._modules[name]
            assert child is not None
            if index < 0:
                child(x, outputs)
            else:
                outputs[index] = child(*[x if i == -1 else outputs[i] for i in inputs])

    def forward(self, x: torch.Tensor, outputs: dict[int, torch.Tensor]) -> None:
        self.run(x, outputs)


class GraphModule(Scope):
    """The nn.Module of a convcost graph, one module per node, each reading the outputs of
    the nodes it names, nested in modules as the graph's scopes are: ``layer1.0.conv1``
    is the module convcost calls ``layer1/0/conv1`` (or ``layer1.0.conv1``). Written
    independently of convcost's analysis so a wrong wiring or shape rule shows. The
    forward pass returns every node's output, in order."""

    def __init__(self, report: Report) -> None:
        super().__init__()
        graph = report.graph
        assert graph is not None
        self.count = len(graph.nodes)
        self.by_node: list[nn.Module] = []  # each node's module, in graph order
        # The scopes open at the current node, outermost first, with their modules.
        open_scopes: list[tuple[int, Scope]] = []
        closed: set[int] = set()
        for index, (node, result) in enumerate(zip(graph.nodes, report.layers, strict=True)):
            path: list[int] = []
            scope = node.scope
            while scope != -1:
                path.append(scope)
                scope = graph.scopes[scope].parent
            path.reverse()
            keep = 0
            while keep < min(len(path), len(open_scopes)) and open_scopes[keep][0] == path[keep]:
                keep += 1
            closed.update(scope for scope, _ in open_scopes[keep:])
            del open_scopes[keep:]
            for scope in path[keep:]:
                assert scope not in closed, f"{graph.scopes[scope].name}: not one run of nodes"
                parent: Scope = open_scopes[-1][1] if open_scopes else self
                inner = Scope()
                parent.adopt(graph.scopes[scope].local, inner, -1, ())
                open_scopes.append((scope, inner))
            container: Scope = open_scopes[-1][1] if open_scopes else self
            kind = result.kind
            module = Merge(kind) if kind in MERGES else torch_module(result)
            container.adopt(node.local, module, index, node.inputs)
            self.by_node.append(module)

    @property
    def layers(self) -> list[nn.Module]:
        """Each node's module, in graph order (a merge's too)."""
        return self.by_node

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:  # type: ignore[override]
        outputs: dict[int, torch.Tensor] = {}
        self.run(x, outputs)
        return [outputs[i] for i in range(self.count)]


def check_network_against_torch(network: object, report: Report) -> None:
    """Each layer on its own (shapes, params, buffers, MACs), then the whole wired graph in a
    real forward pass: every node's output shape, the total params and FLOPs."""
    for result in report.layers:
        if result.kind in MERGES:
            continue
        check_layer(result)
    model = GraphModule(report).eval()
    s = report.input_shape
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        outputs = model(torch.zeros(report.batch, s.c, s.h, s.w))
    assert [(r.name, torch_shape(out)) for r, out in zip(report.layers, outputs, strict=True)] == [
        (r.name, r.output_shape.as_list()) for r in report.layers
    ]
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    running = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    assert running == report.totals.buffers
    assert counter.get_total_flops() == 2 * report.totals.macs


def check_layer(result: LayerResult) -> None:
    """One layer run alone on its input shape: output shape, params, buffers, MACs."""
    module = torch_module(result).eval()
    s = result.input_shape
    batch = result.activations // result.output_shape.elements
    x = torch.zeros(batch, s.c) if s.flat else torch.zeros(batch, s.c, s.h, s.w)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = module(x)
    assert torch_shape(y) == result.output_shape.as_list(), result.name
    assert sum(p.numel() for p in module.parameters()) == result.params, result.name
    running = sum(b.numel() for b in module.buffers() if b.is_floating_point())
    assert running == result.buffers, result.name
    assert counter.get_total_flops() == 2 * result.macs, result.name
