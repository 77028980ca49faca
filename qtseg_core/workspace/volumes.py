"""Volumes in a workspace: one volume row, one image row per slice.

A NIfTI / NRRD / MetaImage file, a multi-frame DICOM, a multi-page TIFF or a
DICOM series folder is one volume. Each slice is an image of the workspace
(status, mask versions, crash-safe saving exactly as for 2D images), so review,
prediction and fine-tuning work slice by slice; the volume gathers them:
its statuses, and its label volume written with the source geometry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from qtseg_core.data.volume_slices import cached_volume
from qtseg_core.io import atomic_write, is_dicom
from qtseg_core.volumes import Volume, VolumeReadError, is_volume_file
from qtseg_core.volumes.dicom_series import scan_series
from qtseg_core.volumes.interpolate import interpolate_slices
from qtseg_core.volumes.outputs import write_labels
from qtseg_core.workspace._base import _IMAGE_SELECT, SLICE_MARK, WorkspaceBase, utc_now
from qtseg_core.workspace.records import ImageRecord, MaskKind, ReviewStatus, VolumeRecord

#: Which status a volume shows, by its slices: the first of these any slice has, else
#: accepted (every slice accepted or rejected).
_VOLUME_STATUS_ORDER = (ReviewStatus.FLAGGED, ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED,
                        ReviewStatus.CORRECTED)


class VolumesMixin(WorkspaceBase):
    """The workspace's volumes and their slices."""

    def add_volume(self, path: str | Path, series_uid: str | None = None) -> VolumeRecord | None:
        """List a volume (file, or series ``series_uid`` of a DICOM folder) and its slices;
        None when it is listed already. An unreadable volume is listed as one image row
        with the reason, like an unreadable 2D file."""
        path = Path(path).resolve()
        stored = self._stored_path(path)
        if self._query("SELECT id FROM volumes WHERE path = ? AND series_uid = ?",
                       (stored, series_uid or "")):
            return None
        try:
            volume = cached_volume(path, series_uid)
        except VolumeReadError as error:
            self._list_unreadable(path, stored, error.reason)
            return None
        return self.volume(self._insert_volume(path, stored, series_uid, volume))

    def volumes(self) -> list[VolumeRecord]:
        rows = self._query("SELECT * FROM volumes ORDER BY name COLLATE NOCASE, id")
        return [self._volume_record(row) for row in rows]

    def volume(self, volume_id: int) -> VolumeRecord:
        rows = self._query("SELECT * FROM volumes WHERE id = ?", (volume_id,))
        if not rows:
            raise KeyError(f"No volume with id {volume_id} in the workspace '{self.folder}'.")
        return self._volume_record(rows[0])

    def volume_slices(self, volume_id: int) -> list[ImageRecord]:
        """The slice images of a volume, in slice order (one query: the app asks at every
        slice step)."""
        rows = self._query(f"{_IMAGE_SELECT} WHERE i.volume_id = ? ORDER BY i.slice_index",
                           (volume_id,))
        return [self._image_record(row) for row in rows]

    def volume_slice_ids(self, volume_id: int) -> list[int]:
        """Ids of the volume's slices in slice order, without building records (the app
        steps through slices with it)."""
        rows = self._query("SELECT id FROM images WHERE volume_id = ? ORDER BY slice_index",
                           (volume_id,))
        return [row[0] for row in rows]

    def read_volume(self, volume_id: int) -> Volume:
        """The volume's voxels and geometry (read once, then cached in this process)."""
        record = self.volume(volume_id)
        return cached_volume(record.path, record.series_uid)

    def volume_counts(self, volume_id: int) -> dict[ReviewStatus, int]:
        counts = dict.fromkeys(ReviewStatus, 0)
        for row in self._query("SELECT status, COUNT(*) AS n FROM images WHERE volume_id = ? "
                               "GROUP BY status", (volume_id,)):
            counts[ReviewStatus(row["status"])] = row["n"]
        return counts

    def volume_status(self, volume_id: int) -> ReviewStatus:
        """Flagged if a slice is, else unreviewed / predicted / corrected if a slice still
        is, else accepted (all slices accepted or rejected)."""
        counts = self.volume_counts(volume_id)
        return next((s for s in _VOLUME_STATUS_ORDER if counts[s]), ReviewStatus.ACCEPTED)

    def label_volume(self, volume_id: int) -> np.ndarray:
        """(slices, rows, cols) uint8: each slice's final mask (0 where it has none)."""
        volume = self.read_volume(volume_id)
        labels = np.zeros(volume.voxels.shape[:3], dtype=np.uint8)
        for image in self.volume_slices(volume_id):
            final = self.final_mask(image.id)
            if final is not None:
                labels[image.slice_index] = self.read_mask(final)
        return labels

    def write_label_volume(self, volume_id: int, folder: str | Path, format: str = "nifti",
                           *, name: str | None = None) -> Path:
        """Write the label volume with the source's geometry: NIfTI (same shape and affine
        as the source), DICOM-SEG (DICOM sources) or one PNG per slice."""
        record, names = self.volume(volume_id), self.classes()[0]
        return write_labels(Path(folder), name or record.name, self.label_volume(volume_id),
                            self.read_volume(volume_id), format, class_names=names)

    def write_slice_image(self, image_id: int, path: str | Path) -> Path:
        """Write a slice's pixels as a float32 TIFF in their own units (HU, MR intensity),
        atomically: a 2D image file for tools that read files (the training-set export,
        fine-tune jobs); ``io.read_image`` reads back exactly ``read_image(image_id)``."""
        pixels = self.read_image(image_id).astype(np.float32)
        ok, encoded = cv2.imencode(".tif", pixels)
        if not ok:
            raise OSError(f"Could not encode slice {self.image(image_id).name} as TIFF "
                          f"({pixels.shape} {pixels.dtype}).")
        return atomic_write(path, lambda stream: stream.write(encoded.tobytes()))

    def fill_between_slices(self, volume_id: int, author: str | None) -> list[int]:
        """Give the slices between two corrected slices (none corrected in between) the
        shape-interpolated mask, saved as their corrections; returns the filled image ids."""
        slices = self.volume_slices(volume_id)
        edited = [s for s in slices if self.latest_mask(s.id, MaskKind.CORRECTION) is not None]
        filled = []
        for before, after in zip(edited, edited[1:], strict=False):
            gap = after.slice_index - before.slice_index - 1
            if gap < 1:
                continue
            masks = interpolate_slices(self._correction(before.id), self._correction(after.id),
                                       gap)
            for image, mask in zip(slices[before.slice_index + 1: after.slice_index], masks,
                                   strict=True):
                self.save_correction(image.id, mask, author)
                filled.append(image.id)
        return filled

    def _correction(self, image_id: int) -> np.ndarray:
        return self.read_mask(self.latest_mask(image_id, MaskKind.CORRECTION))

    def _insert_volume(self, path: Path, stored: str, series_uid: str | None,
                       volume: Volume) -> int:
        name = _volume_name(path, series_uid)
        rows, cols = volume.voxels.shape[1:3]
        window = [volume.window.center, volume.window.width] if volume.window else None
        with self._transaction() as db:
            volume_id = db.execute(
                "INSERT INTO volumes (path, series_uid, name, format, slices, affine, window, "
                "added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (stored, series_uid or "", name, volume.source.format, volume.num_slices,
                 json.dumps(volume.geometry.affine.tolist()),
                 json.dumps(window) if window else None, utc_now())).lastrowid
            digits = max(3, len(str(volume.num_slices - 1)))  # names sort in slice order
            for index in range(volume.num_slices):
                image_id = db.execute(
                    "INSERT INTO images (path, name, width, height, group_id, added_at, "
                    "volume_id, slice_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (f"{stored}{SLICE_MARK}{series_uid or ''}{SLICE_MARK}{index}",
                     f"{name}_z{index:0{digits}d}", cols, rows, name, utc_now(), volume_id,
                     index)).lastrowid
                self._log(db, image_id, "added", None, detail=f"slice {index} of {name}")
        return volume_id

    def _list_unreadable(self, path: Path, stored: str, reason: str) -> None:
        if self._query("SELECT id FROM images WHERE path = ?", (stored,)):
            return
        with self._transaction() as db:
            image_id = db.execute(
                "INSERT INTO images (path, name, read_error, added_at) VALUES (?, ?, ?, ?)",
                (stored, path.name, reason, utc_now())).lastrowid
            self._log(db, image_id, "added", None, detail=reason)

    def _volume_record(self, row: object) -> VolumeRecord:
        window = json.loads(row["window"]) if row["window"] else None
        return VolumeRecord(
            id=row["id"], path=self._absolute(row["path"]), series_uid=row["series_uid"] or None,
            name=row["name"], format=row["format"], slices=row["slices"],
            affine=tuple(tuple(r) for r in json.loads(row["affine"])),
            window=tuple(window) if window else None)


def split_volume_sources(files: Iterable[Path], listed: set[Path]
                         ) -> tuple[list[tuple[Path, str | None]], list[Path]]:
    """Files found by a scan -> (volumes to add as (path, series uid or None), 2D files).

    Volume files are volumes; DICOM files of one series (2+ files in one folder, none
    listed yet as a 2D image) are one volume; everything else stays a 2D file."""
    volumes: list[tuple[Path, str | None]] = []
    flat: list[Path] = []
    dicoms: dict[Path, list[Path]] = {}
    for path in files:
        if is_volume_file(path):
            volumes.append((path, None))
        elif is_dicom(path) and path not in listed:
            dicoms.setdefault(path.parent, []).append(path)
        else:
            flat.append(path)
    for folder, members in dicoms.items():
        found = scan_series(members)
        for series in found.series:
            if len(series.files) > 1:
                volumes.append((folder, series.uid))
            else:
                flat += list(series.files)
        flat += list(found.unreadable)
    return volumes, sorted(flat)


def _volume_name(path: Path, series_uid: str | None) -> str:
    from qtseg_core.volumes import volume_suffix

    if series_uid is None and path.is_file():
        return path.name[: len(path.name) - len(volume_suffix(path))] or path.name
    return path.name if series_uid is None else f"{path.name}-{series_uid[-8:]}"
