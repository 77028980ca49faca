"""The image list: every image with its status, filters and sort orders.

Unreadable files stay in the list, marked as such with the reason in the
tooltip, so the user sees them and they never stop the rest of the folder.
The list is a ``QListView`` over :class:`~qtseg_app.qt.image_list_model.ImageListModel`,
which renders the session's :class:`~qtseg_app.state.image_list.ImageList` and
builds no widget per image; picking an image (click, arrow keys), a filter or
an order goes back to the session.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from qtseg_app.qt.image_list_model import (  # noqa: F401 - the list's colours, re-exported
    IMAGE_ID_ROLE,
    STATUS_COLORS,
    UNREADABLE_COLOR,
    ImageListModel,
    describe,
)
from qtseg_app.state import ReviewSession
from qtseg_app.state.image_list import FILTERS, ORDERS, ImageList
from qtseg_core.workspace import ImageRecord, ReviewStatus

VOLUME_LINES = 6  # volumes summed up under the list (status, slices reviewed)


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
        self.model = ImageListModel(session, self)
        self.list = _image_view(self.model)
        self.counts_label = QtWidgets.QLabel()
        self.counts_label.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for widget in (self.filter_box, self.order_box):
            layout.addWidget(widget)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.counts_label)
        self._selecting = False
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.filter_box.currentTextChanged.connect(
            lambda text: session.set_list_view(filter=text))
        self.order_box.currentTextChanged.connect(lambda text: session.set_list_view(order=text))
        session.images.refilled.connect(self._on_refilled)
        session.images.record_changed.connect(self._on_record_changed)
        session.document_changed.connect(
            lambda _document: self.select(session.current_id) if session.current_id else None)

    def set_order(self, label: str) -> None:
        self.order_box.setCurrentText(label)

    def set_filter(self, label: str) -> None:
        self.filter_box.setCurrentText(label)

    # ---- content ---------------------------------------------------------------------------
    def _on_refilled(self, images: ImageList) -> None:
        if self.session.current_id is not None:
            self.select(self.session.current_id)
        self.set_counts(images.counts, images.unreadable)

    def _on_record_changed(self, _record: ImageRecord) -> None:
        self.set_counts(self.session.images.counts, self.session.images.unreadable)

    def update_record(self, record: ImageRecord) -> None:
        """Repaint one row after its status or uncertainty changed."""
        self.model.repaint_image(record.id)

    def select(self, image_id: int) -> None:
        """Highlight an image without opening it again."""
        index = self.model.index_of(image_id)
        if not index.isValid():
            return
        self._selecting = True
        try:
            self.list.setCurrentIndex(index)
            self.list.scrollTo(index)
        finally:
            self._selecting = False

    def visible_ids(self) -> list[int]:
        """Image ids in list order (for next / previous and prefetch)."""
        return list(self.session.images.ids)

    def row_text(self, row: int) -> str:
        """The text the list shows in ``row``."""
        return self.model.data(self.model.index(row))

    def current_text(self) -> str | None:
        """The text of the highlighted row, None when none is."""
        index = self.list.currentIndex()
        return self.model.data(index) if index.isValid() else None

    def set_counts(self, counts: dict[ReviewStatus, int], unreadable: int) -> None:
        parts = [f"{status.value}: {n}" for status, n in counts.items() if n]
        if unreadable:
            parts.append(f"unreadable: {unreadable}")
        volumes = self.session.images.volumes
        lines = [" · ".join(parts)] + [v.describe() for v in volumes[:VOLUME_LINES]]
        if len(volumes) > VOLUME_LINES:
            lines.append(f"… and {len(volumes) - VOLUME_LINES} more volumes")
        self.counts_label.setText("\n".join(lines))

    def _on_current_changed(self, current: QtCore.QModelIndex, _previous: object) -> None:
        if current.isValid() and not self._selecting:
            self.session.open_image(int(current.data(IMAGE_ID_ROLE)))


def _image_view(model: ImageListModel) -> QtWidgets.QListView:
    """One row per image, all the same height, so Qt lays out 10^5 rows without asking
    for each row's data."""
    view = QtWidgets.QListView()
    view.setModel(model)
    view.setUniformItemSizes(True)
    view.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)  # name start, status end
    view.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    return view
