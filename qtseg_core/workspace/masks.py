"""Mask versions: predictions and corrections as PNG files, never overwritten by the other.

The PNG is written atomically before the row that names it is committed, so
the database never points at a half-written file.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import numpy as np

from qtseg_core.io import ImageReadError, read_image, write_png_atomic
from qtseg_core.workspace._base import MASK_FOLDER, WorkspaceBase, utc_now
from qtseg_core.workspace.errors import WorkspaceError
from qtseg_core.workspace.records import MaskKind, MaskVersion, ReviewStatus, TrainingItem

# A flag is a person's "needs attention": an edit does not answer it, so a FLAGGED image
# stays FLAGGED (with its comment) until a reviewer accepts or rejects it.
_CORRECTABLE = (ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED, ReviewStatus.REJECTED)


class MasksMixin(WorkspaceBase):
    """Saving and reading the masks of images."""

    def save_prediction(self, image_id: int, mask: np.ndarray, model_version: str | None,
                        uncertainty: float | None = None) -> MaskVersion:
        """Store a model's (H, W) uint8 class-index mask as a new version.

        An UNREVIEWED image becomes PREDICTED; reviewed statuses are kept.
        ``uncertainty`` (e.g. mean per-pixel uncertainty in [0, 1]) orders
        ``images(order='uncertainty')``.
        """
        path = self._write_mask(image_id, mask, MaskKind.PREDICTION)
        with self._transaction() as db:
            version_id = self._insert_mask(db, image_id, MaskKind.PREDICTION, path,
                                           model_version=model_version, uncertainty=uncertainty)
            db.execute("UPDATE images SET uncertainty = ? WHERE id = ?",
                       (None if uncertainty is None else float(uncertainty), image_id))
            old = self._status(db, image_id)
            new = ReviewStatus.PREDICTED if old is ReviewStatus.UNREVIEWED else None
            if new is not None:
                db.execute("UPDATE images SET status = ? WHERE id = ?", (new.value, image_id))
            self._log(db, image_id, "prediction", None, old_status=old if new else None,
                      new_status=new, detail=model_version)
        return self._mask_version(version_id)

    def save_correction(self, image_id: int, mask: np.ndarray, author: str | None, *,
                        amend: bool = False) -> MaskVersion:
        """Store a person's mask; the prediction it corrects is kept beside it.

        UNREVIEWED / PREDICTED / REJECTED images become CORRECTED (ACCEPTED stays
        ACCEPTED, now with this mask; FLAGGED stays FLAGGED: the flag still asks for a
        decision). ``amend=True`` (autosave after each stroke)
        replaces the file of the newest version instead of adding one, when that
        version is this author's correction; otherwise a new version is added.
        """
        latest = self.latest_mask(image_id)
        if amend and latest is not None and latest.kind is MaskKind.CORRECTION \
                and latest.author == author:
            return self._amend(latest, mask)
        path = self._write_mask(image_id, mask, MaskKind.CORRECTION)
        prediction = self.latest_mask(image_id, MaskKind.PREDICTION)
        with self._transaction() as db:
            version_id = self._insert_mask(db, image_id, MaskKind.CORRECTION, path,
                                           author=author, based_on=prediction and prediction.id)
            self._mark_corrected(db, image_id, author)
        return self._mask_version(version_id)

    def predicted_by(self, model_version: str) -> set[int]:
        """Ids of the images whose latest prediction is ``model_version``'s (what Predict all
        leaves out): one query, an index seek per prediction stored."""
        rows = self._query(
            "SELECT m.image_id FROM mask_versions m WHERE m.kind = 'prediction' "
            "AND m.model_version = ? AND m.id = (SELECT MAX(id) FROM mask_versions "
            "WHERE image_id = m.image_id AND kind = 'prediction')", (model_version,))
        return {row[0] for row in rows}

    def latest_mask(self, image_id: int, kind: MaskKind | str | None = None, *,
                    model_version: str | None = None) -> MaskVersion | None:
        """Newest mask version of ``kind`` (any kind when None), or None.

        ``model_version`` keeps only predictions of that model (A/B views, and
        showing an earlier model's masks again after a rollback).
        """
        sql, params = "SELECT * FROM mask_versions WHERE image_id = ?", [image_id]
        if kind is not None:
            sql, params = sql + " AND kind = ?", params + [MaskKind(kind).value]
        if model_version is not None:
            sql, params = sql + " AND model_version = ?", params + [model_version]
        rows = self._query(sql + " ORDER BY id DESC LIMIT 1", params)
        return self._mask_record(rows[0]) if rows else None

    def mask_versions(self, image_id: int) -> list[MaskVersion]:
        """Every saved mask of the image, oldest first."""
        rows = self._query("SELECT * FROM mask_versions WHERE image_id = ? ORDER BY id",
                           (image_id,))
        return [self._mask_record(row) for row in rows]

    def final_mask(self, image_id: int) -> MaskVersion | None:
        """The mask a person vouches for: latest correction, else latest prediction."""
        return (self.latest_mask(image_id, MaskKind.CORRECTION)
                or self.latest_mask(image_id, MaskKind.PREDICTION))

    def read_mask(self, version: MaskVersion) -> np.ndarray:
        """The (H, W) uint8 class-index array of a saved mask version."""
        try:
            mask = read_image(version.path)
        except ImageReadError:
            mask = None
        if mask is None or mask.ndim != 2:
            raise WorkspaceError(
                f"The mask file '{version.path}' (version {version.id} of image "
                f"{version.image_id}) is missing or damaged; earlier versions are listed by "
                "mask_versions() and can be used instead.")
        return mask

    def training_items(self) -> list[TrainingItem]:
        """Accepted and corrected readable images with their final mask and split choice."""
        rows = self._query(
            "SELECT id FROM images WHERE status IN (?, ?) AND read_error IS NULL "
            "ORDER BY name COLLATE NOCASE, id",
            (ReviewStatus.ACCEPTED.value, ReviewStatus.CORRECTED.value))
        items = []
        for row in rows:
            image, final = self.image(row["id"]), self.final_mask(row["id"])
            if final is not None:
                items.append(TrainingItem(image.id, image.path, final.path, image.split,
                                          image.group, image.status))
        return items

    # --- internals -------------------------------------------------------------
    def _write_mask(self, image_id: int, mask: np.ndarray, kind: MaskKind,
                    path: Path | None = None) -> Path:
        """Check the mask against the image and write it atomically; returns its path."""
        image = self.image(image_id)
        if image.read_error is not None:
            raise WorkspaceError(f"Image {image_id} ('{image.name}') could not be read "
                                 f"({image.read_error}); it cannot have a mask.")
        mask = _as_class_indices(mask, image_id)
        if image.height is not None and mask.shape != (image.height, image.width):
            raise ValueError(
                f"Mask of shape {mask.shape} for image {image_id} ('{image.name}', "
                f"{image.height}x{image.width}): a mask must have the image's height and width.")
        if path is None:
            name = f"{image_id:06d}-{kind.value}-{uuid.uuid4().hex[:12]}.png"
            path = self.folder / MASK_FOLDER / name
        write_png_atomic(path, mask)
        _fsync_folder(path.parent)  # the rename itself survives a power cut
        return path

    def _amend(self, latest: MaskVersion, mask: np.ndarray) -> MaskVersion:
        self._write_mask(latest.image_id, mask, latest.kind, latest.path)
        with self._transaction() as db:
            db.execute("UPDATE mask_versions SET created_at = ? WHERE id = ?",
                       (utc_now(), latest.id))
            self._mark_corrected(db, latest.image_id, latest.author, log=False)
        return self._mask_version(latest.id)

    def _mark_corrected(self, db: sqlite3.Connection, image_id: int, author: str | None,
                        *, log: bool = True) -> None:
        old = self._status(db, image_id)
        new = ReviewStatus.CORRECTED if old in _CORRECTABLE else old
        db.execute("UPDATE images SET status = ? WHERE id = ?", (new.value, image_id))
        if log:
            self._log(db, image_id, "correction", author, old_status=old, new_status=new)

    def _insert_mask(self, db: sqlite3.Connection, image_id: int, kind: MaskKind, path: Path,
                     *, model_version: str | None = None, author: str | None = None,
                     uncertainty: float | None = None, based_on: int | None = None) -> int:
        cursor = db.execute(
            "INSERT INTO mask_versions (image_id, kind, path, model_version, author, "
            "created_at, uncertainty, based_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (image_id, kind.value, self._stored_path(path), model_version, author, utc_now(),
             None if uncertainty is None else float(uncertainty), based_on))
        return cursor.lastrowid

    @staticmethod
    def _status(db: sqlite3.Connection, image_id: int) -> ReviewStatus:
        row = db.execute("SELECT status FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            raise KeyError(f"No image with id {image_id} in this workspace.")
        return ReviewStatus(row["status"])

    def _mask_version(self, version_id: int) -> MaskVersion:
        rows = self._query("SELECT * FROM mask_versions WHERE id = ?", (version_id,))
        return self._mask_record(rows[0])

    def _mask_record(self, row: sqlite3.Row) -> MaskVersion:
        return MaskVersion(
            id=row["id"], image_id=row["image_id"], kind=MaskKind(row["kind"]),
            path=self._absolute(row["path"]), model_version=row["model_version"],
            author=row["author"], created_at=row["created_at"],
            uncertainty=row["uncertainty"], based_on=row["based_on"])


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _as_class_indices(mask: np.ndarray, image_id: int) -> np.ndarray:
    """(H, W) uint8 class indices from a bool or small-integer array."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"Mask for image {image_id} has shape {mask.shape}; give (H, W) "
                         "class indices (0 = background).")
    if mask.dtype == np.uint8:
        return mask
    if mask.dtype == bool or (np.issubdtype(mask.dtype, np.integer)
                              and mask.min(initial=0) >= 0 and mask.max(initial=0) <= 255):
        return mask.astype(np.uint8)
    raise ValueError(f"Mask for image {image_id} holds {mask.dtype} values; give uint8 class "
                     "indices (threshold probabilities first).")
