"""QTSeg's mask decoder: one query token per class, three DMA stages, a dot-product mask head."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from qtseg_core.models.attention import Attention, DualMixAttention
from qtseg_core.models.blocks import LayerNorm2d
from qtseg_core.models.pixel_blocks import PixelBlockMaskHead, check_block_upsampling


class RandomFourierEncoding(nn.Module):
    """SAM-style positional encoding: [sin, cos](2*pi * coords @ G) with a fixed random G.

    G (2 x C/2) ~ N(0, 1) is a buffer, stored in checkpoints, never trained. The
    encoding depends only on the grid size, so it is cached per (H, W, device,
    dtype) and rebuilt only when G changes (e.g. after ``load_state_dict``).
    """

    def __init__(self, *, dim: int):
        super().__init__()
        self.register_buffer("gaussian_matrix", torch.randn(2, dim // 2))
        self._cache: dict[tuple, torch.Tensor] = {}

    def forward(self, height: int, width: int) -> torch.Tensor:
        """-> 1 x C x H x W."""
        if torch.compiler.is_compiling():  # a compiled graph folds it into a constant
            return self._encode(height, width)
        g = self.gaussian_matrix
        key = (height, width, g.device, g.dtype, g._version, g.data_ptr())
        if key not in self._cache:
            self._cache.clear()
            self._cache[key] = self._encode(height, width)
        return self._cache[key]

    def _encode(self, height: int, width: int) -> torch.Tensor:
        g = self.gaussian_matrix
        with torch.no_grad():
            y = (torch.arange(height, device=g.device, dtype=g.dtype) + 0.5) / height
            x = (torch.arange(width, device=g.device, dtype=g.dtype) + 0.5) / width
            coords = torch.stack(torch.meshgrid(x, y, indexing="xy"), dim=-1)  # H x W x 2
            projected = 2 * math.pi * ((2 * coords - 1) @ g)  # H x W x C/2
            encoding = torch.cat([projected.sin(), projected.cos()], dim=-1)
        return encoding.permute(2, 0, 1).unsqueeze(0).contiguous()


class TokenHandoff(nn.Module):
    """Per-class 3-layer MLP taking a token from this stage's width to the next one's."""

    def __init__(self, *, dim: int, out_dim: int):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, out_dim)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.layers[0](x))
        x = F.relu(self.layers[1](x))
        return self.layers[2](x)


def _upsampler(dim: int, out_dim: int, steps: int) -> nn.Sequential:
    """``steps`` x [ConvTranspose2d k2 s2 -> LayerNorm2d -> GELU]; width halves between steps."""
    layers: list[nn.Module] = []
    widths = [dim] + [dim // 2] * (steps - 1) + [out_dim]
    for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.ConvTranspose2d(c_in, c_out, 2, 2), LayerNorm2d(c_out), nn.GELU()]
    return nn.Sequential(*layers)


class DecoderStage(nn.Module):
    """One decoder stage at width C: ``depth`` DMA blocks, a final token-to-image attention,
    feature upsampling (SUB) and the per-class token hand-off to the next width."""

    def __init__(
        self, *, dim: int, out_dim: int, depth: int, num_classes: int, num_heads: int,
        mlp_dim: int, upsample_steps: int,
    ):
        super().__init__()
        self.positional_encoding = RandomFourierEncoding(dim=dim)
        self.blocks = nn.ModuleList(
            DualMixAttention(dim=dim, num_heads=num_heads, mlp_dim=mlp_dim) for _ in range(depth)
        )
        self.final_attention = Attention(dim=dim, num_heads=num_heads)
        self.final_norm = nn.LayerNorm(dim)
        self.upsample = _upsampler(dim, out_dim, upsample_steps)
        self.token_handoff = nn.ModuleList(
            TokenHandoff(dim=dim, out_dim=out_dim) for _ in range(num_classes)
        )

    def forward(
        self, tokens: torch.Tensor, features: torch.Tensor, *, upsample: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens B x N x C, features B x C x H x W -> (B x N x C_next, B x C_next x 2H x 2W).

        With ``upsample=False`` the features come back as they are (B x C x H x W), for
        the mask head to upsample them per pixel block.
        """
        encoding = self.positional_encoding(features.shape[-2], features.shape[-1])
        entering = tokens
        for block in self.blocks:
            tokens, features = block(tokens, features, encoding)
        keys = (features + encoding).flatten(2).transpose(1, 2)
        values = features.flatten(2).transpose(1, 2)
        tokens = self.final_norm(tokens + self.final_attention(tokens + entering, keys, values))
        handed = [mlp(tokens[:, i]) for i, mlp in enumerate(self.token_handoff)]
        return torch.stack(handed, dim=1), self.upsample(features) if upsample else features


class MaskDecoder(nn.Module):
    """Stages run deep to shallow (level 2, 1, 0); each adds the previous stage's
    upsampled features to its MLFD input. Logits = tokens . features, bilinearly resized;
    the last stage's upsampling runs inside the mask head, per pixel block (``pixel_blocks``)."""

    def __init__(
        self, *, stage_channels: tuple[int, int, int], depths: tuple[int, int, int],
        num_classes: int, num_heads: int, mlp_dim: int,
    ):
        super().__init__()
        self.query_tokens = nn.Embedding(num_classes, stage_channels[2])
        nn.init.normal_(self.query_tokens.weight)
        out_dims = (stage_channels[0], stage_channels[0], stage_channels[1])
        self.stages = nn.ModuleList(
            DecoderStage(
                dim=dim, out_dim=out_dims[level], depth=depths[level], num_classes=num_classes,
                num_heads=num_heads, mlp_dim=mlp_dim, upsample_steps=2 if level == 0 else 1,
            )
            for level, dim in enumerate(stage_channels)
        )
        check_block_upsampling(self.stages[0].upsample)
        self.mask_head = PixelBlockMaskHead()  # no parameters; runs stages[0].upsample

    def forward(self, levels: list[torch.Tensor], output_size: tuple[int, int]) -> torch.Tensor:
        """levels: MLFD maps (shallow to deep) -> logits B x N_classes x H_out x W_out."""
        batch = levels[0].shape[0]
        tokens = self.query_tokens.weight.unsqueeze(0).expand(batch, -1, -1)
        previous: torch.Tensor | None = None
        for level in (2, 1, 0):
            features = levels[level] if previous is None else levels[level] + previous
            tokens, previous = self.stages[level](tokens, features, upsample=level > 0)
        return self.mask_head(tokens, previous, self.stages[0].upsample, output_size)
