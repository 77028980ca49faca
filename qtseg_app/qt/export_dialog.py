"""Export the reviewed masks in the format the next tool reads: a training set for
``qtseg train``, COCO, NIfTI label volumes, DICOM-SEG, or the nnU-Net raw layout.

The dialog only picks the folder and the options; the export itself is the
core's ``export_workspace``, the function ``qtseg export --format`` runs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app.qt import dialogs
from qtseg_core.workspace import ReviewStatus, Workspace, WorkspaceError
from qtseg_core.workspace.coco import ENCODINGS
from qtseg_core.workspace.export_formats import ExportReport, export_workspace

#: format -> (what the list says, what it writes). Keys are ``export_workspace`` formats.
FORMATS: dict[str, tuple[str, str]] = {
    "generic": ("Training set (qtseg train)",
                "images/, masks/, classes.json, splits.json (fixed validation part) and "
                "statuses.csv with per-image Dice/IoU of the model."),
    "coco": ("COCO JSON", "The training set plus coco.json (RLE or polygon masks)."),
    "nifti": ("NIfTI label volumes",
              "labels/<volume>.nii.gz per volume: the source's shape and affine; slices "
              "not reviewed are background (volumes.csv says how many were)."),
    "dicom-seg": ("DICOM-SEG",
                  "labels/<volume>.seg.dcm per DICOM volume, referencing its series, for "
                  "PACS and viewers."),
    "nnunet": ("nnU-Net raw",
               "imagesTr/<case>_0000, labelsTr/<case>, dataset.json: volumes whose every "
               "slice is reviewed, as NIfTI (2D images as PNG in a workspace without volumes)."),
}
NEEDS_VOLUMES = ("nifti", "dicom-seg")


class ExportDialog(QtWidgets.QDialog):
    """Pick a format, a folder and options; runs the export and keeps its report."""

    def __init__(self, ws: Workspace, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.exported_to: Path | None = None
        self.report: ExportReport | None = None
        self.setWindowTitle("Export")
        counts = ws.counts()
        self.summary = QtWidgets.QLabel(
            f"{counts[ReviewStatus.ACCEPTED]} accepted and {counts[ReviewStatus.CORRECTED]} "
            f"corrected images, {len(ws.volumes())} volume(s).")
        self.format_box = self._build_format_box()
        self.detail = QtWidgets.QLabel()
        self.detail.setWordWrap(True)
        self.encoding_box = QtWidgets.QComboBox()
        self.encoding_box.addItems(list(ENCODINGS))
        self.encoding_box.setToolTip("How COCO stores each mask")
        self.folder_edit = QtWidgets.QLineEdit(str(ws.folder / "export"))
        self.corrected_box = QtWidgets.QCheckBox("Also corrected images not yet accepted")
        self._lay_out()
        self.format_box.currentIndexChanged.connect(lambda _index: self._show_format())
        self._show_format()
        self.resize(600, 240)

    @property
    def format(self) -> str:
        return str(self.format_box.currentData())

    def set_format(self, format: str) -> None:
        self.format_box.setCurrentIndex(self.format_box.findData(format))

    def _build_format_box(self) -> QtWidgets.QComboBox:
        """The formats; NIfTI and DICOM-SEG are greyed out without a (DICOM) volume."""
        box = QtWidgets.QComboBox()
        formats = {volume.format for volume in self.ws.volumes()}
        for key, (label, _detail) in FORMATS.items():
            box.addItem(label, key)
            missing = key in NEEDS_VOLUMES and not formats or \
                key == "dicom-seg" and "dicom" not in formats
            if missing:
                item = box.model().item(box.count() - 1)
                item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip("Needs a DICOM series" if key == "dicom-seg" and formats
                                else "Needs a volume (NIfTI, NRRD, DICOM series ...)")
        return box

    def _lay_out(self) -> None:
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = self._form = QtWidgets.QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("", self.detail)
        form.addRow("COCO masks", self.encoding_box)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow("Folder", row)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.corrected_box)
        layout.addWidget(buttons)

    def _show_format(self) -> None:
        self.detail.setText(FORMATS[self.format][1])
        coco = self.format == "coco"
        self.encoding_box.setVisible(coco)
        self._form.labelForField(self.encoding_box).setVisible(coco)

    def _browse(self) -> None:
        folder = dialogs.choose_folder(self, "Export to folder")
        if folder:
            self.folder_edit.setText(folder)

    def outcome(self) -> str:
        """The status-bar line after the dialog closed: where, how many, what was skipped."""
        if self.report is None:
            return "Export cancelled."
        text = (f"Exported {len(self.report.written)} item(s) as {self.format} to "
                f"{self.exported_to}")
        if self.report.empty_because:
            return f"{text}: statuses.csv only, {self.report.empty_because}."
        skipped = "; ".join(f"{name}: {why}" for name, why in self.report.skipped.items())
        return f"{text} (skipped {skipped})" if skipped else text

    def accept(self) -> None:  # noqa: D401 - Qt slot
        """Run the export; on failure say why and keep the dialog open."""
        text = self.folder_edit.text().strip()
        if not text:
            dialogs.show_error(self, "Export", "No folder given.", "Choose an export folder.")
            return
        QtWidgets.QApplication.setOverrideCursor(QtGui.QCursor(QtCore.Qt.CursorShape.WaitCursor))
        try:
            self.report = export_workspace(
                self.ws, Path(text).expanduser(), self.format,
                include_corrected=self.corrected_box.isChecked(),
                coco_encoding=self.encoding_box.currentText())
        except (WorkspaceError, OSError, ValueError) as error:
            dialogs.show_error(self, "Export failed", str(error),
                               "Pick an empty folder (or a previous export) you can write to, "
                               "or accept the masks to export first.")
            return
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        self.exported_to = self.report.folder
        super().accept()
