"""A box prompt: the user drags a box around the object, the random walker outlines it.

Outside the box, beyond a margin of ``BOX_MARGIN`` pixels (a dragged box is
seldom exact), seeds the background; the box's central part seeds the object
(a box drawn around an object has the object at its middle). The walker
decides the rest along the image's edges and those of the model's probability
map, as it does for clicks (``random_walker``). Only the box and its margin
change: the mask outside them is left as it was, so other objects of the
class stay. Large boxes are walked on a coarser grid (``band_search.walk_coarse``),
so a box costs about what a click costs.
"""

from __future__ import annotations

import numpy as np

from qtseg_core.interactive.band_search import walk_coarse
from qtseg_core.interactive.walker_solver import walk_labels
from qtseg_core.pixel_rect import Rect

OBJECT, BACKGROUND = 1, 2  # the walker's seed labels (random_walker.py uses these)

#: Pixels past the box's edge that may still be object (the drag's slack).
BOX_MARGIN = 3
#: The object seed: the box's middle, this share of its height and of its width.
CORE_SHARE = 0.2
#: Boxes whose crop is longer than this many pixels are walked on a coarser grid.
MAX_WALK_SIDE = 120


def check_box(box: Rect, shape: tuple[int, ...]) -> Rect:
    """The box cut to an image of ``shape``; a ValueError naming it when too little is left."""
    inside = box.clip(int(shape[0]), int(shape[1]))
    if inside.height < 2 or inside.width < 2:
        raise ValueError(
            f"Box rows {box.top}:{box.bottom}, columns {box.left}:{box.right} leaves less than "
            f"2x2 pixels inside the {shape[0]}x{shape[1]} image; drag a box around the object."
        )
    if inside.shape == (int(shape[0]), int(shape[1])):
        raise ValueError(
            f"Box rows {box.top}:{box.bottom}, columns {box.left}:{box.right} covers the whole "
            f"{shape[0]}x{shape[1]} image, so nothing says what is background; drag a box "
            "around one object."
        )
    return inside


def grown(box: Rect, pixels: int, shape: tuple[int, ...]) -> Rect:
    """The box grown by ``pixels`` on every side, cut to the image."""
    return Rect(box.top - pixels, box.left - pixels,
                box.bottom + pixels, box.right + pixels).clip(int(shape[0]), int(shape[1]))


def box_core(shape: tuple[int, int], box: Rect, share: float) -> np.ndarray:
    """(h, w) bool: the box's middle, ``share`` of its height and width (at least its centre
    pixel): where a box drawn around an object has the object."""
    core = np.zeros(shape, dtype=bool)
    half_h, half_w = share * box.height / 2, share * box.width / 2
    middle_row, middle_col = (box.top + box.bottom - 1) / 2, (box.left + box.right - 1) / 2
    top, left = max(int(round(middle_row - half_h)), 0), max(int(round(middle_col - half_w)), 0)
    core[top : int(round(middle_row + half_h)) + 1, left : int(round(middle_col + half_w)) + 1] = 1
    return core


def box_seeds(shape: tuple[int, int], box: Rect, margin: int, share: float) -> np.ndarray:
    """(h, w) int32 seeds in a crop: BACKGROUND beyond the box and its margin, OBJECT on the
    box's middle (``box_core``), 0 between."""
    seeds = np.full(shape, BACKGROUND, dtype=np.int32)
    seeds[grown(box, margin, shape).slices] = 0
    seeds[box_core(shape, box, share)] = OBJECT
    return seeds


def walk_box(features: np.ndarray, seeds: np.ndarray, beta: float) -> np.ndarray:
    """(h, w) bool object side of the walker from ``seeds`` over ``features`` (h, w, C)."""
    longer = max(seeds.shape)
    if longer > MAX_WALK_SIDE:
        return walk_coarse(features, seeds, [], MAX_WALK_SIDE / longer, beta)
    return walk_labels(features, seeds, beta) == OBJECT
