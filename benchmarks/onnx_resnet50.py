"""ResNet-50 as an ONNX file with its weights embedded, for issue #14's targets.

    python -m benchmarks.onnx_resnet50 FILE    # from the repository's root; torch 2.13.0

Exports peers_resnet50.py's model (torchvision's ResNet-50 v1.5 in plain torch) as
tests/test_onnx.py exports the zoo: PyTorch's TorchScript exporter (dynamo=False), opset 17,
eval mode with BatchNormalization kept (TrainingMode.PRESERVE), here with the weights in the
file and a fixed 1×3×224×224 input. BatchNorm's scales, shifts and running statistics are
drawn at random first: at their initial values (ones and zeros) the exporter would store
equal tensors once, which no trained model's file does. The file is 102,477,720 bytes.
"""

from __future__ import annotations

import sys


def make(path: str) -> None:
    import torch

    from benchmarks.peers_resnet50 import resnet50

    torch.manual_seed(0)
    model = resnet50()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
                module.get_buffer("running_mean").uniform_(-0.1, 0.1)
                module.get_buffer("running_var").uniform_(0.5, 1.5)
    torch.onnx.export(
        model,
        (torch.zeros(1, 3, 224, 224),),
        path,
        dynamo=False,
        opset_version=17,
        training=torch.onnx.TrainingMode.PRESERVE,
        input_names=["x"],
    )


if __name__ == "__main__":
    make(sys.argv[1])
