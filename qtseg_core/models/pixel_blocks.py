"""The decoder's last upsampling and the mask head, computed per block of output pixels.

A ConvTranspose2d whose kernel equals its stride s gives every input pixel its
own s x s block of output pixels: one matrix product C_in -> s*s*C_out per
pixel, with no overlap between blocks. The last decoder stage's upsampling
(SUB: that deconvolution, LayerNorm2d, GELU; twice, to 64 channels at a quarter
of the input size) followed by the dot-product mask head can so run in a block
layout, B x H x W x (s x s)... x C, channels last: each deconvolution is one
matrix product, LayerNorm, GELU and the tokens' dot product run over the
contiguous last axis, and only the N-class logits are put back on the image
grid. Upsampling on the image grid and then taking the dot product would
transpose the 64-channel map to and from NCHW around every LayerNorm and run
GELU and the deconvolutions' backward over those strided maps; here the
largest map of the network is never transposed.

The decoder (``MaskDecoder``) runs its last stage this way in training and in
inference alike. The same sums over the same terms as upsampling and then
the dot product, so the logits agree to float rounding, and the parameters
stay the stage's own, so checkpoints keep their names. Training gains most:
the backward pass over the transposed maps cost the most (figures in
``benchmarks/train_speed.py``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from qtseg_core.models.blocks import LayerNorm2d


class PixelBlockMaskHead(nn.Module):
    """The last stage's upsampling (k = s ConvTranspose2d, LayerNorm2d, GELU, repeated) and the
    dot-product mask head in the block layout (see the module docstring). It has no
    parameters of its own: it runs the stage's ``upsample`` modules, which keep their place
    (and their checkpoint names) in the stage."""

    def forward(
        self, tokens: torch.Tensor, features: torch.Tensor, upsample: nn.Sequential,
        output_size: tuple[int, int],
    ) -> torch.Tensor:
        """tokens B x N x C, features B x C_in x h x w (before ``upsample``) -> B x N x H x W."""
        b, _, h, w = features.shape
        steps = list(upsample)
        x = features.permute(0, 2, 3, 1)  # B x h x w x C_in (free when channels-last)
        for deconvolution, norm, activation in zip(steps[0::3], steps[1::3], steps[2::3],
                                                   strict=True):
            x = activation(_layer_norm(_deconvolve(x, deconvolution), norm))
        blocks = x.shape[3:-1]  # (s1, s1, s2, s2, ...)
        logits = torch.bmm(x.reshape(b, -1, x.shape[-1]), tokens.transpose(1, 2))
        logits = logits.reshape(b, h, w, *blocks, -1)  # B x h x w x (s_i, s_j)... x N
        depth = len(blocks) // 2
        rows = [1] + [3 + 2 * t for t in range(depth)]  # h, then each block's row offset
        columns = [2] + [4 + 2 * t for t in range(depth)]
        grid = logits.permute(0, logits.ndim - 1, *rows, *columns)
        scale = math.prod(blocks[0::2])
        grid = grid.reshape(b, -1, h * scale, w * scale)
        return F.interpolate(grid, size=output_size, mode="bilinear", align_corners=False)


def _deconvolve(x: torch.Tensor, deconvolution: nn.ConvTranspose2d) -> torch.Tensor:
    """(..., C_in) -> (..., s, s, C_out): each pixel's own s x s output block."""
    c_in, c_out, s, _ = deconvolution.weight.shape
    weight = deconvolution.weight.permute(0, 2, 3, 1).reshape(c_in, s * s * c_out)
    rows = x.reshape(-1, c_in)  # one 2-D product, which runtimes fuse with the bias
    if deconvolution.bias is None:
        out = rows @ weight
    else:
        out = torch.addmm(deconvolution.bias.repeat(s * s), rows, weight)
    return out.reshape(*x.shape[:-1], s, s, c_out)


def _layer_norm(x: torch.Tensor, norm: LayerNorm2d) -> torch.Tensor:
    """LayerNorm2d over the channels, here the last axis."""
    return F.layer_norm(x, norm.weight.shape, norm.weight, norm.bias, norm.eps)


def check_block_upsampling(upsample: nn.Sequential) -> None:
    """Refuse an upsampling whose output pixels are not each one input pixel's own block."""
    steps = list(upsample)
    for deconvolution, norm in zip(steps[0::3], steps[1::3], strict=True):
        if not isinstance(deconvolution, nn.ConvTranspose2d) or \
                deconvolution.kernel_size != deconvolution.stride or \
                deconvolution.padding != (0, 0) or not isinstance(norm, LayerNorm2d):
            raise ValueError(
                f"PixelBlockMaskHead needs ConvTranspose2d with kernel = stride and no padding, "
                f"then LayerNorm2d; got {deconvolution} and {norm}.")
