"""A full disk while annotating: Accept says so, closing never drops an edit silently."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6 import QtCore

from qtseg_core.workspace import ReviewStatus
from tests.app.helpers import drag_on_canvas, open_active


class _FullDisk:
    """The workspace connection, whose writes fail as SQLite's do on a full disk."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, *args: object) -> object:
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def close(self) -> None:
        self.db.close()


def test_accept_on_a_full_disk_says_so_and_keeps_the_status(qtbot, image_folder: Path,
                                                            no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    image_id = window.document.image_id
    drag_on_canvas(window.canvas, [(60, 60), (90, 90)])
    window.ws.reviewer_name = "Dr Test"
    window.ws._db = _FullDisk(window.ws._db)

    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_A)  # accept: must not raise in the slot

    assert any(title == "Not saved" and "Accepted for" in problem
               for title, problem in no_dialogs)
    assert window.ws.image(image_id).status is not ReviewStatus.ACCEPTED
    assert window.document is not None and window.document.image_id == image_id
    window.ws._db = window.ws._db.db
    window.close()


def test_closing_with_an_unsaved_edit_keeps_the_window_open_until_it_is_saved(
        qtbot, image_folder: Path, no_dialogs, monkeypatch) -> None:
    from qtseg_app.qt import dialogs

    asked = []
    monkeypatch.setattr(dialogs, "confirm_close_unsaved",
                        lambda parent, name: asked.append(name) or False)
    window = open_active(qtbot, image_folder)
    image_id = window.document.image_id
    window.ws._db = _FullDisk(window.ws._db)
    drag_on_canvas(window.canvas, [(60, 60), (120, 120)])
    painted = window.document.mask.copy()

    window.close()
    assert asked and window.isVisible() and not window.ws.closed  # nothing was dropped

    window.ws._db = window.ws._db.db  # space freed
    window.close()
    assert not window.isVisible()
    from qtseg_core.workspace import Workspace

    with Workspace.open(image_folder) as ws:
        saved = ws.read_mask(ws.final_mask(image_id))
    assert (saved == painted).all() and painted.any()
