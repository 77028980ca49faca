"""Run by test_crash_recovery in a subprocess: paint strokes in the real app, then hang.

Usage: python crash_session.py WORKSPACE STROKES. Prints "saved <n>" after each
autosave and "stroking" once a last stroke is pressed but not released; the test
then kills the process with SIGKILL.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from qtseg_app.qt.app import open_window  # noqa: E402
from tests.app.helpers import _send_mouse, drag_on_canvas  # noqa: E402


def stroke_row(index: int) -> float:
    """Image row of stroke ``index`` (horizontal strokes 12 pixels apart)."""
    return 40.0 + 12.0 * index


def main() -> None:
    folder, strokes = Path(sys.argv[1]), int(sys.argv[2])
    app = QtWidgets.QApplication([])
    window = open_window(folder)
    window.session.tool_settings.set_radius(3)
    saves = []
    window.saved.connect(lambda image_id: (saves.append(image_id),
                                           print(f"saved {len(saves)}", flush=True)))
    for index in range(strokes):
        y = stroke_row(index)
        drag_on_canvas(window.canvas, [(30.0, y), (60.0, y), (90.0, y)])
    # a last stroke pressed and moved but never released: the kill comes mid-edit
    canvas, left = window.canvas, QtCore.Qt.MouseButton.LeftButton
    start = canvas.widget_pos_of_pixel(30.0, stroke_row(strokes))
    _send_mouse(canvas.viewport(), QtCore.QEvent.Type.MouseButtonPress, start, left, left)
    end = canvas.widget_pos_of_pixel(90.0, stroke_row(strokes))
    _send_mouse(canvas.viewport(), QtCore.QEvent.Type.MouseMove, end,
                QtCore.Qt.MouseButton.NoButton, left)
    print("stroking", flush=True)
    QtGui.QGuiApplication.processEvents()
    app.exec()


if __name__ == "__main__":
    main()
