"""The assembled QTSeg network and the registry of named builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from qtseg_core.config import ModelConfig
from qtseg_core.models.decoder import MaskDecoder
from qtseg_core.models.encoder import YoloV8Encoder
from qtseg_core.models.mlfd import MultiLevelFeatureDistribution

SIZE_MULTIPLE = 32


class QTSeg(nn.Module):
    """Encoder -> MLFD -> dual-mix attention mask decoder.

    Input B x in_channels x H x W (H, W multiples of 32, normalised to [-1, 1]);
    output raw logits B x num_classes x H x W (no activation).
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = YoloV8Encoder(in_channels=config.in_channels, base_width=config.base_width)
        self.mlfd = MultiLevelFeatureDistribution(stage_channels=config.stage_channels)
        self.decoder = MaskDecoder(
            stage_channels=config.stage_channels, depths=config.decoder_depths,
            num_classes=config.num_classes, num_heads=config.num_heads, mlp_dim=config.mlp_dim,
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        check_input(images, self.config.in_channels)
        levels = self.mlfd(self.encoder(images))
        return self.decoder(levels, output_size=images.shape[-2:])


def check_input(images: torch.Tensor, in_channels: int) -> None:
    """Raise a ValueError that says what to do when the input cannot go through QTSeg."""
    if images.ndim != 4 or images.shape[1] != in_channels:
        raise ValueError(
            f"QTSeg expects images of shape (B, {in_channels}, H, W), got {tuple(images.shape)}."
        )
    height, width = images.shape[-2:]
    if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(
            f"Input size {height}x{width} is not a multiple of {SIZE_MULTIPLE}; pad it to "
            f"{padded_size(height)}x{padded_size(width)} "
            "(qtseg_core.models.pad_to_multiple pads and crop_to crops back)."
        )


def padded_size(n: int, multiple: int = SIZE_MULTIPLE) -> int:
    return -(-n // multiple) * multiple


def pad_to_multiple(
    images: torch.Tensor, multiple: int = SIZE_MULTIPLE
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad B x C x H x W at the bottom/right to multiples of ``multiple``.

    Returns the padded batch and the original (H, W) for ``crop_to``.
    """
    height, width = images.shape[-2:]
    pad_h, pad_w = padded_size(height, multiple) - height, padded_size(width, multiple) - width
    return nn.functional.pad(images, (0, pad_w, 0, pad_h)), (height, width)


def crop_to(outputs: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo ``pad_to_multiple`` on the model's output."""
    return outputs[..., : size[0], : size[1]]


MODEL_REGISTRY: dict[str, Callable[..., QTSeg]] = {}


def register_model(name: str) -> Callable[[Callable[..., QTSeg]], Callable[..., QTSeg]]:
    def decorate(builder: Callable[..., QTSeg]) -> Callable[..., QTSeg]:
        MODEL_REGISTRY[name] = builder
        return builder

    return decorate


@register_model("qtseg")
def qtseg(**overrides: object) -> QTSeg:
    """The paper's model (YOLOv8-nano encoder, decoder depths 1/2/3, 8 heads, MLP 2048)."""
    return QTSeg(replace(ModelConfig(), **overrides))


@register_model("qtseg-tiny")
def qtseg_tiny(**overrides: object) -> QTSeg:
    """A small variant for tests and quick CPU experiments (about 1 M parameters)."""
    tiny = ModelConfig(base_width=8, decoder_depths=(1, 1, 1), num_heads=4, mlp_dim=128)
    return QTSeg(replace(tiny, **overrides))


def build_model(name: str = "qtseg", **overrides: object) -> QTSeg:
    """Build a registered model; ``overrides`` are ModelConfig fields (num_classes, ...)."""
    if name not in MODEL_REGISTRY:
        raise ValueError(f"Unknown model {name!r}; choose one of {sorted(MODEL_REGISTRY)}.")
    return MODEL_REGISTRY[name](**overrides)
