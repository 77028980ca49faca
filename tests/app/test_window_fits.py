"""From a user test on a real 1600x1000 screen: nothing cut off on a short screen, in the
flag dialog or in the review strip."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from tests.app.helpers import open_active

Key = QtCore.Qt.Key
TITLE_BAR_EXTRAS = 150  # px a window manager's title bar spends on its icon and buttons


def test_on_a_short_screen_the_window_fits_and_the_fine_tune_text_is_whole(
        qtbot, image_folder: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    window.resize(1366, 700)  # a laptop's screen less its task bar
    QtWidgets.QApplication.processEvents()
    assert window.height() <= 700
    panel = window.finetune_panel
    for label in (panel.state_label, panel.split_box.summary_label, panel.split_box.image_label):
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    window.close()


def test_the_flag_dialog_is_wide_enough_for_its_title(qtbot, image_folder: Path,
                                                      monkeypatch) -> None:
    from qtseg_app.qt import dialogs

    window = open_active(qtbot, image_folder)  # the real flag dialog, answered below
    monkeypatch.setattr(dialogs, "ask_reviewer_name", lambda parent: "Dr Test")
    seen: list[tuple[str, int, int]] = []

    def answer() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        title = dialog.windowTitle()
        seen.append((title, dialog.width(), dialog.fontMetrics().horizontalAdvance(title)))
        dialog.findChild(QtWidgets.QLineEdit).setText("edge unclear")
        dialog.accept()

    QtCore.QTimer.singleShot(200, answer)
    window.review_keys.flag()
    ((title, width, title_width),) = seen
    assert title == "Flag for an expert" and width >= title_width + TITLE_BAR_EXTRAS
    assert window.ws.comments(window.ws.images()[0].id)[-1].text == "edge unclear"
    window.close()


def _plain(label: QtWidgets.QLabel) -> str:
    document = QtGui.QTextDocument()
    document.setHtml(label.text())
    return document.toPlainText()


def test_the_review_strip_lists_the_slice_keys_and_shows_the_whole_name(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    qtbot.keyClick(window.canvas, Key.Key_F2)
    QtWidgets.QApplication.processEvents()
    bar = window.review_bar
    texts = " ".join(_plain(label) for label in bar.findChildren(QtWidgets.QLabel))
    assert "PgUp" in texts and "PgDn" in texts  # both step through slices and images
    name = bar.image_label  # no comment on this image: the name, status and reviewer fit
    assert name.width() >= name.fontMetrics().horizontalAdvance(_plain(name)) * 1.1, _plain(name)
    window.close()


def test_review_mode_round_trips_keep_each_dock_where_it_was(
        qtbot, image_folder: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    QtWidgets.QApplication.processEvents()
    before = [dock.geometry() for dock in window.docks]
    for _ in range(2):
        qtbot.keyClick(window.canvas, Key.Key_F2)
        QtWidgets.QApplication.processEvents()
        qtbot.keyClick(window.canvas, Key.Key_F2)
        QtWidgets.QApplication.processEvents()
    assert [dock.geometry() for dock in window.docks] == before
    window.close()


def test_a_folder_it_cannot_write_says_to_copy_it(qtbot, tmp_path: Path, no_dialogs,
                                                  monkeypatch) -> None:
    """From the user test as a non-root user on a read-only folder: the dialog said "Open the
    workspace read-only", which the app cannot do (root, as tests run, may write anywhere:
    the lock's PermissionError stands in for the folder's)."""
    from qtseg_app.qt.app import open_workspace
    from qtseg_core.workspace import lock

    def refuse(self) -> None:  # noqa: ANN001
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(lock.WorkspaceLock, "acquire", refuse)
    (tmp_path / "scans").mkdir()
    assert open_workspace(tmp_path / "scans") is None
    [(title, problem)] = no_dialogs
    assert title == "Cannot open workspace" and "Permission denied" in problem
    assert "Open the workspace read-only" not in problem
    assert "copy the folder somewhere writable" in problem
