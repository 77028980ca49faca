"""Parameters, FLOPs and output shapes of a model, as ``qtseg info`` prints them."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from qtseg_core.models.qtseg import QTSeg


@dataclass(frozen=True)
class ModelInfo:
    parameters: int
    parameters_by_part: dict[str, int]
    flops: int  # as torch.utils.flop_counter counts them (2 per multiply-add)
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    def lines(self) -> list[str]:
        parts = ", ".join(f"{k} {v:,}" for k, v in self.parameters_by_part.items())
        return [
            f"parameters: {self.parameters:,} ({parts})",
            f"FLOPs at {'x'.join(map(str, self.input_shape))}: {self.flops:,} "
            f"(= {self.flops / 2e9:.2f} G multiply-adds)",
            f"output: logits {tuple(self.output_shape)}",
        ]


def describe(model: QTSeg, size: int = 512) -> ModelInfo:
    """Count parameters and FLOPs for one image of ``size`` x ``size``."""
    device = next(model.parameters()).device
    images = torch.zeros(1, model.config.in_channels, size, size, device=device)
    was_training = model.training
    model.eval()
    with FlopCounterMode(display=False) as counter:
        output = model(images)
    model.train(was_training)
    parts = {name: _count(getattr(model, name)) for name in ("encoder", "mlfd", "decoder")}
    return ModelInfo(
        parameters=_count(model), parameters_by_part=parts, flops=counter.get_total_flops(),
        input_shape=tuple(images.shape), output_shape=tuple(output.shape),
    )


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
