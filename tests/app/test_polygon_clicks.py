"""Quick polygon clicks are vertices; only a double click on the same vertex, Enter or a
click on the first vertex finishes the polygon (issue 16, item 18)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from qtseg_app.state import Tool
from tests.app.helpers import _send_mouse, open_active

LEFT, NONE = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
Type = QtCore.QEvent.Type


def _click(canvas, x: float, y: float, *, second_of_quick_pair: bool = False) -> None:  # noqa: ANN001
    """A click at image pixel (x, y); ``second_of_quick_pair``: Qt saw it soon after the
    previous click and sends it as a double click, as it does for clicks 0.15 s apart."""
    point = canvas.widget_pos_of_pixel(x, y)
    press = Type.MouseButtonDblClick if second_of_quick_pair else Type.MouseButtonPress
    _send_mouse(canvas.viewport(), press, point, LEFT, LEFT)
    _send_mouse(canvas.viewport(), Type.MouseButtonRelease, point, LEFT, NONE)
    QtWidgets.QApplication.processEvents()


def test_quick_clicks_are_vertices_and_a_double_click_on_the_last_one_fills(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    canvas, mask = window.canvas, window.document.mask
    window.tools.set_tool(Tool.POLYGON)
    corners = [(40, 40), (160, 40), (160, 160), (40, 160)]
    for k, (x, y) in enumerate(corners):
        _click(canvas, x, y, second_of_quick_pair=k % 2 == 1)  # every second one is "quick"
    assert mask.sum() == 0  # nothing finished or dropped: four vertices so far
    _click(canvas, 40, 160, second_of_quick_pair=True)  # the same vertex again: finish
    assert mask[100, 100] == 1 and mask[150, 150] == 1 and mask[170, 100] == 0
    window.close()


def test_clicking_the_first_vertex_closes_and_two_points_are_kept(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    canvas, mask = window.canvas, window.document.mask
    window.tools.set_tool(Tool.POLYGON)
    _click(canvas, 30, 30)
    _click(canvas, 30, 30, second_of_quick_pair=True)  # a double click on one point
    _click(canvas, 120, 30)
    _click(canvas, 120, 120)
    assert mask.sum() == 0  # two points were not dropped: still building
    _click(canvas, 30, 30)  # back on the first vertex: closes the triangle
    assert mask[40, 100] == 1 and mask[100, 40] == 0
    window.close()
