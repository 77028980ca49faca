"""Small dialogs: errors that name the problem and the fix, reviewer name, flag comment.

The window calls these through module functions so tests can replace them
(``monkeypatch.setattr(dialogs, "ask_text", ...)``) without a modal loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from qtseg_core.finetune.preview import MaskPreview


def show_error(parent: QtWidgets.QWidget | None, title: str, problem: str, todo: str,
               *, blocking: bool = False) -> QtWidgets.QMessageBox:
    """An error box saying what went wrong and what to do.

    Non-blocking by default (``open()``), so background errors never stall the
    interface; ``blocking=True`` waits (used before the main window exists).
    """
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(problem)
    box.setInformativeText(todo)
    if blocking:
        box.exec()
    else:
        box.open()
    return box


def confirm_new_workspace(parent: QtWidgets.QWidget | None, folder: object) -> bool:
    """Ask before creating a workspace in a folder that does not exist (a typo?)."""
    answer = QtWidgets.QMessageBox.question(
        parent, "Create a new workspace?",
        f"The folder {folder} does not exist.\n\nCreate it and start a new, empty workspace "
        "there? (Choose No if the path has a typo.)",
        QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
        QtWidgets.QMessageBox.StandardButton.No)
    return answer == QtWidgets.QMessageBox.StandardButton.Yes


def confirm_close_unsaved(parent: QtWidgets.QWidget | None, name: str) -> bool:
    """The last edit of ``name`` could not be saved: close anyway (losing it)?"""
    answer = QtWidgets.QMessageBox.warning(
        parent, "Edit not saved",
        f"The last edit of {name} could not be saved (is the disk full?).\n\nClose anyway "
        "and lose it? Choose No to keep the window open, free some space, and edit again "
        "to save.",
        QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
        QtWidgets.QMessageBox.StandardButton.No)
    return answer == QtWidgets.QMessageBox.StandardButton.Yes


TEXT_DIALOG_WIDTH = 440  # px: the whole title in the title bar, and a sentence of comment


def text_dialog(parent: QtWidgets.QWidget | None, title: str, label: str,
                text: str = "") -> QtWidgets.QInputDialog:
    """The one-line question of :func:`ask_text`, wide enough for its title (Qt's own
    getText sizes it to the label, and a window manager then cuts the title short)."""
    dialog = QtWidgets.QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    dialog.setMinimumWidth(TEXT_DIALOG_WIDTH)
    return dialog


def ask_text(parent: QtWidgets.QWidget | None, title: str, label: str,
             text: str = "") -> str | None:
    """A one-line answer, or None when cancelled."""
    dialog = text_dialog(parent, title, label, text)
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
        return None
    return dialog.textValue().strip()


def ask_reviewer_name(parent: QtWidgets.QWidget | None) -> str | None:
    """Asked once per workspace; stored with every review decision."""
    return ask_text(parent, "Reviewer",
                    "Your name (stored with each accept / reject / flag decision):")


def ask_close_during_finetune(parent: QtWidgets.QWidget | None) -> str | None:
    """'wait' (close when the fine-tune ends), 'cancel' (stop it and close) or None (stay)."""
    box = QtWidgets.QMessageBox(parent)
    box.setWindowTitle("A fine-tune is running")
    box.setText("A fine-tune is running. Closing now stops it; the model in use stays.")
    wait = box.addButton("Wait, then close", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Cancel it and close", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Keep working", QtWidgets.QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return {id(wait): "wait", id(cancel): "cancel"}.get(id(box.clickedButton()))


def ask_install_unsure(parent: QtWidgets.QWidget | None, question: str, old: str,
                       previews: Sequence[MaskPreview] = ()) -> bool:
    """The fine-tuned model is better on too few validation images for the gate: install it?
    ``question`` shows old and new scores on each; ``old`` names the model in use;
    ``previews``: the true, old and new masks on a few of those images, shown under it."""
    from qtseg_app.qt.mask_comparison import MaskComparison

    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Icon.Question)
    box.setWindowTitle("Install the fine-tuned model?")
    box.setText(question)
    if previews:
        grid = box.layout()  # QMessageBox's QGridLayout: the text, then the buttons' row
        buttons = box.findChild(QtWidgets.QDialogButtonBox)
        grid.removeWidget(buttons)
        comparison = MaskComparison(previews, old, box)
        comparison.setObjectName("mask_comparison")
        row, columns = grid.rowCount(), grid.columnCount()
        grid.addWidget(comparison, row, 0, 1, columns)
        grid.addWidget(buttons, row + 1, 0, 1, columns)
    install = box.addButton("Install the new model", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton(f"Keep {old}", QtWidgets.QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is install


def ask_flag_comment(parent: QtWidgets.QWidget | None, image_name: str) -> str | None:
    """Why this image needs an expert (None: cancel the flag)."""
    return ask_text(parent, "Flag for an expert",
                    f"Why {image_name} needs an expert (the review strip shows it):")


def choose_file(parent: QtWidgets.QWidget | None, title: str, pattern: str) -> str | None:
    path, _ = QtWidgets.QFileDialog.getOpenFileName(parent, title, "", pattern)
    return path or None


def choose_model_file(parent: QtWidgets.QWidget | None) -> str | None:
    """A checkpoint to load; the dialog opens on the bundled models ("Bundled models" aside)."""
    from PySide6 import QtCore

    from qtseg_core.resources import STARTER_MODEL, resource_path

    bundled = resource_path(STARTER_MODEL).parent
    dialog = QtWidgets.QFileDialog(parent, "Load a QTSeg checkpoint", str(bundled),
                                   "Checkpoints (*.safetensors)")
    dialog.setFileMode(QtWidgets.QFileDialog.FileMode.ExistingFile)
    dialog.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog)  # keeps the side entry
    dialog.setSidebarUrls([*dialog.sidebarUrls(), QtCore.QUrl.fromLocalFile(str(bundled))])
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
        return None
    return dialog.selectedFiles()[0] if dialog.selectedFiles() else None


def choose_folder(parent: QtWidgets.QWidget | None, title: str) -> str | None:
    path = QtWidgets.QFileDialog.getExistingDirectory(parent, title)
    return path or None


def choose_color(parent: QtWidgets.QWidget | None,
                 current: tuple[int, int, int]) -> tuple[int, int, int] | None:
    """An RGB colour picked by the user, or None when cancelled."""
    from PySide6 import QtGui

    color = QtWidgets.QColorDialog.getColor(QtGui.QColor(*current), parent, "Class colour")
    return (color.red(), color.green(), color.blue()) if color.isValid() else None
