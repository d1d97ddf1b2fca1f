"""Test helper: the torch.nn equivalent of a convcost network, layer by layer.

Each convcost layer becomes one nn.Module (a Sequential where PyTorch needs two, e.g.
asymmetric 'same' padding before a conv), so shapes, params and MACs can be compared per
layer against what PyTorch itself reports.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from convcost import layers as L
from convcost.network import LayerResult, Report

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "gelu": nn.GELU, "silu": nn.SiLU, "swish": nn.SiLU, "elu": nn.ELU, "selu": nn.SELU,
    "leakyrelu": nn.LeakyReLU, "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid,
    "mish": nn.Mish, "identity": nn.Identity,
}  # fmt: skip


def _padded(pad: nn.Module | None, module: nn.Module) -> nn.Module:
    return module if pad is None else nn.Sequential(pad, module)


def _window_padding(result: LayerResult) -> tuple[nn.Module | None, Any]:
    """PyTorch padding for a window layer: symmetric → an argument; else a ZeroPad2d."""
    assert result.axes is not None
    h, w = result.axes
    if h.pad_before == h.pad_after and w.pad_before == w.pad_after:
        return None, (h.pad_before, w.pad_before)
    return nn.ZeroPad2d((w.pad_before, w.pad_after, h.pad_before, h.pad_after)), 0


def torch_module(result: LayerResult) -> nn.Module:
    layer = result.layer
    inp, out = result.input_shape, result.output_shape
    if isinstance(layer, L.Conv):
        pad, padding = _window_padding(result)
        groups = inp.c if layer.groups == "depthwise" else layer.groups
        conv = nn.Conv2d(
            inp.c, out.c, layer.kernel, layer.stride, padding, layer.dilation, groups,
            bias=layer.bias,
        )  # fmt: skip
        return _padded(pad, conv)
    if isinstance(layer, L.MaxPool):
        pad, padding = _window_padding(result)
        pool: nn.Module = nn.MaxPool2d(
            layer.kernel, layer._stride(), padding, layer.dilation, ceil_mode=layer.ceil_mode
        )
        return _padded(pad, pool)
    if isinstance(layer, L.AvgPool):
        pad, padding = _window_padding(result)
        pool = nn.AvgPool2d(layer.kernel, layer._stride(), padding, ceil_mode=layer.ceil_mode)
        return _padded(pad, pool)
    if isinstance(layer, L.GlobalAvgPool):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, L.AdaptiveAvgPool):
        return nn.AdaptiveAvgPool2d(layer.size)
    if isinstance(layer, L.GlobalMaxPool):
        return nn.AdaptiveMaxPool2d(1)
    if isinstance(layer, L.Dense):
        return nn.Sequential(nn.Flatten(), nn.Linear(inp.elements, layer.units, layer.bias))
    if isinstance(layer, L.Flatten):
        return nn.Flatten()
    if isinstance(layer, L.BatchNorm):
        if inp.flat:
            return nn.BatchNorm1d(inp.c, affine=layer.affine)
        return nn.BatchNorm2d(inp.c, affine=layer.affine)
    if isinstance(layer, L.Activation):
        if layer.fn == "softmax":
            return nn.Softmax(dim=1)
        return _ACTIVATIONS[layer.fn]()
    if isinstance(layer, L.Dropout):
        return nn.Dropout(layer.rate)
    if isinstance(layer, L.LocalResponseNorm):
        return nn.LocalResponseNorm(layer.size)
    if isinstance(layer, L.ZeroPad):
        top, bottom, left, right = layer.padding
        return nn.ZeroPad2d((left, right, top, bottom))
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
