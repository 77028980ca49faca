"""The fine-tune dock: progress of a running fine-tune, its settings, the model versions.

It renders the session's :class:`~qtseg_app.state.FinetuneState` and the
workspace's model registry, and sends the buttons to the
:class:`~qtseg_app.services.FinetuneService`, which does the work.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.qt.finetune_settings_dialog import FinetuneSettingsDialog
from qtseg_app.qt.layout import keep_place_when_hidden, row
from qtseg_app.services import FinetuneService
from qtseg_app.services.finetune import recipe_for, settings_to_show
from qtseg_app.state import ReviewSession
from qtseg_core.workspace import ModelVersion

VERSION_COLUMNS = ("Version", "Dice", "Images", "Date")  # the parent: in the tooltip
IN_USE = " (in use)"
IDLE_TEXT = "No fine-tune running. Accept or correct images, then press Fine-tune."


def time_left(seconds: float) -> str:
    """e.g. 'about 2 min left', 'under a minute left'."""
    if seconds < 60:
        return "under a minute left"
    minutes = round(seconds / 60)
    return f"about {minutes} min left" if minutes < 90 else f"about {minutes / 60:.1f} h left"


def progress_text(event: dict[str, Any]) -> str:
    """Two lines for a protocol progress event: epoch, loss, validation Dice and time left."""
    return (f"Epoch {event['epoch']}/{event['epochs']} · loss {event['loss']:.3f}\n"
            f"val Dice {event['val_dice']:.1f} (best {event.get('best_val_dice', 0.0):.1f}) · "
            f"{time_left(float(event.get('eta_s', 0.0)))}")


def version_row(model: ModelVersion) -> list[str]:
    """The registry columns of one version (val Dice x100 as the gate measured it; the
    date as month-day hour:minute, so the four columns fit the dock)."""
    dice = model.scores.get("val_dice")
    return [model.version + (IN_USE if model.is_current else ""),
            f"{float(dice):.1f}" if isinstance(dice, (int, float)) else "—",
            str(len(model.trained_on)) if model.trained_on else "—",
            model.created_at[5:16].replace("T", " ")]


def version_tooltip(model: ModelVersion) -> str:
    """Everything about a version, for the row's tooltip (nothing is lost to narrow columns)."""
    parent = f"fine-tuned from {model.parent}" if model.parent else "registered"
    lines = [f"{model.version}: {parent}, {model.created_at[:16].replace('T', ' ')} UTC"]
    return "\n".join(lines + ([model.note] if model.note else []))


class VersionList(QtWidgets.QTreeWidget):
    """The model versions: as tall as its rows, up to ``ROWS`` (then it scrolls), so the
    dock around it (which scrolls on a short screen) gives the space to the text above."""

    ROWS = 6

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        rows = min(max(self.topLevelItemCount(), 1), self.ROWS)
        row_height = max(self.sizeHintForRow(0), self.fontMetrics().height() + 4)
        height = self.header().sizeHint().height() + rows * row_height + 2 * self.frameWidth()
        return QtCore.QSize(super().sizeHint().width(), height)


class FinetunePanel(QtWidgets.QWidget):
    """Progress bar + Cancel + Settings, then the list of model versions with Roll back."""

    def __init__(self, session: ReviewSession, service: FinetuneService,
                 split_box: QtWidgets.QWidget | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.service = session, service
        self.split_box = split_box  # where the next fine-tune trains and validates
        self.settings_dialog: FinetuneSettingsDialog | None = None
        self._running = False
        self.state_label = QtWidgets.QLabel(IDLE_TEXT)
        self.state_label.setWordWrap(True)
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setVisible(False)
        self.progress_label = QtWidgets.QLabel()  # two short lines: no wrapping to misjudge
        self.progress_label.setVisible(False)
        self.cancel_button = QtWidgets.QPushButton("Cancel fine-tune")
        self.cancel_button.setToolTip("Stop the training; the model in use stays as it is")
        self.cancel_button.setVisible(False)
        self.settings_button = QtWidgets.QPushButton("Fine-tune settings…")
        self.settings_button.setToolTip("Epochs, input size, learning rate, early stopping")
        self.versions = VersionList()
        self.versions.setHeaderLabels(list(VERSION_COLUMNS))
        self.versions.setRootIsDecorated(False)
        self.versions.header().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.versions.header().setStretchLastSection(False)
        self.versions.header().setSectionResizeMode(  # the date takes what is left
            len(VERSION_COLUMNS) - 1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.versions.setToolTip("Every model of this workspace; Val Dice is on its "
                                 "validation images when it was fine-tuned")
        self.rollback_button = QtWidgets.QPushButton("Roll back to this version")
        self.rollback_button.setToolTip("Use the selected version again; images not yet "
                                        "reviewed are predicted again with it")
        self.rollback_button.setEnabled(False)
        self._build_layout()
        self.cancel_button.clicked.connect(service.cancel)
        self.settings_button.clicked.connect(self.edit_settings)
        self.rollback_button.clicked.connect(self._on_rollback)
        self.versions.itemSelectionChanged.connect(self._update_rollback)
        session.finetune.changed.connect(self._on_state)
        self.show_versions(session.ws.models())

    def _on_state(self, change: tuple[str, object]) -> None:
        name, value = change
        state = self.session.finetune
        if name == "running":
            if value:
                self.show_started(state.status)
            else:
                self.show_finished(state.status)
        elif name == "cancelling" and value:
            self.show_cancelling()
        elif name == "status" and state.running and not state.cancelling:
            self.show_status(str(value))
        elif name == "progress" and value is not None:
            self.show_progress(value)
        elif name == "versions_changed":
            self.show_versions(self.session.ws.models())

    # ---- settings -------------------------------------------------------------------------
    def edit_settings(self) -> None:
        """Open the settings dialog (non-blocking); OK stores them in the workspace."""
        ws = self.session.ws
        dialog = FinetuneSettingsDialog(settings_to_show(ws), recipe_for(ws), self)
        dialog.accepted.connect(lambda: self._store_settings(dialog))
        self.settings_dialog = dialog
        dialog.open()

    def _store_settings(self, dialog: FinetuneSettingsDialog) -> None:
        try:
            self.service.store_settings(dialog.settings())
        except ValueError as error:
            dialogs.show_error(self, "Settings not saved", str(error),
                               "Open Fine-tune settings again and correct the value.")

    def _build_layout(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        for widget in (self.state_label, row(self.progress_bar, self.cancel_button),
                       self.progress_label, self.settings_button, self.split_box,
                       QtWidgets.QLabel("<b>Model versions</b>"), self.versions,
                       self.rollback_button):
            if widget is not None:
                layout.addWidget(widget)
        lines = self.state_label.fontMetrics().lineSpacing()
        self.state_label.setFixedHeight(2 * lines + 4)  # 1 or 2 lines: nothing below moves
        self.state_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop
                                      | QtCore.Qt.AlignmentFlag.AlignLeft)
        self.progress_label.setText("\n")  # two lines' height, kept while hidden
        self.progress_label.setMinimumHeight(self.progress_label.sizeHint().height())
        keep_place_when_hidden(self.progress_bar, self.progress_label, self.cancel_button)

    def _say(self, text: str) -> None:
        """The state line (at most two lines shown; all of it in the tooltip)."""
        self.state_label.setText(text)
        self.state_label.setToolTip(text)

    # ---- a running fine-tune --------------------------------------------------------------
    def show_started(self, text: str) -> None:
        self._running = True
        self._say(text)
        self.progress_bar.setRange(0, 0)  # busy until the first epoch ends
        self.progress_bar.setFormat("starting…")
        self.progress_label.setText("Training starts in a separate process…")
        for widget in (self.progress_bar, self.progress_label, self.cancel_button):
            widget.setVisible(True)
        self.cancel_button.setEnabled(True)
        self._update_rollback()

    def show_status(self, text: str) -> None:
        self._say(text[:1].upper() + text[1:])

    def show_progress(self, event: dict[str, Any]) -> None:
        """A progress event of the child (epoch counted from 1)."""
        self.progress_bar.setRange(0, int(event["epochs"]))
        self.progress_bar.setValue(int(event["epoch"]))
        self.progress_bar.setFormat("epoch %v / %m")
        self.progress_label.setText(progress_text(event))

    def show_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self._say("Cancelling: the training stops at its next step…")

    def show_finished(self, text: str) -> None:
        """The run ended (done, refused, cancelled or failed): ``text`` says how."""
        self._running = False
        self._say(text)
        for widget in (self.progress_bar, self.progress_label, self.cancel_button):
            widget.setVisible(False)
        self._update_rollback()

    # ---- versions -------------------------------------------------------------------------
    def show_versions(self, models: list[ModelVersion]) -> None:
        """Fill the versions list, newest first, the current one marked and selected."""
        self.versions.clear()
        for model in reversed(models):
            item = QtWidgets.QTreeWidgetItem(version_row(model))
            item.setData(0, QtCore.Qt.ItemDataRole.UserRole, model.version)
            for column in range(len(VERSION_COLUMNS)):
                item.setToolTip(column, version_tooltip(model))
            self.versions.addTopLevelItem(item)
            if model.is_current:
                font = item.font(0)
                font.setBold(True)
                for column in range(len(VERSION_COLUMNS)):
                    item.setFont(column, font)
                self.versions.setCurrentItem(item)
        self.versions.updateGeometry()  # its height follows the rows
        self._update_rollback()

    def selected_version(self) -> str | None:
        item = self.versions.currentItem()
        return None if item is None else item.data(0, QtCore.Qt.ItemDataRole.UserRole)

    def _update_rollback(self) -> None:
        item = self.versions.currentItem()
        current = item is not None and item.text(0).endswith(IN_USE)
        self.rollback_button.setEnabled(item is not None and not current and not self._running)

    def _on_rollback(self) -> None:
        version = self.selected_version()
        if version is not None:
            self.service.rollback(version)
