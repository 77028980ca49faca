"""MaskEditor: one image's editable mask, its strokes and its undo history."""

from __future__ import annotations

import numpy as np

from qtseg_app.editing.brush import Point, stroke_change
from qtseg_app.editing.geometry import Change, Rect, change_from_arrays
from qtseg_app.editing.history import EditHistory


class MaskEditor:
    """Applies :class:`Change` objects to a mask and makes them undoable.

    A brush stroke (mouse press → moves → release) is one undo step:
    :meth:`stroke` paints each mouse segment at once (cheap: only its
    rectangle) and :meth:`end_stroke` records the whole stroke. Every method
    that changes the mask returns the :class:`Rect` to repaint (None: nothing
    changed). ``revision`` grows with every change so the GUI knows what to save.
    """

    def __init__(self, mask: np.ndarray, *, history: EditHistory | None = None) -> None:
        if mask.ndim != 2:
            raise ValueError(f"mask must be (H, W) class indices, got shape {mask.shape}")
        self.mask = np.ascontiguousarray(mask, dtype=np.uint8)
        self.history = history if history is not None else EditHistory()
        self.revision = 0
        self._stroke: list[tuple[Rect, np.ndarray]] | None = None

    def apply(self, change: Change | None, label: str = "edit") -> Rect | None:
        """Apply one operation's change as one undo step (ends a stroke in progress)."""
        self.end_stroke()
        if change is None:
            return None
        old = self.mask[change.rect.slices].copy()
        self.mask[change.rect.slices] = change.new
        self.history.push(change.rect, old, change.new, label)
        self.revision += 1
        return change.rect

    def stroke(self, start: Point, end: Point, radius: float, value: int,
               *, replace: int | None = None) -> Rect | None:
        """Paint one mouse segment of the current stroke (starts one if needed)."""
        if self._stroke is None:
            self._stroke = []
        change = stroke_change(self.mask, start, end, radius, value, replace=replace)
        if change is None:
            return None
        self._stroke.append((change.rect, self.mask[change.rect.slices].copy()))
        self.mask[change.rect.slices] = change.new
        self.revision += 1
        return change.rect

    def end_stroke(self, label: str = "brush") -> Rect | None:
        """Close the current stroke as one undo step; the union rect it changed."""
        pieces, self._stroke = self._stroke, None
        if not pieces:
            return None
        union = pieces[0][0]
        for rect, _ in pieces[1:]:
            union = union.union(rect)
        before = self.mask[union.slices].copy()
        for rect, old in reversed(pieces):
            before[rect.top - union.top:rect.bottom - union.top,
                   rect.left - union.left:rect.right - union.left] = old
        net = change_from_arrays(before, self.mask[union.slices], (union.top, union.left))
        if net is not None:
            self.history.push(net.rect, before[_local(net.rect, union)], net.new, label)
        return union

    @property
    def stroking(self) -> bool:
        """True between the first :meth:`stroke` and :meth:`end_stroke`."""
        return self._stroke is not None

    def undo(self) -> Rect | None:
        """Undo the last step (ends a stroke in progress first)."""
        self.end_stroke()
        rect = self.history.undo(self.mask)
        self.revision += rect is not None
        return rect

    def redo(self) -> Rect | None:
        """Redo the last undone step."""
        self.end_stroke()
        rect = self.history.redo(self.mask)
        self.revision += rect is not None
        return rect


def _local(rect: Rect, outer: Rect) -> tuple[slice, slice]:
    """Slices of ``rect`` inside an array that shows ``outer``."""
    return (slice(rect.top - outer.top, rect.bottom - outer.top),
            slice(rect.left - outer.left, rect.right - outer.left))
