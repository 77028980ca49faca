"""Mask editing operations: what each tool does to the pixels, and the rect it reports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from qtseg_app.editing import (
    MaskEditor,
    Rect,
    delete_component,
    fill_holes,
    flood_fill,
    grow,
    keep_largest,
    polygon_fill,
    remove_islands,
    shrink,
    stroke_change,
)


def _apply(mask, change):
    out = mask.copy()
    out[change.rect.slices] = change.new
    return out


def _changed_rect_covers_all_changes(before, after, rect):
    outside = np.ones(before.shape, bool)
    outside[rect.slices] = False
    return not (before != after)[outside].any()


def test_brush_paints_a_capsule_and_reports_its_rect():
    mask = np.zeros((64, 64), np.uint8)
    change = stroke_change(mask, (10.5, 20.5), (30.5, 20.5), 3, 2)
    after = _apply(mask, change)
    assert after[20, 10] == after[20, 30] == after[23, 20] == 2  # ends and edge
    assert after[20, 6] == 0 and after[24, 20] == 0  # just outside the radius
    assert change.rect == Rect(17, 7, 24, 34)
    assert _changed_rect_covers_all_changes(mask, after, change.rect)


def test_eraser_of_one_class_leaves_other_classes():
    mask = np.zeros((20, 20), np.uint8)
    mask[:, :10], mask[:, 10:] = 1, 2
    after = _apply(mask, stroke_change(mask, (10, 0), (10, 20), 4, 0, replace=2))
    assert (after == 1).sum() == 200 and (after[:, 10:14] == 0).all()


def test_brush_near_the_border_is_clipped_and_nothing_changes_is_none():
    mask = np.zeros((16, 16), np.uint8)
    change = stroke_change(mask, (0.2, 0.2), (0.2, 0.2), 5, 1)
    assert change.rect.top == 0 and change.rect.left == 0
    assert stroke_change(np.ones((16, 16), np.uint8), (8, 8), (9, 9), 3, 1) is None
    assert stroke_change(mask, (-50, -50), (-40, -40), 3, 1) is None


def test_long_fast_stroke_is_continuous():
    mask = np.zeros((512, 512), np.uint8)
    after = _apply(mask, stroke_change(mask, (5, 5), (505, 505), 2, 1))
    assert all(after[i, i] == 1 for i in range(5, 505))
    assert after.sum() < 512 * 6


def test_polygon_fill_and_lasso_limited_to_a_class():
    mask = np.zeros((40, 40), np.uint8)
    square = [(10, 10), (30, 10), (30, 30), (10, 30)]
    after = _apply(mask, polygon_fill(mask, square, 1))
    assert after[10:30, 10:30].all() and after.sum() <= 21 * 21  # the outline is included
    assert not after[:9].any() and not after[:, 31:].any()
    after[:, 20:] = 2
    erased = _apply(after, polygon_fill(after, square, 0, replace=1))
    assert (erased == 1).sum() == 0 and (erased == 2).sum() == 40 * 20
    assert polygon_fill(mask, [(1, 1), (5, 5)], 1) is None


def test_flood_fill_fills_the_connected_region_at_the_click():
    mask = np.zeros((30, 30), np.uint8)
    mask[5:25, 5:25] = 1
    mask[10:20, 10:20] = 0  # a hole
    change = flood_fill(mask, (15.5, 15.5), 1)
    assert change.rect == Rect(10, 10, 20, 20)
    assert _apply(mask, change)[5:25, 5:25].all()
    assert flood_fill(mask, (6, 6), 1) is None  # already that class


def test_fill_holes_keeps_nested_classes():
    mask = np.zeros((30, 30), np.uint8)
    mask[5:25, 5:25] = 1
    mask[10:20, 10:20] = 0
    mask[14:16, 14:16] = 2
    after = _apply(mask, fill_holes(mask, 1))
    assert (after == 1).sum() == 400 - 4 and (after == 2).sum() == 4


def test_islands_largest_and_component_under_cursor():
    mask = np.zeros((50, 50), np.uint8)
    mask[5:25, 5:25] = 1  # 400 px
    mask[30:33, 30:33] = 1  # 9 px
    mask[40:46, 2:8] = 1  # 36 px
    assert (_apply(mask, remove_islands(mask, 1, 10)) == 1).sum() == 436
    assert (_apply(mask, keep_largest(mask, 1)) == 1).sum() == 400
    change = delete_component(mask, (31.5, 31.5))
    assert change.rect == Rect(30, 30, 33, 33)
    assert delete_component(mask, (0.5, 0.5)) is None  # background under the cursor


def test_grow_and_shrink_by_n_pixels_respect_other_classes():
    mask = np.zeros((40, 40), np.uint8)
    mask[15:25, 15:25] = 1
    mask[:, 30:] = 2
    grown = _apply(mask, grow(mask, 1, 2))
    assert (grown[13:27, 15:25] == 1).all() and grown[12, 20] == 0
    assert (grown == 2).sum() == 400
    shrunk = _apply(mask, shrink(mask, 1, 2))
    assert (shrunk == 1).sum() == 36 and (shrunk[17:23, 17:23] == 1).all()


def test_editor_stroke_is_one_undo_step_and_redo_restores_it():
    editor = MaskEditor(np.zeros((100, 100), np.uint8))
    for x in range(10, 60, 5):
        editor.stroke((x, 50), (x + 5, 50), 4, 1)
    union = editor.end_stroke()
    painted = editor.mask.copy()
    assert union.left <= 6 and union.right >= 64 and editor.history.undo_count == 1
    assert editor.undo() is not None and editor.mask.sum() == 0
    assert editor.redo() is not None
    np.testing.assert_array_equal(editor.mask, painted)
    editor.apply(fill_holes(editor.mask, 1), "fill holes")  # nothing to fill: no step
    assert editor.history.undo_count == 1


def test_editing_imports_no_qt():
    code = ("import sys, qtseg_app.editing; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
