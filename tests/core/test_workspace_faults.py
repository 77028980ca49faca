"""Faults under a running workspace: its files deleted, a full disk at close."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from qtseg_core.io import ImageReadError
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


def test_a_killed_sessions_leftovers_are_cleaned_at_the_next_open(tmp_path):
    from qtseg_core.finetune.job import _new_job_folder
    from qtseg_core.workspace.export import export_training_set

    folder = demo_folder(tmp_path, ("brain1_z011",))
    with Workspace.open(folder) as ws:
        kept = ws.save_correction(ws.images()[0].id, _mask(5), "Ana")
        export_training_set(ws, folder / "export")
    leftovers = [
        folder / "masks" / "000001-correction-0123456789ab.png",  # written, never committed
        folder / "masks" / ".000001-correction-0123456789ab.png.k3j4h5g6.tmp",
        folder / "models" / ".v2.safetensors.a1b2c3d4.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half")
    for name in (".export.partial-0123abcd", ".export.old-89abcdef"):
        (folder / name / "images").mkdir(parents=True)
    job = _new_job_folder(folder)
    mine = [folder / "masks" / "notes.png", folder / "finetune" / "my_folder" / "a.txt",
            folder / ".hidden.partial-other"]
    for path in mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")

    with Workspace.open(folder) as ws:
        assert ws.read_mask(ws.final_mask(ws.images()[0].id)).sum() == 25

    assert not any(p.exists() for p in leftovers)
    assert not (folder / ".export.partial-0123abcd").exists()
    assert not (folder / ".export.old-89abcdef").exists() and not job.exists()
    assert all(p.read_text() == "mine" for p in mine)
    assert kept.path.is_file() and (folder / "export" / "qtseg_export.json").is_file()


def _damaged(folder, kind: str):
    database = folder / "workspace.sqlite"
    if kind == "folder":
        database.mkdir()
    elif kind == "garbage":
        database.write_bytes(b"not a database " * 200)
    else:  # truncated to a third
        Workspace.open(folder).close()
        data = database.read_bytes()
        database.write_bytes(data[: len(data) // 3])
    return database


@pytest.mark.parametrize("kind", ["folder", "garbage", "truncated"])
def test_a_damaged_database_gives_a_workspace_error_naming_it(tmp_path, kind):
    from qtseg_core.workspace import WorkspaceDatabaseError

    folder = demo_folder(tmp_path, ("brain1_z011",))
    database = _damaged(folder, kind)
    with pytest.raises(WorkspaceDatabaseError, match="folder, not the workspace database"
                       if kind == "folder" else "is damaged") as caught:
        Workspace.open(folder)
    assert caught.value.path == database and str(database) in str(caught.value)
    with pytest.raises(WorkspaceDatabaseError):  # again the same, not "locked": lock released
        Workspace.open(folder)


def test_a_full_disk_at_start_gives_a_workspace_error(tmp_path, monkeypatch):
    from qtseg_core.workspace import WorkspaceDatabaseError, schema

    folder = demo_folder(tmp_path, ("brain1_z011",))

    def full(path, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(schema, "_open_for_writing", full)
    with pytest.raises(WorkspaceDatabaseError, match="disk holding .* is full"):
        Workspace.open(folder)


def test_read_only_open_falls_back_to_immutable_where_wal_cannot_write(tmp_path, monkeypatch):
    from qtseg_core.workspace import schema

    folder = demo_folder(tmp_path, ("brain1_z011",))
    with Workspace.open(folder) as ws:
        ws.reviewer_name = "Ana"
    real_connect = sqlite3.connect
    opened = []

    def read_only_disk(target, *args, **kwargs):  # what SQLite says on a read-only disk
        opened.append(str(target))
        if "immutable" not in str(target):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(target, *args, **kwargs)

    monkeypatch.setattr(schema.sqlite3, "connect", read_only_disk)
    with Workspace.open(folder, read_only=True) as ws:
        assert ws.reviewer_name == "Ana" and len(ws.images()) == 1
    assert "immutable=1" in opened[-1]


def test_a_file_unreadable_at_the_first_scan_is_probed_again(tmp_path):
    import cv2

    folder = demo_folder(tmp_path, ("brain1_z011",))
    image = np.full((40, 50), 120, np.uint8)
    complete = cv2.imencode(".png", image)[1].tobytes()
    (folder / "images" / "copying.png").write_bytes(complete[:len(complete) // 2])  # copying
    with Workspace.open(folder) as ws:
        record = next(i for i in ws.images() if i.name == "copying.png")
        # the scan reads headers only (this one is complete): the pixels fail when opened
        with pytest.raises(ImageReadError, match="copying.png"):
            ws.read_image(record.id)
        assert ws.image(record.id).read_error
    (folder / "images" / "copying.png").write_bytes(complete)
    with Workspace.open(folder) as ws:
        record = ws.image(record.id)
        assert record.read_error is None and (record.width, record.height) == (50, 40)
        assert ws.read_image(record.id).shape == (40, 50)


def test_an_image_removed_from_the_workspace_stays_out_until_added_again(tmp_path):
    folder = demo_folder(tmp_path, ("brain1_z011", "brain1_z012"))
    with Workspace.open(folder) as ws:
        gone = next(i for i in ws.images() if i.name.startswith("brain1_z011"))
        version = ws.save_correction(gone.id, _mask(5), "Ana")
        ws.remove_image(gone.id, actor="Ana")
        assert [i.name for i in ws.images()] == ["brain1_z012.png"]
        assert not version.path.exists() and gone.path.is_file()  # the image file stays
    with Workspace.open(folder) as ws:
        assert [i.name for i in ws.images()] == ["brain1_z012.png"]
        (back,) = ws.add_images([gone.path])
        assert back.name == gone.name
    with Workspace.open(folder) as ws:
        assert len(ws.images()) == 2
