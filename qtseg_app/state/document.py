"""The open image: its pixels, the mask being corrected, the model's prediction, undo.

Qt-free. The window keeps one :class:`ImageDocument` for the image on screen
and asks the workspace to save the mask whenever an edit is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from qtseg_app.editing import MaskEditor
from qtseg_app.state.predictions import PredictionResult
from qtseg_core.workspace import ImageRecord, MaskKind, Workspace


@dataclass
class ImageDocument:
    """One image being reviewed.

    ``editor.mask`` is what the overlay shows and what is saved as a correction.
    ``has_correction`` is True once a person's mask exists (saved earlier or
    edited now): a late prediction then never overwrites it. ``saved_this_visit``:
    a correction was stored since the image was opened; the next saves amend it, so
    one visit (however many strokes, undos and redos) is one version in the history.
    """

    record: ImageRecord
    image: np.ndarray
    editor: MaskEditor
    has_correction: bool
    stored_prediction: np.ndarray | None = None
    prediction: PredictionResult | None = None
    saved_revision: int = 0
    saved_this_visit: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def image_id(self) -> int:
        return self.record.id

    @property
    def mask(self) -> np.ndarray:
        return self.editor.mask

    @property
    def dirty(self) -> bool:
        """True when the mask changed since it was last saved."""
        return self.editor.revision != self.saved_revision

    @property
    def prediction_mask(self) -> np.ndarray | None:
        """The model's mask: the live prediction when present, else the stored one."""
        if self.prediction is not None:
            return self.prediction.mask
        return self.stored_prediction

    def can_adopt_prediction(self) -> bool:
        """True while nobody has corrected this image (a prediction may replace the mask)."""
        return not self.has_correction and not self.dirty and not self.editor.stroking

    def adopt_mask(self, mask: np.ndarray) -> bool:
        """Show a model's mask as the working mask (in place; history cleared).

        Returns False (nothing changed) when a person's correction exists or the
        shape does not match the image, or the mask is the one already shown.
        """
        if not self.can_adopt_prediction() or mask.shape != self.editor.mask.shape:
            return False
        if np.array_equal(mask, self.editor.mask):
            return False  # already shown (e.g. the stored copy of this prediction)
        self.editor.mask[...] = mask
        self.editor.history.clear()
        self.editor.revision += 1
        self.saved_revision = self.editor.revision
        return True

    def mark_saved(self) -> None:
        """The current mask is in the workspace as a correction."""
        self.saved_revision = self.editor.revision
        self.has_correction = True
        self.saved_this_visit = True


def open_document(ws: Workspace, record: ImageRecord, prediction: np.ndarray | None = None,
                  read_image: Callable[[int], np.ndarray] | None = None) -> ImageDocument:
    """Read an image and its latest masks from the workspace.

    The working mask is the latest correction, else the latest prediction
    (``prediction`` when the caller already holds it, else the stored one),
    else empty. ``read_image`` (default ``ws.read_image``) may be a cache. Raises
    whatever it raises for an unreadable file.
    """
    image = (read_image or ws.read_image)(record.id)
    shape = image.shape[:2]
    notes: list[str] = []
    correction = _read(ws, record.id, MaskKind.CORRECTION, shape, notes)
    if prediction is None or prediction.shape != shape:
        prediction = _read(ws, record.id, MaskKind.PREDICTION, shape, notes)
    start = correction if correction is not None else prediction
    mask = start.copy() if start is not None else np.zeros(shape, np.uint8)
    return ImageDocument(record=record, image=image, editor=MaskEditor(mask),
                         has_correction=correction is not None,
                         stored_prediction=prediction, notes=notes)


def _read(ws: Workspace, image_id: int, kind: MaskKind, shape: tuple[int, ...],
          notes: list[str]) -> np.ndarray | None:
    """The latest mask of ``kind`` when it exists and fits the image, else None (noted)."""
    version = ws.latest_mask(image_id, kind)
    if version is None:
        return None
    try:
        mask = ws.read_mask(version)
    except Exception as error:  # noqa: BLE001 - a broken mask file must not block the image
        notes.append(f"The saved {kind.value} could not be read ({error}); starting empty.")
        return None
    if mask.shape != tuple(shape):
        notes.append(f"The saved {kind.value} is {mask.shape}, the image {tuple(shape)}: "
                     "ignored.")
        return None
    return mask
