"""The fast inference path: same masks as the eager model, less time.

BatchNorm is folded into the convolution before it (eval statistics become
the conv's weight scale and bias) and the model runs channels-last, which
lets oneDNN pick its fastest convolution kernels on the CPU. ``compile=True``
adds torch.compile (Inductor, weights frozen as constants) for batch jobs: it
fuses the decoder's LayerNorm/GELU passes but costs tens of seconds on first
use per input shape, so the app and ``qtseg predict`` leave it off by default.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from qtseg_core.models.blocks import ConvBNAct, ConvTransposeBNAct


@dataclass(frozen=True)
class InferenceModel:
    """A frozen network and the memory layout its inputs run fastest in.

    Calling it puts a B x C x H x W batch in that layout (a no-op when it
    already is) and returns the network's logits. The layout is held here,
    not attached to the network, so compiling the network cannot drop it.
    """

    network: nn.Module
    channels_last: bool

    def __call__(self, images: torch.Tensor, clicks: torch.Tensor | None = None) -> torch.Tensor:
        """Logits; ``clicks`` are a click-conditioned network's extra inputs (None: automatic)."""
        if clicks is None:
            return self.network(self.to_layout(images))
        return self.network(self.to_layout(images), self.to_layout(clicks))

    def to_layout(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` in the layout the network runs fastest with."""
        if self.channels_last:
            return images.contiguous(memory_format=torch.channels_last)
        return images


def prepare_for_inference(
    model: nn.Module, *, device: str | torch.device | None = None, channels_last: bool = True,
    compile: bool = False,
) -> InferenceModel:
    """A frozen copy of ``model`` for inference (on ``device``); the original is left untouched."""
    fast = copy.deepcopy(model).eval()
    if device is not None:
        fast = fast.to(device)
    for module in fast.modules():
        if isinstance(module, (ConvBNAct, ConvTransposeBNAct)):
            fold_batchnorm(module)
    for parameter in fast.parameters():
        parameter.requires_grad_(False)
    if channels_last:
        fast = fast.to(memory_format=torch.channels_last)
    return InferenceModel(_compiled(fast) if compile else fast, channels_last)


def _compiled(model: nn.Module) -> nn.Module:
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True  # weights are constants: lets Inductor pre-pack them
    return torch.compile(model, dynamic=False)


@torch.no_grad()
def fold_batchnorm(block: ConvBNAct | ConvTransposeBNAct) -> None:
    """Fold ``block.norm`` (eval statistics) into ``block.conv``; the norm becomes Identity."""
    norm, conv = block.norm, block.conv
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)  # C_out
    out_axis = 1 if isinstance(conv, nn.ConvTranspose2d) else 0
    shape = [1] * conv.weight.ndim
    shape[out_axis] = -1
    conv.weight.mul_(scale.reshape(shape))
    conv.bias = nn.Parameter(norm.bias - norm.running_mean * scale)
    block.norm = nn.Identity()

