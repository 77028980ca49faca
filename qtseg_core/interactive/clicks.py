"""Clicks, as an annotator places them: a pixel and a side (object or background).

Also the two ways a click reaches a network: disks painted in a positive and
a negative map (the click-conditioned QTSeg's extra inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Radius (pixels, on the network's canvas) of the disk a click paints in its map.
CLICK_RADIUS = 5


@dataclass(frozen=True)
class Click:
    """One click at pixel (row, col); ``positive`` adds to the object, negative removes."""

    row: int
    col: int
    positive: bool = True


def disk(shape: tuple[int, int], row: float, col: float, radius: float) -> np.ndarray:
    """(H, W) bool: pixels whose centre lies within ``radius`` of (row, col)."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return (rows - row) ** 2 + (cols - col) ** 2 <= radius**2


def click_maps(
    clicks: Sequence[Click], shape: tuple[int, int], radius: float = CLICK_RADIUS,
    scale: float = 1.0, offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """(2, H, W) float32: disks of the positive clicks in plane 0, the negative ones in plane 1.

    ``scale`` and ``offset`` map a click's image pixel onto the map
    (map = (pixel - offset) * scale), for crops and resized canvases.
    """
    maps = np.zeros((2, *shape), dtype=np.float32)
    for click in clicks:
        row = (click.row + 0.5 - offset[0]) * scale - 0.5
        col = (click.col + 0.5 - offset[1]) * scale - 0.5
        maps[0 if click.positive else 1][disk(shape, row, col, radius)] = 1.0
    return maps


def enforce_clicks(mask: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
    """A copy of the (H, W) bool ``mask`` with every click's own pixel on the side it asked.

    Later clicks win where two fall on one pixel (the user changed their mind).
    """
    mask = mask.astype(bool, copy=True)
    for click in clicks:
        mask[click.row, click.col] = click.positive
    return mask


def check_click(click: Click, shape: tuple[int, ...]) -> None:
    """Raise a ValueError naming the click when it lies outside an image of ``shape``."""
    if not (0 <= click.row < shape[0] and 0 <= click.col < shape[1]):
        raise ValueError(
            f"Click at (row {click.row}, col {click.col}) is outside the "
            f"{shape[0]}x{shape[1]} image; give a pixel inside it."
        )
