"""From QA: File ▸ Quit, no text cut off in the image list and the model versions table."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from qtseg_core.workspace import Workspace
from tests.app.helpers import copy_real_images, open_active


def test_ctrl_q_quits_after_saving(qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    assert "quit" in window.actions_by_name
    assert window.actions_by_name["quit"].shortcut().toString() == "Ctrl+Q"
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_Q, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert window.ws.closed


def test_long_names_are_elided_in_the_list_not_cut_off(qtbot, tmp_path: Path,
                                                      no_dialogs) -> None:
    images = tmp_path / "ws" / "images"
    (source,) = copy_real_images(tmp_path / "src", count_ct=1, count_mri=0)
    long_name = "patient_0042_series_7_axial_contrast_enhanced_reconstruction_slice_z032.png"
    images.mkdir(parents=True)
    shutil.copy(source, images / long_name)
    window = open_active(qtbot, tmp_path / "ws")
    strip = window.filmstrip.list
    QtWidgets.QApplication.processEvents()
    assert strip.horizontalScrollBar().maximum() == 0  # nothing hidden off to the right
    assert strip.textElideMode() == QtCore.Qt.TextElideMode.ElideMiddle  # "…" shows the cut
    tooltip = strip.model().data(strip.model().index(0), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert long_name in tooltip and "status: " in tooltip
    window.close()


def test_the_model_versions_fit_their_table(qtbot, image_folder: Path, tiny_checkpoint: Path,
                                            no_dialogs) -> None:
    with Workspace.open(image_folder) as ws:
        ws.register_model(tiny_checkpoint)
        ws.register_model(tiny_checkpoint, parent="v1", make_current=True)
    window = open_active(qtbot, image_folder)
    table = window.finetune_panel.versions
    QtWidgets.QApplication.processEvents()
    header = table.header()
    widths = [header.sectionSize(c) for c in range(header.count())]
    assert sum(widths) <= table.viewport().width()  # every column on screen
    assert table.horizontalScrollBar().maximum() == 0
    for column in range(header.count()):  # each cell's text fits its column
        text = table.topLevelItem(0).text(column)
        assert table.fontMetrics().horizontalAdvance(text) <= widths[column]
    assert "fine-tuned from v1" in table.topLevelItem(0).toolTip(0)
    window.close()
