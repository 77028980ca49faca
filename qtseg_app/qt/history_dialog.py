"""An image's history: who did what and when, with the comments (Review ▸ Image history)."""

from __future__ import annotations

from PySide6 import QtWidgets

from qtseg_core.workspace import HistoryEvent, Workspace

COLUMNS = ("When", "Who", "What", "Comment")


def event_row(event: HistoryEvent) -> list[str]:
    """One line of the history: time (to the minute), person, what happened, comment."""
    if event.kind == "status" and event.new_status is not None:
        was = f" (was {event.old_status.value})" if event.old_status else ""
        what = f"{event.new_status.value}{was}"
    else:
        what = event.kind + (f": {event.detail}" if event.detail else "")
    return [event.created_at[:16].replace("T", " "), event.actor or "—", what,
            event.comment or ""]


class HistoryDialog(QtWidgets.QDialog):
    """Every event of one image, oldest first (non-modal: the review goes on)."""

    def __init__(self, ws: Workspace, image_id: int,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History of {ws.image(image_id).name}")
        self.events = QtWidgets.QTreeWidget()
        self.events.setHeaderLabels(list(COLUMNS))
        self.events.setRootIsDecorated(False)
        for event in ws.history(image_id):
            item = QtWidgets.QTreeWidgetItem(event_row(event))
            item.setToolTip(3, event.comment or "")
            self.events.addTopLevelItem(item)
        for column in range(len(COLUMNS)):
            self.events.resizeColumnToContents(column)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.events)
        layout.addWidget(close)
        self.resize(640, 360)

    def rows(self) -> list[list[str]]:
        """The table as text (for tests and scripts)."""
        return [[self.events.topLevelItem(r).text(c) for c in range(len(COLUMNS))]
                for r in range(self.events.topLevelItemCount())]
