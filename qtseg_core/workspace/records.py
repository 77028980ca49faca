"""Plain records the workspace hands out: statuses, images, masks, events, models.

They are frozen snapshots of database rows, safe to pass between threads and
to keep after the workspace moved on; ask the workspace again for fresh state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ReviewStatus(str, enum.Enum):
    """Where an image stands in review; stored in the database by value."""

    UNREVIEWED = "unreviewed"
    PREDICTED = "predicted"
    CORRECTED = "corrected"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FLAGGED = "flagged"

    @property
    def is_training_ready(self) -> bool:
        """True for statuses whose mask a person has vouched for (train on these)."""
        return self in (ReviewStatus.CORRECTED, ReviewStatus.ACCEPTED)


class MaskKind(str, enum.Enum):
    """A model's prediction or a person's correction; both are always kept."""

    PREDICTION = "prediction"
    CORRECTION = "correction"


@dataclass(frozen=True)
class ImageRecord:
    """One image of the workspace.

    ``path`` is absolute. ``read_error`` is None for a readable image and
    otherwise says why it cannot be shown (corrupt, unreadable, too large);
    such images stay listed so the user sees them. ``split`` is the user's own
    choice ('train', 'val' or 'excluded') or None: automatic, see ``Workspace.split_plan``.
    ``uncertainty`` is the latest prediction's score (None without one).
    A slice of a volume has ``volume_id`` and ``slice_index`` (0-based); its
    ``path`` is then the volume's file or DICOM series folder, and its pixels
    come from ``Workspace.read_image``.
    """

    id: int
    path: Path
    name: str
    status: ReviewStatus
    width: int | None
    height: int | None
    group: str | None
    split: str | None
    read_error: str | None
    uncertainty: float | None = None
    volume_id: int | None = None
    slice_index: int | None = None

    @property
    def readable(self) -> bool:
        """False when the file could not be read when it was added."""
        return self.read_error is None


@dataclass(frozen=True)
class VolumeRecord:
    """A volume of the workspace: one file or DICOM series with ``slices`` slice images.

    ``affine`` is the 4x4 (col, row, slice, 1) -> LPS mm matrix of its voxels as
    read (``qtseg_core.volumes.VolumeGeometry``); ``window`` (center, width)
    comes from the DICOM tags when present.
    """

    id: int
    path: Path
    series_uid: str | None
    name: str
    format: str
    slices: int
    affine: tuple[tuple[float, ...], ...]
    window: tuple[float, float] | None = None


@dataclass(frozen=True)
class MaskVersion:
    """One saved mask file: (H, W) uint8 class indices in a PNG under ``<ws>/masks``.

    ``based_on`` is, for a correction, the id of the prediction it corrected
    (None when there was none); the prediction file is never overwritten.
    """

    id: int
    image_id: int
    kind: MaskKind
    path: Path
    model_version: str | None
    author: str | None
    created_at: str
    uncertainty: float | None = None
    based_on: int | None = None


@dataclass(frozen=True)
class HistoryEvent:
    """Who did what and when, e.g. kind='status', actor='Dr Rossi', new_status=ACCEPTED.

    kinds: 'added', 'unreadable', 'prediction', 'correction', 'status', 'comment',
    'model_registered', 'model_current'. ``created_at`` is UTC ISO 8601.
    """

    id: int
    image_id: int | None
    kind: str
    actor: str | None
    created_at: str
    old_status: ReviewStatus | None = None
    new_status: ReviewStatus | None = None
    comment: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Comment:
    """A free-text note a person left on an image."""

    id: int
    image_id: int
    author: str | None
    text: str
    created_at: str


@dataclass(frozen=True)
class TrainingItem:
    """One image a fine-tune may learn from: its file, its vouched-for mask, its split.

    ``mask_path`` is the latest correction, or the latest prediction when the
    image was accepted as predicted. ``split`` is the user's choice ('train',
    'val', 'excluded') or None (automatic); ``group`` is its volume.
    """

    image_id: int
    image_path: Path
    mask_path: Path
    split: str | None
    group: str | None
    status: ReviewStatus = ReviewStatus.ACCEPTED


@dataclass(frozen=True)
class ModelVersion:
    """One registered model file under ``<ws>/models/`` with its provenance.

    ``trained_on`` lists the image ids of its training set; ``settings`` and
    ``scores`` are whatever the trainer recorded (e.g. {"val_dice": 0.81}).
    """

    version: str
    path: Path
    parent: str | None
    trained_on: list[int]
    settings: dict[str, Any]
    scores: dict[str, Any]
    created_at: str
    is_current: bool = False
    note: str | None = field(default=None)
