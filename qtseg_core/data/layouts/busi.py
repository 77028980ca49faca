"""BUSI (Breast Ultrasound Images, Al-Dhabyani et al. 2020).

::

    root/Dataset_BUSI_with_GT/      (or root itself)
      benign/benign (1).png
      benign/benign (1)_mask.png
      benign/benign (1)_mask_1.png  a second lesion: merged into one binary mask
      malignant/...
      normal/...                    no lesion; excluded as in the paper unless asked

No official split: the paper uses 5 folds by sorted name (``kfold_split``).
"""

from __future__ import annotations

import re
from pathlib import Path

from qtseg_core.data.layouts._files import image_files, missing_mask, require_files, require_folder
from qtseg_core.data.samples import DatasetIndex, Sample

NAME = "busi"
EXPECTS = "[Dataset_BUSI_with_GT/]benign/ and malignant/"
_FOLDER = "Dataset_BUSI_with_GT"
_MASK_NAME = re.compile(r"_mask(_\d+)?$")


def looks_like(root: Path) -> bool:
    base = _base(root)
    return (base / "benign").is_dir() and (base / "malignant").is_dir()


def _base(root: Path) -> Path:
    return root / _FOLDER if (root / _FOLDER).is_dir() else root


def read(root: Path, *, include_normal: bool = False) -> DatasetIndex:
    """Index benign and malignant (and ``normal`` when ``include_normal``) images."""
    base = _base(root)
    categories = ("benign", "malignant", "normal") if include_normal else ("benign", "malignant")
    samples = tuple(sample for category in categories for sample in _category(base / category))
    return DatasetIndex(root, NAME, samples, ("background", "lesion"))


def _category(folder: Path) -> list[Sample]:
    require_folder(folder, "BUSI images and their *_mask.png files")
    files = image_files(folder, (".png",))
    images = [path for path in files if not _MASK_NAME.search(path.stem)]
    require_files(images, folder, "images")
    return [_sample(image) for image in images]


def _sample(image: Path) -> Sample:
    first = image.with_name(f"{image.stem}_mask.png")
    if not first.is_file():
        raise missing_mask(image, first)
    extra = sorted(image.parent.glob(f"{_glob_escape(image.stem)}_mask_*.png"))
    return Sample(image.stem, image, (first, *extra), mask_encoding="union")


def _glob_escape(name: str) -> str:
    """BUSI names contain brackets ('benign (1)'); '[' would start a glob class."""
    return re.sub(r"([\[\]*?])", r"[\1]", name)
