"""The old and the new model's masks on a few validation images, for a person to compare.

Scores alone do not show what changed: before installing a fine-tuned model a
clinician wants to see its masks beside the model in use's, on images whose
truth they know. The engine writes them into the job folder
(``preview/<image id>_old.png`` / ``_new.png``, class indices as uint8) after
scoring; ``read_previews(job)`` finds them for the app's dialog or a person
with a file browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from qtseg_core.finetune.job import FinetuneJob, TrainingPair
from qtseg_core.inference import predictor_for
from qtseg_core.io import read_image

PREVIEW_FOLDER = "preview"
PREVIEW_IMAGES = 2  # a dialog shows old and new side by side on this many validation images


@dataclass(frozen=True)
class MaskPreview:
    """One validation image with the true, old and new masks (paths; masks are class indices)."""

    name: str
    image: str
    truth: str
    old_mask: str
    new_mask: str


def write_previews(job: FinetuneJob, candidate: str | Path,
                   limit: int = PREVIEW_IMAGES) -> tuple[MaskPreview, ...]:
    """Predict the first ``limit`` validation images with the model in use and ``candidate``."""
    pairs = job.val[:limit]
    folder = Path(job.output_dir) / PREVIEW_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    images = [read_image(pair.image) for pair in pairs]
    for side, model in (("old", job.model_path), ("new", candidate)):
        predictor = predictor_for(model, device=job.settings.device, backend="torch")
        for pair, image in zip(pairs, images, strict=True):
            mask = predictor.predict(image).mask.astype(np.uint8)
            cv2.imwrite(str(_mask_path(folder, pair, side)), mask)
    return read_previews(job)


def read_previews(job: FinetuneJob) -> tuple[MaskPreview, ...]:
    """The previews written for ``job`` (those whose two masks are both there)."""
    folder = Path(job.output_dir) / PREVIEW_FOLDER
    found = []
    for pair in job.val:
        old, new = (_mask_path(folder, pair, side) for side in ("old", "new"))
        if old.is_file() and new.is_file():
            found.append(MaskPreview(pair.name, pair.image, pair.mask, str(old), str(new)))
    return tuple(found)


def _mask_path(folder: Path, pair: TrainingPair, side: str) -> Path:
    return folder / f"{pair.image_id}_{side}.png"
