"""Attention pieces of the decoder: multi-head attention, SAM, CAB and the DMA block."""

from __future__ import annotations

import torch
from torch import nn


class Attention(nn.Module):
    """Multi-head attention that projects to half the width (SAM's downsampled attention).

    Separate q/k/v Linear C -> C/2 (with bias), ``num_heads`` heads,
    softmax(q k^T / sqrt(d_head)) v, output Linear C/2 -> C.
    """

    def __init__(self, *, dim: int, num_heads: int = 8):
        super().__init__()
        inner = dim // 2
        if inner % num_heads:
            raise ValueError(
                f"Attention width {inner} (dim={dim} // 2) does not divide into {num_heads} "
                "heads; choose num_heads that divides it, or a dim that is 2 x a multiple of it."
            )
        self.num_heads = num_heads
        self.query = nn.Linear(dim, inner)
        self.key = nn.Linear(dim, inner)
        self.value = nn.Linear(dim, inner)
        self.output = nn.Linear(inner, dim)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """q: B x N_q x C, k and v: B x N_kv x C -> B x N_q x C."""
        q, k, v = self._heads(self.query(q)), self._heads(self.key(k)), self._heads(self.value(v))
        # B x N_heads x N_q x N_kv; explicit matmuls (not SDPA) so FLOP counters see them
        weights = torch.softmax(q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5, dim=-1)
        attended = weights @ v  # B x N_heads x N_q x C_per_head
        b, h, n, c = attended.shape
        return self.output(attended.transpose(1, 2).reshape(b, n, h * c))

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)


class SpatialAttention(nn.Module):
    """SAM (CBAM style): X * sigmoid(conv7x7([mean_c X; max_c X])) + X."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size=7, padding=3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gated(x, x.mean(1, keepdim=True))

    def gated(self, x: torch.Tensor, channel_mean: torch.Tensor) -> torch.Tensor:
        """The output, given X's channel mean (B x 1 x H x W) however it was computed."""
        pooled = torch.cat([channel_mean, x.amax(1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled)) + x


class ChannelAttention(nn.Module):
    """CAB: channel affinity A = X X^T (C x C), softmax(rowmax(A) - A) as the published code,
    output gamma * (A' X) + X with gamma a learned scalar starting at 0."""

    def __init__(self) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        flat = x.reshape(b, c, h * w)
        mixed = torch.bmm(self.channel_weights(flat), flat)
        return self.gamma * mixed.reshape(b, c, h, w) + x

    @staticmethod
    def channel_weights(flat: torch.Tensor) -> torch.Tensor:
        """B x C x HW -> A' = softmax(rowmax(A) - A), A = X X^T: B x C x C."""
        affinity = torch.bmm(flat, flat.transpose(1, 2))  # B x C x C
        affinity = affinity.amax(-1, keepdim=True) - affinity
        return torch.softmax(affinity, dim=-1)


class TokenMLP(nn.Module):
    """Linear C -> hidden, GELU, Linear hidden -> C."""

    def __init__(self, *, dim: int, hidden_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class DualMixAttention(nn.Module):
    """One DMA block: tokens T (B x N x C) and features F (B x C x H x W) update each other.

    Both branches (spatial SAM and channel CAB) of X = F + P are read by the
    tokens (CTFA); the features then attend to the mixed tokens (CFTA).
    """

    def __init__(self, *, dim: int, num_heads: int, mlp_dim: int):
        super().__init__()
        self.spatial_attention = SpatialAttention()
        self.channel_attention = ChannelAttention()
        self.tokens_to_spatial = Attention(dim=dim, num_heads=num_heads)
        self.tokens_to_channel = Attention(dim=dim, num_heads=num_heads)
        self.mix_norm = nn.LayerNorm(dim)
        self.token_mlp = TokenMLP(dim=dim, hidden_dim=mlp_dim)
        self.token_norm = nn.LayerNorm(dim)
        self.features_to_tokens = Attention(dim=dim, num_heads=num_heads)

    def forward(
        self, tokens: torch.Tensor, features: torch.Tensor, encoding: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = features + encoding
        spatial = _flat(self.spatial_attention(x))  # B x HW x C
        channel = _flat(self.channel_attention(x))
        mixed = self.mix_norm(
            self.tokens_to_spatial(tokens, spatial, spatial)
            + self.tokens_to_channel(tokens, channel, channel)
            + tokens
        )
        new_tokens = self.token_norm(self.token_mlp(mixed)) + tokens
        query = spatial + channel + _flat(encoding)
        update = self.features_to_tokens(query, mixed, mixed)  # B x HW x C
        new_features = features + update.transpose(1, 2).reshape(features.shape)
        return new_tokens, new_features


def _flat(x: torch.Tensor) -> torch.Tensor:
    """B x C x H x W -> B x HW x C."""
    return x.flatten(2).transpose(1, 2)
