"""The click tool through the real window: clicks refine the mask, undo, save, markers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore
from scipy import ndimage

from qtseg_core.io import read_image
from qtseg_core.pixel_rect import Rect
from qtseg_core.workspace import MaskKind
from tests.app.helpers import DATA, drag_on_canvas, open_active, press_and_move, release_on_canvas

Key, Button, Modifier = QtCore.Qt.Key, QtCore.Qt.MouseButton, QtCore.Qt.KeyboardModifier
TUMOUR = (221, 356)  # (x, y) inside the tumour of lung1_z032 (its mask's interior)


def _open_lung(qtbot, folder: Path):  # noqa: ANN202
    window = open_active(qtbot, folder)
    record = next(r for r in window.ws.images() if r.name == "lung1_z032.png")
    window.session.open_image(record.id)
    qtbot.keyClick(window.canvas, Key.Key_C)
    return window


def _click(qtbot, window, x: float, y: float, button=Button.LeftButton,
           modifier=Modifier.NoModifier) -> None:
    before = window.document.editor.revision
    qtbot.mouseClick(window.canvas.viewport(), button, modifier,
                     pos=window.canvas.widget_pos_of_pixel(x, y))
    qtbot.waitUntil(lambda: not window.tools.clicks.busy, timeout=10_000)
    assert window.document.editor.revision != before, "the click changed nothing"


def _saved(window) -> np.ndarray:
    ws = window.ws
    return ws.read_mask(ws.latest_mask(window.current_id, MaskKind.CORRECTION))


def test_a_click_outlines_the_object_undo_takes_it_back_and_it_is_saved(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = _open_lung(qtbot, image_folder)
    mask = window.document.mask
    assert not mask.any()  # no model: nothing predicted

    _click(qtbot, window, *TUMOUR)
    truth = read_image(DATA / "pyradiomics_lung_ct" / "masks" / "lung1_z032.png") > 0
    outlined = mask.copy()
    assert outlined[TUMOUR[1], TUMOUR[0]] == 1 and outlined.sum() > 50  # more than a pixel
    assert (outlined.astype(bool) & truth).sum() / (outlined.astype(bool) | truth).sum() > 0.5
    assert np.array_equal(_saved(window), mask)  # saved at once, like a stroke
    assert window.click_markers.count == 1

    # right click inside it removes; Shift + click too
    _click(qtbot, window, TUMOUR[0] + 3, TUMOUR[1], Button.RightButton)
    assert mask[TUMOUR[1], TUMOUR[0] + 3] == 0 and mask.sum() < outlined.sum()
    assert window.click_markers.count == 2

    qtbot.keyClick(window.canvas, Key.Key_Z, Modifier.ControlModifier)
    assert np.array_equal(mask, outlined) and window.click_markers.count == 1
    qtbot.keyClick(window.canvas, Key.Key_Z, Modifier.ControlModifier)
    assert not mask.any() and window.click_markers.count == 0
    assert not _saved(window).any()  # the undo is saved too
    window.close()


def test_shift_click_removes_and_brush_works_on_top(qtbot, image_folder: Path,
                                                     no_dialogs) -> None:
    window = _open_lung(qtbot, image_folder)
    mask = window.document.mask
    _click(qtbot, window, *TUMOUR)
    _click(qtbot, window, TUMOUR[0], TUMOUR[1] + 2, modifier=Modifier.ShiftModifier)
    assert mask[TUMOUR[1] + 2, TUMOUR[0]] == 0 and window.click_markers.count == 2
    # nearer the first click than the blob's edge: it took that click back, the blob went
    assert mask[TUMOUR[1], TUMOUR[0]] == 0
    clicked = mask.copy()

    qtbot.keyClick(window.canvas, Key.Key_B)  # another tool ends the run: markers go
    assert window.click_markers.count == 0
    window.session.tool_settings.set_radius(3)
    drag_on_canvas(window.canvas, [(100.0, 100.0), (120.0, 100.0)])
    rows, _ = np.nonzero(mask != clicked)
    assert mask[100, 110] == 1 and rows.min() >= 96 and rows.max() <= 104  # only the stroke
    assert np.array_equal(_saved(window), mask)
    window.close()


def test_clicks_work_on_the_current_class_and_leave_the_others(qtbot, image_folder: Path,
                                                               no_dialogs) -> None:
    window = _open_lung(qtbot, image_folder)
    qtbot.mouseClick(window.label_table.add_button, Button.LeftButton)  # class 2, selected
    assert window.tools.label == 2
    qtbot.keyClick(window.canvas, Key.Key_1)
    qtbot.keyClick(window.canvas, Key.Key_B)
    window.session.tool_settings.set_radius(2)
    drag_on_canvas(window.canvas, [(TUMOUR[0] - 4.0, TUMOUR[1] - 4.0),
                                   (TUMOUR[0] + 4.0, TUMOUR[1] - 4.0)])
    class_one = window.document.mask == 1
    qtbot.keyClick(window.canvas, Key.Key_2)
    qtbot.keyClick(window.canvas, Key.Key_C)

    _click(qtbot, window, *TUMOUR)
    mask = window.document.mask
    assert mask[TUMOUR[1], TUMOUR[0]] == 2 and (mask == 2).sum() > 50
    assert np.array_equal(mask == 1, class_one)  # class 1 kept where it was
    assert np.array_equal(_saved(window), mask)
    window.close()


def _tumour() -> tuple[np.ndarray, Rect]:
    """The lung1_z032 tumour's mask (the part holding TUMOUR) and its bounding box."""
    truth = read_image(DATA / "pyradiomics_lung_ct" / "masks" / "lung1_z032.png") > 0
    parts, _ = ndimage.label(truth)
    tumour = parts == parts[TUMOUR[1], TUMOUR[0]]
    rows, cols = np.nonzero(tumour)
    return tumour, Rect(rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)


def test_a_dragged_box_outlines_the_object_inside_it_undo_takes_it_back_and_it_is_saved(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = _open_lung(qtbot, image_folder)
    tumour, box = _tumour()
    corner, opposite = (box.left - 2.0, box.top - 2.0), (box.right + 1.0, box.bottom + 1.0)
    press_and_move(window.canvas, [corner, (TUMOUR[0] * 1.0, TUMOUR[1] * 1.0), opposite])
    xs, _ys = window.canvas.polygon_preview.getData()
    # the box shows while dragging
    assert abs(min(xs) - corner[0]) < 1 and abs(max(xs) - opposite[0]) < 1
    release_on_canvas(window.canvas, *opposite)
    assert len(window.canvas.polygon_preview.getData()[0]) == 0
    qtbot.waitUntil(lambda: not window.tools.clicks.busy and window.document.mask.any(),
                    timeout=10_000)
    mask = window.document.mask
    found = mask.astype(bool)
    assert (found & tumour).sum() / (found | tumour).sum() > 0.7  # the tumour, outlined
    assert not found[: box.top - 5].any() and not found[box.bottom + 5 :].any()
    assert not found[:, : box.left - 5].any() and not found[:, box.right + 5 :].any()
    assert np.array_equal(_saved(window), mask)  # saved at once, like a stroke
    assert window.click_markers.count == 0  # a box is no click

    qtbot.keyClick(window.canvas, Key.Key_Z, Modifier.ControlModifier)  # one undo step
    assert not mask.any() and not _saved(window).any()
    window.close()


def test_a_quick_drag_whose_moves_were_dropped_is_still_a_box(
        qtbot, image_folder: Path, no_dialogs) -> None:
    """pyqtgraph drops moves within 10 ms of the last: a flick (or xdotool's drag) can reach
    the view as a press and a release alone, which it calls a click at the press."""
    window = _open_lung(qtbot, image_folder)
    tumour, box = _tumour()
    corner, opposite = (box.left - 2.0, box.top - 2.0), (box.right + 1.0, box.bottom + 1.0)
    press_and_move(window.canvas, [corner])  # no move before the release
    release_on_canvas(window.canvas, *opposite)
    qtbot.waitUntil(lambda: not window.tools.clicks.busy and window.document.mask.any(),
                    timeout=10_000)
    found = window.document.mask.astype(bool)
    assert window.click_markers.count == 0  # a box, not a click at the corner
    assert (found & tumour).sum() / (found | tumour).sum() > 0.7
    window.close()


def test_esc_drops_the_box_being_dragged_and_a_tiny_drag_is_a_click(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = _open_lung(qtbot, image_folder)
    x, y = TUMOUR
    press_and_move(window.canvas, [(x - 12.0, y - 12.0), (x + 12.0, y + 12.0)])
    qtbot.keyClick(window.canvas, Key.Key_Escape)
    assert len(window.canvas.polygon_preview.getData()[0]) == 0
    release_on_canvas(window.canvas, x + 12.0, y + 12.0)
    qtbot.wait(50)
    assert not window.tools.clicks.busy and not window.document.mask.any()
    assert window.document.editor.history.undo_count == 0

    drag_on_canvas(window.canvas, [(x, y), (x + 1.0, y + 1.0)])  # a shaky click
    qtbot.waitUntil(lambda: not window.tools.clicks.busy and window.document.mask.any(),
                    timeout=10_000)
    assert window.document.mask[y, x] == 1 and window.click_markers.count == 1
    window.close()


def test_markers_go_with_the_image(qtbot, image_folder: Path, no_dialogs) -> None:
    window = _open_lung(qtbot, image_folder)
    _click(qtbot, window, *TUMOUR)
    assert window.click_markers.count == 1
    window.session.open_next()
    assert window.click_markers.count == 0
    window.close()
