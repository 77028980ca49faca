"""YOLOv8-nano backbone and neck (layers 0-21): image -> [P3, P4, P5]."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from qtseg_core.models.blocks import SPPF, C2f, ConvBNAct


class YoloV8Encoder(nn.Module):
    """Backbone + PAN neck of YOLOv8 with base width ``w`` (16 for the nano model).

    Returns three stage outputs: P3 = 4w @ H/8, P4 = 8w @ H/16, P5 = 16w @ H/32.
    Neck concatenations put the resampled path first, then the skip.
    """

    def __init__(self, *, in_channels: int = 3, base_width: int = 16):
        super().__init__()
        w = base_width
        self.stem = ConvBNAct(in_channels, w, 3, 2)  # 0
        self.down1 = ConvBNAct(w, 2 * w, 3, 2)  # 1
        self.stage1 = C2f(2 * w, 2 * w, 1, shortcut=True)  # 2
        self.down2 = ConvBNAct(2 * w, 4 * w, 3, 2)  # 3
        self.stage2 = C2f(4 * w, 4 * w, 2, shortcut=True)  # 4
        self.down3 = ConvBNAct(4 * w, 8 * w, 3, 2)  # 5
        self.stage3 = C2f(8 * w, 8 * w, 2, shortcut=True)  # 6
        self.down4 = ConvBNAct(8 * w, 16 * w, 3, 2)  # 7
        self.stage4 = C2f(16 * w, 16 * w, 1, shortcut=True)  # 8
        self.sppf = SPPF(16 * w)  # 9
        self.top_down4 = C2f(24 * w, 8 * w, 1, shortcut=False)  # 10-12
        self.top_down3 = C2f(12 * w, 4 * w, 1, shortcut=False)  # 13-15 -> P3
        self.bottom_up_down4 = ConvBNAct(4 * w, 4 * w, 3, 2)  # 16
        self.bottom_up4 = C2f(12 * w, 8 * w, 1, shortcut=False)  # 17-18 -> P4
        self.bottom_up_down5 = ConvBNAct(8 * w, 8 * w, 3, 2)  # 19
        self.bottom_up5 = C2f(24 * w, 16 * w, 1, shortcut=False)  # 20-21 -> P5
        self.stage_channels = (4 * w, 8 * w, 16 * w)
        self.stage_strides = (8, 16, 32)

    def forward(
        self, x: torch.Tensor, stem_extra: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """``stem_extra`` (B x w x H/2 x W/2) is added to the stem's output: the click inputs."""
        x = self.stem(x)
        if stem_extra is not None:
            x = x + stem_extra
        x = self.stage1(self.down1(x))
        c3 = self.stage2(self.down2(x))  # 4w @ H/8
        c4 = self.stage3(self.down3(c3))  # 8w @ H/16
        c5 = self.sppf(self.stage4(self.down4(c4)))  # 16w @ H/32
        n4 = self.top_down4(torch.cat([_up2(c5), c4], dim=1))
        p3 = self.top_down3(torch.cat([_up2(n4), c3], dim=1))
        p4 = self.bottom_up4(torch.cat([self.bottom_up_down4(p3), n4], dim=1))
        p5 = self.bottom_up5(torch.cat([self.bottom_up_down5(p4), c5], dim=1))
        return [p3, p4, p5]


def _up2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")
