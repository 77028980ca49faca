"""Rectangles and changes: the currency between edit operations, history and the view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rect:
    """A pixel rectangle, rows ``top:bottom`` and columns ``left:right`` (ends exclusive).

    The GUI repaints only this region of the overlay after an edit.
    """

    top: int
    left: int
    bottom: int
    right: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index a (H, W) array: ``mask[rect.slices]``."""
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def empty(self) -> bool:
        return self.height <= 0 or self.width <= 0

    def union(self, other: Rect | None) -> Rect:
        """Smallest rectangle holding both (``other`` None gives self)."""
        if other is None:
            return self
        return Rect(min(self.top, other.top), min(self.left, other.left),
                    max(self.bottom, other.bottom), max(self.right, other.right))

    def clip(self, height: int, width: int) -> Rect:
        """This rectangle cut to an image of ``height`` x ``width``."""
        return Rect(max(self.top, 0), max(self.left, 0),
                    min(self.bottom, height), min(self.right, width))


@dataclass(frozen=True)
class Change:
    """New values for ``rect`` of a mask: what an edit operation proposes.

    Operations compute a Change without touching the mask, so
    :class:`~qtseg_app.editing.editor.MaskEditor` can keep the old values for undo.
    ``new`` is (rect.height, rect.width) with the mask's dtype.
    """

    rect: Rect
    new: np.ndarray


def bounding_rect(changed: np.ndarray, offset: tuple[int, int] = (0, 0)) -> Rect | None:
    """Bounding rectangle of the True pixels of ``changed`` (None when there are none).

    ``offset`` (top, left) places a cropped array back in image coordinates.
    """
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(changed.any(axis=0))
    top, left = offset
    return Rect(top + int(rows[0]), left + int(cols[0]),
                top + int(rows[-1]) + 1, left + int(cols[-1]) + 1)


def change_from_arrays(old: np.ndarray, new: np.ndarray,
                       offset: tuple[int, int] = (0, 0)) -> Change | None:
    """The Change turning ``old`` into ``new`` (same shape), cropped to what differs."""
    rect = bounding_rect(old != new)
    if rect is None:
        return None
    placed = Rect(rect.top + offset[0], rect.left + offset[1],
                  rect.bottom + offset[0], rect.right + offset[1])
    return Change(placed, np.ascontiguousarray(new[rect.slices]))
