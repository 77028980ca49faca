"""Iterative click simulation for training a click-conditioned QTSeg (RITM / DeepEdit style).

Each training batch is split: a share of the samples gets no clicks (the
automatic mode, which the same model must keep serving); the others are first
zoomed, sometimes, onto their object (as the refinement crops at inference),
get their previous mask from the model's own prediction, one to a few first
clicks (random points inside/outside the object, or the robot user's click),
then a few rounds of corrective clicks placed by the robot user on the model's
own errors (forward passes without gradients). The last forward, with
gradients, is the one the loss sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from qtseg_core.interactive.clicks import CLICK_RADIUS, Click, click_maps
from qtseg_core.interactive.robot import next_click


@dataclass(frozen=True)
class ClickSimulation:
    """How clicks are simulated per batch (shares are per sample, counts uniform from 0/1)."""

    automatic_share: float = 0.25
    zoom_share: float = 0.5
    max_random_clicks: int = 3
    max_corrections: int = 2
    radius: float = CLICK_RADIUS

    def forward(
        self, model: nn.Module, images: torch.Tensor, masks: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Simulate clicks for a batch and run the model on them -> (logits, target masks).

        images: B x C x S x S in [-1, 1]; masks: B x S x S class indices. The
        targets differ from ``masks`` where a sample was zoomed onto its object.
        """
        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, ())))
        clicked = rng.random(images.shape[0]) >= self.automatic_share
        images, masks = self._zoom(images, masks, clicked, rng)
        target = _target_class_masks(masks, rng)  # B x S x S bool, the class being corrected
        clicks: list[list[Click]] = [[] for _ in range(images.shape[0])]
        keep = torch.from_numpy(clicked)[:, None, None].to(images.device)
        with torch.no_grad():
            previous = _foreground(model(images)) & keep
        for index in np.flatnonzero(clicked):
            clicks[index] = self._first_clicks(previous[index], target[index], rng)
        for _ in range(int(rng.integers(0, self.max_corrections + 1))):
            with torch.no_grad():
                previous = _foreground(model(images, self._maps(previous, clicks)))
            previous &= keep
            for index in np.flatnonzero(clicked):
                click = next_click(previous[index].cpu().numpy(), target[index].cpu().numpy())
                if click is not None:
                    clicks[index].append(click)
        return model(images, self._maps(previous, clicks)), masks

    def _first_clicks(
        self, previous: torch.Tensor, target: torch.Tensor, rng: np.random.Generator
    ) -> list[Click]:
        truth = target.cpu().numpy()
        if rng.random() < 0.5 or not truth.any():
            click = next_click(previous.cpu().numpy(), truth)
            return [] if click is None else [click]
        return random_clicks(truth, rng, self.max_random_clicks)

    def _maps(self, previous: torch.Tensor, clicks: list[list[Click]]) -> torch.Tensor:
        return click_inputs(previous, clicks, self.radius)

    def _zoom(
        self, images: torch.Tensor, masks: torch.Tensor, clicked: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        images, masks = images.clone(), masks.clone()
        for index in np.flatnonzero(clicked & (rng.random(len(clicked)) < self.zoom_share)):
            box = _object_box(masks[index], rng)
            if box is not None:
                images[index], masks[index] = _zoomed(images[index], masks[index], box)
        return images, masks


def click_inputs(
    previous: torch.Tensor, clicks: list[list[Click]], radius: float = CLICK_RADIUS
) -> torch.Tensor:
    """B x 3 x S x S, the model's extra inputs: previous mask, positive and negative click disks.

    previous: B x S x S bool; clicks: one list per sample, in canvas pixels.
    """
    shape = tuple(previous.shape[-2:])
    maps = np.stack([click_maps(c, shape, radius) for c in clicks])
    planes = torch.from_numpy(maps).to(previous.device)
    return torch.cat([previous[:, None].float(), planes], dim=1)


def random_clicks(truth: np.ndarray, rng: np.random.Generator, most: int) -> list[Click]:
    """1..most positive clicks inside the object, 0..most-1 negative ones outside it."""
    inside, outside = np.argwhere(truth), np.argwhere(~truth)
    clicks = [Click(int(r), int(c), True) for r, c in _pick(inside, rng, 1, most)]
    clicks += [Click(int(r), int(c), False) for r, c in _pick(outside, rng, 0, most - 1)]
    return clicks


def _pick(points: np.ndarray, rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    count = min(len(points), int(rng.integers(low, high + 1)))
    return points[rng.choice(len(points), size=count, replace=False)] if count else points[:0]


def _target_class_masks(masks: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """B x S x S bool: per sample, one foreground class present in it (class 1 when none)."""
    chosen = []
    for mask in masks:
        present = [int(c) for c in torch.unique(mask) if c > 0] or [1]
        chosen.append(present[int(rng.integers(len(present)))])
    return masks == torch.tensor(chosen, device=masks.device)[:, None, None]


def _foreground(logits: torch.Tensor) -> torch.Tensor:
    """B x S x S bool: where the model's argmax is a foreground class."""
    return logits.argmax(dim=1) > 0


def _object_box(mask: torch.Tensor, rng: np.random.Generator) -> tuple[int, int, int, int] | None:
    """A square window around the object, 1.6-4 times its side, at least 1/8 of the canvas."""
    rows, cols = torch.nonzero(mask > 0, as_tuple=True)
    if rows.numel() == 0:
        return None
    size = mask.shape[-1]
    top, bottom = int(rows.min()), int(rows.max()) + 1
    left, right = int(cols.min()), int(cols.max()) + 1
    side = max(bottom - top, right - left)
    side = min(size, max(size // 8, int(side * (1 + rng.uniform(0.6, 3.0)))))
    row = int(np.clip((top + bottom - side) // 2, 0, size - side))
    col = int(np.clip((left + right - side) // 2, 0, size - side))
    return row, col, row + side, col + side


def _zoomed(
    image: torch.Tensor, mask: torch.Tensor, box: tuple[int, int, int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The window resized to the canvas: image bilinear, renormalised to [-1, 1]; mask nearest."""
    top, left, bottom, right = box
    size = tuple(mask.shape[-2:])
    window = F.interpolate(image[None, :, top:bottom, left:right], size=size, mode="bilinear")[0]
    low, high = window.min(), window.max()
    window = (window - low) / (high - low) * 2 - 1 if high > low else torch.zeros_like(window)
    labels = mask[None, None, top:bottom, left:right].float()
    labels = F.interpolate(labels, size=size, mode="nearest")
    return window, labels[0, 0].to(mask.dtype)
