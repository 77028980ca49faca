"""What turns clicks into a new mask: the Refiner protocol, the brush baseline, crops.

A refiner gets the image, the current mask of one class, every click so far
(the newest last) and, when there is one, the automatic model's probability of
that class; it returns the new mask. ``ClickSession`` calls it once a click.
A ``BoxRefiner`` also outlines the object inside a box the user drags.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from qtseg_core.interactive.clicks import Click, disk
from qtseg_core.pixel_rect import Rect

#: Radius in pixels of the disk the brush baseline paints per click.
BRUSH_RADIUS = 8


class Refiner(Protocol):
    """(image, current (H, W) bool mask, clicks, P(class) or None) -> new (H, W) bool mask."""

    name: str

    def refine(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None = None,
    ) -> np.ndarray: ...


class BoxRefiner(Refiner, Protocol):
    """A refiner that also takes a box prompt (``RandomWalkerRefiner``): ``outline`` draws
    the object inside the box, and ``refine(..., box=box)`` corrects it with the clicks
    that follow (the box began their run)."""

    def outline(
        self, image: np.ndarray, mask: np.ndarray, box: Rect,
        probability: np.ndarray | None = None,
    ) -> np.ndarray: ...

    def refine(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None = None, box: Rect | None = None,
    ) -> np.ndarray: ...


class BrushRefiner:
    """Today's tools: each click paints (positive) or erases (negative) a disk at the click."""

    name = "brush"

    def __init__(self, radius: float = BRUSH_RADIUS) -> None:
        self.radius = radius

    def refine(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None = None,
    ) -> np.ndarray:
        click = clicks[-1]
        painted = mask.astype(bool, copy=True)
        painted[disk(mask.shape, click.row, click.col, self.radius)] = click.positive
        return painted


def clicks_in(rect: Rect, clicks: Sequence[Click]) -> list[Click]:
    """The clicks in ``rect``'s own coordinates (for a refiner working in a crop)."""
    return [Click(c.row - rect.top, c.col - rect.left, c.positive) for c in clicks]


def object_crop(
    mask: np.ndarray, clicks: Sequence[Click], *, expand: float = 0.4, min_side: int = 48,
) -> Rect:
    """The window around the current object and the clicks (RITM's zoom-in).

    The bounding box of the mask's pixels and the click points, grown by
    ``expand`` of its size on every side and to at least ``min_side``,
    clipped to the image.
    """
    rows, cols = np.nonzero(mask)
    rows = np.concatenate([rows, [c.row for c in clicks]]).astype(int)
    cols = np.concatenate([cols, [c.col for c in clicks]]).astype(int)
    height, width = mask.shape
    top, bottom = _grown(rows.min(), rows.max() + 1, expand, min_side, height)
    left, right = _grown(cols.min(), cols.max() + 1, expand, min_side, width)
    return Rect(top, left, bottom, right)


def _grown(low: int, high: int, expand: float, min_side: int, limit: int) -> tuple[int, int]:
    side = max(high - low, 1)
    grow = max(int(round(side * expand)), (min_side - side + 1) // 2, 0)
    return max(0, low - grow), min(limit, high + grow)
