"""The decoder's attention between its N class tokens and H x W pixels, projected on the
tokens' side: the same function as ``attention.Attention``, with fewer multiply-adds.

Every attention of the decoder has N tokens (2 for a binary model) on one side
and every pixel of the stage on the other. ``Attention`` projects all the
pixels to the C/2-wide heads (HW x C x C/2 multiply-adds per projection); by
associativity the projection can move onto the tokens instead:

- tokens query the image (CTFA, the final attention): a score is
  q_hn . (W_k,h x + b_k,h) = (W_k,h^T q_hn) . x + q_hn . b_k,h, and, since each
  token's softmax weights P sum to 1, the attended value is
  W_v,h (P_hn X) + b_v,h;
- the image queries the tokens (CFTA): a score is x . (W_q,h^T k_hn) + b_q,h . k_hn,
  and the output W_o [sum_n P_hn v_hn] = sum_hn P_hn (W_o,h v_hn).

Either way the pixels meet an H_heads*N-wide matrix (16 for 8 heads and 2
classes) instead of a C/2-wide one: 2x fewer multiply-adds at stage 0, 8x at
stage 2.

The DMA block's channel branch (CAB) is Y = gamma A' X + X with A' a C x C
softmax of the channel affinity; its output reaches the tokens only through
such narrow matrices too (as keys and values of CTFA, as part of CFTA's query),
so A' moves onto them (``ChannelAttended``) and the C x C x HW product A' X is
never computed: at 512² 34 MFLOP per block, ~3-7 % of the default path's CPU time.

The logits agree with ``Attention``'s to float rounding. Inference only:
``prepare_for_inference`` swaps these in, sharing the modules (and so the
parameters and their names) of the ``Attention`` and DMA blocks they replace.
"""

from __future__ import annotations

import torch
from torch import nn

from qtseg_core.models.attention import Attention, DualMixAttention


class ChannelAttended:
    """CAB's output as pixel rows, Y = (gamma A' X + X)^T (B x HW x C), never formed.

    Every use of Y in a DMA block meets a narrow matrix (H_heads*N columns), so
    by associativity A' (C x C) moves onto that matrix and the C x C x HW product
    A' X is never computed. ``pixels`` is X (B x C x HW), ``weights`` A' (B x C x C).
    """

    def __init__(self, pixels: torch.Tensor, weights: torch.Tensor, gamma: torch.Tensor):
        self.pixels, self.weights, self.gamma = pixels, weights, gamma

    def read(self, rows: torch.Tensor) -> torch.Tensor:
        """rows @ Y^T: B x m x C -> B x m x HW."""
        return torch.bmm(self.gamma * torch.bmm(rows, self.weights) + rows, self.pixels)

    def pool(self, weights: torch.Tensor) -> torch.Tensor:
        """weights @ Y: B x m x HW -> B x m x C."""
        pooled = torch.bmm(weights, self.pixels.transpose(1, 2))  # B x m x C
        return self.gamma * torch.bmm(pooled, self.weights.transpose(1, 2)) + pooled

    def project(self, columns: torch.Tensor) -> torch.Tensor:
        """Y @ columns: B x C x m -> B x HW x m."""
        mixed = self.gamma * torch.bmm(self.weights.transpose(1, 2), columns) + columns
        return torch.bmm(self.pixels.transpose(1, 2), mixed)


def _read(rows: torch.Tensor, pixels: torch.Tensor | ChannelAttended) -> torch.Tensor:
    if isinstance(pixels, ChannelAttended):
        return pixels.read(rows)
    return torch.bmm(rows, pixels.transpose(1, 2))


def _pool(weights: torch.Tensor, pixels: torch.Tensor | ChannelAttended) -> torch.Tensor:
    if isinstance(pixels, ChannelAttended):
        return pixels.pool(weights)
    return torch.bmm(weights, pixels)


class _TokenSide(nn.Module):
    """Holds an ``Attention``'s projections, split into its heads."""

    def __init__(self, attention: Attention):
        super().__init__()
        self.num_heads = attention.num_heads
        self.query, self.key = attention.query, attention.key
        self.value, self.output = attention.value, attention.output

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """B x N x C/2 -> B x heads x N x d."""
        b, n, c = x.shape
        return x.reshape(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)

    def _weight_heads(self, linear: nn.Linear) -> torch.Tensor:
        """A C -> C/2 projection's weight as heads x d x C."""
        inner, dim = linear.weight.shape
        return linear.weight.reshape(self.num_heads, inner // self.num_heads, dim)


class TokensAttendToImage(_TokenSide):
    """``Attention(q=tokens, k=pixels, v=pixels)`` with the key/value projections on the tokens."""

    def forward(
        self, q: torch.Tensor, k: torch.Tensor | ChannelAttended, v: torch.Tensor | ChannelAttended
    ) -> torch.Tensor:
        """q: B x N x C tokens; k, v: B x HW x C pixels -> B x N x C."""
        b, n, _ = q.shape
        queries = self._heads(self.query(q))  # B x heads x N x d
        scale = queries.shape[-1] ** -0.5
        keys_weight = self._weight_heads(self.key)  # heads x d x C
        readers = torch.einsum("bhnd,hdc->bhnc", queries, keys_weight)  # B x heads x N x C
        offsets = queries @ self.key.bias.reshape(self.num_heads, -1, 1)  # B x heads x N x 1
        readers = readers.reshape(b, -1, readers.shape[-1])  # B x (heads N) x C
        scores = _read(readers, k).reshape(b, self.num_heads, n, -1)
        weights = torch.softmax((scores + offsets) * scale, dim=-1)  # B x heads x N x HW
        pooled = _pool(weights.reshape(b, -1, weights.shape[-1]), v)  # B x (heads N) x C
        pooled = pooled.reshape(b, self.num_heads, n, -1)
        values_weight = self._weight_heads(self.value)  # heads x d x C
        attended = torch.einsum("bhnc,hdc->bhnd", pooled, values_weight)
        attended = attended + self.value.bias.reshape(self.num_heads, 1, -1)
        return self.output(attended.transpose(1, 2).reshape(b, n, -1))


class ImageAttendsToTokens(_TokenSide):
    """``Attention(q=pixels, k=tokens, v=tokens)`` with the query/output projections on the
    tokens."""

    def forward(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
        q_channel: ChannelAttended | None = None,
    ) -> torch.Tensor:
        """q (+ ``q_channel``, a second term of the query): B x HW x C pixels; k, v: B x N x C
        tokens -> B x HW x C."""
        b, n = k.shape[:2]
        keys = self._heads(self.key(k))  # B x heads x N x d
        scale = keys.shape[-1] ** -0.5
        readers = torch.einsum("bhnd,hdc->bchn", keys, self._weight_heads(self.query))
        offsets = torch.einsum("bhnd,hd->bhn", keys, self.query.bias.reshape(self.num_heads, -1))
        columns = readers.reshape(b, readers.shape[1], -1)  # B x C x (heads N)
        scores = q @ columns  # B x HW x (heads N)
        if q_channel is not None:
            scores = scores + q_channel.project(columns)
        scores = (scores + offsets.reshape(b, 1, -1)) * scale
        weights = torch.softmax(scores.reshape(*scores.shape[:2], self.num_heads, n), dim=-1)
        values = self._heads(self.value(v))  # B x heads x N x d
        out_weight = self.output.weight.reshape(-1, self.num_heads, values.shape[-1])  # C h d
        writers = torch.einsum("bhnd,chd->bhnc", values, out_weight)  # B x heads x N x C
        out = weights.reshape(*scores.shape[:2], -1) @ writers.reshape(b, -1, writers.shape[-1])
        return out + self.output.bias


class TokenSideDualMix(nn.Module):
    """``DualMixAttention`` whose channel branch (CAB) is read through ``ChannelAttended``:
    the same function, without CAB's C x C x HW product (the parameters are the block's)."""

    def __init__(self, block: DualMixAttention):
        super().__init__()
        self.spatial_attention = block.spatial_attention
        self.channel_attention = block.channel_attention
        self.tokens_to_spatial = TokensAttendToImage(block.tokens_to_spatial)
        self.tokens_to_channel = TokensAttendToImage(block.tokens_to_channel)
        self.mix_norm, self.token_norm = block.mix_norm, block.token_norm
        self.token_mlp = block.token_mlp
        self.features_to_tokens = ImageAttendsToTokens(block.features_to_tokens)

    def forward(
        self, tokens: torch.Tensor, features: torch.Tensor, encoding: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """As ``DualMixAttention.forward``: tokens B x N x C; features, encoding B x C x H x W."""
        x = features + encoding
        pixels = x.flatten(2)  # B x C x HW
        cab = self.channel_attention
        channel = ChannelAttended(pixels, cab.channel_weights(pixels), cab.gamma)
        spatial = self.spatial_attention.gated(x, channel_mean_as_product(x))
        spatial = spatial.flatten(2).transpose(1, 2)  # B x HW x C
        mixed = self.mix_norm(
            self.tokens_to_spatial(tokens, spatial, spatial)
            + self.tokens_to_channel(tokens, channel, channel)
            + tokens
        )
        new_tokens = self.token_norm(self.token_mlp(mixed)) + tokens
        query = spatial + encoding.flatten(2).transpose(1, 2)
        update = self.features_to_tokens(query, mixed, mixed, q_channel=channel)  # B x HW x C
        new_features = features + update.transpose(1, 2).reshape(features.shape)
        return new_tokens, new_features


def channel_mean_as_product(x: torch.Tensor) -> torch.Tensor:
    """SAM's channel mean of X (B x C x H x W -> B x 1 x H x W) as the product (1/C, ..., 1/C) X:
    the same numbers to float rounding, and in ONNX Runtime a MatMul is cheaper than ReduceMean
    over the channel axis of an NCHW tensor (~3 % of the default path's CPU time at 512²)."""
    b, c, h, w = x.shape
    ones = torch.full((1, c), 1.0 / c, dtype=x.dtype, device=x.device)
    return (ones @ x.reshape(b, c, h * w)).reshape(b, 1, h, w)


def move_projections_to_tokens(decoder: nn.Module) -> None:
    """Swap every DMA block and final attention of ``decoder`` for its token-side form, in place."""
    for stage in decoder.stages:
        for i, block in enumerate(stage.blocks):
            stage.blocks[i] = TokenSideDualMix(block)
        stage.final_attention = TokensAttendToImage(stage.final_attention)
