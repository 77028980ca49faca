"""An image file replaced on disk after it was listed: detected, and started over.

The scan records each image's width and height from its header; the first time
a 2D image is opened (before anyone can draw on it) its file is fingerprinted
(SHA-256 of its bytes, ``image_files`` table; the scan itself stays header-only).
Each later opening compares both: a file of another size, or other bytes, is
another image, and its masks (drawn on the old one) no longer belong to it. ``start_over`` keeps
those masks as files under ``masks/replaced-<time>/`` and lets the new image be
annotated from scratch.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np

from qtseg_core.provenance import file_sha256
from qtseg_core.workspace._base import MASK_FOLDER, utc_now
from qtseg_core.workspace.masks import MasksMixin
from qtseg_core.workspace.records import ReviewStatus


class FileChangesMixin(MasksMixin):
    """Fingerprints of image files, the check when one is opened, and starting over."""

    def file_changed(self, image_id: int, pixels: np.ndarray) -> str | None:
        """Why the image's file is not the one listed (another size, other bytes), or None.
        ``pixels`` are what was just read from it. A file not fingerprinted yet (never
        opened) is fingerprinted now when its size matches the scan's."""
        image = self.image(image_id)
        if image.volume_id is not None:
            return None
        height, width = pixels.shape[:2]
        if image.height is not None and (height, width) != (image.height, image.width):
            return (f"{image.name} was replaced on disk by an image of another size "
                    f"({width}x{height}; it was {image.width}x{image.height} when annotated).")
        known, now = self._fingerprint(image_id), file_sha256(image.path)
        if known is None and now and not self.read_only:
            self._store_fingerprint(image_id, now)
        elif known and now and known != now and self._has_masks(image_id):
            return f"{image.name} was replaced on disk by another image of the same size."
        return None

    def start_over(self, image_id: int, pixels: np.ndarray) -> Path | None:
        """Annotate the image now on disk from scratch: its old masks are moved (kept, as
        they are) to ``masks/replaced-<time>/``; returns that folder (None without masks)."""
        image = self.image(image_id)
        stamp = utc_now().replace(":", "").replace("-", "")[:15]
        kept = self.folder / MASK_FOLDER / f"replaced-{stamp}"
        versions = self.mask_versions(image_id)
        for version in versions:
            kept.mkdir(parents=True, exist_ok=True)
            source = self.folder / version.path
            if source.exists():
                shutil.move(source, kept / source.name)
        height, width = pixels.shape[:2]
        with self._transaction() as db:
            db.execute("DELETE FROM mask_versions WHERE image_id = ?", (image_id,))
            db.execute("UPDATE images SET width = ?, height = ?, status = ? WHERE id = ?",
                       (width, height, ReviewStatus.UNREVIEWED.value, image_id))
            self._log(db, image_id, "replaced", self.reviewer_name,
                      detail=f"new file {width}x{height}; old masks in {kept}"
                      if versions else f"new file {width}x{height}")
        self._store_fingerprint(image_id, file_sha256(image.path))
        return kept if versions else None

    def _store_fingerprint(self, image_id: int, digest: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO image_files VALUES (?, ?)", (image_id, digest))

    def _fingerprint(self, image_id: int) -> str | None:
        try:
            rows = self._query("SELECT sha256 FROM image_files WHERE image_id = ?", (image_id,))
        except sqlite3.OperationalError:
            return None  # a read-only workspace of an older version: no such table
        return rows[0]["sha256"] if rows else None

    def _has_masks(self, image_id: int) -> bool:
        return bool(self.mask_versions(image_id))
