"""The model registry: every model version with its provenance, one of them current.

Checkpoints are copied into ``<ws>/models/`` (atomically) so the workspace
keeps working when the original file moves; rollback is making an earlier
version current again.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qtseg_core.io import atomic_write
from qtseg_core.workspace._base import MODEL_FOLDER, WorkspaceBase, utc_now
from qtseg_core.workspace.records import ModelVersion


class RegistryMixin(WorkspaceBase):
    """Registering, listing and switching model versions."""

    def register_model(self, src_path: str | Path, *, parent: str | None = None,
                       trained_on: Sequence[int] = (), settings: dict[str, Any] | None = None,
                       scores: dict[str, Any] | None = None, make_current: bool = False,
                       version: str | None = None, note: str | None = None) -> ModelVersion:
        """Copy a checkpoint into ``<ws>/models/`` and record where it came from.

        ``version`` defaults to 'v<N>'. The first model registered becomes
        current even without ``make_current``. The source file is left in place.
        A file that ``load_model`` would refuse (bad metadata, mismatched shapes,
        NaN or Inf weights) raises ValueError and is not registered.
        """
        from qtseg_core.checkpoint import verify_checkpoint  # torch: only when registering

        src = Path(src_path)
        if not src.is_file():
            raise FileNotFoundError(f"Model file '{src}' does not exist; check the path.")
        verify_checkpoint(src)
        self._require_parent(parent)
        version = version or self._next_version()
        if version in {m.version for m in self.models()}:
            raise ValueError(f"Model version {version!r} is already registered; pick another name.")
        dest = _copy_atomic(src, self.folder / MODEL_FOLDER / f"{version}{src.suffix}")
        with self._transaction() as db:
            db.execute(
                "INSERT INTO models (version, path, parent, trained_on, settings, scores, note, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (version, self._stored_path(dest), parent, json.dumps(list(map(int, trained_on))),
                 json.dumps(settings or {}), json.dumps(scores or {}), note, utc_now()))
            self._log(db, None, "model_registered", None, detail=version)
            no_current = db.execute("SELECT 1 FROM models WHERE is_current").fetchone() is None
            if make_current or no_current:
                self._make_current(db, version, None)
        return self.model(version)

    def models(self) -> list[ModelVersion]:
        """Every registered model version, oldest first."""
        return [_model(self, row) for row in self._query("SELECT * FROM models ORDER BY rowid")]

    def model(self, version: str) -> ModelVersion:
        """One model version; KeyError naming it when absent."""
        rows = self._query("SELECT * FROM models WHERE version = ?", (version,))
        if not rows:
            known = ", ".join(m.version for m in self.models()) or "none"
            raise KeyError(f"No model version {version!r} in this workspace (known: {known}).")
        return _model(self, rows[0])

    def current_model(self) -> ModelVersion | None:
        """The model in use, or None when none is registered."""
        rows = self._query("SELECT * FROM models WHERE is_current")
        return _model(self, rows[0]) if rows else None

    def set_current_model(self, version: str, *, actor: str | None = None) -> ModelVersion:
        """Make ``version`` the model in use (rollback = set an earlier version)."""
        self.model(version)
        with self._transaction() as db:
            self._make_current(db, version, actor)
        return self.model(version)

    def _make_current(self, db: sqlite3.Connection, version: str, actor: str | None) -> None:
        db.execute("UPDATE models SET is_current = (version = ?)", (version,))
        self._log(db, None, "model_current", actor, detail=version)

    def _require_parent(self, parent: str | None) -> None:
        if parent is not None:
            self.model(parent)

    def _next_version(self) -> str:
        taken = {m.version for m in self.models()}
        number = len(taken) + 1
        while f"v{number}" in taken:
            number += 1
        return f"v{number}"


def _model(ws: WorkspaceBase, row: sqlite3.Row) -> ModelVersion:
    return ModelVersion(
        version=row["version"], path=ws._absolute(row["path"]), parent=row["parent"],
        trained_on=json.loads(row["trained_on"]), settings=json.loads(row["settings"]),
        scores=json.loads(row["scores"]), created_at=row["created_at"],
        is_current=bool(row["is_current"]), note=row["note"])


def _copy_atomic(src: Path, dest: Path) -> Path:
    """Copy ``src`` to ``dest`` through a synced temporary file in the same folder."""
    with open(src, "rb") as source:
        return atomic_write(dest, lambda out: shutil.copyfileobj(source, out, 1 << 20))
