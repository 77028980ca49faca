"""The image list at scale: a model/view list that builds no widget, and reads no record,
per image; rows follow the workspace (selection opens, status changes repaint)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from qtseg_app.state.image_list import RECORD_PAGE
from qtseg_core.workspace import ReviewStatus
from tests.app.helpers import open_active

IMAGES = 3000


def _tiny_images(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    png = cv2.imencode(".png", np.full((8, 8), 90, np.uint8))[1].tobytes()
    for index in range(count):
        (folder / f"img_{index:05d}.png").write_bytes(png)


@pytest.mark.slow
def test_a_large_workspace_opens_and_scrolls_without_a_widget_per_image(
        qtbot, tmp_path: Path, no_dialogs) -> None:
    _tiny_images(tmp_path / "ws" / "images", IMAGES)
    window = open_active(qtbot, tmp_path / "ws")
    strip, images = window.filmstrip, window.session.images
    assert strip.model.rowCount() == IMAGES
    assert strip.row_text(IMAGES - 1) == "img_02999.png  —  unreviewed"
    assert not isinstance(strip.list, QtWidgets.QListWidget)  # no item object per row either
    assert len(window.findChildren(QtWidgets.QWidget)) < IMAGES // 10
    for row in (0, IMAGES // 2, IMAGES - 1):  # scroll to the middle and to the bottom
        strip.list.scrollTo(strip.model.index(row))
        strip.list.viewport().repaint()
    assert strip.list.indexAt(QtCore.QPoint(2, 2)).row() > IMAGES // 2
    # only the pages of rows painted were read, not a record per image
    assert 0 < len(images._records) <= 5 * RECORD_PAGE < IMAGES

    # picking a row (click or keys) opens that image
    strip.list.setCurrentIndex(strip.model.index(1234))
    assert window.current_id == images.ids[1234]
    assert window.document.record.name == "img_01234.png"
    qtbot.keyClick(strip.list, QtCore.Qt.Key.Key_Down)
    assert window.document.record.name == "img_01235.png"

    # a decision repaints its row (text and tooltip) and the counts
    image_id = window.current_id
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_R)
    assert window.ws.image(image_id).status is ReviewStatus.REJECTED
    row = images.row_of(image_id)
    assert strip.row_text(row) == "img_01235.png  —  rejected"
    tooltip = strip.model.data(strip.model.index(row), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "status: rejected" in tooltip
    assert "rejected: 1" in strip.counts_label.text()
    window.close()


def test_filters_and_orders_refill_the_rows_from_the_workspace(
        qtbot, tmp_path: Path, no_dialogs) -> None:
    _tiny_images(tmp_path / "ws" / "images", 40)
    window = open_active(qtbot, tmp_path / "ws")
    ws, strip = window.ws, window.filmstrip
    flagged = [ws.images()[index].id for index in (3, 17)]
    for image_id in flagged:
        ws.set_status(image_id, ReviewStatus.FLAGGED, "Ana")
    strip.set_filter("Flagged")
    assert strip.visible_ids() == flagged
    assert [strip.row_text(r) for r in range(2)] == [
        "img_00003.png  —  flagged", "img_00017.png  —  flagged"]
    strip.set_filter("All images")
    strip.set_order("Status")
    assert strip.visible_ids()[-2:] == flagged  # flagged comes last in workflow order
    assert strip.list.currentIndex().data(QtCore.Qt.ItemDataRole.UserRole) == window.current_id
    window.close()
