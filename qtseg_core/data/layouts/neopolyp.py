"""BKAI-IGH NeoPolyp (Kaggle), colour-coded polyp masks.

::

    root/
      train/train/<id>.jpeg
      train_gt/train_gt/<id>.jpeg   red = neoplastic, green = non-neoplastic, JPEG-noisy

``classes="binary"`` (the paper's binary task) gives polyp vs background;
``classes="multiclass"`` gives 0 background, 1 non-neoplastic, 2 neoplastic
(the authors' class order). The hidden Kaggle test set has no masks and is
not indexed. No official split: 5 folds by sorted name (``kfold_split``).
"""

from __future__ import annotations

from pathlib import Path

from qtseg_core.data.layouts._files import image_files, missing_mask, require_files, require_folder
from qtseg_core.data.samples import DatasetIndex, Sample

NAME = "neopolyp"
EXPECTS = "train/train/ and train_gt/train_gt/"
_CLASSES = {
    "binary": (("background", "polyp"), ((0, 0, 0), (255, 0, 0)), "neopolyp_binary"),
    "multiclass": (
        ("background", "non-neoplastic", "neoplastic"),
        ((0, 0, 0), (0, 255, 0), (255, 0, 0)),
        "neopolyp",
    ),
}


def looks_like(root: Path) -> bool:
    return (root / "train" / "train").is_dir() and (root / "train_gt" / "train_gt").is_dir()


def read(root: Path, *, classes: str = "binary") -> DatasetIndex:
    """Index the labelled training images; ``classes`` is "binary" or "multiclass"."""
    if classes not in _CLASSES:
        raise ValueError(f"classes='{classes}': use one of {sorted(_CLASSES)}.")
    names, colors, encoding = _CLASSES[classes]
    images_folder = require_folder(root / "train" / "train", "the colonoscopy images (*.jpeg)")
    truth = require_folder(root / "train_gt" / "train_gt", "the colour-coded masks (*.jpeg)")
    images = require_files(image_files(images_folder), images_folder, "images")
    samples = tuple(_sample(image, truth, encoding) for image in images)
    return DatasetIndex(root, NAME, samples, names, colors)


def _sample(image: Path, truth: Path, encoding: str) -> Sample:
    candidates = [truth / f"{image.stem}{suffix}" for suffix in (".jpeg", ".jpg", ".png")]
    mask = next((path for path in candidates if path.is_file()), None)
    if mask is None:
        raise missing_mask(image, candidates[0])
    return Sample(image.stem, image, (mask,), mask_encoding=encoding)
