"""The decoder's last upsampling and the mask head, computed per block of output pixels.

A ConvTranspose2d whose kernel equals its stride s gives every input pixel its
own s x s block of output pixels: one matrix product C_in -> s*s*C_out per
pixel, with no overlap between blocks. The last decoder stage's upsampling
(SUB: that deconvolution, LayerNorm2d, GELU; twice, to 64 channels at a quarter
of the input size) followed by the dot-product mask head can so run in a block
layout, B x H x W x (s x s)... x C, channels last: each deconvolution is one
matrix product, LayerNorm, GELU and the tokens' dot product run over the
contiguous last axis, and only the N-class logits are put back on the image
grid. The eager path instead transposes the 64-channel map to and from NCHW
around every LayerNorm; the largest map of the network is never transposed here.

The same sums over the same terms, so the logits agree to float rounding and
the parameters are the module path's own (``prepare_for_inference`` moves them).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from qtseg_core.models.blocks import LayerNorm2d


class DotProductMaskHead(nn.Module):
    """logits = tokens . features per pixel, bilinearly resized to the output size."""

    def forward(
        self, tokens: torch.Tensor, features: torch.Tensor, output_size: tuple[int, int]
    ) -> torch.Tensor:
        """tokens B x N x C, features B x C x h x w -> logits B x N x H_out x W_out."""
        b, c, h, w = features.shape
        logits = torch.bmm(tokens, features.reshape(b, c, h * w)).reshape(b, -1, h, w)
        return F.interpolate(logits, size=output_size, mode="bilinear", align_corners=False)


class PixelBlockMaskHead(nn.Module):
    """A stage's upsampling (k = s ConvTranspose2d, LayerNorm2d, GELU, repeated) and the
    dot-product mask head in the block layout (see the module docstring)."""

    def __init__(self, upsample: nn.Sequential):
        super().__init__()
        steps = list(upsample)
        self.deconvolutions = nn.ModuleList(steps[0::3])
        self.norms = nn.ModuleList(steps[1::3])
        self.activations = nn.ModuleList(steps[2::3])
        _check_steps(self.deconvolutions, self.norms)

    def forward(
        self, tokens: torch.Tensor, features: torch.Tensor, output_size: tuple[int, int]
    ) -> torch.Tensor:
        """tokens B x N x C, features B x C_in x h x w (before upsampling) -> B x N x H x W."""
        b, _, h, w = features.shape
        x = features.permute(0, 2, 3, 1)  # B x h x w x C_in (free when channels-last)
        for deconvolution, norm, activation in zip(
            self.deconvolutions, self.norms, self.activations, strict=True
        ):
            x = activation(_layer_norm(_deconvolve(x, deconvolution), norm))
        blocks = x.shape[3:-1]  # (s1, s1, s2, s2, ...)
        logits = torch.bmm(x.reshape(b, -1, x.shape[-1]), tokens.transpose(1, 2))
        logits = logits.reshape(b, h, w, *blocks, -1)  # B x h x w x (s_i, s_j)... x N
        steps = len(blocks) // 2
        rows = [1] + [3 + 2 * t for t in range(steps)]  # h, then each block's row offset
        columns = [2] + [4 + 2 * t for t in range(steps)]
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


def _check_steps(deconvolutions: nn.ModuleList, norms: nn.ModuleList) -> None:
    for deconvolution, norm in zip(deconvolutions, norms, strict=True):
        kernel, stride = deconvolution.kernel_size, deconvolution.stride
        if not isinstance(deconvolution, nn.ConvTranspose2d) or kernel != stride or \
                deconvolution.padding != (0, 0) or not isinstance(norm, LayerNorm2d):
            raise ValueError(
                f"PixelBlockMaskHead needs ConvTranspose2d with kernel = stride and no padding, "
                f"then LayerNorm2d; got {deconvolution} and {norm}.")


def move_last_upsampling_into_head(decoder: nn.Module) -> None:
    """Let ``decoder``'s mask head run its last stage's upsampling in the block layout.

    The stage then hands its features on before upsampling; the parameters move
    to ``decoder.mask_head`` (an inference-only change: a checkpoint is saved
    from the module path).
    """
    last_stage = decoder.stages[0]
    decoder.mask_head = PixelBlockMaskHead(last_stage.upsample)
    last_stage.upsample = nn.Identity()
