"""Listing images: adding and scanning files, filtered and ordered queries."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from qtseg_core.io import ImageReadError, read_image
from qtseg_core.workspace._base import (
    _IMAGE_COLUMNS,
    _IMAGE_SELECT,
    MASK_FOLDER,
    MODEL_FOLDER,
    utc_now,
)
from qtseg_core.workspace.file_changes import FileChangesMixin
from qtseg_core.workspace.records import ImageRecord, ReviewStatus
from qtseg_core.workspace.scan import find_images, guess_group, image_root, probe_image
from qtseg_core.workspace.schema import STATUS_RANK, UNCERTAINTY_RANK, UNREADABLE_KEY
from qtseg_core.workspace.upkeep import UpkeepMixin
from qtseg_core.workspace.volumes import VolumesMixin, split_volume_sources

EXPORT_MARKER = "qtseg_export.json"
FINETUNE_FOLDER = "finetune"  # qtseg_core.finetune writes its jobs here
#: Written into each job folder qtseg_core.finetune creates: only marked folders are deleted.
JOB_MARKER = ".qtseg-finetune-job"
JOB_FILE = "job.json"  # a fine-tune job's plan, in its folder
OUTCOME_FILE = "outcome.json"  # written by a fine-tune that ended by itself
GATE_FILE = "gate.json"  # the gate's decision on that outcome (qtseg_core.finetune.gate)
CANCELLED_FILE = "cancelled"  # the user cancelled the run: not reported as interrupted
StatusFilter = ReviewStatus | str | Sequence[ReviewStatus | str] | None

# Each list order as a key of ascending SQL expressions (an index of schema.py
# covers each), so "the image after X" is one row-value comparison.
# Unqualified columns: the expressions must read as in the indexes.
_BY_NAME = ("name COLLATE NOCASE", "id")
_ORDER_KEYS = {
    "name": _BY_NAME,
    "uncertainty": (UNCERTAINTY_RANK, *_BY_NAME),
    "status": (STATUS_RANK, *_BY_NAME),
}
_ORDERS = {order: ", ".join(keys) for order, keys in _ORDER_KEYS.items()}


class ImagesMixin(VolumesMixin, UpkeepMixin, FileChangesMixin):
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
        return self.records(ids)

    def records(self, ids: Sequence[int]) -> list[ImageRecord]:
        """Records of ``ids`` in that order, a few hundred per query (KeyError naming an id
        that is not in the workspace)."""
        records: dict[int, ImageRecord] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            sql = f"{_IMAGE_SELECT} WHERE i.id IN ({', '.join('?' * len(chunk))})"
            records.update((row["id"], self._image_record(row)) for row in self._query(sql, chunk))
        missing = [image_id for image_id in ids if image_id not in records]
        if missing:
            raise KeyError(f"No image with id {missing[0]} in the workspace '{self.folder}'.")
        return [records[image_id] for image_id in ids]

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
        found = find_images(root, skip=skip, known=self._listed_or_removed())
        # files listed as 2D images are left out above, so none of them is in `found`
        volumes, flat = split_volume_sources(found, set())
        for path, series_uid in volumes:
            self.add_volume(path, series_uid)
        return self.add_images(flat)

    def _listed_or_removed(self) -> Callable[[str], bool]:
        """Whether a file under the workspace folder (its path as text) is listed already
        as a 2D image or volume file, or was removed: one set lookup, no file-system call.
        Paths are stored resolved, so a stored one names this very file."""
        stored = {row[0] for row in self._query("SELECT path FROM images WHERE volume_id IS NULL")}
        stored |= {row[0] for row in self._query("SELECT path FROM volumes WHERE series_uid = ''")}
        stored |= self.removed_paths()
        prefix = str(self.folder) + os.sep
        return lambda path: path.startswith(prefix) and path[len(prefix):].replace(
            os.sep, "/") in stored

    def images(self, status: StatusFilter = None, order: str = "name") -> list[ImageRecord]:
        """Images, optionally only those with the given status(es).

        order: 'name', 'uncertainty' (most uncertain prediction first, images
        without prediction last) or 'status' (workflow order, then name).
        """
        where, values = _list_filter(status, order)
        rows = self._query(f"{_IMAGE_SELECT}{where} ORDER BY {_ORDERS[order]}", values)
        return [self._image_record(row) for row in rows]

    def image_ids(self, status: StatusFilter = None, order: str = "name", *,
                  unreadable: bool = False) -> list[int]:
        """The ids of ``images(status, order)`` (only unreadable ones with ``unreadable``):
        one indexed query that builds no records, for lists of 10^5 images."""
        where, values = _list_filter(status, order)
        if unreadable:
            where += (" AND" if where else " WHERE") + " i.read_error IS NOT NULL"
        rows = self._query(f"SELECT i.id FROM images i{where} ORDER BY {_ORDERS[order]}", values)
        return [row[0] for row in rows]

    def readable_ids(self) -> list[int]:
        """Ids of the images whose file can be opened, in name order (Predict all): one
        query, no records."""
        rows = self._query(f"SELECT id FROM images WHERE read_error IS NULL "
                           f"ORDER BY {_ORDERS['name']}")
        return [row[0] for row in rows]

    def unreadable_count(self) -> int:
        """How many listed files cannot be opened (kept by the database: no recount)."""
        return self._query("SELECT n FROM image_counts WHERE key = ?", (UNREADABLE_KEY,))[0][0]

    def next_image(self, after_id: int | None = None, status: StatusFilter = None,
                   order: str = "name") -> ImageRecord | None:
        """The readable image after ``after_id`` in ``order`` whose status matches.

        Wraps around to the start and never returns ``after_id`` itself, so
        "next unreviewed" finds earlier ones too; None when nothing else matches.
        """
        statuses = _status_values(status)
        keys = _next_image_keys(order, statuses)
        where = "i.read_error IS NULL AND i.id IS NOT ?"
        if statuses is not None:
            where += f" AND i.status IN ({', '.join('?' * len(statuses))})"
        anchor = self._query(f"SELECT {', '.join(keys)} FROM images WHERE id = ?", (after_id,))
        wrap = ("1", (), ", ".join(keys))  # the first match at all
        parts = [*_after(keys, tuple(anchor[0])), wrap] if anchor else [wrap]
        sql = " UNION ALL ".join(
            f"SELECT * FROM (SELECT {number} AS part, {_IMAGE_COLUMNS} FROM images i "
            f"WHERE {where} AND {condition} ORDER BY {order_by} LIMIT 1)"
            for number, (condition, _, order_by) in enumerate(parts)) + " ORDER BY part LIMIT 1"
        filters = [after_id, *(statuses or ())]
        rows = self._query(sql, [v for _, values, _ in parts for v in (*filters, *values)])
        return self._image_record(rows[0]) if rows else None

    def set_group(self, image_id: int, group: str | None) -> None:
        """Set the group (patient / volume). A split already assigned is kept."""
        self.image(image_id)
        with self._transaction() as db:
            db.execute("UPDATE images SET group_id = ? WHERE id = ?", (group, image_id))

    def read_image(self, image_id: int) -> np.ndarray:
        """Pixels of an image via ``qtseg_core.io.read_image`` (native dtype); a volume's
        slice via its cached volume.

        The scan read only the file's header, so this is where a file with a
        sound header but damaged pixels fails: ``ImageReadError`` naming the
        file, and the image is marked unreadable with that reason from now on.
        """
        record = self.image(image_id)
        if record.volume_id is not None:
            return self.read_volume(record.volume_id).slice(record.slice_index)
        try:
            return read_image(record.path)
        except ImageReadError as error:
            if not self.read_only:
                with self._transaction() as db:
                    db.execute("UPDATE images SET read_error = ? WHERE id = ?",
                               (error.reason, image_id))
                    self._log(db, image_id, "unreadable", None, detail=error.reason)
            raise

    def counts(self) -> dict[ReviewStatus, int]:
        """Number of images per status (every status present, zero included), kept by the
        database as images change (``schema.UNREADABLE_KEY``): a few rows read, no recount."""
        counts = dict.fromkeys(ReviewStatus, 0)
        for row in self._query("SELECT key, n FROM image_counts WHERE key != ?",
                               (UNREADABLE_KEY,)):
            counts[ReviewStatus(row["key"])] = row["n"]
        return counts

    def readable_counts(self) -> dict[ReviewStatus, int]:
        """:meth:`counts` less the images whose file cannot be opened: what can still be
        reviewed (an unreadable image never can). The few unreadable rows are read through
        their own partial index, so this costs no recount either."""
        counts = self.counts()
        for row in self._query("SELECT status, COUNT(*) AS n FROM images "
                               "WHERE read_error IS NOT NULL GROUP BY status"):
            counts[ReviewStatus(row["status"])] -= row["n"]
        return counts


def _after(keys: Sequence[str], anchor: tuple) -> list[tuple[str, tuple, str]]:
    """(SQL condition, values, ORDER BY) for "sorts after ``anchor``", split on the first
    key that differs, deepest tie first: k1 = a1 AND k2 > a2, then k1 > a1 (two keys).

    Each part is one index seek; ordering a part by its free keys only keeps SQLite
    from sorting the rows it matches."""
    parts = []
    for depth in reversed(range(len(keys))):
        terms = [f"{key} = ?" for key in keys[:depth]] + [f"{keys[depth]} > ?"]
        parts.append((" AND ".join(terms), anchor[:depth + 1], ", ".join(keys[depth:])))
    return parts


def _next_image_keys(order: str, statuses: list[str] | None) -> tuple[str, ...]:
    """The order's key; within one status the status order is the name order (and that
    one has an index)."""
    if order not in _ORDER_KEYS:
        raise ValueError(f"order={order!r}: use one of {sorted(_ORDER_KEYS)}.")
    if order == "status" and statuses is not None and len(statuses) == 1:
        return _BY_NAME
    return _ORDER_KEYS[order]


def _list_filter(status: StatusFilter, order: str) -> tuple[str, list[str]]:
    """The WHERE clause (and its values) of a list with ``status``; checks ``order``."""
    if order not in _ORDERS:
        raise ValueError(f"order={order!r}: use one of {sorted(_ORDERS)}.")
    statuses = _status_values(status)
    if statuses is None:
        return "", []
    return f" WHERE i.status IN ({', '.join('?' * len(statuses))})", statuses


def _status_values(status: StatusFilter) -> list[str] | None:
    if status is None:
        return None
    if isinstance(status, (str, ReviewStatus)):
        status = [status]
    return [ReviewStatus(s).value for s in status]
