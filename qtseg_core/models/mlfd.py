"""Multi-level feature distribution (MLFD): every decoder level sees every encoder stage."""

from __future__ import annotations

import torch
from torch import nn

from qtseg_core.models.blocks import ConvBNAct, ConvTransposeBNAct


def _resample(in_channels: int, out_channels: int, source: int, target: int) -> nn.Module:
    """Bring stage ``source`` to the grid of level ``target`` (each step is a factor of 2)."""
    if source == target:
        return ConvBNAct(in_channels, out_channels, 1)  # "PROJ"
    factor = 2 ** abs(source - target)
    if source > target:
        return ConvTransposeBNAct(in_channels, out_channels, factor, factor)
    return ConvBNAct(in_channels, out_channels, 3, factor)


class MultiLevelFeatureDistribution(nn.Module):
    """Level i keeps stage i's width C_i: C_i/2 from stage i, C_i/4 from each other stage.

    Input [P3, P4, P5]; output three maps with the same shapes. Parts are
    concatenated in stage order [from P3, from P4, from P5].
    """

    def __init__(self, *, stage_channels: tuple[int, int, int]):
        super().__init__()
        self.levels = nn.ModuleList()
        for target, width in enumerate(stage_channels):
            parts = nn.ModuleList(
                _resample(c_in, width // 2 if source == target else width // 4, source, target)
                for source, c_in in enumerate(stage_channels)
            )
            self.levels.append(parts)

    def forward(self, stages: list[torch.Tensor]) -> list[torch.Tensor]:
        return [
            torch.cat([part(x) for part, x in zip(parts, stages, strict=True)], dim=1)
            for parts in self.levels
        ]
