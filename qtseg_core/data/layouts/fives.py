"""FIVES (Fundus Image Vessel Segmentation), official 600/200 split.

::

    root/train/Original/<name>.png
    root/train/Ground truth/<name>.png   0/255 vessel masks
    root/test/Original/...  root/test/Ground truth/...

The paper trains FIVES at 1024 x 1024.
"""

from __future__ import annotations

from pathlib import Path

from qtseg_core.data.layouts._files import image_files, missing_mask, require_files, require_folder
from qtseg_core.data.samples import DatasetIndex, Sample

NAME = "fives"
EXPECTS = "train/Original/ and train/Ground truth/"


def looks_like(root: Path) -> bool:
    return (root / "train" / "Original").is_dir() and (root / "train" / "Ground truth").is_dir()


def read(root: Path) -> DatasetIndex:
    """Index train (and test, if present) with the official split."""
    parts = {"train": _part(root / "train")}
    if (root / "test" / "Original").is_dir():
        parts["test"] = _part(root / "test")
    samples = tuple(sample for part in parts.values() for sample in part)
    splits = {name: tuple(sample.id for sample in part) for name, part in parts.items()}
    return DatasetIndex(root, NAME, samples, ("background", "vessel"), splits=splits)


def _part(folder: Path) -> list[Sample]:
    originals = require_folder(folder / "Original", "the fundus photographs (*.png)")
    truth = require_folder(folder / "Ground truth", "the vessel masks, same names as the images")
    images = require_files(image_files(originals), originals, "images")
    return [_sample(image, truth, folder.name) for image in images]


def _sample(image: Path, truth: Path, part: str) -> Sample:
    mask = truth / image.name
    if not mask.is_file():
        raise missing_mask(image, mask)
    return Sample(f"{part}_{image.stem}", image, (mask,))  # train/test reuse names
