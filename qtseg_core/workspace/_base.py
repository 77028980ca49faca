"""Shared plumbing of the workspace mixins: the connection, transactions, paths, events."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from qtseg_core.workspace.errors import WorkspaceReadOnlyError, WorkspaceWriteError
from qtseg_core.workspace.guard import WriteGuard
from qtseg_core.workspace.lock import WorkspaceLock
from qtseg_core.workspace.records import ImageRecord, ReviewStatus

MASK_FOLDER = "masks"
MODEL_FOLDER = "models"
#: A slice's images.path is "<volume path><SLICE_MARK><series uid><SLICE_MARK><index>".
SLICE_MARK = "#"


def utc_now() -> str:
    """Current time as UTC ISO 8601 with milliseconds (sorts as text)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class WorkspaceBase:
    """State every part of :class:`Workspace` shares; not used on its own."""

    folder: Path
    read_only: bool
    _db: sqlite3.Connection
    _mutex: threading.RLock
    _lock: WorkspaceLock | None
    _guard: WriteGuard

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic, durable write: all of it is committed or none of it (a failing disk
        raises WorkspaceWriteError, with nothing stored)."""
        if self.read_only:
            raise WorkspaceReadOnlyError(
                f"The workspace '{self.folder}' was opened read-only; open it without "
                "read_only (close the other window first) to change it.")
        with self._mutex:
            self._guard.check()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    _roll_back(self._db)
                    raise
            except sqlite3.OperationalError as error:  # disk full, I/O error, locked too long
                raise WorkspaceWriteError(
                    f"Could not save to the workspace '{self.folder}' ({error}); nothing of "
                    "this change was stored. Free disk space or check the disk, then try "
                    "again.") from error
            self._guard.check()  # deleted during the commit: say so, it may be lost

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._mutex:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _stored_path(self, path: Path) -> str:
        """Paths inside the workspace are stored relative, so the folder can move."""
        path = Path(path).resolve()
        if path.is_relative_to(self.folder):
            return path.relative_to(self.folder).as_posix()
        return str(path)

    def _absolute(self, stored: str) -> Path:
        path = Path(stored)
        return path if path.is_absolute() else self.folder / path

    @staticmethod
    def _log(db: sqlite3.Connection, image_id: int | None, kind: str, actor: str | None, *,
             old_status: ReviewStatus | None = None, new_status: ReviewStatus | None = None,
             comment: str | None = None, detail: str | None = None) -> None:
        """Append to the history, inside the caller's transaction."""
        db.execute(
            "INSERT INTO events (image_id, kind, actor, old_status, new_status, comment, "
            "detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (image_id, kind, actor, old_status.value if old_status else None,
             new_status.value if new_status else None, comment, detail, utc_now()))

    def image(self, image_id: int) -> ImageRecord:
        """One image by id; KeyError naming the id when absent."""
        rows = self._query(_IMAGE_SELECT + " WHERE i.id = ?", (image_id,))
        if not rows:
            raise KeyError(f"No image with id {image_id} in the workspace '{self.folder}'.")
        return self._image_record(rows[0])

    def _image_record(self, row: sqlite3.Row) -> ImageRecord:
        stored = row["path"] if row["volume_id"] is None else row["path"].split(SLICE_MARK)[0]
        return ImageRecord(
            id=row["id"], path=self._absolute(stored), name=row["name"],
            status=ReviewStatus(row["status"]), width=row["width"], height=row["height"],
            group=row["group_id"], split=row["split_choice"], read_error=row["read_error"],
            uncertainty=row["uncertainty"], volume_id=row["volume_id"],
            slice_index=row["slice_index"])


def _roll_back(db: sqlite3.Connection) -> None:
    try:
        db.execute("ROLLBACK")
    except sqlite3.OperationalError:
        pass  # no transaction left to roll back (SQLite ended it on the error)


_IMAGE_COLUMNS = (
    "i.*, (SELECT c.split FROM split_choices c WHERE c.image_id = i.id) AS split_choice"
)
_IMAGE_SELECT = f"SELECT {_IMAGE_COLUMNS} FROM images i"
