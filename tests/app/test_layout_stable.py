"""Nothing moves under the pointer as progress bars and Cancel buttons come and go, and
review mode round trips keep the window's size (issue 16, item 23)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from tests.app.helpers import open_active

Key = QtCore.Qt.Key


def _place(widget: QtWidgets.QWidget, window: QtWidgets.QWidget) -> QtCore.QRect:
    QtWidgets.QApplication.processEvents()
    return QtCore.QRect(widget.mapTo(window, QtCore.QPoint(0, 0)), widget.size())


def test_review_mode_round_trips_keep_the_window_width(qtbot, image_folder: Path,
                                                      no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    size = window.size()
    for _ in range(3):
        qtbot.keyClick(window.canvas, Key.Key_F2)
        QtWidgets.QApplication.processEvents()
        assert window.size() == size  # the strip's long text never widens the window
        qtbot.keyClick(window.canvas, Key.Key_F2)
        QtWidgets.QApplication.processEvents()
    assert window.size() == size
    window.close()


def test_buttons_stay_put_while_progress_and_cancel_come_and_go(
        qtbot, image_folder: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    model_panel, finetune_panel = window.model_panel, window.finetune_panel
    fine_tune = _place(model_panel.fine_tune_button, window)
    window.session.model.batch = (1, 5)  # Predict all running: progress + Cancel shown
    assert model_panel.cancel_button.isVisible()
    assert _place(model_panel.fine_tune_button, window) == fine_tune
    window.session.model.batch = None
    assert _place(model_panel.fine_tune_button, window) == fine_tune

    settings = _place(finetune_panel.settings_button, window)
    window.session.finetune.update(status="Fine-tuning v1 on 4 images…", running=True)
    assert finetune_panel.cancel_button.isVisible()
    assert _place(finetune_panel.settings_button, window) == settings
    window.session.finetune.update(status="Fine-tune cancelled.", running=False)
    assert _place(finetune_panel.settings_button, window) == settings
    window.close()
