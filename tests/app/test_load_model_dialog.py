"""The Load model dialog offers the models shipped with QTSeg Studio."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

from qtseg_app.qt import dialogs
from qtseg_core.resources import bundled_models


def test_the_dialog_opens_on_the_bundled_models(qtbot, monkeypatch) -> None:
    seen = {}

    def pick_first(dialog: QtWidgets.QFileDialog) -> int:
        seen["folder"] = Path(dialog.directory().absolutePath())
        seen["sidebar"] = [Path(url.toLocalFile()) for url in dialog.sidebarUrls()]
        dialog.selectFile(str(bundled_models()[0]))
        return QtWidgets.QDialog.DialogCode.Accepted

    monkeypatch.setattr(QtWidgets.QFileDialog, "exec", pick_first)
    chosen = dialogs.choose_model_file(None)
    folder = bundled_models()[0].parent
    assert seen["folder"] == folder and folder in seen["sidebar"]
    assert Path(chosen) == bundled_models()[0]


def test_cancel_loads_nothing(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(QtWidgets.QFileDialog, "exec",
                        lambda dialog: QtWidgets.QDialog.DialogCode.Rejected)
    assert dialogs.choose_model_file(None) is None
