"""How wide an object a click on a missed object means: the band search of the random walker.

A click on an empty mask says "the object is here", not how big it is, and the
walker's background band decides that size: a band of 12 px finds a 12 px blob
inside a 40 px brain lesion. So for a positive click with no mask near it the
walker is run with the band doubled a few times and the answer whose border
lies on the strongest image edges is kept (the object's outline, not the band's).
Wide bands are walked on a coarser grid, so each try costs about the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from scipy import ndimage

from qtseg_core.data.preprocess import match_channels
from qtseg_core.interactive.clicks import Click
from qtseg_core.interactive.walker_solver import object_chance


def near_mask(mask: np.ndarray, click: Click, distance: int) -> bool:
    """Whether the mask has a pixel within ``distance`` (a square window) of the click."""
    top, left = max(click.row - distance, 0), max(click.col - distance, 0)
    return bool(mask[top : click.row + distance + 1, left : click.col + distance + 1].any())


def edge_score(image: np.ndarray, mask: np.ndarray, click: Click) -> float:
    """Mean image gradient along the border of the part of ``mask`` holding ``click``."""
    labels, _ = ndimage.label(mask)
    if labels[click.row, click.col] == 0:
        return 0.0
    part = labels == labels[click.row, click.col]
    rows, cols = np.nonzero(part & ~ndimage.binary_erosion(part, border_value=1))
    if rows.size == 0:  # the part fills the whole image: no border
        return 0.0
    top, left = max(rows.min() - 3, 0), max(cols.min() - 3, 0)
    grey = match_channels(image[top : rows.max() + 4, left : cols.max() + 4], 3).mean(axis=-1)
    return float(ndimage.gaussian_gradient_magnitude(grey, 1.0)[rows - top, cols - left].mean())


def sharpest(image: np.ndarray, candidates: Sequence[np.ndarray], click: Click) -> np.ndarray:
    """The candidate mask whose border around ``click`` lies on the strongest edges."""
    scores = [edge_score(image, candidate, click) for candidate in candidates]
    return candidates[int(np.argmax(scores))]


def walk_coarse(
    features: np.ndarray, seeds: np.ndarray, clicks: Sequence[Click], scale: float, beta: float,
) -> np.ndarray:
    """(h, w) bool object side of the walker solved on a grid ``scale`` (< 1) times as fine.

    features (h, w, C) in [0, 1]; seeds (h, w) 0 / 1 object / 2 background;
    every click keeps its seed on the coarse grid.
    """
    height, width = seeds.shape
    small = (max(2, round(width * scale)), max(2, round(height * scale)))  # cv2: (w, h)
    coarse = cv2.resize(features, small, interpolation=cv2.INTER_AREA)
    coarse = coarse.reshape(small[1], small[0], features.shape[-1])
    coarse_seeds = cv2.resize(seeds.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST)
    for click in clicks:
        row = min(int(click.row * small[1] / height), small[1] - 1)
        col = min(int(click.col * small[0] / width), small[0] - 1)
        coarse_seeds[row, col] = 1 if click.positive else 2
    chances = object_chance(coarse, coarse_seeds.astype(np.int32), beta)
    return cv2.resize(chances.astype(np.float32), (width, height)) >= 0.5
