"""One peer tool counting ResNet-50 in its own process: import torch, build the model, count.

Run as ``python benchmarks/peers_resnet50.py TOOL``; prints ``TOOL MACS PARAMS`` on the last
line. The model is torchvision's ResNet-50 (v1.5) written out in plain torch, since
torchvision does not install beside this project's torch build.
"""

from __future__ import annotations

import sys

import torch
from torch import nn


class Bottleneck(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        result: torch.Tensor = self.relu(out + identity)
        return result


def resnet50() -> nn.Module:
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
    ]  # fmt: skip
    inplanes = 64
    for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(inplanes, planes, stride if i == 0 else 1))
            inplanes = planes * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers).eval()


def count(tool: str) -> tuple[int, int]:
    model = resnet50()
    x = torch.zeros(1, 3, 224, 224)
    params = sum(p.numel() for p in model.parameters())
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return int(analysis.total()), params  # fvcore's "flops" are MACs
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        macs, counted = get_model_complexity_info(
            model, (3, 224, 224), as_strings=False, print_per_layer_stat=False, verbose=False
        )
        return int(macs), int(counted)
    if tool == "thop":
        from thop import profile

        macs, counted = profile(model, inputs=(x,), verbose=False)
        return int(macs), int(counted)
    if tool == "torchinfo":
        from torchinfo import summary

        stats = summary(model, input_data=x, verbose=0)
        return int(stats.total_mult_adds), int(stats.total_params)
    if tool == "flop_counter":
        from torch.utils.flop_counter import FlopCounterMode

        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
        return counter.get_total_flops() // 2, params
    raise SystemExit(f"unknown tool {tool}")


if __name__ == "__main__":
    macs, params = count(sys.argv[1])
    print(sys.argv[1], macs, params)
