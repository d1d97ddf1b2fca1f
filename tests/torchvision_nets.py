"""Test helper: torchvision's EfficientNet-B0, MobileNetV3-Large and RegNetY-400MF written
out in plain torch, since torchvision does not install beside this project's torch build.

Each follows torchvision's model definition (torchvision/models/efficientnet.py,
mobilenetv3.py, regnet.py, and ops/misc.py's Conv2dNormActivation and SqueezeExcitation):
the same modules under the same attribute names, so their names are torchvision's state_dict
names, and the same forward. Left out: torchvision's weight initialisation (counts do not
depend on it) and EfficientNet's stochastic depth, which returns its input unchanged at
inference. Residual additions are written out of place (torchvision adds in place), so that
every module's output stays as it computed it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

import torch
from torch import nn

Factory = Callable[..., nn.Module]


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision's channel rounding (models/_utils.py): to the nearest multiple of
    ``divisor``, at least ``min_value`` (default: the divisor), and never down by more than
    10%."""
    least = divisor if min_value is None else min_value
    rounded = max(least, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class ConvNormActivation(nn.Sequential):
    """torchvision's Conv2dNormActivation: conv (padding (k − 1) // 2 · dilation, no bias
    before a norm), norm, activation; children named 0, 1, 2."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 3,
        stride: int = 1,
        groups: int = 1,
        norm: Factory = nn.BatchNorm2d,
        activation: Factory | None = nn.ReLU,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            norm(cout),
        ]
        if activation is not None:
            layers.append(activation(inplace=True))
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: the input times a per-channel gate computed from its
    channels' means (1×1 convs with bias to ``squeeze`` channels and back)."""

    def __init__(
        self,
        channels: int,
        squeeze: int,
        activation: Factory = nn.ReLU,
        scale_activation: Factory = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        result: torch.Tensor = scale * x
        return result


class Residual(nn.Module):
    """A ``block`` whose input is added to its output where ``adds`` (stride 1 and the
    channels kept): torchvision's MBConv and MobileNetV3 InvertedResidual."""

    def __init__(self, layers: list[nn.Module], adds: bool) -> None:
        super().__init__()
        self.block = nn.Sequential(*layers)
        self.adds = adds

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.block(x)
        return result + x if self.adds else result


# --- EfficientNet-B0 ---------------------------------------------------------------------------

# (expand ratio, kernel, stride, in, out, blocks): efficientnet.py's _efficientnet_conf for
# efficientnet_b0, width and depth multipliers 1.0 (Tan & Le 2019, Table 1).
EFFICIENTNET_B0_STAGES = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


def mbconv(expand: int, kernel: int, stride: int, cin: int, cout: int, norm: Factory) -> Residual:
    """torchvision's MBConv: SiLU throughout, SE squeezing to max(1, cin // 4) channels."""
    expanded = make_divisible(cin * expand, 8)
    layers: list[nn.Module] = []
    if expanded != cin:
        layers.append(ConvNormActivation(cin, expanded, 1, norm=norm, activation=nn.SiLU))
    layers.append(ConvNormActivation(expanded, expanded, kernel, stride, expanded, norm, nn.SiLU))
    layers.append(SqueezeExcitation(expanded, max(1, cin // 4), partial(nn.SiLU, inplace=True)))
    layers.append(ConvNormActivation(expanded, cout, 1, norm=norm, activation=None))
    return Residual(layers, stride == 1 and cin == cout)


class EfficientNet(nn.Module):
    def __init__(self, stages: list[tuple[int, int, int, int, int, int]], dropout: float) -> None:
        super().__init__()
        norm = nn.BatchNorm2d
        features: list[nn.Module] = [
            ConvNormActivation(3, stages[0][3], 3, 2, norm=norm, activation=nn.SiLU)
        ]
        for expand, kernel, stride, cin, cout, blocks in stages:
            stage = [mbconv(expand, kernel, stride, cin, cout, norm)]
            stage += [mbconv(expand, kernel, 1, cout, cout, norm) for _ in range(blocks - 1)]
            features.append(nn.Sequential(*stage))
        last = 4 * stages[-1][4]
        features.append(ConvNormActivation(stages[-1][4], last, 1, norm=norm, activation=nn.SiLU))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout, inplace=True), nn.Linear(last, 1000))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
        return result


def efficientnet_b0() -> nn.Module:
    return EfficientNet(EFFICIENTNET_B0_STAGES, 0.2).eval()


# --- MobileNetV3-Large -------------------------------------------------------------------------

# (in, kernel, expanded, out, SE, activation, stride): mobilenetv3.py's _mobilenet_v3_conf for
# mobilenet_v3_large, width 1.0, no dilation or reduced tail (Howard et al. 2019, Table 1).
MOBILENET_V3_LARGE_BLOCKS = [
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2),
    (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]


def inverted_residual(
    cin: int, kernel: int, expanded: int, cout: int, se: bool, act: str, stride: int,
    norm: Factory,
) -> Residual:  # fmt: skip
    """torchvision's MobileNetV3 InvertedResidual: its SE squeezes to
    make_divisible(expanded // 4, 8) channels, ReLU between, a hard-sigmoid gate."""
    activation: Factory = nn.Hardswish if act == "HS" else nn.ReLU
    cin, expanded, cout = (make_divisible(c * 1.0, 8) for c in (cin, expanded, cout))
    layers: list[nn.Module] = []
    if expanded != cin:
        layers.append(ConvNormActivation(cin, expanded, 1, norm=norm, activation=activation))
    layers.append(
        ConvNormActivation(expanded, expanded, kernel, stride, expanded, norm, activation)
    )
    if se:
        squeeze = make_divisible(expanded // 4, 8)
        layers.append(SqueezeExcitation(expanded, squeeze, scale_activation=nn.Hardsigmoid))
    layers.append(ConvNormActivation(expanded, cout, 1, norm=norm, activation=None))
    return Residual(layers, stride == 1 and cin == cout)


class MobileNetV3(nn.Module):
    def __init__(self, blocks: list[tuple[int, int, int, int, bool, str, int]], last: int) -> None:
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        features: list[nn.Module] = [
            ConvNormActivation(3, blocks[0][0], 3, 2, norm=norm, activation=nn.Hardswish)
        ]
        features += [inverted_residual(*block, norm=norm) for block in blocks]
        last_conv = 6 * blocks[-1][3]
        features.append(
            ConvNormActivation(blocks[-1][3], last_conv, 1, norm=norm, activation=nn.Hardswish)
        )
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_conv, last), nn.Hardswish(inplace=True),
            nn.Dropout(0.2, inplace=True), nn.Linear(last, 1000),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
        return result


def mobilenet_v3_large() -> nn.Module:
    return MobileNetV3(MOBILENET_V3_LARGE_BLOCKS, make_divisible(1280 * 1.0, 8)).eval()


# --- RegNetY-400MF -----------------------------------------------------------------------------


def regnet_stages(
    depth: int, w_0: int, w_a: float, w_m: float, group_width: int
) -> list[tuple[int, int, int]]:
    """(width, blocks, group width) of each stage, as regnet.py's
    BlockParams.from_init_params computes them (bottleneck multiplier 1): block widths
    w_0 · w_m^round(log((i·w_a + w_0) / w_0) / log w_m) in float32, rounded to multiples of 8;
    a stage is a run of equal widths; the group width is at most the width, which is then
    made divisible by it."""
    continuous = torch.arange(depth) * w_a + w_0
    exponents = torch.round(torch.log(continuous / w_0) / math.log(w_m))
    widths = (torch.round(torch.divide(w_0 * torch.pow(w_m, exponents), 8)) * 8).int().tolist()
    stages: list[tuple[int, int, int]] = []
    for width in widths:
        if stages and stages[-1][0] == width:
            stages[-1] = (width, stages[-1][1] + 1, group_width)
        else:
            stages.append((width, 1, group_width))
    adjusted = []
    for width, blocks, group in stages:
        group = min(group, width)
        adjusted.append((make_divisible(width, group), blocks, group))
    return adjusted


class ResBottleneckBlock(nn.Module):
    """regnet.py's ResBottleneckBlock: proj(x) + f(x) (x + f(x) where shapes are kept), then
    the activation; f is its BottleneckTransform a, b, se, c."""

    def __init__(self, cin: int, cout: int, stride: int, group_width: int, se_ratio: float) -> None:
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1)
        self.proj: nn.Module | None = None
        if cin != cout or stride != 1:
            self.proj = ConvNormActivation(cin, cout, 1, stride, norm=norm, activation=None)
        self.f = nn.Sequential(
            OrderedDict(
                a=ConvNormActivation(cin, cout, 1, norm=norm),
                b=ConvNormActivation(cout, cout, 3, stride, cout // group_width, norm),
                se=SqueezeExcitation(cout, round(se_ratio * cin)),
                c=ConvNormActivation(cout, cout, 1, norm=norm, activation=None),
            )
        )
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        result: torch.Tensor = self.activation(shortcut + self.f(x))
        return result


class RegNet(nn.Module):
    def __init__(self, stages: list[tuple[int, int, int]], se_ratio: float) -> None:
        super().__init__()
        stem_width = 32
        self.stem = ConvNormActivation(3, stem_width, 3, 2)
        trunk: OrderedDict[str, nn.Module] = OrderedDict()
        width = stem_width
        for s, (cout, blocks, group_width) in enumerate(stages, start=1):
            stage = nn.Sequential()
            for i in range(blocks):
                block = ResBottleneckBlock(width, cout, 2 if i == 0 else 1, group_width, se_ratio)
                stage.add_module(f"block{s}-{i}", block)
                width = cout
            trunk[f"block{s}"] = stage
        self.trunk_output = nn.Sequential(trunk)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.fc(self.avgpool(self.trunk_output(self.stem(x))).flatten(1))
        return result


def regnet_y_400mf() -> nn.Module:
    stages = regnet_stages(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8)
    return RegNet(stages, se_ratio=0.25).eval()


MODELS: dict[str, Callable[[], nn.Module]] = {
    "efficientnet_b0": efficientnet_b0,
    "mobilenet_v3_large": mobilenet_v3_large,
    "regnet_y_400mf": regnet_y_400mf,
}


# --- MobileNetV2 at a width multiplier ---------------------------------------------------------

# (t, c, n, s) of mobilenetv2.py's inverted_residual_setting (Sandler et al. 2018, Table 2).
MOBILENET_V2_SETTING = [
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
    (6, 320, 1, 1),
]  # fmt: skip


class InvertedResidualV2(nn.Module):
    """torchvision's MobileNetV2 InvertedResidual: round(inp · t) hidden channels (no
    expansion conv at t = 1), a ReLU6 depthwise conv, a linear 1×1 projection + BN; the input
    added where the stride is 1 and the channels agree."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = round(inp * expand_ratio)
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvNormActivation(inp, hidden, 1, activation=nn.ReLU6))
        layers += [
            ConvNormActivation(hidden, hidden, 3, stride, hidden, activation=nn.ReLU6),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(x)
        return x + out if self.use_res_connect else out


def mobilenet_v2(width_mult: float = 1.0, last_channel: int | None = None) -> nn.Module:
    """torchvision.models.mobilenet_v2(width_mult=...): every width make_divisible(c · α, 8),
    the last conv make_divisible(1280 · max(1, α), 8) unless ``last_channel`` says otherwise
    (the paper keeps it at 1280 below α = 1; convcost's general rule scales it too)."""
    inp = make_divisible(32 * width_mult, 8)
    last = make_divisible(1280 * max(1.0, width_mult), 8) if last_channel is None else last_channel
    features: list[nn.Module] = [ConvNormActivation(3, inp, 3, 2, activation=nn.ReLU6)]
    for t, c, n, s in MOBILENET_V2_SETTING:
        out = make_divisible(c * width_mult, 8)
        for i in range(n):
            features.append(InvertedResidualV2(inp, out, s if i == 0 else 1, t))
            inp = out
    features.append(ConvNormActivation(inp, last, 1, activation=nn.ReLU6))
    return nn.Sequential(
        *features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(last, 1000)
    ).eval()
