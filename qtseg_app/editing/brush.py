"""Brush and eraser: round stamps swept along a mouse segment.

Points are (x, y) in continuous image coordinates where pixel (row r, col c)
covers x in [c, c+1) and y in [r, r+1), as pyqtgraph's ImageItem draws it
(row-major). Only the segment's bounding box is touched, so a stamp on a
2048² mask costs microseconds.
"""

from __future__ import annotations

import math

import numpy as np

from qtseg_app.editing.geometry import Change, Rect, change_from_arrays

Point = tuple[float, float]

# Long segments (fast mouse moves) are swept piecewise so that distances are
# only computed near the stroke, never over the whole bounding box of a diagonal.
_PIECE_RADII = 4.0


def stroke_change(mask: np.ndarray, start: Point, end: Point, radius: float, value: int,
                  *, replace: int | None = None) -> Change | None:
    """Set pixels within ``radius`` of the segment start→end to ``value``.

    Brush for class k: ``value=k``. Eraser: ``value=0`` (``replace=k`` erases
    only class k and leaves other classes alone). Returns None when nothing changes.
    """
    radius = max(float(radius), 0.5)
    bounds = _segment_rect(start, end, radius).clip(*mask.shape[:2])
    if bounds.empty:
        return None
    patch = mask[bounds.slices].copy()
    for piece_start, piece_end in _pieces(start, end, radius):
        _stamp_segment(patch, bounds, piece_start, piece_end, radius, value, replace)
    return change_from_arrays(mask[bounds.slices], patch, (bounds.top, bounds.left))


def _segment_rect(start: Point, end: Point, radius: float) -> Rect:
    """Pixels that a capsule of ``radius`` around the segment can reach."""
    (x0, y0), (x1, y1) = start, end
    return Rect(math.floor(min(y0, y1) - radius), math.floor(min(x0, x1) - radius),
                math.ceil(max(y0, y1) + radius) + 1, math.ceil(max(x0, x1) + radius) + 1)


def _pieces(start: Point, end: Point, radius: float) -> list[tuple[Point, Point]]:
    """Split a segment into parts no longer than a few radii."""
    length = math.dist(start, end)
    count = max(1, math.ceil(length / (_PIECE_RADII * radius)))
    xs = np.linspace(start[0], end[0], count + 1)
    ys = np.linspace(start[1], end[1], count + 1)
    return [((xs[i], ys[i]), (xs[i + 1], ys[i + 1])) for i in range(count)]


def _stamp_segment(patch: np.ndarray, bounds: Rect, start: Point, end: Point, radius: float,
                   value: int, replace: int | None) -> None:
    """Paint one capsule into ``patch`` (which shows ``bounds`` of the mask), in place."""
    local = _segment_rect(start, end, radius).clip(bounds.bottom, bounds.right)
    local = Rect(max(local.top, bounds.top), max(local.left, bounds.left), local.bottom,
                 local.right)
    if local.empty:
        return
    inside = _capsule(local, start, end, radius)
    view = patch[local.top - bounds.top:local.bottom - bounds.top,
                 local.left - bounds.left:local.right - bounds.left]
    if replace is not None:
        inside &= view == replace
    view[inside] = value


def _capsule(rect: Rect, start: Point, end: Point, radius: float) -> np.ndarray:
    """(rect.height, rect.width) bool: pixel centres within ``radius`` of the segment."""
    ys = np.arange(rect.top, rect.bottom, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(rect.left, rect.right, dtype=np.float32)[None, :] + 0.5
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 == 0:
        t = np.zeros((1, 1), np.float32)
    else:
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
    return (xs - x0 - t * dx) ** 2 + (ys - y0 - t * dy) ** 2 <= radius * radius
