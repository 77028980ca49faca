"""The Labels dock: the workspace's classes, to add, rename, recolour and pick for painting.

It renders the session's :class:`~qtseg_app.state.LabelTable`. Double-click a
name to rename it, the colour to recolour it; selecting a row paints that
class. Background (0) is listed but not editable.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.state import LabelTable, ReviewSession

COLUMNS = ("#", "Colour", "Name")


class LabelTableWidget(QtWidgets.QWidget):
    """A table of the classes with an "Add class" button."""

    def __init__(self, session: ReviewSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.labels = session, session.labels
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked)
        self.table.setToolTip("Double-click a name to rename it, a colour to change it; "
                              "select a class to paint it")
        self.add_button = QtWidgets.QPushButton("Add class")
        self.add_button.setToolTip("A new class to paint (any model: it predicts what it "
                                   "knows, you label what the task needs)")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.add_button)
        self.add_button.clicked.connect(self.add_class)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.labels.changed.connect(self._fill)
        session.tool_settings.changed.connect(self._on_tool_setting)
        self._fill(self.labels)

    # ---- user input ------------------------------------------------------------------------
    def add_class(self) -> None:
        index = self._safely(self.labels.add)
        if index is not None:
            self.session.tools.set_label(index)

    def _on_item_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        if item.column() == 2 and item.row() > 0:
            if self._safely(lambda: self.labels.rename(item.row(), item.text())) is None:
                self._fill(self.labels)  # refused: show the stored name again

    def _on_double_click(self, row: int, column: int) -> None:
        if column == 1 and row > 0:
            color = dialogs.choose_color(self, self.labels.colors[row])
            if color is not None:
                self._safely(lambda: self.labels.recolour(row, color))

    def _on_selection(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) == 1 and (row := rows.pop()) > 0:
            self.session.tools.set_label(row)

    def _safely(self, change: object) -> object:
        """Run a table change; a refused one (ValueError) is said in the status bar."""
        try:
            result = change()
        except ValueError as error:
            self.session.say(str(error))
            return None
        return True if result is None else result

    # ---- state -> widgets ------------------------------------------------------------------
    def _fill(self, labels: LabelTable) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(labels))
        for row in labels.rows():
            self.table.setItem(row.index, 0, _item(str(row.index), editable=False))
            swatch = _item("", editable=False)
            swatch.setIcon(_swatch(row.color))
            swatch.setToolTip(f"RGB {row.color}; double-click to change")
            self.table.setItem(row.index, 1, swatch)
            self.table.setItem(row.index, 2, _item(row.name, editable=row.index > 0))
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        self._select(self.session.tool_settings.label)
        self.table.blockSignals(False)

    def _on_tool_setting(self, change: tuple[str, object]) -> None:
        if change[0] == "label":
            self.table.blockSignals(True)
            self._select(int(change[1]))
            self.table.blockSignals(False)

    def _select(self, index: int) -> None:
        if 0 < index < self.table.rowCount():
            self.table.selectRow(index)


def _swatch(color: tuple[int, int, int]) -> QtGui.QIcon:
    """A filled square of ``color`` (an icon stays visible on a selected row)."""
    pixmap = QtGui.QPixmap(28, 14)
    pixmap.fill(QtGui.QColor(*color))
    return QtGui.QIcon(pixmap)


def _item(text: str, *, editable: bool) -> QtWidgets.QTableWidgetItem:
    item = QtWidgets.QTableWidgetItem(text)
    flags = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
    if editable:
        flags |= QtCore.Qt.ItemFlag.ItemIsEditable
    item.setFlags(flags)
    return item
