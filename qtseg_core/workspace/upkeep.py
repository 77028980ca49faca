"""Keeping the image list true to the folder: removed images, files fixed after the scan."""

from __future__ import annotations

import json
from pathlib import Path

from qtseg_core.workspace._base import WorkspaceBase
from qtseg_core.workspace.scan import probe_image

REMOVED_SETTING = "removed_images"  # stored paths the scan must not list again


class UpkeepMixin(WorkspaceBase):
    """Removing an image from the workspace, and re-probing files that could not be read."""

    def remove_image(self, image_id: int, actor: str | None = None) -> None:
        """Take an image out of the workspace: its masks, statuses and history go, the image
        file stays on disk and later scans leave it out (``add_images`` brings it back)."""
        record = self.image(image_id)
        stored = self._stored_path(record.path)
        masks = [self._absolute(row["path"]) for row in self._query(
            "SELECT path FROM mask_versions WHERE image_id = ?", (image_id,))]
        with self._transaction() as db:
            db.execute("DELETE FROM images WHERE id = ?", (image_id,))
            self._store_removed(db, self.removed_paths() | {stored})
            self._log(db, None, "image_removed", actor, detail=record.name)
        for mask in masks:
            mask.unlink(missing_ok=True)

    def removed_paths(self) -> set[str]:
        """Stored paths of images removed with :meth:`remove_image`."""
        rows = self._query("SELECT value FROM settings WHERE key = ?", (REMOVED_SETTING,))
        return set(json.loads(rows[0]["value"])) if rows else set()

    def _forget_removed(self, stored: set[str]) -> None:
        """Paths added again by hand are no longer removed."""
        removed = self.removed_paths()
        if removed & stored:
            with self._transaction() as db:
                self._store_removed(db, removed - stored)

    @staticmethod
    def _store_removed(db: object, paths: set[str]) -> None:
        db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)",  # type: ignore[attr-defined]
                   (REMOVED_SETTING, json.dumps(sorted(paths))))

    def reprobe_unreadable(self) -> list[int]:
        """Probe again every image listed as unreadable (a copy may have been in progress at
        the first scan, or its pixels failed when first shown); returns the ids that can be
        opened now. These files are decoded in full: their header alone may be sound."""
        fixed = []
        rows = self._query("SELECT id, path FROM images "
                           "WHERE read_error IS NOT NULL AND volume_id IS NULL")
        for row in rows:
            probe = probe_image(Path(self._absolute(row["path"])), decode=True)
            if probe.error is None:
                fixed.append(row["id"])
            with self._transaction() as db:
                db.execute("UPDATE images SET width = ?, height = ?, read_error = ? WHERE id = ?",
                           (probe.width, probe.height, probe.error, row["id"]))
                if probe.error is None:
                    self._log(db, row["id"], "readable_again", None)
        return fixed
