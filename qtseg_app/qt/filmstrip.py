"""The image list: every image with its status, filters and sort orders.

Unreadable files stay in the list, marked as such with the reason in the
tooltip, so the user sees them and they never stop the rest of the folder.
The list renders the session's :class:`~qtseg_app.state.image_list.ImageList`;
picking an image, a filter or an order goes back to the session.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app.state import PredictionStatus, ReviewSession
from qtseg_app.state.image_list import FILTERS, ORDERS, ImageList
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
VOLUME_LINES = 6  # volumes summed up under the list (status, slices reviewed)


def _status_icon(rgb: tuple[int, int, int]) -> QtGui.QIcon:
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


class Filmstrip(QtWidgets.QWidget):
    """Filter and sort controls over the session's image list; opens the image picked."""

    def __init__(self, session: ReviewSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.filter_box = QtWidgets.QComboBox()
        self.filter_box.addItems(list(FILTERS))
        self.filter_box.setToolTip("Show only images with this status")
        self.order_box = QtWidgets.QComboBox()
        self.order_box.addItems(list(ORDERS))
        self.order_box.setToolTip("Order of the list (and of next / previous)")
        self.list = QtWidgets.QListWidget()
        self.list.setUniformItemSizes(True)
        self.counts_label = QtWidgets.QLabel()
        self.counts_label.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.order_box)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.counts_label)
        self._icons = {status: _status_icon(rgb) for status, rgb in STATUS_COLORS.items()}
        self._unreadable_icon = _status_icon(UNREADABLE_COLOR)
        self._items: dict[int, QtWidgets.QListWidgetItem] = {}
        self._records: dict[int, ImageRecord] = {}
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.filter_box.currentTextChanged.connect(
            lambda text: session.set_list_view(filter=text))
        self.order_box.currentTextChanged.connect(lambda text: session.set_list_view(order=text))
        images = session.images
        images.refilled.connect(self._on_refilled)
        images.record_changed.connect(self._on_record_changed)
        session.predictions.status_changed.connect(self._on_prediction_status)
        session.document_changed.connect(
            lambda _document: self.select(session.current_id) if session.current_id else None)

    def set_order(self, label: str) -> None:
        self.order_box.setCurrentText(label)

    def set_filter(self, label: str) -> None:
        self.filter_box.setCurrentText(label)

    # ---- content ---------------------------------------------------------------------------
    def _on_refilled(self, images: ImageList) -> None:
        self.set_records(images.records, self.session.current_id)
        self.set_counts(images.counts, images.unreadable)

    def _on_prediction_status(self, change: tuple[int, PredictionStatus | None]) -> None:
        item, record = self._items.get(change[0]), self._records.get(change[0])
        if item is not None and record is not None:
            self._decorate(item, record)

    def _on_record_changed(self, record: ImageRecord) -> None:
        self.update_record(record)
        self.set_counts(self.session.images.counts, self.session.images.unreadable)

    def set_records(self, records: Sequence[ImageRecord], current_id: int | None) -> None:
        """Refill the list, keeping ``current_id`` selected without opening anything."""
        self.list.blockSignals(True)
        self.list.clear()
        self._items.clear()
        self._records.clear()
        for record in records:
            item = QtWidgets.QListWidgetItem()
            item.setData(IMAGE_ID_ROLE, record.id)
            self._decorate(item, record)
            self.list.addItem(item)
            self._items[record.id] = item
        if current_id in self._items:
            self.list.setCurrentItem(self._items[current_id])
        self.list.blockSignals(False)

    def update_record(self, record: ImageRecord) -> None:
        """Refresh one row after its status or uncertainty changed."""
        item = self._items.get(record.id)
        if item is not None:
            self._decorate(item, record)

    def select(self, image_id: int) -> None:
        """Highlight an image without opening it again."""
        item = self._items.get(image_id)
        if item is not None:
            self.list.blockSignals(True)
            self.list.setCurrentItem(item)
            self.list.scrollToItem(item)
            self.list.blockSignals(False)

    def visible_ids(self) -> list[int]:
        """Image ids in list order (for next / previous and prefetch)."""
        return [self.list.item(row).data(IMAGE_ID_ROLE) for row in range(self.list.count())]

    def set_counts(self, counts: dict[ReviewStatus, int], unreadable: int) -> None:
        parts = [f"{status.value}: {n}" for status, n in counts.items() if n]
        if unreadable:
            parts.append(f"unreadable: {unreadable}")
        volumes = self.session.images.volumes
        lines = [" · ".join(parts)] + [v.describe() for v in volumes[:VOLUME_LINES]]
        if len(volumes) > VOLUME_LINES:
            lines.append(f"… and {len(volumes) - VOLUME_LINES} more volumes")
        self.counts_label.setText("\n".join(lines))

    def _decorate(self, item: QtWidgets.QListWidgetItem, record: ImageRecord) -> None:
        self._records[record.id] = record
        item.setText(describe(record, self.session.predictions.status(record.id)))
        if record.readable:
            item.setIcon(self._icons[record.status])
            item.setToolTip(f"{record.path}\nstatus: {record.status.value}")
            item.setForeground(QtGui.QBrush())
        else:
            item.setIcon(self._unreadable_icon)
            item.setToolTip(f"{record.path}\nCannot be shown: {record.read_error}")
            item.setForeground(QtGui.QColor(*UNREADABLE_COLOR))

    def _on_current_changed(self, current: QtWidgets.QListWidgetItem | None,
                            _previous: object) -> None:
        if current is not None:
            self.session.open_image(int(current.data(IMAGE_ID_ROLE)))
