"""Faults under a running workspace: its files deleted, a full disk at close."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from qtseg_core.workspace import Workspace
from qtseg_core.workspace.guard import WorkspaceFilesChangedError
from tests.core.workspace_helpers import demo_folder


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace.open(demo_folder(tmp_path, ("brain1_z011",)))
    yield workspace
    workspace.close()


def _mask(size: int) -> np.ndarray:
    mask = np.zeros((256, 256), np.uint8)
    mask[:size, :size] = 1
    return mask


@pytest.mark.parametrize("name", ["workspace.sqlite-wal", ".lock"])
def test_a_deleted_wal_or_lock_stops_writing_with_a_message(ws, name):
    image_id = ws.images()[0].id
    ws.save_correction(image_id, _mask(5), "Ana")
    (ws.folder / name).unlink()
    with pytest.raises(WorkspaceFilesChangedError, match=f"{name}' was deleted or replaced"):
        ws.save_correction(image_id, _mask(9), "Ana")
    with pytest.raises(WorkspaceFilesChangedError):  # and it stays stopped
        ws.reviewer_name = "Ana"


def test_a_replaced_lock_file_is_noticed_too(ws):
    lock = ws.folder / ".lock"
    lock.unlink()
    lock.write_text("{}")  # a second writer's new lock file: a different file, same name
    with pytest.raises(WorkspaceFilesChangedError, match="at the same time"):
        ws.reviewer_name = "Ana"


class _FullDisk:
    """A connection whose writes fail as SQLite's do when the disk is full."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, *args: object) -> object:
        if "wal_checkpoint" in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def close(self) -> None:
        self._db.close()


def test_close_on_a_full_disk_releases_the_lock_and_keeps_what_was_committed(tmp_path):
    ws = Workspace.open(demo_folder(tmp_path, ("brain1_z011",)))
    image_id = ws.images()[0].id
    ws.save_correction(image_id, _mask(5), "Ana")
    ws._db = _FullDisk(ws._db)

    ws.close()

    assert ws.closed
    with Workspace.open(ws.folder) as again:  # the lock was released
        assert again.final_mask(image_id) is not None
        assert again.read_mask(again.final_mask(image_id)).sum() == 25
