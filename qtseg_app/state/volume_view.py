"""What the app shows about a volume: where the slice on screen sits, how far the volume's
review has got, and which slices "Predict volume" still has to predict.

Qt-free facts computed from the workspace; the slice bar (``qt/slice_bar.py``) and the
image list render them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qtseg_core.workspace import ImageRecord, ReviewStatus, Workspace

#: Slices nobody has reviewed yet: the only ones "Predict volume" predicts (a corrected,
#: accepted, rejected or flagged slice is the user's and keeps what it has).
UNEDITED = (ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED)


@dataclass(frozen=True)
class SlicePosition:
    """The slice on screen within its volume: ``index`` from 0, of ``count`` slices."""

    volume_id: int
    volume_name: str
    index: int
    count: int


@dataclass(frozen=True)
class VolumeSummary:
    """One volume's review state: its status (``Workspace.volume_status``) and how many of
    its slices have each status."""

    volume_id: int
    name: str
    status: ReviewStatus
    counts: dict[ReviewStatus, int]

    @property
    def slices(self) -> int:
        return sum(self.counts.values())

    @property
    def reviewed(self) -> int:
        """Slices a person has decided on (anything but unreviewed / predicted)."""
        return self.slices - sum(self.counts[s] for s in UNEDITED)

    def progress(self) -> str:
        """e.g. "corrected · 3 / 40 slices reviewed (1 accepted, 2 corrected)"."""
        parts = [f"{n} {status.value}" for status, n in self.counts.items()
                 if n and status not in UNEDITED]
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{self.status.value} · {self.reviewed} / {self.slices} slices reviewed{detail}"

    def describe(self) -> str:
        """The progress with the volume's name, e.g. "brain: corrected · 3 / 40 ..."."""
        return f"{self.name}: {self.progress()}"


def slice_position(ws: Workspace, record: ImageRecord | None) -> SlicePosition | None:
    """Where ``record`` sits in its volume; None for a 2D image (or nothing on screen)."""
    if record is None or record.volume_id is None:
        return None
    volume = ws.volume(record.volume_id)
    return SlicePosition(volume.id, volume.name, record.slice_index, volume.slices)


def volume_summary(ws: Workspace, volume_id: int) -> VolumeSummary:
    counts = ws.volume_counts(volume_id)
    return VolumeSummary(volume_id, ws.volume(volume_id).name, ws.volume_status(volume_id),
                         counts)


def volume_summaries(ws: Workspace) -> list[VolumeSummary]:
    """Every volume of the workspace, in name order."""
    return [volume_summary(ws, volume.id) for volume in ws.volumes()]


def slices_to_predict(ws: Workspace, volume_id: int, has_prediction: Callable[[int], bool],
                      around: int | None = None) -> list[int]:
    """Ids of the volume's unedited slices the model in use has not predicted yet, nearest
    to slice ``around`` (the one on screen) first, so the slices the user looks at next
    are ready first."""
    slices = [s for s in ws.volume_slices(volume_id)
              if s.readable and s.status in UNEDITED and not has_prediction(s.id)]
    if around is not None:
        slices.sort(key=lambda s: (abs(s.slice_index - around), s.slice_index))
    return [s.id for s in slices]
