"""convnext_tiny, shufflenet_v2_x1_0 and unet against the same networks written in plain torch
(tests/plain_nets.py, not built from convcost's configs): the documented parameter counts,
and layer by layer each layer's parameters, running statistics and MACs (flop_counter's FLOPs
÷ 2, by module), the output's shape and the totals."""

from __future__ import annotations

import pytest

from convcost.frontends import zoo
from convcost.frontends.tree import analyze

# Parameters as documented: torchvision's weights' metadata ("num_params" of
# ConvNeXt_Tiny_Weights.IMAGENET1K_V1 and ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1 in
# torchvision/models/convnext.py and shufflenetv2.py); U-Net: the weights and biases of the
# 23 convolutions of Ronneberger et al. 2015, Fig. 1 (64·(1·9 + 1) + 64·(64·9 + 1) + ... +
# 2·(64 + 1)), as tests/plain_nets.py's UNet holds them.
DOCUMENTED = {
    "convnext_tiny": 28_589_128,
    "shufflenet_v2_x1_0": 2_278_604,
    "unet": 31_030_658,
}


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_layer_by_layer_as_plain_torch(name: str) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tests.plain_nets import MODELS
    from tests.torch_bridge import torch_shape

    model = MODELS[name]()
    assert sum(p.numel() for p in model.parameters()) == DOCUMENTED[name]
    report = analyze(zoo.load_model(name))
    s = report.input_shape
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = model(torch.zeros(1, s.c, s.h, s.w))
    assert torch_shape(y) == report.output_shape.as_list()
    # flop_counter's FLOPs by module: "ConvNeXt.features.1.0.block.3" → "features.1.0.block.3".
    flops = {key.partition(".")[2]: sum(by_op.values())
             for key, by_op in counter.get_flop_counts().items()}  # fmt: skip
    params = dict(model.named_parameters())
    buffers = {n: b for n, b in model.named_buffers() if b.is_floating_point()}
    assert report.graph is not None
    separator = report.graph.separator
    for layer in report.layers:
        module = layer.name.replace(separator, ".")  # U-Net's down1/conv1 is down1.conv1
        held = [p for n, p in params.items() if n == module or n.startswith(module + ".")]
        kept = [b for n, b in buffers.items() if n.startswith(module + ".")]
        counted = (flops.get(module, 0), sum(p.numel() for p in held), sum(b.numel() for b in kept))
        assert counted == (2 * layer.macs, layer.params, layer.buffers), layer.name
    # Nothing left over: every FLOP, parameter and statistic is some layer's.
    assert counter.get_total_flops() == 2 * report.totals.macs
    assert (report.totals.params, report.totals.buffers) == (
        DOCUMENTED[name], sum(b.numel() for b in buffers.values()),
    )  # fmt: skip
