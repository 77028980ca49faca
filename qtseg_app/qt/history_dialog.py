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


def grouped_rows(rows: list[list[str]]) -> list[list[str]]:
    """Consecutive rows of one person doing one thing without a comment as one row, e.g.
    'correction ×12' from the first one's minute to the last's: each visit that edits an
    image logs a correction, and a table of identical lines hides the decisions."""
    grouped: list[tuple[list[str], int, str]] = []  # (first row, count, last time)
    for row in rows:
        when, who, what, comment = row
        if grouped and not comment and grouped[-1][0][1:] == [who, what, ""]:
            first, count, _last = grouped[-1]
            grouped[-1] = (first, count + 1, when)
        else:
            grouped.append((row, 1, when))
    return [_merged(first, count, last) for first, count, last in grouped]


def _merged(first: list[str], count: int, last: str) -> list[str]:
    """The group's row: '2026-12-03 14:42 – 14:57' (the day once when it is one day)."""
    if count == 1:
        return first
    end = last[11:] if last[:10] == first[0][:10] else last
    when = first[0] if last == first[0] else f"{first[0]} – {end}"
    return [when, first[1], f"{first[2]} ×{count}", ""]


class HistoryDialog(QtWidgets.QDialog):
    """Every event of one image, oldest first (non-modal: the review goes on)."""

    def __init__(self, ws: Workspace, image_id: int,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History of {ws.image(image_id).name}")
        self.events = QtWidgets.QTreeWidget()
        self.events.setHeaderLabels(list(COLUMNS))
        self.events.setRootIsDecorated(False)
        for row in grouped_rows([event_row(event) for event in ws.history(image_id)]):
            item = QtWidgets.QTreeWidgetItem(row)
            item.setToolTip(3, row[3])
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
