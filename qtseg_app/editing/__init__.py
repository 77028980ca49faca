"""Qt-free mask editing: brush, fills, one-key clean-ups and a bounded undo history.

Masks are (H, W) uint8 arrays of class indices (0 = background). Operations
return a :class:`Change` (new values of a rectangle) or None when nothing
changes; :class:`MaskEditor` applies them, records undo steps as cropped
differences and returns the :class:`Rect` to repaint. Points are (x, y) =
(column, row) in image pixels. Nothing here imports Qt.
"""

from __future__ import annotations

from qtseg_app.editing.brush import stroke_change
from qtseg_app.editing.cleanup import (
    delete_component,
    fill_holes,
    grow,
    keep_largest,
    remove_islands,
    shrink,
)
from qtseg_app.editing.editor import MaskEditor
from qtseg_app.editing.fill import flood_fill, polygon_fill
from qtseg_app.editing.geometry import Change, Rect
from qtseg_app.editing.history import EditHistory

__all__ = [
    "Change",
    "EditHistory",
    "MaskEditor",
    "Rect",
    "delete_component",
    "fill_holes",
    "flood_fill",
    "grow",
    "keep_largest",
    "polygon_fill",
    "remove_islands",
    "shrink",
    "stroke_change",
]
