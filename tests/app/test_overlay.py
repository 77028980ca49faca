"""The overlay repaints only the edited rectangle, in place, and draws per-class colours."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from qtseg_app.editing import Rect
from qtseg_app.qt.overlay import OverlayItem, OverlayStyle, render_mask, render_uncertainty
from qtseg_app.state.levels import CT_PRESETS, WindowLevel, auto_window, looks_like_ct


def test_region_refresh_updates_shared_qimage_only_there(qtbot, monkeypatch) -> None:
    item = OverlayItem()
    mask = np.zeros((2048, 2048), np.uint8)
    item.show_mask(mask)
    item.render()  # what the first paint does
    assert item.qimage is not None
    repainted: list[QtCore.QRectF] = []
    monkeypatch.setattr(item, "update", lambda rect=None: repainted.append(rect))
    full_renders: list[bool] = []
    monkeypatch.setattr(item, "render", lambda: full_renders.append(True))

    mask[100:110, 200:230] = 1
    rect = item.refresh_region(Rect(100, 200, 110, 230))

    assert rect == Rect(100, 200, 110, 230)
    assert repainted == [QtCore.QRectF(200, 100, 30, 10)]
    assert not full_renders  # no full re-render of the 2048² overlay
    color = item.qimage.pixelColor(205, 105)  # the QImage wraps the updated array
    assert (color.red(), color.alpha()) == (255, round(0.45 * 255))
    assert item.qimage.pixelColor(5, 5).alpha() == 0


def test_outline_and_classes() -> None:
    mask = np.zeros((20, 20), np.uint8)
    mask[5:15, 5:15] = 1
    mask[8:12, 8:12] = 2
    filled = render_mask(mask, OverlayStyle(opacity=0.5))
    assert tuple(filled[6, 6, :3]) != tuple(filled[10, 10, :3])  # one colour per class
    outline = render_mask(mask, OverlayStyle(outline=True))
    assert outline[5, 10, 3] == 255 and outline[6, 6, 3] == 0  # edge drawn, inside empty
    assert outline[0, 0, 3] == 0


def test_uncertainty_map_transparent_where_sure() -> None:
    rgba = render_uncertainty(np.array([[0.0, 1.0]], np.float32))
    assert rgba[0, 0, 3] == 0 and rgba[0, 1, 3] > 100


def test_windows_on_native_values() -> None:
    ct = np.full((64, 64), -1000, np.int16)
    ct[20:40, 20:40] = 40
    assert looks_like_ct(ct)
    assert CT_PRESETS["Lung"].levels == (-1350.0, 150.0)
    sixteen = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    low, high = auto_window(sixteen).levels
    assert high > 255  # the window is on the 16-bit values, not an 8-bit copy
    brighter = WindowLevel(100, 50).with_brightness_contrast(0.5, 0.0)
    assert brighter.center < 100
