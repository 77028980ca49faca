"""Polygon / lasso fill and flood fill (same coordinates as :mod:`.brush`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from qtseg_app.editing.geometry import Change, Rect, change_from_arrays

Point = tuple[float, float]
_SHIFT = 4  # cv2 sub-pixel bits: vertices are placed to 1/16 pixel


def polygon_fill(mask: np.ndarray, points: Sequence[Point], value: int,
                 *, replace: int | None = None) -> Change | None:
    """Fill the closed polygon (or lasso path) through ``points`` with ``value``.

    Pixels under the outline are included, as a user drawing it expects.
    ``replace`` limits the fill to pixels of that class (e.g. erase a region of
    class k only). Needs at least 3 points; fewer changes nothing.
    """
    if len(points) < 3:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    bounds = Rect(math.floor(min(ys)), math.floor(min(xs)),
                  math.ceil(max(ys)) + 1, math.ceil(max(xs)) + 1).clip(*mask.shape[:2])
    if bounds.empty:
        return None
    inside = np.zeros((bounds.height, bounds.width), np.uint8)
    scale = 1 << _SHIFT
    vertices = np.array([[(x - 0.5 - bounds.left) * scale, (y - 0.5 - bounds.top) * scale]
                         for x, y in points]).round().astype(np.int32)
    cv2.fillPoly(inside, [vertices], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    return _apply_where(mask, bounds, inside.astype(bool), value, replace)


def flood_fill(mask: np.ndarray, point: Point, value: int) -> Change | None:
    """Give ``value`` to the 4-connected region of equal label under ``point``.

    Clicking inside a hole of a lesion fills the hole; clicking a lesion
    relabels that lesion. None when outside the image or already ``value``.
    """
    row, col = math.floor(point[1]), math.floor(point[0])
    height, width = mask.shape[:2]
    if not (0 <= row < height and 0 <= col < width) or mask[row, col] == value:
        return None
    bounds, inside = region_at(mask, row, col, connectivity=4)
    return _apply_where(mask, bounds, inside, value, None)


def region_at(mask: np.ndarray, row: int, col: int, *, connectivity: int
              ) -> tuple[Rect, np.ndarray]:
    """Connected pixels of the label at (row, col): their bounding box and a bool crop."""
    height, width = mask.shape[:2]
    region = np.zeros((height + 2, width + 2), np.uint8)
    flags = connectivity | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    _, _, _, (x, y, w, h) = cv2.floodFill(np.ascontiguousarray(mask), region, (col, row), 0,
                                          0, 0, flags)
    bounds = Rect(y, x, y + h, x + w)
    return bounds, region[1 + y:1 + y + h, 1 + x:1 + x + w] > 0


def _apply_where(mask: np.ndarray, bounds: Rect, inside: np.ndarray, value: int,
                 replace: int | None) -> Change | None:
    """Change of ``bounds`` setting ``inside`` pixels (of class ``replace``) to ``value``."""
    old = mask[bounds.slices]
    if replace is not None:
        inside = inside & (old == replace)
    new = old.copy()
    new[inside] = value
    return change_from_arrays(old, new, (bounds.top, bounds.left))
