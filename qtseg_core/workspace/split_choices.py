"""The workspace's side of the train / validation split: the user's choices and the plan.

``split_plan()`` plans the split of the vouched-for images for fine-tuning the
model in use (:func:`qtseg_core.workspace.splits.plan_split`): the user's choice
per image (``set_split_choice``) wins, and images the model or any model it
came from was trained on never validate. Those are found from the registry's
``trained_on`` ids and from each checkpoint's provenance (content hashes, or
names for older checkpoints), so a starter model shipped with the product is
never validated on the demo images it learnt.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from qtseg_core.checkpoint import read_metadata
from qtseg_core.io import ImageReadError, read_image
from qtseg_core.provenance import file_sha256, trained_images
from qtseg_core.workspace._base import utc_now
from qtseg_core.workspace.registry import RegistryMixin
from qtseg_core.workspace.review import ReviewMixin
from qtseg_core.workspace.splits import CHOICES, SplitImage, SplitPlan, plan_split


class SplitsMixin(ReviewMixin, RegistryMixin):
    """Per-image split choices and the planned split."""

    def set_split_choice(self, image_id: int, choice: str | None, actor: str | None) -> None:
        """Put an image in 'train', 'val' or 'excluded' for good; None: back to automatic."""
        if choice is not None and choice not in CHOICES:
            raise ValueError(f"Split {choice!r}: choose one of {', '.join(CHOICES)}, or None "
                             "to let the workspace decide.")
        self.image(image_id)
        with self._transaction() as db:
            if choice is None:
                db.execute("DELETE FROM split_choices WHERE image_id = ?", (image_id,))
            else:
                db.execute("INSERT OR REPLACE INTO split_choices VALUES (?, ?, ?, ?)",
                           (image_id, choice, actor, utc_now()))
            self._log(db, image_id, "split", actor, detail=choice or "automatic")

    def split_plan(self, model_version: str | None = None) -> SplitPlan:
        """The split of the accepted / corrected images for fine-tuning ``model_version``.

        Default: the model in use (no model: nothing counts as seen by it).
        """
        items = self.training_items()
        seen = self.seen_by_model(model_version) if model_version or self.current_model() \
            else set()
        return plan_split([
            SplitImage(item.image_id, item.image_path.name, item.group, item.split,
                       item.image_id in seen, self._has_foreground(item.mask_path))
            for item in items])

    def seen_by_model(self, version: str | None = None) -> set[int]:
        """Ids of images the model (default: in use) or any of its ancestors trained on."""
        chain = self._lineage(version)
        ids = {image_id for model in chain for image_id in model.trained_on}
        listed = [image for model in chain for image in _listed_images(model.path)]
        if listed:
            for image in self.images():
                if image.id not in ids and _is_listed(image.path, listed):
                    ids.add(image.id)
        return ids

    def _lineage(self, version: str | None) -> list:
        model = self.model(version) if version else self.current_model()
        chain = []
        while model is not None and model not in chain:
            chain.append(model)
            model = self.model(model.parent) if model.parent else None
        return chain

    @staticmethod
    def _has_foreground(mask_path: object) -> bool:
        return _mask_has_foreground(str(mask_path))


@functools.lru_cache(maxsize=1 << 17)
def _mask_has_foreground(mask_path: str) -> bool:
    """Whether a stored mask marks anything. Mask files are written once under a new
    random name and never changed, so the answer is kept: planning the split again
    after each accept reads only the masks it has not seen."""
    try:
        return bool(np.any(read_image(mask_path) > 0))
    except ImageReadError:
        return False


def _listed_images(checkpoint: object) -> list:
    try:
        return trained_images(read_metadata(checkpoint).provenance)
    except (OSError, ValueError, json.JSONDecodeError):
        return []


def _is_listed(path: Path, listed: list) -> bool:
    digest = _file_digest(path) if any(image.sha256 for image in listed) else None
    return any(image.matches(path, digest) for image in listed)


def _file_digest(path: Path) -> str:
    """SHA-256 of an image file, hashed again only when its size or modification time
    changes (a volume's slices share one file; the split is planned after each accept)."""
    try:
        stat = path.stat()
    except OSError:
        return ""
    return _digest_of(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1 << 17)
def _digest_of(path: str, _size: int, _mtime_ns: int) -> str:
    return file_sha256(path)
