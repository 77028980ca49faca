"""One-key clean-ups of one class: fill holes, drop islands, keep the largest, grow, shrink.

Each works on the bounding box of the class (plus a margin), never the whole
image, and returns a :class:`Change` or None when the mask is already clean.
Components are 8-connected.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from qtseg_app.editing.fill import region_at
from qtseg_app.editing.geometry import Change, Rect, change_from_arrays

Point = tuple[float, float]


def fill_holes(mask: np.ndarray, label: int) -> Change | None:
    """Background pixels enclosed by class ``label`` become ``label``.

    Other classes inside are kept (a nested structure is not a hole).
    """
    bounds = _class_rect(mask, label, margin=1)
    if bounds is None:
        return None
    old = mask[bounds.slices]
    return _set_where(old, _enclosed(old != label) & (old == 0), label, bounds)


def remove_islands(mask: np.ndarray, label: int, min_pixels: int) -> Change | None:
    """Components of class ``label`` smaller than ``min_pixels`` become background."""
    bounds = _class_rect(mask, label)
    if bounds is None:
        return None
    old = mask[bounds.slices]
    components, sizes = _components(old == label)
    small = sizes < min_pixels
    small[0] = False  # id 0 is everything that is not this class
    return _set_where(old, small[components], 0, bounds)


def keep_largest(mask: np.ndarray, label: int) -> Change | None:
    """Only the largest component of class ``label`` stays; the rest becomes background."""
    bounds = _class_rect(mask, label)
    if bounds is None:
        return None
    old = mask[bounds.slices]
    components, sizes = _components(old == label)
    if len(sizes) <= 2:
        return None
    largest = 1 + int(np.argmax(sizes[1:]))
    return _set_where(old, (components > 0) & (components != largest), 0, bounds)


def delete_component(mask: np.ndarray, point: Point) -> Change | None:
    """The component (of any class) under ``point`` becomes background."""
    row, col = math.floor(point[1]), math.floor(point[0])
    height, width = mask.shape[:2]
    if not (0 <= row < height and 0 <= col < width) or mask[row, col] == 0:
        return None
    bounds, inside = region_at(mask, row, col, connectivity=8)
    return _set_where(mask[bounds.slices], inside, 0, bounds)


def grow(mask: np.ndarray, label: int, pixels: int) -> Change | None:
    """Dilate class ``label`` by ``pixels`` (a disc) into background only."""
    bounds = _class_rect(mask, label, margin=pixels + 1)
    if bounds is None or pixels <= 0:
        return None
    old = mask[bounds.slices]
    grown = cv2.dilate((old == label).view(np.uint8), _disc(pixels)).view(bool)
    return _set_where(old, grown & (old == 0), label, bounds)


def shrink(mask: np.ndarray, label: int, pixels: int) -> Change | None:
    """Erode class ``label`` by ``pixels`` (a disc); the image border does not erode."""
    bounds = _class_rect(mask, label, margin=pixels + 1)
    if bounds is None or pixels <= 0:
        return None
    old = mask[bounds.slices]
    inside = old == label
    kept = cv2.erode(inside.view(np.uint8), _disc(pixels)).view(bool)
    return _set_where(old, inside & ~kept, 0, bounds)


def _class_rect(mask: np.ndarray, label: int, margin: int = 0) -> Rect | None:
    """Bounding box of class ``label`` grown by ``margin`` (None when it is absent)."""
    x, y, w, h = cv2.boundingRect((mask == label).view(np.uint8))
    if w == 0 or h == 0:
        return None
    return Rect(y - margin, x - margin, y + h + margin, x + w + margin).clip(*mask.shape[:2])


def _enclosed(outside_class: np.ndarray) -> np.ndarray:
    """Pixels of ``outside_class`` not 4-connected to the border: the holes."""
    padded = np.pad(outside_class, 1).view(np.uint8)
    padded[0, :] = padded[-1, :] = padded[:, 0] = padded[:, -1] = 1
    reached = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    cv2.floodFill(padded, reached, (0, 0), 0, 0, 0, flags)
    return outside_class & (reached[2:-2, 2:-2] == 0)


def _components(inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected component ids (0 = outside) and pixel counts per id."""
    _, components, stats, _ = cv2.connectedComponentsWithStats(inside.view(np.uint8),
                                                                connectivity=8)
    return components, stats[:, cv2.CC_STAT_AREA]


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _set_where(old: np.ndarray, where: np.ndarray, value: int, bounds: Rect) -> Change | None:
    new = old.copy()
    new[where] = value
    return change_from_arrays(old, new, (bounds.top, bounds.left))
