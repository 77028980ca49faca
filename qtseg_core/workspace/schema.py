"""The workspace database: tables, version and connection settings.

WAL mode lets a reader (``qtseg finetune`` in another process) see committed
state while the app writes; ``synchronous=FULL`` makes each commit durable,
so a kill right after an edit loses nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qtseg_core.workspace.errors import WorkspaceError

DB_NAME = "workspace.sqlite"
SCHEMA_VERSION = 2  # 2: volumes (one row per volume, its slices as images)

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
    slice_index INTEGER                 -- the slice of that volume, 0-based
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
"""


def connect(folder: Path, *, read_only: bool) -> sqlite3.Connection:
    """Open ``<folder>/workspace.sqlite`` with WAL, foreign keys and the current schema."""
    path = folder / DB_NAME
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    else:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 5000")
    if not read_only:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        _create_or_upgrade(db, path)
    else:
        _check_version(db, path)
    return db


def _create_or_upgrade(db: sqlite3.Connection, path: Path) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        row = _version(db)
        if row is not None and row["version"] > SCHEMA_VERSION:
            raise _too_new(path, row["version"])
        if row is not None and row["version"] < 2:
            _add_volume_columns(db)
        for statement in _TABLES.split(";"):
            if statement.strip():
                db.execute(statement)
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
