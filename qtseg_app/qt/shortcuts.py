"""Every keyboard shortcut in one table, and the F1 help panel that lists it.

The main window builds its QActions from :data:`SHORTCUTS`, so the help panel
can never disagree with what the keys do.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtWidgets


@dataclass(frozen=True)
class Shortcut:
    """One action: its id (a key of the handler table in ``window_setup.build_actions``),
    keys, label and help group."""

    action: str
    keys: tuple[str, ...]
    text: str
    group: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("next_slice", ("PgDown",), "Next slice of the volume (next image)", "Navigate"),
    Shortcut("previous_slice", ("PgUp",), "Previous slice (previous image)", "Navigate"),
    Shortcut("copy_to_next_slice", ("Ctrl+PgDown",), "Copy the mask to the next slice",
             "Edit"),
    Shortcut("copy_to_previous_slice", ("Ctrl+PgUp",), "Copy the mask to the previous slice",
             "Edit"),
    Shortcut("fill_between_slices", ("Ctrl+Shift+I",),
             "Fill the slices between edited slices (interpolate)", "Edit"),
    Shortcut("next_image", ("N",), "Next image", "Navigate"),
    Shortcut("previous_image", ("Shift+N",), "Previous image", "Navigate"),
    Shortcut("next_unreviewed", ("U",), "Next image still to review", "Navigate"),
    Shortcut("fit", ("0",), "Fit image to view", "View"),
    Shortcut("zoom_in", ("+", "="), "Zoom in", "View"),
    Shortcut("zoom_out", ("-",), "Zoom out", "View"),
    Shortcut("toggle_overlay", ("V",), "Show / hide mask overlay", "View"),
    Shortcut("toggle_outline", ("O",), "Filled / outline mask", "View"),
    Shortcut("toggle_uncertainty", ("Y",), "Show / hide uncertainty map", "View"),
    Shortcut("toggle_prediction", ("T",), "Show model prediction / correction", "View"),
    Shortcut("opacity_up", ("Shift+O",), "More opaque overlay", "View"),
    Shortcut("opacity_down", ("Alt+O",), "More transparent overlay", "View"),
    Shortcut("auto_window", ("W",), "Automatic window / level", "View"),
    Shortcut("tool_brush", ("B",), "Brush tool", "Tools"),
    Shortcut("tool_eraser", ("E",), "Eraser tool", "Tools"),
    Shortcut("tool_polygon", ("L",), "Polygon / lasso tool (click points; Enter, a double "
             "click on the last point or a click on the first fills)", "Tools"),
    Shortcut("tool_fill", ("G",), "Flood fill tool", "Tools"),
    Shortcut("tool_click", ("C",), "Click tool: left click adds to the class, right click or "
             "Shift+click removes, a drag draws a box around the object", "Tools"),
    Shortcut("tool_pan", ("H",), "Pan tool (middle-drag pans with any tool)", "Tools"),
    Shortcut("brush_smaller", ("[",), "Smaller brush", "Tools"),
    Shortcut("brush_larger", ("]",), "Larger brush", "Tools"),
    Shortcut("class_1", ("1",), "Paint class 1 (2-9 for more classes)", "Tools"),
    Shortcut("finish_polygon", ("Return",), "Fill the polygon being drawn", "Tools"),
    Shortcut("cancel_polygon", ("Esc",), "Drop the polygon or box being drawn", "Tools"),
    Shortcut("undo", ("Ctrl+Z",), "Undo", "Edit"),
    Shortcut("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo", "Edit"),
    Shortcut("fill_holes", ("Shift+F",), "Fill holes", "Clean-up"),
    Shortcut("remove_islands", ("Shift+I",), "Remove islands below the minimum size",
             "Clean-up"),
    Shortcut("keep_largest", ("Shift+K",), "Keep the largest component", "Clean-up"),
    Shortcut("delete_component", ("Del", "D"), "Delete the component under the cursor",
             "Clean-up"),
    Shortcut("grow", ("Shift+G",), "Grow the mask by N pixels", "Clean-up"),
    Shortcut("shrink", ("Shift+S",), "Shrink the mask by N pixels", "Clean-up"),
    Shortcut("start_over", ("Ctrl+Shift+Backspace",),
             "Start over on an image replaced on disk (its old masks are kept)", "Edit"),
    Shortcut("reset_to_prediction", ("Ctrl+Shift+R",), "Start again from the prediction",
             "Clean-up"),
    Shortcut("accept", ("A",), "Accept and go to the next image", "Review"),
    Shortcut("reject", ("R",), "Reject and go to the next image", "Review"),
    Shortcut("flag", ("F",), "Flag for an expert, with a comment", "Review"),
    Shortcut("toggle_review_mode", ("F2",), "Review mode on / off", "Review"),
    Shortcut("split_train", (), "Fine-tune split: train on this image", "Review"),
    Shortcut("split_val", (), "Fine-tune split: validate on this image", "Review"),
    Shortcut("split_excluded", (), "Fine-tune split: leave this image out", "Review"),
    Shortcut("split_automatic", (), "Fine-tune split: automatic for this image", "Review"),
    Shortcut("history", ("Ctrl+H",), "History of the image: who did what, comments", "Review"),
    Shortcut("reviewer_name", (), "Change the reviewer name…", "Review"),
    Shortcut("predict_all", ("Ctrl+Shift+P",), "Predict all images", "Model"),
    Shortcut("predict_volume", ("Ctrl+Alt+P",),
             "Predict the unedited slices of the volume on screen", "Model"),
    Shortcut("load_model", ("Ctrl+M",), "Load a model checkpoint", "Model"),
    Shortcut("export", ("Ctrl+E",), "Export a training set", "File"),
    Shortcut("open_workspace", ("Ctrl+O",), "Open a workspace folder", "File"),
    Shortcut("help", ("F1",), "This help", "File"),
    Shortcut("quit", ("Ctrl+Q",), "Quit (saves first)", "File"),
)


def shortcut(action: str) -> Shortcut:
    """The table entry of ``action`` (KeyError naming it when absent)."""
    for entry in SHORTCUTS:
        if entry.action == action:
            return entry
    raise KeyError(f"No shortcut entry for action {action!r}.")


def by_group(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(group, keys, action) rows with each group's together, groups in the order they first
    appear, each group's rows in table order."""
    first = {}
    for index, (group, _keys, _text) in enumerate(rows):
        first.setdefault(group, index)
    return sorted(rows, key=lambda entry: first[entry[0]])


class HelpDialog(QtWidgets.QDialog):
    """Lists every shortcut by group, plus the mouse gestures."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("QTSeg Studio — keyboard shortcuts")
        self.table = QtWidgets.QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Group", "Keys", "Action"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        rows = by_group([(s.group, ", ".join(s.keys), s.text) for s in SHORTCUTS]) + [
            ("Mouse", "Left drag", "Use the current tool"),
            ("Mouse", "Right drag", "Window / level: left-right width, up-down level"),
            ("Mouse", "Middle drag", "Pan"),
            ("Mouse", "Right click, Shift + click", "Click tool: remove (negative click)"),
            ("Mouse", "Wheel", "Zoom"),
            ("Mouse", "Shift + wheel", "Next / previous slice of a volume"),
        ]
        for row, values in enumerate(rows):
            self.table.insertRow(row)
            for column, value in enumerate(values):
                self.table.setItem(row, column, QtWidgets.QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QtWidgets.QHeaderView.ResizeMode.ResizeToContents,
                                       QtWidgets.QHeaderView.ResizeMode.ResizeToContents,
                                       QtWidgets.QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(column, mode)
        self.table.setWordWrap(True)  # a long action wraps in its row: no sideways scrolling
        self.table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header.sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(close)
        self.resize(620, 640)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose, False)
