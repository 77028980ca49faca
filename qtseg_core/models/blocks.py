"""Convolutional building blocks of the YOLOv8 encoder and the decoder's upsampling."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ConvBNAct(nn.Module):
    """Conv2d (padding k//2, no bias) -> BatchNorm2d -> SiLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=False
        )
        self.norm = nn.BatchNorm2d(out_channels)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


class ConvTransposeBNAct(nn.Module):
    """ConvTranspose2d (kernel = stride, no padding, no bias) -> BatchNorm2d -> SiLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


class Bottleneck(nn.Module):
    """Two 3x3 ConvBNAct, with a residual add when ``shortcut``."""

    def __init__(self, channels: int, shortcut: bool):
        super().__init__()
        self.conv1 = ConvBNAct(channels, channels, 3)
        self.conv2 = ConvBNAct(channels, channels, 3)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.conv1(x))
        return x + y if self.shortcut else y


class C2f(nn.Module):
    """YOLOv8's C2f: split, chain ``depth`` bottlenecks on one half, concatenate all, fuse.

    Hidden width c = out/2; the fuse conv sees (2 + depth) * c channels.
    """

    def __init__(self, in_channels: int, out_channels: int, depth: int, shortcut: bool):
        super().__init__()
        hidden = out_channels // 2
        self.expand = ConvBNAct(in_channels, 2 * hidden)
        self.bottlenecks = nn.ModuleList(Bottleneck(hidden, shortcut) for _ in range(depth))
        self.fuse = ConvBNAct((2 + depth) * hidden, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = list(self.expand(x).chunk(2, dim=1))
        for bottleneck in self.bottlenecks:
            parts.append(bottleneck(parts[-1]))
        return self.fuse(torch.cat(parts, dim=1))


class SPPF(nn.Module):
    """Spatial pyramid pooling (fast): three chained 5x5 max-pools, concatenated."""

    def __init__(self, channels: int):
        super().__init__()
        hidden = channels // 2
        self.reduce = ConvBNAct(channels, hidden)
        self.pool = nn.MaxPool2d(kernel_size=5, stride=1, padding=2)
        self.fuse = ConvBNAct(4 * hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = [self.reduce(x)]
        for _ in range(3):
            pooled.append(self.pool(pooled[-1]))
        return self.fuse(torch.cat(pooled, dim=1))


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of a (B, C, H, W) map (as in SAM), eps 1e-6.

    Runs as one fused ``layer_norm`` over a channels-last view; the same
    mean/biased-variance normalisation as the explicit formula.
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels_last = x.permute(0, 2, 3, 1)  # B x H x W x C
        normed = F.layer_norm(channels_last, self.weight.shape, self.weight, self.bias, self.eps)
        return normed.permute(0, 3, 1, 2)
