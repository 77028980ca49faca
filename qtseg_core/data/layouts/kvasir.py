"""Kvasir-SEG (Jha et al. 2020): polyp images with JPEG masks.

::

    root/images/<id>.jpg
    root/masks/<id>.jpg     lossy 0/255 masks, binarised at 128 on loading

No official split: 5 folds by sorted name (``kfold_split``).
"""

from __future__ import annotations

from pathlib import Path

from qtseg_core.data.layouts._files import image_files, missing_mask, require_files, require_folder
from qtseg_core.data.samples import DatasetIndex, Sample

NAME = "kvasir"
EXPECTS = "images/*.jpg and masks/*.jpg"
_JPEG = (".jpg", ".jpeg")


def looks_like(root: Path) -> bool:
    masks = root / "masks"
    return (root / "images").is_dir() and masks.is_dir() and any(masks.glob("*.jp*g"))


def read(root: Path) -> DatasetIndex:
    """Index ``images/*.jpg`` with ``masks/<same name>``."""
    images_folder = require_folder(root / "images", "the polyp images (*.jpg)")
    masks_folder = require_folder(root / "masks", "the masks, same names as the images")
    images = require_files(image_files(images_folder, _JPEG), images_folder, "images")
    samples = tuple(_sample(image, masks_folder) for image in images)
    return DatasetIndex(root, NAME, samples, ("background", "polyp"))


def _sample(image: Path, masks: Path) -> Sample:
    mask = masks / image.name
    if not mask.is_file():
        raise missing_mask(image, mask)
    return Sample(image.stem, image, (mask,))
