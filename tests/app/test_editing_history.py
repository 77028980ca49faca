"""Undo / redo: deep, exact, and bounded in memory on a 2048² mask."""

from __future__ import annotations

import numpy as np

from qtseg_app.editing import EditHistory, MaskEditor, grow, shrink
from qtseg_app.editing.geometry import Rect

SIZE = 2048


def test_150_strokes_undo_and_redo_exactly_with_little_memory():
    editor = MaskEditor(np.zeros((SIZE, SIZE), np.uint8))
    rng = np.random.default_rng(1)
    states = [editor.mask.copy()]
    for step in range(150):
        x, y = rng.uniform(0, SIZE, 2)
        for _ in range(4):  # a short stroke of four mouse segments
            dx, dy = rng.uniform(-20, 20, 2)
            editor.stroke((x, y), (x + dx, y + dy), 12, 1 + step % 3)
            x, y = x + dx, y + dy
        editor.end_stroke()
        if step % 50 == 0:
            states.append(editor.mask.copy())
    final = editor.mask.copy()
    assert editor.history.undo_count == 150
    assert editor.history.nbytes < 4 * 1024 * 1024  # full copies would be 600 MB
    for _ in range(150):
        assert editor.undo() is not None
    assert editor.undo() is None and not editor.mask.any()
    for _ in range(150):
        editor.redo()
    np.testing.assert_array_equal(editor.mask, final)


def test_whole_image_edits_stay_under_the_memory_cap():
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[24:-24, 24:-24] = 1
    cap = 128 * 1024
    editor = MaskEditor(mask, history=EditHistory(max_steps=500, max_bytes=cap))
    for _ in range(8):  # each changes a ~2000² ring: stored compressed, still bounded
        editor.apply(grow(editor.mask, 1, 8), "grow")
        editor.apply(shrink(editor.mask, 1, 8), "shrink")
        assert editor.history.nbytes <= cap
    kept = editor.history.undo_count
    assert 3 <= kept < 16  # about 20 KB a step: the oldest were dropped
    for _ in range(kept):
        editor.undo()
    assert editor.undo() is None and editor.history.redo_count == kept


def test_incompressible_steps_drop_the_oldest_beyond_the_cap():
    history = EditHistory(max_bytes=2 * 1024 * 1024)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    rng = np.random.default_rng(2)
    rect = Rect(0, 0, 512, 512)
    for _ in range(20):
        new = rng.integers(0, 255, (512, 512), dtype=np.uint8)
        history.push(rect, mask[rect.slices].copy(), new)
        mask[rect.slices] = new
    assert history.nbytes <= 2 * 1024 * 1024 and 1 <= history.undo_count < 20
    history.undo(mask)
    assert history.can_redo and history.redo_label() == "edit"


def test_a_new_edit_after_undo_clears_redo():
    editor = MaskEditor(np.zeros((64, 64), np.uint8))
    editor.stroke((10, 10), (20, 10), 3, 1)
    editor.end_stroke()
    editor.undo()
    editor.stroke((30, 30), (40, 30), 3, 1)
    editor.undo()  # ends the stroke, then undoes it
    assert editor.history.redo_count == 1  # only the new stroke: the first one's was cleared
    assert not editor.mask.any()
