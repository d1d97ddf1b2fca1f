"""Test helper: three zoo models written in plain torch, independently of convcost's configs,
for their parameters and flop_counter's MACs layer by layer (tests/test_plain_nets.py).

ConvNeXt-T and ShuffleNet v2 1.0× follow torchvision's definitions (torchvision/models/
convnext.py and shufflenetv2.py: the same modules, names and forward passes), since
torchvision does not install beside this project's torch build; U-Net follows Ronneberger et
al. 2015, Section 2 and Fig. 1.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

# --- ConvNeXt-T (torchvision.models.convnext_tiny) -------------------------------------------


class Permute(nn.Module):
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim: int, layer_scale: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        # Stochastic depth: the identity at inference, and so here.

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.layer_scale * self.block(x)
        return result + x


def convnext_tiny() -> nn.Module:
    """torchvision's ConvNeXt with convnext_tiny's block setting: (96, 192, 3),
    (192, 384, 3), (384, 768, 9), (768, None, 3); layer scale 1e-6; 1000 classes."""
    layers: list[nn.Module] = [
        nn.Sequential(nn.Conv2d(3, 96, kernel_size=4, stride=4, padding=0, bias=True),
                      LayerNorm2d(96, eps=1e-6))
    ]  # fmt: skip
    for dim, out, blocks in ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)):
        layers.append(nn.Sequential(*(CNBlock(dim, 1e-6) for _ in range(blocks))))
        if out is not None:
            layers.append(nn.Sequential(LayerNorm2d(dim, eps=1e-6),
                                        nn.Conv2d(dim, out, kernel_size=2, stride=2)))  # fmt: skip

    class ConvNeXt(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(
                LayerNorm2d(768, eps=1e-6), nn.Flatten(1), nn.Linear(768, 1000)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            result: torch.Tensor = self.classifier(self.avgpool(self.features(x)))
            return result

    return ConvNeXt().eval()


# --- ShuffleNet v2 1.0× (torchvision.models.shufflenet_v2_x1_0) ------------------------------


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    batchsize, num_channels, height, width = x.size()
    x = x.view(batchsize, groups, num_channels // groups, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, -1, height, width)


def _depthwise(i: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(i, i, 3, stride, 1, bias=False, groups=i)


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        branch_features = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise(inp, stride), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, 1, 1, 0, bias=False),
                nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True),
            )  # fmt: skip
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch_features, branch_features, 1, 1, 0,
                      bias=False),
            nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True),
            _depthwise(branch_features, stride), nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """torchvision's ShuffleNetV2 with shufflenet_v2_x1_0's stages: repeats [4, 8, 4],
    channels [24, 116, 232, 464, 1024]; 1000 classes."""

    def __init__(self) -> None:
        super().__init__()
        repeats, channels = [4, 8, 4], [24, 116, 232, 464, 1024]
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True)
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.stage2: nn.Sequential
        self.stage3: nn.Sequential
        self.stage4: nn.Sequential
        inp = 24
        for name, n, out in zip(("stage2", "stage3", "stage4"), repeats, channels[1:4],
                                strict=True):  # fmt: skip
            units = [InvertedResidual(inp, out, 2)]
            units += [InvertedResidual(out, out, 1) for _ in range(n - 1)]
            setattr(self, name, nn.Sequential(*units))
            inp = out
        self.conv5 = nn.Sequential(
            nn.Conv2d(inp, 1024, 1, 1, 0, bias=False), nn.BatchNorm2d(1024), nn.ReLU(inplace=True)
        )
        self.fc = nn.Linear(1024, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        x = self.conv5(x)
        x = x.mean([2, 3])  # globalpool
        result: torch.Tensor = self.fc(x)
        return result


def shufflenet_v2_x1_0() -> nn.Module:
    return ShuffleNetV2().eval()


# --- U-Net (Ronneberger et al. 2015) ------------------------------------------------------------


class Twice(nn.Module):
    """Two unpadded 3×3 convolutions, each followed by a ReLU."""

    def __init__(self, inp: int, out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3)
        self.conv2 = nn.Conv2d(out, out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv2(torch.relu(self.conv1(x))))


class Up(Twice):
    """A 2×2 up-convolution halving the channels, the contracting path's map cropped to its
    size at the centre and concatenated before it, then two 3×3 convolutions."""

    def __init__(self, inp: int) -> None:
        super().__init__(inp, inp // 2)
        self.upconv = nn.ConvTranspose2d(inp, inp // 2, 2, stride=2)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        assert skip is not None
        up = self.upconv(x)
        top = (skip.shape[2] - up.shape[2]) // 2
        left = (skip.shape[3] - up.shape[3]) // 2
        crop = skip[:, :, top : top + up.shape[2], left : left + up.shape[3]]
        return super().forward(torch.cat([crop, up], dim=1))


class UNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down1, self.down2 = Twice(1, 64), Twice(64, 128)
        self.down3, self.down4 = Twice(128, 256), Twice(256, 512)
        self.bottom = Twice(512, 1024)
        self.up4, self.up3, self.up2, self.up1 = Up(1024), Up(512), Up(256), Up(128)
        self.head = nn.Conv2d(64, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in (self.down1, self.down2, self.down3, self.down4):
            x = down(x)
            skips.append(x)
            x = functional.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, skip in zip((self.up4, self.up3, self.up2, self.up1), reversed(skips),
                            strict=True):  # fmt: skip
            x = up(x, skip)
        result: torch.Tensor = self.head(x)
        return result


def unet() -> nn.Module:
    return UNet().eval()


MODELS = {"convnext_tiny": convnext_tiny, "shufflenet_v2_x1_0": shufflenet_v2_x1_0, "unet": unet}
