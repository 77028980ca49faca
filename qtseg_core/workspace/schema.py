"""The workspace database: tables, version and connection settings.

WAL mode lets a reader (``qtseg finetune`` in another process) see committed
state while the app writes; ``synchronous=FULL`` makes each commit durable,
so a kill right after an edit loses nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qtseg_core.workspace.errors import WorkspaceDatabaseError, WorkspaceError
from qtseg_core.workspace.records import ReviewStatus

DB_NAME = "workspace.sqlite"
# 2: volumes (one row per volume, its slices as images); 3: images.uncertainty + indexes;
# 4: image_counts, kept by triggers
SCHEMA_VERSION = 4

_TABLES = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,          -- relative to the workspace when inside it
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'unreviewed',
    width INTEGER,
    height INTEGER,
    group_id TEXT,                      -- patient / volume: one split per group
    split TEXT CHECK (split IN ('train', 'val')),  -- unused: see split_choices
    read_error TEXT,                    -- why the file cannot be used, NULL if fine
    added_at TEXT NOT NULL,
    volume_id INTEGER REFERENCES volumes(id) ON DELETE CASCADE,  -- NULL for 2D images
    slice_index INTEGER,                -- the slice of that volume, 0-based
    uncertainty REAL                    -- the latest prediction's score (v3)
);
CREATE TABLE IF NOT EXISTS volumes (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,                 -- a volume file or a DICOM series folder
    series_uid TEXT NOT NULL DEFAULT '',-- the series inside a folder ('' for files)
    name TEXT NOT NULL,
    format TEXT NOT NULL,               -- nifti, dicom, nrrd, metaimage, tiff
    slices INTEGER NOT NULL,
    affine TEXT NOT NULL,               -- JSON 4x4: (col, row, slice, 1) -> LPS mm
    window TEXT,                        -- JSON [center, width] from DICOM tags, or NULL
    added_at TEXT NOT NULL,
    UNIQUE (path, series_uid)
);
CREATE TABLE IF NOT EXISTS mask_versions (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('prediction', 'correction')),
    path TEXT NOT NULL,                 -- relative to the workspace
    model_version TEXT,
    author TEXT,
    created_at TEXT NOT NULL,
    uncertainty REAL,
    based_on INTEGER REFERENCES mask_versions(id)
);
CREATE INDEX IF NOT EXISTS mask_versions_image ON mask_versions(image_id, kind, id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    image_id INTEGER REFERENCES images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    actor TEXT,
    old_status TEXT,
    new_status TEXT,
    comment TEXT,
    detail TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_image ON events(image_id, id);
CREATE TABLE IF NOT EXISTS image_files (   -- a listed 2D image file's fingerprint
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    author TEXT,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    version TEXT PRIMARY KEY,
    path TEXT NOT NULL,                 -- relative to the workspace (models/...)
    parent TEXT REFERENCES models(version),
    trained_on TEXT NOT NULL DEFAULT '[]',   -- JSON list of image ids
    settings TEXT NOT NULL DEFAULT '{}',     -- JSON
    scores TEXT NOT NULL DEFAULT '{}',       -- JSON
    note TEXT,
    created_at TEXT NOT NULL,
    is_current INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS split_choices (  -- the user's own split (absent: automatic)
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    split TEXT NOT NULL CHECK (split IN ('train', 'val', 'excluded')),
    chosen_by TEXT,
    chosen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS image_counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


#: Review statuses in workflow order, as SQL (the list's "status" order).
STATUS_RANK = "CASE status " + " ".join(
    f"WHEN '{status.value}' THEN {rank}" for rank, status in enumerate(ReviewStatus)
) + " END"
#: Most uncertain first, images without a prediction (NULL) last, as one ascending
#: SQL key (one leading key lets an index seek straight to "the image after X").
UNCERTAINTY_RANK = "COALESCE(-uncertainty, 1e300)"

# One index per list order (see images._ORDER_KEYS), so the filtered list and
# next_image walk an index instead of sorting 10^5 rows.
_INDEXES = f"""
CREATE INDEX IF NOT EXISTS images_by_name ON images(name COLLATE NOCASE, id);
CREATE INDEX IF NOT EXISTS images_by_status ON images(status, name COLLATE NOCASE, id);
CREATE INDEX IF NOT EXISTS images_by_status_rank ON images({STATUS_RANK}, name COLLATE NOCASE, id);
CREATE INDEX IF NOT EXISTS images_by_uncertainty
    ON images({UNCERTAINTY_RANK}, name COLLATE NOCASE, id);
CREATE INDEX IF NOT EXISTS images_by_status_uncertainty
    ON images(status, {UNCERTAINTY_RANK}, name COLLATE NOCASE, id);
CREATE INDEX IF NOT EXISTS images_unreadable ON images(status) WHERE read_error IS NOT NULL;
"""


#: Images per status, and 'unreadable' (read_error set), kept up to date by the triggers
#: below on every insert, delete and change: the list's counts are read, not recounted,
#: after each status change (a GROUP BY over 10^5 rows takes ~40 ms).
UNREADABLE_KEY = "unreadable"
_COUNT_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS image_counts_insert AFTER INSERT ON images BEGIN
        UPDATE image_counts SET n = n + 1 WHERE key = NEW.status;
        UPDATE image_counts SET n = n + 1 WHERE key = 'unreadable' AND NEW.read_error IS NOT NULL;
    END""",
    """CREATE TRIGGER IF NOT EXISTS image_counts_delete AFTER DELETE ON images BEGIN
        UPDATE image_counts SET n = n - 1 WHERE key = OLD.status;
        UPDATE image_counts SET n = n - 1 WHERE key = 'unreadable' AND OLD.read_error IS NOT NULL;
    END""",
    """CREATE TRIGGER IF NOT EXISTS image_counts_update AFTER UPDATE OF status, read_error
        ON images BEGIN
        UPDATE image_counts SET n = n - 1 WHERE key = OLD.status;
        UPDATE image_counts SET n = n + 1 WHERE key = NEW.status;
        UPDATE image_counts SET n = n + (NEW.read_error IS NOT NULL) - (OLD.read_error IS NOT NULL)
            WHERE key = 'unreadable';
    END""",
)


def connect(folder: Path, *, read_only: bool) -> sqlite3.Connection:
    """Open ``<folder>/workspace.sqlite`` with WAL, foreign keys and the current schema.

    A damaged, truncated or unreadable database (or a folder in its place, or a
    full disk) raises WorkspaceDatabaseError saying what is wrong and what to do.
    """
    path = folder / DB_NAME
    try:
        return _open_read_only(path) if read_only else _open_for_writing(path)
    except sqlite3.Error as error:
        raise WorkspaceDatabaseError(_cannot_open(path, error), path=path) from error


def _open_for_writing(path: Path) -> sqlite3.Connection:
    db = _configured(sqlite3.connect(path, check_same_thread=False, isolation_level=None))
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        _create_or_upgrade(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _open_read_only(path: Path) -> sqlite3.Connection:
    """``mode=ro``; where even that fails (a read-only folder or disk: WAL needs to write
    its ``-shm`` file) ``immutable=1``, which reads the database file as it is."""
    try:
        return _checked_read_only(path, "mode=ro")
    except sqlite3.OperationalError:
        return _checked_read_only(path, "mode=ro&immutable=1")


def _checked_read_only(path: Path, options: str) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?{options}"
    db = _configured(sqlite3.connect(uri, uri=True, check_same_thread=False,
                                     isolation_level=None))
    try:
        _check_version(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _configured(db: sqlite3.Connection) -> sqlite3.Connection:
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 5000")
    return db


def _cannot_open(path: Path, error: sqlite3.Error) -> str:
    text = str(error)
    if path.is_dir():
        return (f"'{path}' is a folder, not the workspace database; move it out of the way and "
                "open the folder again to start a new workspace.")
    if "full" in text:
        return (f"The disk holding '{path.parent}' is full ({text}); free some space and open "
                "the workspace again. Nothing was changed.")
    if "readonly" in text or "unable to open" in text:
        return (f"'{path}' cannot be opened for writing ({text}): the folder or disk may be "
                "read-only. Open the workspace read-only, or copy it somewhere writable.")
    return (f"'{path}' is damaged ({text}). Restore it from a backup, or move it away and "
            "open the folder again to start a new workspace (the masks in masks/ stay on "
            "disk); opening it read-only may still show what can be read.")


def _create_or_upgrade(db: sqlite3.Connection, path: Path) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        row = _version(db)
        if row is not None and row["version"] > SCHEMA_VERSION:
            raise _too_new(path, row["version"])
        if row is not None and row["version"] < 2:
            _add_volume_columns(db)
        if row is not None and row["version"] < 3:
            _add_uncertainty_column(db)
        for script in (_TABLES, _INDEXES):
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
        if row is not None and row["version"] < 3:
            _fill_uncertainty(db)
        if row is None or row["version"] < 4:
            _count_images(db)
        for trigger in _COUNT_TRIGGERS:
            db.execute(trigger)
        if row is None:
            db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        else:
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _version(db: sqlite3.Connection) -> sqlite3.Row | None:
    exists = db.execute("SELECT name FROM sqlite_master WHERE name = 'schema_version'").fetchone()
    return db.execute("SELECT version FROM schema_version").fetchone() if exists else None


def _add_volume_columns(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2: images learn which volume and slice they are (NULL: 2D images)."""
    columns = {row["name"] for row in db.execute("PRAGMA table_info(images)")}
    if "volume_id" not in columns:
        db.execute("ALTER TABLE images ADD COLUMN volume_id INTEGER "
                   "REFERENCES volumes(id) ON DELETE CASCADE")
    if "slice_index" not in columns:
        db.execute("ALTER TABLE images ADD COLUMN slice_index INTEGER")


def _add_uncertainty_column(db: sqlite3.Connection) -> None:
    """Schema 2 -> 3: images keep their latest prediction's score (the list's order)."""
    columns = {row["name"] for row in db.execute("PRAGMA table_info(images)")}
    if "uncertainty" not in columns:
        db.execute("ALTER TABLE images ADD COLUMN uncertainty REAL")


def _fill_uncertainty(db: sqlite3.Connection) -> None:
    db.execute(
        "UPDATE images SET uncertainty = (SELECT m.uncertainty FROM mask_versions m "
        "WHERE m.image_id = images.id AND m.kind = 'prediction' ORDER BY m.id DESC LIMIT 1)")


def _count_images(db: sqlite3.Connection) -> None:
    """Schema 4: the counts the triggers keep, counted once (a row for every key, zeros too)."""
    db.execute("DELETE FROM image_counts")
    keys = [status.value for status in ReviewStatus] + [UNREADABLE_KEY]
    db.executemany("INSERT INTO image_counts VALUES (?, 0)", [(key,) for key in keys])
    db.execute("UPDATE image_counts SET n = (SELECT COUNT(*) FROM images "
               "WHERE images.status = image_counts.key) WHERE key != ?", (UNREADABLE_KEY,))
    db.execute("UPDATE image_counts SET n = (SELECT COUNT(*) FROM images "
               "WHERE read_error IS NOT NULL) WHERE key = ?", (UNREADABLE_KEY,))


def _check_version(db: sqlite3.Connection, path: Path) -> None:
    row = db.execute("SELECT version FROM schema_version").fetchone()
    if row is not None and row["version"] > SCHEMA_VERSION:
        raise _too_new(path, row["version"])
    if row is not None and row["version"] < SCHEMA_VERSION:
        raise WorkspaceError(
            f"'{path}' uses the older schema {row['version']}; open it once for writing "
            f"(in the app, or Workspace.open) to upgrade it to schema {SCHEMA_VERSION}.")


def _too_new(path: Path, version: int) -> WorkspaceError:
    return WorkspaceError(
        f"'{path}' was written by a newer QTSeg Studio (schema {version}, this one reads "
        f"up to {SCHEMA_VERSION}); update QTSeg Studio to open it."
    )
