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
        self.click_encoder = ClickEncoder(config.base_width) if config.click_inputs else None

    def forward(self, images: torch.Tensor, clicks: torch.Tensor | None = None) -> torch.Tensor:
        """``clicks`` (B x 3 x H x W: previous mask, positive, negative click maps; models
        with ``click_inputs`` only); None or all zeros is the automatic mode."""
        check_input(images, self.config.in_channels)
        levels = self.mlfd(self.encoder(images, self._click_features(images, clicks)))
        return self.decoder(levels, output_size=images.shape[-2:])

    def _click_features(
        self, images: torch.Tensor, clicks: torch.Tensor | None
    ) -> torch.Tensor | None:
        if clicks is None:
            return None
        if self.click_encoder is None:
            raise ValueError(
                "This QTSeg has no click inputs (config.click_inputs=False); call it without "
                "clicks, or convert it with qtseg_core.models.add_click_inputs and fine-tune."
            )
        if clicks.shape != (images.shape[0], CLICK_CHANNELS, *images.shape[-2:]):
            raise ValueError(
                f"Click inputs of shape {tuple(clicks.shape)}: expected "
                f"({images.shape[0]}, {CLICK_CHANNELS}, {images.shape[-2]}, {images.shape[-1]}) "
                "(previous mask, positive clicks, negative clicks) at the images' size."
            )
        return self.click_encoder(clicks)


#: Click-conditioned input planes: the previous mask, positive and negative click maps.
CLICK_CHANNELS = 3


class ClickEncoder(nn.Module):
    """The click-conditioned inputs, added to the encoder stem's output (as RITM's Conv1S).

    B x 3 x H x W (previous mask, positive disks, negative disks, each 0..1)
    -> B x w x H/2 x W/2. Its weights start at zero and it has no bias, so a
    model given no clicks (or all-zero maps) computes exactly what the
    automatic network computes.
    """

    def __init__(self, base_width: int):
        super().__init__()
        self.conv = nn.Conv2d(CLICK_CHANNELS, base_width, 3, stride=2, padding=1, bias=False)
        nn.init.zeros_(self.conv.weight)

    def forward(self, clicks: torch.Tensor) -> torch.Tensor:
        return self.conv(clicks)


def add_click_inputs(model: QTSeg) -> QTSeg:
    """A click-conditioned copy of ``model`` (same weights, zero click encoder), train mode
    as given; a model that already has click inputs comes back as it is."""
    if model.config.click_inputs:
        return model
    clicked = QTSeg(replace(model.config, click_inputs=True))
    clicked.load_state_dict(model.state_dict(), strict=False)  # all but click_encoder.*
    return clicked.train(model.training)


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
