"""An image replaced on disk by one of another size after it was annotated: no traceback
in autosave or on close, the user is told, and can start over (issue 16, item 3)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PySide6 import QtCore

from qtseg_core.workspace import MaskKind
from tests.app.helpers import drag_on_canvas, open_active


def test_a_file_replaced_by_another_size_is_told_and_can_start_over(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    ws, first = window.ws, window.current_id
    drag_on_canvas(window.canvas, [(40, 40), (80, 40), (120, 40)])
    old = ws.latest_mask(first, MaskKind.CORRECTION)
    path = ws.image(first).path
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(path), np.ascontiguousarray(pixels[:150, :200]))  # another size
    os.utime(path, ns=(1, 1))  # a new time stamp even within the file system's resolution

    window.session.open_next()
    window.session.open_image(first)  # back to it: the new file is noticed
    assert window.document is None  # never opened over the old masks
    [(title, problem)] = no_dialogs
    assert title == "Image changed on disk" and "another size (200x150" in problem
    drag_on_canvas(window.canvas, [(40, 40), (80, 40)])  # nothing to paint on, no traceback
    assert ws.latest_mask(first, MaskKind.CORRECTION) == old  # the old mask is as it was

    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_Backspace,
                   QtCore.Qt.KeyboardModifier.ControlModifier
                   | QtCore.Qt.KeyboardModifier.ShiftModifier)  # Edit ▸ Start over
    assert window.document is not None and window.document.image.shape[:2] == (150, 200)
    assert window.document.mask.sum() == 0
    drag_on_canvas(window.canvas, [(40, 40), (80, 40), (120, 40)])
    saved = ws.latest_mask(first, MaskKind.CORRECTION)
    assert saved is not None and ws.read_mask(saved).shape == (150, 200)
    assert any(p.name == old.path.name for p in (ws.folder / "masks").glob("replaced-*/*"))
    window.close()  # closes cleanly
    assert ws.closed and len(no_dialogs) == 1
