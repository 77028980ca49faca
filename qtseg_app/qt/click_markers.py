"""The click tool's markers on the canvas: a green + per positive click, a red − per negative.

They show the clicks of the current run (``ClickTool.markers_changed``) and go
when the run ends (another image, class, tool or edit).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui

from qtseg_app.qt.canvas import ImageCanvas
from qtseg_app.state.click_tool import ClickTool
from qtseg_core.interactive.clicks import Click

POSITIVE, NEGATIVE = (40, 220, 60), (235, 50, 50)
MARKER_SIZE = 14  # screen pixels


def _minus_symbol() -> QtGui.QPainterPath:
    """A horizontal bar as wide as pyqtgraph's '+' (its symbols span -0.5..0.5)."""
    path = QtGui.QPainterPath()
    path.addRect(-0.5, -0.1, 1.0, 0.2)
    return path


class _MarkerItem(pg.ScatterPlotItem):
    """Markers that never take a click: a click on a marker is a click on the image."""

    def mouseClickEvent(self, ev: object) -> None:  # noqa: N802 (Qt name)
        ev.ignore()


class ClickMarkers:
    """Draws ``clicks``' markers in ``canvas`` (over the overlay, under the cursor)."""

    def __init__(self, canvas: ImageCanvas, clicks: ClickTool) -> None:
        self.item = _MarkerItem(pxMode=True)
        self.item.setZValue(25)
        canvas.view.addItem(self.item)
        self._minus = _minus_symbol()
        clicks.markers_changed.connect(self.show)

    def show(self, clicks: list[Click]) -> None:
        # a pixel's centre is at (col + 0.5, row + 0.5) in the view
        self.item.setData([
            {"pos": (c.col + 0.5, c.row + 0.5), "symbol": "+" if c.positive else self._minus,
             "brush": pg.mkBrush(POSITIVE if c.positive else NEGATIVE),
             "pen": pg.mkPen((0, 0, 0), width=1), "size": MARKER_SIZE}
            for c in clicks
        ])

    @property
    def count(self) -> int:
        """Markers on screen."""
        return len(self.item.data)
