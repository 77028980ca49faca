"""2018 Data Science Bowl (stage 1 training set), one PNG per nucleus.

::

    root/stage1_train/<id>/images/<id>.png   RGBA (alpha is dropped on loading)
    root/stage1_train/<id>/masks/*.png       one binary mask per nucleus: merged (union)

No official split with masks: 5 folds by sorted name (``kfold_split``).
"""

from __future__ import annotations

from pathlib import Path

from qtseg_core.data.layouts._files import image_files, require_files, require_folder
from qtseg_core.data.samples import DatasetError, DatasetIndex, Sample

NAME = "dsb2018"
EXPECTS = "stage1_train/<id>/{images,masks}/"


def looks_like(root: Path) -> bool:
    return (root / "stage1_train").is_dir()


def read(root: Path) -> DatasetIndex:
    """Index every ``stage1_train/<id>`` folder; its nucleus masks are merged on loading."""
    base = require_folder(root / "stage1_train", "one folder per image: <id>/images, <id>/masks")
    folders = sorted(path for path in base.iterdir() if path.is_dir())
    require_files(folders, base, "image folders")
    samples = tuple(_sample(folder) for folder in folders)
    return DatasetIndex(root, NAME, samples, ("background", "nucleus"))


def _sample(folder: Path) -> Sample:
    image = folder / "images" / f"{folder.name}.png"
    if not image.is_file():
        raise DatasetError(f"Missing image '{image}'; each <id> folder needs images/<id>.png.")
    masks_folder = require_folder(folder / "masks", f"the nucleus masks of '{folder.name}'")
    masks = require_files(image_files(masks_folder, (".png",)), masks_folder, "nucleus masks")
    return Sample(folder.name, image, tuple(masks), mask_encoding="union")
