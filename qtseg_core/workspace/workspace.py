"""The workspace: one folder holding the app's state for a set of images.

Layout::

    <ws>/workspace.sqlite   images, statuses, mask versions, history, models, settings
    <ws>/masks/             PNG masks (uint8 class indices), one file per saved version
    <ws>/models/            registered model checkpoints (.safetensors)
    <ws>/.lock              held (OS file lock) by the one process that has it open for writing
    <ws>/.lock-holder.json  who holds it (pid, host, since), for the "already open" message

Images stay where they are (paths inside the folder are stored relative, so
the folder can be moved or copied). Every write is one SQLite transaction,
and mask files are written atomically before the row that names them, so a
kill at any moment loses nothing that was committed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qtseg_core.classes import default_colors, default_names
from qtseg_core.workspace._base import MASK_FOLDER, MODEL_FOLDER
from qtseg_core.workspace.errors import WorkspaceError
from qtseg_core.workspace.guard import WriteGuard
from qtseg_core.workspace.images import ImagesMixin
from qtseg_core.workspace.leftovers import clean_leftovers, finished_jobs, unfinished_jobs
from qtseg_core.workspace.lock import LOCK_NAME, WorkspaceLock
from qtseg_core.workspace.schema import DB_NAME, connect
from qtseg_core.workspace.split_choices import SplitsMixin


class Workspace(ImagesMixin, SplitsMixin):
    """Qt-free state of one workspace folder; open it with :meth:`Workspace.open`.

    Thread-safe (one internal lock serialises database access), but keep
    writes on one thread where you can. Use it as a context manager or call
    :meth:`close` so the folder's lock is released promptly.
    """

    interrupted_finetunes: tuple[str, ...] = ()  # set by open(): see unfinished_jobs
    finished_finetunes: tuple[Path, ...] = ()  # set by open(): see finished_jobs

    @classmethod
    def open(cls, folder: str | Path, *, create: bool = True, read_only: bool = False,
             scan: bool = True) -> Workspace:
        """Open (or create) the workspace in ``folder``.

        create: make the folder and database when missing; else WorkspaceError.
        read_only: take no lock; writes raise WorkspaceReadOnlyError. For a second
            process (e.g. ``qtseg finetune``) that reads while the app has it open.
        scan: list image files of ``folder`` (or ``folder/images``) not yet known;
            unreadable ones are listed with the reason.
        Opening for writing removes what a killed session left behind
        (``leftovers.clean_leftovers``: temporary files, uncommitted masks,
        half-made exports, old fine-tune job folders); ``interrupted_finetunes``
        then says in words which fine-tunes a kill left unfinished, and
        ``finished_finetunes`` lists the job folders of runs that finished but
        were never judged by the gate (``qtseg_core.finetune.apply_finished_jobs``).
        Raises WorkspaceLockedError when another process has it open for writing.
        """
        folder = Path(folder).expanduser().resolve()
        _check_folder(folder, create=create and not read_only)
        workspace = cls.__new__(cls)
        workspace._attach(folder, read_only)
        workspace.interrupted_finetunes = () if read_only else tuple(unfinished_jobs(workspace))
        workspace.finished_finetunes = () if read_only else tuple(finished_jobs(workspace))
        if not read_only:
            clean_leftovers(workspace)
        if scan and not read_only:
            workspace.scan()
        return workspace

    def _attach(self, folder: Path, read_only: bool) -> None:
        self.folder, self.read_only = folder, read_only
        self._mutex = threading.RLock()
        self._lock = None if read_only else WorkspaceLock(folder)
        if self._lock is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                self._lock.acquire()
            except OSError as error:
                raise WorkspaceError(
                    f"'{folder}' cannot be opened for writing ({error.strerror or error}): the "
                    "folder or disk may be read-only or full. A workspace keeps its database "
                    "and masks in the folder itself: copy the folder somewhere writable (the "
                    "image files may stay read-only), or read an existing workspace with "
                    "read_only=True.") from error
        try:
            self._db = connect(folder, read_only=read_only)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        if not read_only:
            (folder / MASK_FOLDER).mkdir(exist_ok=True)
            (folder / MODEL_FOLDER).mkdir(exist_ok=True)
        watched = {"wal": folder / f"{DB_NAME}-wal", "lock": folder / LOCK_NAME}
        self._guard = WriteGuard({} if read_only else watched)

    def close(self) -> None:
        """Fold the write-ahead log into the database and release the lock; safe twice.

        Never raises for a full disk or a failing database: the connection is
        closed and the lock released all the same, and what was committed stays
        in the write-ahead log, which the next open folds in.
        """
        with self._mutex:
            if getattr(self, "_db", None) is None:
                return
            try:
                if not self.read_only:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # e.g. disk full: the WAL keeps every commit; the next open folds it in
            finally:
                db, self._db = self._db, None  # type: ignore[assignment]
                try:
                    db.close()
                finally:
                    if self._lock is not None:
                        self._lock.release()

    @property
    def closed(self) -> bool:
        return getattr(self, "_db", None) is None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "open"
        return f"Workspace('{self.folder}', {'closed' if self.closed else mode})"

    # --- settings ------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        """A stored setting ('reviewer_name', 'last_image_id', 'view_state', ...)."""
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable setting (committed at once; None removes it)."""
        with self._transaction() as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)",
                           (key, json.dumps(value)))

    @property
    def reviewer_name(self) -> str | None:
        """The name stored with each decision; asked once by the app."""
        return self.setting("reviewer_name")

    @reviewer_name.setter
    def reviewer_name(self, name: str | None) -> None:
        """Store the name; corrections saved before any name was set (no author) are
        attributed to it. Changing the name later leaves others' work as it is."""
        with self._transaction() as db:
            if name is None:
                db.execute("DELETE FROM settings WHERE key = 'reviewer_name'")
                return
            db.execute("INSERT OR REPLACE INTO settings VALUES ('reviewer_name', ?)",
                       (json.dumps(name),))
            db.execute("UPDATE mask_versions SET author = ? WHERE author IS NULL "
                       "AND kind = 'correction'", (name,))
            db.execute("UPDATE events SET actor = ? WHERE actor IS NULL AND kind IN "
                       "('correction', 'status', 'comment')", (name,))

    @property
    def last_image_id(self) -> int | None:
        """The image open when the app last saved its place (reopen there)."""
        return self.setting("last_image_id")

    @last_image_id.setter
    def last_image_id(self, image_id: int | None) -> None:
        self.set_setting("last_image_id", image_id)

    def classes(self) -> tuple[list[str], list[tuple[int, int, int]]]:
        """Class names and RGB colours, index 0 = background (default: binary)."""
        stored = self.setting("classes")
        if stored is None:
            return list(default_names(2)), list(default_colors(2))
        return list(stored["names"]), [tuple(c) for c in stored["colors"]]

    def set_classes(self, names: Sequence[str], colors: Sequence[Sequence[int]]) -> None:
        """Set class names and colours, e.g. from the loaded model's metadata."""
        if len(names) != len(colors) or len(names) < 2:
            raise ValueError(f"Give one colour per class and at least 2 classes (background "
                             f"included); got {len(names)} names and {len(colors)} colours.")
        self.set_setting("classes", {"names": list(names),
                                     "colors": [[int(v) for v in c[:3]] for c in colors]})


def _check_folder(folder: Path, *, create: bool) -> None:
    if (folder / DB_NAME).is_file():
        return
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"'{folder}' is a file; a workspace is a folder of images.")
    if not create:
        raise WorkspaceError(
            f"'{folder}' is not a QTSeg workspace (no {DB_NAME}); open it in QTSeg Studio "
            "once to create one, or pass create=True.")
