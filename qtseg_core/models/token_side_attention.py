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
stage 2. The logits agree with ``Attention``'s to float rounding. Inference
only: ``prepare_for_inference`` swaps these in, sharing the Linear layers (and
so the parameters and their names) of the ``Attention`` they replace.
"""

from __future__ import annotations

import torch
from torch import nn

from qtseg_core.models.attention import Attention


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

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """q: B x N x C tokens; k, v: B x HW x C pixels -> B x N x C."""
        b, n, _ = q.shape
        queries = self._heads(self.query(q))  # B x heads x N x d
        scale = queries.shape[-1] ** -0.5
        keys_weight = self._weight_heads(self.key)  # heads x d x C
        readers = torch.einsum("bhnd,hdc->bhnc", queries, keys_weight)  # B x heads x N x C
        offsets = queries @ self.key.bias.reshape(self.num_heads, -1, 1)  # B x heads x N x 1
        readers = readers.reshape(b, -1, readers.shape[-1])  # B x (heads N) x C
        scores = torch.bmm(readers, k.transpose(1, 2)).reshape(b, self.num_heads, n, -1)
        weights = torch.softmax((scores + offsets) * scale, dim=-1)  # B x heads x N x HW
        pooled = torch.bmm(weights.reshape(b, -1, weights.shape[-1]), v)  # B x (heads N) x C
        pooled = pooled.reshape(b, self.num_heads, n, -1)
        values_weight = self._weight_heads(self.value)  # heads x d x C
        attended = torch.einsum("bhnc,hdc->bhnd", pooled, values_weight)
        attended = attended + self.value.bias.reshape(self.num_heads, 1, -1)
        return self.output(attended.transpose(1, 2).reshape(b, n, -1))


class ImageAttendsToTokens(_TokenSide):
    """``Attention(q=pixels, k=tokens, v=tokens)`` with the query/output projections on the
    tokens."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """q: B x HW x C pixels; k, v: B x N x C tokens -> B x HW x C."""
        b, n = k.shape[:2]
        keys = self._heads(self.key(k))  # B x heads x N x d
        scale = keys.shape[-1] ** -0.5
        readers = torch.einsum("bhnd,hdc->bchn", keys, self._weight_heads(self.query))
        offsets = torch.einsum("bhnd,hd->bhn", keys, self.query.bias.reshape(self.num_heads, -1))
        scores = q @ readers.reshape(b, readers.shape[1], -1)  # B x HW x (heads N)
        scores = (scores + offsets.reshape(b, 1, -1)) * scale
        weights = torch.softmax(scores.reshape(*scores.shape[:2], self.num_heads, n), dim=-1)
        values = self._heads(self.value(v))  # B x heads x N x d
        out_weight = self.output.weight.reshape(-1, self.num_heads, values.shape[-1])  # C h d
        writers = torch.einsum("bhnd,chd->bhnc", values, out_weight)  # B x heads x N x C
        out = weights.reshape(*scores.shape[:2], -1) @ writers.reshape(b, -1, writers.shape[-1])
        return out + self.output.bias


def move_projections_to_tokens(decoder: nn.Module) -> None:
    """Swap every token/pixel attention of ``decoder`` for its token-side form, in place."""
    for stage in decoder.stages:
        for block in stage.blocks:
            block.tokens_to_spatial = TokensAttendToImage(block.tokens_to_spatial)
            block.tokens_to_channel = TokensAttendToImage(block.tokens_to_channel)
            block.features_to_tokens = ImageAttendsToTokens(block.features_to_tokens)
        stage.final_attention = TokensAttendToImage(stage.final_attention)
