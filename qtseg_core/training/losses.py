"""The paper's loss: cross-entropy over the class logits + soft Dice on the foreground, 1 : 1.

Soft Dice matters for the small lesions of medical images: with cross-entropy
alone a model that predicts no foreground already scores a low loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - soft Dice of the foreground classes, averaged over classes.

    logits: (B, N, H, W) raw scores; target: (B, H, W) int64 class indices.
    Counts are summed over the whole batch (not per image) so a batch of
    images with empty masks does not produce a 0/0 loss; ``smooth`` keeps an
    all-background batch finite. Class 0 is the background and is left out.
    """
    probabilities = logits.float().softmax(dim=1)[:, 1:]  # B x (N-1) x H x W
    one_hot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].float()
    dims = (0, 2, 3)
    overlap = (probabilities * one_hot).sum(dims)
    total = probabilities.sum(dims) + one_hot.sum(dims)
    dice = (2 * overlap + smooth) / (total + smooth)  # (N-1,)
    return 1 - dice.mean()


class SegmentationLoss(nn.Module):
    """``ce_weight * CE + dice_weight * soft Dice``; returns the total and its parts for logging."""

    def __init__(self, *, ce_weight: float = 1.0, dice_weight: float = 1.0) -> None:
        super().__init__()
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight

    def forward(
        self, logits: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """logits (B, N, H, W), target (B, H, W) int64 -> (scalar loss, {"ce", "dice"})."""
        cross_entropy = F.cross_entropy(logits.float(), target)
        dice = soft_dice_loss(logits, target)
        total = self.ce_weight * cross_entropy + self.dice_weight * dice
        return total, {"ce": float(cross_entropy.detach()), "dice": float(dice.detach())}
