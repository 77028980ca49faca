"""The image list as a Qt model: one row per image of the session's ``ImageList``.

Qt asks only for the rows it paints (the view has uniform row heights), and
each row's record is read from the workspace a page at a time on first use
(``ImageList.record``), so a workspace of 10^5 images opens without building
a widget, or even a record, per image.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui

from qtseg_app.state import PredictionStatus, ReviewSession
from qtseg_app.state.image_list import ImageList
from qtseg_app.state.review import comment_line
from qtseg_core.workspace import ImageRecord, ReviewStatus

STATUS_COLORS: dict[ReviewStatus, tuple[int, int, int]] = {
    ReviewStatus.UNREVIEWED: (150, 150, 150),
    ReviewStatus.PREDICTED: (70, 150, 255),
    ReviewStatus.CORRECTED: (255, 160, 40),
    ReviewStatus.ACCEPTED: (60, 200, 90),
    ReviewStatus.REJECTED: (235, 70, 70),
    ReviewStatus.FLAGGED: (190, 100, 255),
}
UNREADABLE_COLOR = (200, 40, 40)

IMAGE_ID_ROLE = QtCore.Qt.ItemDataRole.UserRole
_Role = QtCore.Qt.ItemDataRole


def status_icon(rgb: tuple[int, int, int]) -> QtGui.QIcon:
    """The round status badge in front of a row."""
    pixmap = QtGui.QPixmap(14, 14)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setBrush(QtGui.QColor(*rgb))
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, 12, 12)
    painter.end()
    return QtGui.QIcon(pixmap)


def describe(record: ImageRecord, prediction: PredictionStatus | None = None) -> str:
    """The list text: name, status (or 'unreadable'), uncertainty when known, and
    'predicting…' while the model works on it."""
    if not record.readable:
        return f"{record.name}  —  unreadable"
    text = f"{record.name}  —  {record.status.value}"
    if record.uncertainty is not None:
        text += f"  (u={record.uncertainty:.2f})"
    if prediction is PredictionStatus.PENDING:
        text += "  · predicting…"
    return text


class ImageListModel(QtCore.QAbstractListModel):
    """Rows of ``session.images``: text, badge, tooltip, colour and the image id
    (``IMAGE_ID_ROLE``); reset on a refill, one row repainted when its record or its
    prediction status changes."""

    def __init__(self, session: ReviewSession, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.images = session, session.images
        self._icons = {status: status_icon(rgb) for status, rgb in STATUS_COLORS.items()}
        self._unreadable_icon = status_icon(UNREADABLE_COLOR)
        self._unreadable_brush = QtGui.QBrush(QtGui.QColor(*UNREADABLE_COLOR))
        self.images.refilled.connect(self._on_refilled)
        self.images.record_changed.connect(lambda record: self.repaint_image(record.id))
        session.predictions.status_changed.connect(lambda change: self.repaint_image(change[0]))

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.images)

    def data(self, index: QtCore.QModelIndex, role: int = _Role.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.images):
            return None
        if role == IMAGE_ID_ROLE:
            return self.images.ids[index.row()]
        if role not in (_Role.DisplayRole, _Role.DecorationRole, _Role.ToolTipRole,
                        _Role.ForegroundRole):
            return None
        return self._record_data(self.images.record_at(index.row()), role)

    def index_of(self, image_id: int | None) -> QtCore.QModelIndex:
        """The row of an image (invalid when the list does not show it)."""
        row = self.images.row_of(image_id)
        return QtCore.QModelIndex() if row is None else self.index(row)

    def repaint_image(self, image_id: int) -> None:
        index = self.index_of(image_id)
        if index.isValid():
            self.dataChanged.emit(index, index)

    def _record_data(self, record: ImageRecord, role: int) -> object:
        if role == _Role.DisplayRole:
            return describe(record, self.session.predictions.status(record.id))
        if role == _Role.DecorationRole:
            return self._icons[record.status] if record.readable else self._unreadable_icon
        if role == _Role.ToolTipRole:
            if record.readable:  # asked on hover only: the comments (a flag's reason) too
                comments = "".join(f"\n{comment_line(c)}"
                                   for c in self.session.ws.comments(record.id))
                return f"{record.path}\nstatus: {record.status.value}{comments}"
            return f"{record.path}\nCannot be shown: {record.read_error}"
        return None if record.readable else self._unreadable_brush

    def _on_refilled(self, _images: ImageList) -> None:
        self.beginResetModel()
        self.endResetModel()
