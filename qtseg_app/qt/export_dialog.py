"""Export accepted (optionally corrected) images as a training set ``qtseg train`` reads."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

from qtseg_app.qt import dialogs
from qtseg_core.workspace import ReviewStatus, Workspace, WorkspaceError
from qtseg_core.workspace.export import export_training_set


class ExportDialog(QtWidgets.QDialog):
    """Pick a folder and options; runs the workspace's export and reports the result."""

    def __init__(self, ws: Workspace, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.exported_to: Path | None = None
        self.setWindowTitle("Export training set")
        counts = ws.counts()
        summary = QtWidgets.QLabel(
            f"{counts[ReviewStatus.ACCEPTED]} accepted and {counts[ReviewStatus.CORRECTED]} "
            "corrected images. The export holds images/, masks/, classes.json, splits.json "
            "(fixed validation part) and statuses.csv with per-image Dice/IoU of the model.")
        summary.setWordWrap(True)
        self.folder_edit = QtWidgets.QLineEdit(str(ws.folder / "export"))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.corrected_box = QtWidgets.QCheckBox("Also corrected images not yet accepted")
        self.coco_box = QtWidgets.QCheckBox("Also COCO JSON (RLE masks)")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addLayout(row)
        layout.addWidget(self.corrected_box)
        layout.addWidget(self.coco_box)
        layout.addWidget(buttons)
        self.resize(560, 200)

    def _browse(self) -> None:
        folder = dialogs.choose_folder(self, "Export to folder")
        if folder:
            self.folder_edit.setText(folder)

    def accept(self) -> None:  # noqa: D401 - Qt slot
        """Run the export; on failure say why and keep the dialog open."""
        target = Path(self.folder_edit.text().strip()).expanduser()
        if not self.folder_edit.text().strip():
            dialogs.show_error(self, "Export", "No folder given.", "Choose an export folder.")
            return
        try:
            self.exported_to = export_training_set(
                self.ws, target, include_corrected=self.corrected_box.isChecked(),
                coco=self.coco_box.isChecked())
        except (WorkspaceError, OSError, ValueError) as error:
            dialogs.show_error(self, "Export failed", str(error),
                               "Pick an empty folder (or a previous export) you can write to.")
            return
        super().accept()
