"""Listing images: adding and scanning files, filtered and ordered queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qtseg_core.io import read_image
from qtseg_core.workspace._base import (
    _IMAGE_SELECT,
    MASK_FOLDER,
    MODEL_FOLDER,
    utc_now,
)
from qtseg_core.workspace.records import ImageRecord, ReviewStatus
from qtseg_core.workspace.scan import find_images, guess_group, image_root, probe_image
from qtseg_core.workspace.upkeep import UpkeepMixin
from qtseg_core.workspace.volumes import VolumesMixin, split_volume_sources

EXPORT_MARKER = "qtseg_export.json"
FINETUNE_FOLDER = "finetune"  # qtseg_core.finetune writes its jobs here
#: Written into each job folder qtseg_core.finetune creates: only marked folders are deleted.
JOB_MARKER = ".qtseg-finetune-job"
StatusFilter = ReviewStatus | str | Sequence[ReviewStatus | str] | None

_ORDERS = {
    "name": "i.name COLLATE NOCASE, i.id",
    "uncertainty": "uncertainty IS NULL, uncertainty DESC, i.name COLLATE NOCASE, i.id",
    "status": "CASE i.status " + " ".join(
        f"WHEN '{status.value}' THEN {rank}" for rank, status in enumerate(ReviewStatus)
    ) + " END, i.name COLLATE NOCASE, i.id",
}


class ImagesMixin(VolumesMixin, UpkeepMixin):
    """Which images the workspace holds and in what order the user sees them."""

    def add_images(self, paths: Iterable[str | Path], *, group: str | None = None
                   ) -> list[ImageRecord]:
        """Add image files (already listed ones are skipped); returns the new records.

        Each file is probed first: unreadable, corrupt or huge files are added
        with ``read_error`` set instead of failing the whole call. ``group``
        overrides the group guessed from the name (prefix before ``_z``) or folder.
        """
        known = {row["path"] for row in self._query("SELECT path FROM images")}
        root = image_root(self.folder)
        new = []
        for path in (Path(p).resolve() for p in paths):
            stored = self._stored_path(path)
            if stored not in known:
                known.add(stored)
                new.append((path, stored, probe_image(path), group or guess_group(path, root)))
        self._forget_removed({stored for _, stored, _, _ in new})
        ids = self._insert_images(new)
        return [self.image(image_id) for image_id in ids]

    def _insert_images(self, new: list[tuple]) -> list[int]:
        ids = []
        with self._transaction() as db:
            for path, stored, probe, group in new:
                cursor = db.execute(
                    "INSERT INTO images (path, name, width, height, group_id, read_error, "
                    "added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (stored, path.name, probe.width, probe.height, group, probe.error,
                     utc_now()))
                ids.append(cursor.lastrowid)
                self._log(db, cursor.lastrowid, "added", None, detail=probe.error)
        return ids

    def scan(self) -> list[ImageRecord]:
        """Add images in the workspace's image folder that are not listed yet.

        The folder is ``<ws>/images`` when it exists, else ``<ws>`` itself
        (without its masks/, models/ and export folders). Images removed with
        ``remove_image`` stay out; images listed as unreadable are probed again.
        """
        root = image_root(self.folder)
        skip = (self.folder / MASK_FOLDER, self.folder / MODEL_FOLDER,
                self.folder / FINETUNE_FOLDER,  # fine-tune jobs' mask snapshots
                *(marker.parent for marker in root.rglob(EXPORT_MARKER)))
        self.reprobe_unreadable()
        removed = self.removed_paths()
        listed = {image.path for image in self.images() if image.volume_id is None}
        found = [p for p in find_images(root, skip=skip) if self._stored_path(p) not in removed]
        volumes, flat = split_volume_sources(found, listed)
        for path, series_uid in volumes:
            self.add_volume(path, series_uid)
        return self.add_images(flat)

    def images(self, status: StatusFilter = None, order: str = "name") -> list[ImageRecord]:
        """Images, optionally only those with the given status(es).

        order: 'name', 'uncertainty' (most uncertain prediction first, images
        without prediction last) or 'status' (workflow order, then name).
        """
        if order not in _ORDERS:
            raise ValueError(f"order={order!r}: use one of {sorted(_ORDERS)}.")
        statuses = _status_values(status)
        where = ""
        if statuses is not None:
            where = f" WHERE i.status IN ({', '.join('?' * len(statuses))})"
        rows = self._query(f"{_IMAGE_SELECT}{where} ORDER BY {_ORDERS[order]}", statuses or ())
        return [self._image_record(row) for row in rows]

    def next_image(self, after_id: int | None = None, status: StatusFilter = None,
                   order: str = "name") -> ImageRecord | None:
        """The readable image after ``after_id`` in ``order`` whose status matches.

        Wraps around to the start and never returns ``after_id`` itself, so
        "next unreviewed" finds earlier ones too; None when nothing else matches.
        """
        ordered = self.images(order=order)
        ids = [image.id for image in ordered]
        start = ids.index(after_id) + 1 if after_id in ids else 0
        wanted = _status_values(status)
        for image in ordered[start:] + ordered[:start]:
            if image.id != after_id and image.readable and (
                    wanted is None or image.status.value in wanted):
                return image
        return None

    def set_group(self, image_id: int, group: str | None) -> None:
        """Set the group (patient / volume). A split already assigned is kept."""
        self.image(image_id)
        with self._transaction() as db:
            db.execute("UPDATE images SET group_id = ? WHERE id = ?", (group, image_id))

    def read_image(self, image_id: int) -> np.ndarray:
        """Pixels of an image via ``qtseg_core.io.read_image`` (native dtype, may raise
        ``ImageReadError`` naming the file); a volume's slice via its cached volume."""
        image = self.image(image_id)
        if image.volume_id is not None:
            return self.read_volume(image.volume_id).slice(image.slice_index)
        return read_image(image.path)

    def counts(self) -> dict[ReviewStatus, int]:
        """Number of images per status (every status present, zero included)."""
        counts = dict.fromkeys(ReviewStatus, 0)
        for row in self._query("SELECT status, COUNT(*) AS n FROM images GROUP BY status"):
            counts[ReviewStatus(row["status"])] = row["n"]
        return counts


def _status_values(status: StatusFilter) -> list[str] | None:
    if status is None:
        return None
    if isinstance(status, (str, ReviewStatus)):
        status = [status]
    return [ReviewStatus(s).value for s in status]
