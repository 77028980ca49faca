"""The workspace: one folder holding the app's state for a set of images.

Layout::

    <ws>/workspace.sqlite   images, statuses, mask versions, history, models, settings
    <ws>/masks/             PNG masks (uint8 class indices), one file per saved version
    <ws>/models/            registered model checkpoints (.safetensors)
    <ws>/.lock              held (flock) by the one process that has it open for writing

Images stay where they are (paths inside the folder are stored relative so the
folder can be moved or copied). Every write is one SQLite transaction, and
mask files are written atomically before the row that names them, so a kill at
any moment loses nothing that was committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qtseg_core.workspace.records import (
    Comment,
    HistoryEvent,
    ImageRecord,
    MaskKind,
    MaskVersion,
    ModelVersion,
    ReviewStatus,
    TrainingItem,
)

ImageOrder = str  # 'name' | 'uncertainty' | 'status'


class Workspace:
    """Qt-free state of one workspace folder; open with :meth:`Workspace.open`.

    Thread-safe (one internal lock serialises database access), but keep
    writes on one thread where you can. Use as a context manager or call
    :meth:`close` so the lock file is released promptly.
    """

    # --- opening and closing -------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path, *, create: bool = True, read_only: bool = False,
             scan: bool = True) -> Workspace:
        """Open (or create) the workspace in ``folder``.

        create: make the folder and database when missing; else raise WorkspaceError.
        read_only: no lock is taken and writes raise WorkspaceReadOnlyError; for
            a second process (e.g. ``qtseg finetune``) that reads while the app is open.
        scan: add image files found in ``folder`` (or ``folder/images`` when it
            exists) that are not yet listed; unreadable ones are listed with the reason.
        Raises WorkspaceLockedError when another process has it open for writing.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Checkpoint the database and release the lock; safe to call twice."""
        raise NotImplementedError

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    folder: Path
    read_only: bool

    # --- images --------------------------------------------------------------
    def add_images(self, paths: Iterable[str | Path], *, group: str | None = None
                   ) -> list[ImageRecord]:
        """Add image files (already listed ones are skipped); returns the new records.

        Each file is probed: unreadable, corrupt or huge (> MAX_PIXELS) files are
        added with ``read_error`` set instead of failing the whole call.
        ``group`` overrides the group guessed from the name (prefix before ``_z``).
        """
        raise NotImplementedError

    def scan(self) -> list[ImageRecord]:
        """Add images found in the workspace's image folder that are not listed yet."""
        raise NotImplementedError

    def images(self, status: ReviewStatus | Sequence[ReviewStatus] | None = None,
               order: ImageOrder = "name") -> list[ImageRecord]:
        """Images, optionally filtered by status(es).

        order: 'name' (display name), 'uncertainty' (most uncertain prediction
        first, images without prediction last) or 'status' (workflow order).
        """
        raise NotImplementedError

    def image(self, image_id: int) -> ImageRecord:
        """One image by id; KeyError naming the id when absent."""
        raise NotImplementedError

    def next_image(self, after_id: int | None = None,
                   status: ReviewStatus | Sequence[ReviewStatus] | None = None,
                   order: ImageOrder = "name") -> ImageRecord | None:
        """The image following ``after_id`` in ``order`` that matches ``status``.

        Wraps around to the start; never returns ``after_id`` itself; None when
        no other image matches (e.g. nothing left to review). Unreadable images
        are skipped.
        """
        raise NotImplementedError

    def set_group(self, image_id: int, group: str | None) -> None:
        """Set the group (patient / volume). A split already assigned is kept."""
        raise NotImplementedError

    def read_image(self, image_id: int) -> np.ndarray:
        """Pixels of an image via ``qtseg_core.io.read_image`` (native dtype)."""
        raise NotImplementedError

    # --- masks ---------------------------------------------------------------
    def save_prediction(self, image_id: int, mask: np.ndarray, model_version: str | None,
                        uncertainty: float | None = None) -> MaskVersion:
        """Store a model's mask ((H, W) uint8 class indices) as a new version.

        An UNREVIEWED image becomes PREDICTED; reviewed statuses are kept.
        ``uncertainty`` (e.g. mean per-pixel uncertainty in [0, 1]) feeds
        ``images(order='uncertainty')``.
        """
        raise NotImplementedError

    def save_correction(self, image_id: int, mask: np.ndarray, author: str | None
                        ) -> MaskVersion:
        """Store a person's mask as a new version; the prediction is kept beside it.

        UNREVIEWED / PREDICTED / REJECTED / FLAGGED images become CORRECTED
        (ACCEPTED stays ACCEPTED: the accepted mask is now this one). Assigns
        the image's train/val split if it has none yet.
        """
        raise NotImplementedError

    def latest_mask(self, image_id: int, kind: MaskKind | str | None = None
                    ) -> MaskVersion | None:
        """Newest mask version of ``kind`` (any kind when None), or None."""
        raise NotImplementedError

    def mask_versions(self, image_id: int) -> list[MaskVersion]:
        """Every saved mask of the image, oldest first."""
        raise NotImplementedError

    def read_mask(self, version: MaskVersion) -> np.ndarray:
        """The (H, W) uint8 class-index array of a saved mask version."""
        raise NotImplementedError

    def final_mask(self, image_id: int) -> MaskVersion | None:
        """The mask a person vouches for: latest correction, else latest prediction."""
        raise NotImplementedError

    def training_items(self) -> list[TrainingItem]:
        """Accepted and corrected images with their final mask and fixed split."""
        raise NotImplementedError

    # --- review --------------------------------------------------------------
    def set_status(self, image_id: int, status: ReviewStatus | str, reviewer: str | None,
                   comment: str | None = None) -> None:
        """Change an image's status and record who, when and why in its history.

        Accepting needs a mask (a prediction or a correction; save an empty
        correction to accept "nothing here"). Accepting or correcting assigns
        the train/val split once.
        """
        raise NotImplementedError

    def history(self, image_id: int | None = None) -> list[HistoryEvent]:
        """Events of one image (or of the workspace when None), oldest first."""
        raise NotImplementedError

    def add_comment(self, image_id: int, author: str | None, text: str) -> Comment:
        """Attach a comment to an image (also recorded in its history)."""
        raise NotImplementedError

    def comments(self, image_id: int) -> list[Comment]:
        """Comments of an image, oldest first."""
        raise NotImplementedError

    def counts(self) -> dict[ReviewStatus, int]:
        """Number of images per status (all statuses present, zero included)."""
        raise NotImplementedError

    # --- settings ------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        """A JSON-serialisable setting ('reviewer_name', 'last_image_id', 'view_state', ...)."""
        raise NotImplementedError

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable setting (committed at once)."""
        raise NotImplementedError

    reviewer_name: str | None  # property over setting('reviewer_name')
    last_image_id: int | None  # property over setting('last_image_id')

    def classes(self) -> tuple[list[str], list[tuple[int, int, int]]]:
        """Class names and RGB colours (index 0 = background)."""
        raise NotImplementedError

    def set_classes(self, names: Sequence[str], colors: Sequence[Sequence[int]]) -> None:
        """Set class names and colours, e.g. from the loaded model's metadata."""
        raise NotImplementedError

    # --- model registry ------------------------------------------------------
    def register_model(self, src_path: str | Path, *, parent: str | None = None,
                       trained_on: Sequence[int] = (), settings: dict[str, Any] | None = None,
                       scores: dict[str, Any] | None = None, make_current: bool = False,
                       version: str | None = None, note: str | None = None) -> ModelVersion:
        """Copy a checkpoint into ``<ws>/models/`` and record its provenance.

        ``version`` defaults to 'v<N>'. The source file is left where it was.
        """
        raise NotImplementedError

    def models(self) -> list[ModelVersion]:
        """Every registered model version, oldest first."""
        raise NotImplementedError

    def model(self, version: str) -> ModelVersion:
        """One model version; KeyError naming it when absent."""
        raise NotImplementedError

    def current_model(self) -> ModelVersion | None:
        """The model in use, or None when none is registered."""
        raise NotImplementedError

    def set_current_model(self, version: str, *, actor: str | None = None) -> ModelVersion:
        """Make ``version`` the model in use (rollback = set an earlier version)."""
        raise NotImplementedError
