"""Rectangles and changes: the currency between edit operations, history and the view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qtseg_core.pixel_rect import Rect

__all__ = ["Change", "Rect", "bounding_rect", "change_from_arrays"]


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
