"""The image list: which images are shown (filter), in which order, and their records."""

from __future__ import annotations

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
#: Sort label -> Workspace.images order.
ORDERS: dict[str, str] = {
    "Name": "name",
    "Most uncertain first": "uncertainty",
    "Status": "status",
}


@dataclass(eq=False)
class ImageList(Evented):
    """filter / order: labels of FILTERS / ORDERS. ``records`` is the list in order;
    ``refilled`` fires when it is rebuilt, ``record_changed`` when one row changed.
    ``volumes``: each volume's status and slice counts (a slice's row has its own status)."""

    filter: str = "All images"
    order: str = "Name"
    records: list[ImageRecord] = field(default_factory=list)
    counts: dict[ReviewStatus, int] = field(default_factory=dict)
    unreadable: int = 0
    volumes: list[VolumeSummary] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "refilled", Event())
        object.__setattr__(self, "record_changed", Event())

    def refill(self, ws: Workspace) -> None:
        """Read the list again from the workspace (filter, order, counts)."""
        records = ws.images(FILTERS[self.filter], order=ORDERS[self.order])
        if self.filter == UNREADABLE:
            records = [r for r in records if not r.readable]
        object.__setattr__(self, "records", records)
        object.__setattr__(self, "unreadable", sum(not r.readable for r in ws.images()))
        object.__setattr__(self, "counts", ws.counts())
        object.__setattr__(self, "volumes", volume_summaries(ws))
        self.refilled.emit(self)

    def replace_record(self, ws: Workspace, record: ImageRecord) -> None:
        """One image's record changed (status, uncertainty)."""
        object.__setattr__(self, "records", [record if r.id == record.id else r
                                             for r in self.records])
        object.__setattr__(self, "counts", ws.counts())
        if record.volume_id is not None:
            object.__setattr__(self, "volumes", [
                volume_summary(ws, v.volume_id) if v.volume_id == record.volume_id else v
                for v in self.volumes])
        self.record_changed.emit(record)

    @property
    def ids(self) -> list[int]:
        return [record.id for record in self.records]

    def upcoming(self, current: int | None, count: int) -> list[int]:
        """The ``count`` images after ``current`` in list order (wrapping), for prefetch."""
        ids = self.ids
        if current not in ids:
            return ids[:count]
        start = ids.index(current)
        return [ids[(start + k) % len(ids)] for k in range(1, min(count, len(ids) - 1) + 1)]
