"""The zoo's torchvision models against torchvision's own definitions, written in plain torch
(tests/torchvision_nets.py): the parameters torchvision documents, and every module of
torchvision's model against convcost's layer of the same name (its kind, output shape,
parameters, running statistics and MACs as torch.utils.flop_counter counts them alone). Then
convcost's graph, built in torch by tests/torch_bridge.py and given the torchvision model's
weights, computes what that model computes: the wiring (which tensor each squeeze-and-
excitation gate multiplies, what each residual adds) and every activation are torchvision's.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcost.core.report import LayerResult, Report
from convcost.frontends import zoo
from convcost.frontends.tree import analyze

pytestmark = pytest.mark.usefixtures("torch_present")

# num_params of each model's IMAGENET1K_V1 weights in torchvision's documentation:
# https://pytorch.org/vision/stable/models/generated/torchvision.models.efficientnet_b0.html
# https://pytorch.org/vision/stable/models/generated/torchvision.models.mobilenet_v3_large.html
# https://pytorch.org/vision/stable/models/generated/torchvision.models.regnet_y_400mf.html
DOCUMENTED_PARAMS = {
    "efficientnet_b0": 5_288_548,
    "mobilenet_v3_large": 5_483_032,
    "regnet_y_400mf": 4_344_144,
}

# The kind convcost gives each torch module's layer.
KINDS = {
    "Conv2d": "conv", "BatchNorm2d": "batchnorm", "Linear": "dense", "ReLU": "relu",
    "SiLU": "silu", "Sigmoid": "sigmoid", "Hardswish": "hardswish",
    "Hardsigmoid": "hardsigmoid", "AdaptiveAvgPool2d": "globalavgpool", "Dropout": "dropout",
}  # fmt: skip


def _report(name: str) -> Report:
    return analyze(zoo.load_model(name))


def _run_recording(model: Any) -> tuple[dict[str, Any], Any]:
    """Every leaf module's input and output in one forward pass of ``model``."""
    import torch

    seen: dict[str, Any] = {}
    hooks = [
        module.register_forward_hook(
            lambda m, args, out, name=name: seen.__setitem__(name, (args[0], out))
        )
        for name, module in model.named_modules()
        if not list(module.children())
    ]
    torch.manual_seed(0)
    with torch.no_grad():
        out = model(torch.randn(1, 3, 224, 224))
    for hook in hooks:
        hook.remove()
    return seen, out


@pytest.mark.parametrize("name", sorted(DOCUMENTED_PARAMS))
def test_params_are_documented_and_macs_are_the_flop_counters(name: str) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tests.torchvision_nets import MODELS

    model = MODELS[name]()
    report = _report(name)
    assert sum(p.numel() for p in model.parameters()) == DOCUMENTED_PARAMS[name]
    assert report.totals.params == DOCUMENTED_PARAMS[name]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 224, 224))
    assert counter.get_total_flops() == 2 * report.totals.macs


@pytest.mark.parametrize("name", sorted(DOCUMENTED_PARAMS))
def test_every_torchvision_module_is_the_layer_of_its_name(name: str) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tests.torch_bridge import torch_shape
    from tests.torchvision_nets import MODELS

    model = MODELS[name]()
    report = _report(name)
    layers = {r.name: r for r in report.layers}
    seen, _ = _run_recording(model)
    modules = dict(model.named_modules())
    # Every leaf module ran once, and is a layer of convcost's by its name.
    assert sorted(seen) == sorted(n for n, m in modules.items() if not list(m.children()))
    assert set(seen) <= set(layers), sorted(set(seen) - set(layers))
    total_flops = 0
    for module_name, (inp, out) in seen.items():
        module, layer = modules[module_name], layers[module_name]
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(inp.clone())
        flops = counter.get_total_flops()
        total_flops += flops
        running = sum(b.numel() for b in module.buffers() if b.is_floating_point())
        assert (
            layer.kind, torch_shape(out), layer.params, layer.buffers, 2 * layer.macs,
        ) == (
            KINDS[type(module).__name__], layer.output_shape.as_list(),
            sum(p.numel() for p in module.parameters()), running, flops,
        ), module_name  # fmt: skip
    # What convcost has besides: the merges torchvision computes in forward, no MACs.
    merges = [r for r in report.layers if r.name not in seen]
    se = sum(1 for m in modules.values() if type(m).__name__ == "SqueezeExcitation")
    assert sorted(r.kind for r in merges) == sorted(["mul"] * se + ["add"] * _additions(model))
    assert all(r.macs == r.params == 0 for r in merges)
    assert total_flops == 2 * report.totals.macs


def _additions(model: Any) -> int:
    """The residual additions torchvision's forward makes."""
    return sum(
        1
        for m in model.modules()
        if getattr(m, "adds", False) or type(m).__name__ == "ResBottleneckBlock"
    )


@pytest.mark.parametrize("name", sorted(DOCUMENTED_PARAMS))
def test_convcost_graph_with_torchvision_weights_computes_the_same(name: str) -> None:
    import torch

    from tests.torch_bridge import GraphModule
    from tests.torchvision_nets import MODELS

    model = MODELS[name]()
    torch.manual_seed(1)
    for module in model.modules():  # running statistics away from 0 and 1, so BN counts
        if isinstance(module, torch.nn.BatchNorm2d):
            assert module.running_mean is not None and module.running_var is not None
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    report = _report(name)
    graph = GraphModule(report).eval()
    for result, built in zip(report.layers, graph.layers, strict=True):
        _copy_weights(model.get_submodule(result.name) if result.params else None, built, result)
    _, expected = _run_recording(model)
    torch.manual_seed(0)
    with torch.no_grad():
        outputs = graph(torch.randn(1, 3, 224, 224))
    assert torch.allclose(outputs[-1], expected, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(outputs[-1], torch.zeros_like(expected))


def _copy_weights(source: Any, built: Any, result: LayerResult) -> None:
    """The torchvision module's parameters and running statistics (and BatchNorm's eps,
    which convcost does not count) into the bridge's module for ``result``."""
    if source is None:
        return
    import torch

    target = built[-1] if isinstance(built, torch.nn.Sequential) else built  # dense: flatten
    target.load_state_dict(source.state_dict())
    if isinstance(source, torch.nn.BatchNorm2d):
        target.eps = source.eps
