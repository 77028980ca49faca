"""The image list: which images are shown (filter), in which order, and their records.

The list holds image ids only (one indexed query, so 10^5 images cost
milliseconds); records are read from the workspace a page at a time when a
row is first asked for (the rows on screen), then kept until the next refill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qtseg_app.state.events import Event, Evented
from qtseg_app.state.review import TO_REVIEW
from qtseg_app.state.volume_view import VolumeSummary, volume_summaries, volume_summary
from qtseg_core.workspace import ImageRecord, ReviewStatus, Workspace

UNREADABLE = "Unreadable"
#: Filter label -> statuses shown (None: all; "Unreadable" handled apart).
FILTERS: dict[str, tuple[ReviewStatus, ...] | None] = {
    "All images": None,
    "To review": TO_REVIEW,
    "Unreviewed": (ReviewStatus.UNREVIEWED,),
    "Predicted": (ReviewStatus.PREDICTED,),
    "Corrected": (ReviewStatus.CORRECTED,),
    "Accepted": (ReviewStatus.ACCEPTED,),
    "Rejected": (ReviewStatus.REJECTED,),
    "Flagged": (ReviewStatus.FLAGGED,),
    UNREADABLE: None,
}
#: Records read from the workspace at once when a row not yet read is asked for.
RECORD_PAGE = 200
#: Sort label -> Workspace.images order.
ORDERS: dict[str, str] = {
    "Name": "name",
    "Most uncertain first": "uncertainty",
    "Status": "status",
}


@dataclass(eq=False)
class ImageList(Evented):
    """filter / order: labels of FILTERS / ORDERS. ``ids`` is the list in order and
    ``record(image_id)`` / ``record_at(row)`` its records (read lazily, a page at a time);
    ``refilled`` fires when it is rebuilt, ``record_changed`` when one row changed.
    ``counts``: readable images per status (an unreadable file is counted in ``unreadable`` only).
    ``volumes``: each volume's status and slice counts (a slice's row has its own status)."""

    filter: str = "All images"
    order: str = "Name"
    ids: list[int] = field(default_factory=list)
    counts: dict[ReviewStatus, int] = field(default_factory=dict)
    unreadable: int = 0
    volumes: list[VolumeSummary] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "refilled", Event())
        object.__setattr__(self, "record_changed", Event())
        object.__setattr__(self, "_ws", None)
        object.__setattr__(self, "_rows", {})
        object.__setattr__(self, "_records", {})

    def refill(self, ws: Workspace) -> None:
        """Read the list again from the workspace (filter, order, counts)."""
        ids = ws.image_ids(FILTERS[self.filter], ORDERS[self.order],
                           unreadable=self.filter == UNREADABLE)
        object.__setattr__(self, "_ws", ws)
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "_rows", {image_id: row for row, image_id in enumerate(ids)})
        object.__setattr__(self, "_records", {})
        object.__setattr__(self, "unreadable", ws.unreadable_count())
        object.__setattr__(self, "counts", ws.readable_counts())
        object.__setattr__(self, "volumes", volume_summaries(ws))
        self.refilled.emit(self)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._rows

    def row_of(self, image_id: int | None) -> int | None:
        """The image's row in the list, None when the list does not show it."""
        return self._rows.get(image_id)

    def record_at(self, row: int) -> ImageRecord:
        return self.record(self.ids[row])

    def record(self, image_id: int) -> ImageRecord:
        """The image's record; on a miss the records of the page of rows around it are
        read in one query (a list scrolled row by row reads each page once)."""
        cached = self._records.get(image_id)
        if cached is None:
            row = self._rows.get(image_id)
            page = [image_id] if row is None else self.ids[
                row // RECORD_PAGE * RECORD_PAGE:(row // RECORD_PAGE + 1) * RECORD_PAGE]
            self._cache(self._ws.records(page))
            cached = self._records[image_id]
        return cached

    @property
    def records(self) -> list[ImageRecord]:
        """Every record in list order (reads all of them: for small lists and tests)."""
        return [self.record(image_id) for image_id in self.ids]

    def replace_record(self, ws: Workspace, record: ImageRecord) -> None:
        """One image's record changed (status, uncertainty); its row stays where it is
        until the next refill."""
        self._cache([record])
        object.__setattr__(self, "counts", ws.readable_counts())
        object.__setattr__(self, "unreadable", ws.unreadable_count())
        if record.volume_id is not None:
            object.__setattr__(self, "volumes", [
                volume_summary(ws, v.volume_id) if v.volume_id == record.volume_id else v
                for v in self.volumes])
        self.record_changed.emit(record)

    def upcoming(self, current: int | None, count: int) -> list[int]:
        """The ``count`` images after ``current`` in list order (wrapping), for prefetch."""
        ids, start = self.ids, self._rows.get(current)
        if start is None:
            return ids[:count]
        return [ids[(start + k) % len(ids)] for k in range(1, min(count, len(ids) - 1) + 1)]

    def _cache(self, records: Sequence[ImageRecord]) -> None:
        self._records.update((record.id, record) for record in records)
