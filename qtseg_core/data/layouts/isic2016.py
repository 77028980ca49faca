"""ISIC 2016 (ISBI 2016 challenge, part 1: lesion segmentation), official 900/379 split.

::

    root/
      ISBI2016_ISIC_Part1_Training_Data/ISIC_0000000.jpg
      ISBI2016_ISIC_Part1_Training_GroundTruth/ISIC_0000000_Segmentation.png
      ISBI2016_ISIC_Part1_Test_Data/...
      ISBI2016_ISIC_Part1_Test_GroundTruth/..._Segmentation.png

The test folders are optional; where present they form the official "test" split.
"""

from __future__ import annotations

from pathlib import Path

from qtseg_core.data.layouts._files import image_files, missing_mask, require_files, require_folder
from qtseg_core.data.samples import DatasetIndex, Sample

NAME = "isic2016"
EXPECTS = "ISBI2016_ISIC_Part1_Training_Data/ and ..._Training_GroundTruth/"
_PREFIX = "ISBI2016_ISIC_Part1"


def looks_like(root: Path) -> bool:
    return (root / f"{_PREFIX}_Training_Data").is_dir()


def read(root: Path) -> DatasetIndex:
    """Index the training and (if present) test parts with their official split."""
    splits = {"train": _part(root, "Training", required=True)}
    test = _part(root, "Test", required=False)
    if test:
        splits["test"] = test
    samples = tuple(sample for part in splits.values() for sample in part)
    ids = {name: tuple(sample.id for sample in part) for name, part in splits.items()}
    return DatasetIndex(root, NAME, samples, ("background", "lesion"), splits=ids)


def _part(root: Path, part: str, *, required: bool) -> list[Sample]:
    images_folder = root / f"{_PREFIX}_{part}_Data"
    if not required and not images_folder.is_dir():
        return []
    require_folder(images_folder, "the dermoscopy images (*.jpg)")
    truth = require_folder(
        root / f"{_PREFIX}_{part}_GroundTruth", "the masks, named <image>_Segmentation.png"
    )
    images = require_files(
        image_files(images_folder, (".jpg", ".jpeg", ".png")), images_folder, "images"
    )
    return [_sample(image, truth) for image in images]


def _sample(image: Path, truth: Path) -> Sample:
    mask = truth / f"{image.stem}_Segmentation.png"
    if not mask.is_file():
        raise missing_mask(image, mask)
    return Sample(image.stem, image, (mask,))
