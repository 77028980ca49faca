"""Generic layout: what the app exports and ``qtseg train`` reads.

::

    root/
      images/<id>.<png|jpg|bmp|tif|dcm...>
      masks/<id>.png            0/255 binary or class indices 0..N-1
      classes.json              optional {"names": [...], "colors": [[r, g, b], ...]}
      splits.json               optional {"train": [ids], "val": [ids], "test": [ids]}
      meta.json                 optional {"items": [{"id": ..., "volume": ...}]} -> groups

The shared real data (``/work/shared/data/*``) is in this layout.
"""

from __future__ import annotations

import json
from pathlib import Path

from qtseg_core.data.layouts._files import image_files, missing_mask, require_files, require_folder
from qtseg_core.data.samples import (
    BINARY_CLASS_COLORS,
    BINARY_CLASS_NAMES,
    DatasetError,
    DatasetIndex,
    Sample,
)

NAME = "generic"
EXPECTS = "images/<id>.<ext> and masks/<id>.png"


def looks_like(root: Path) -> bool:
    masks = root / "masks"
    return (root / "images").is_dir() and masks.is_dir() and any(masks.glob("*.png"))


def read(root: Path, *, allow_unlabelled: bool = False) -> DatasetIndex:
    """Index a generic folder; every image needs ``masks/<id>.png`` unless ``allow_unlabelled``."""
    images_folder = require_folder(root / "images", "the images, named <id>.<ext>")
    images = require_files(image_files(images_folder), images_folder, "images")
    _reject_duplicate_ids(images)
    groups = _read_groups(root / "meta.json")
    samples = tuple(_sample(image, root / "masks", groups, allow_unlabelled) for image in images)
    names, colors = read_classes(root / "classes.json")
    index = DatasetIndex(root, NAME, samples, names, colors, _read_splits(root / "splits.json"))
    for split_ids in index.splits.values():
        index.select(split_ids)  # an unknown id in splits.json fails here, not mid-training
    return index


def _sample(image: Path, masks: Path, groups: dict[str, str], allow_unlabelled: bool) -> Sample:
    mask = masks / f"{image.stem}.png"
    if not mask.is_file() and not allow_unlabelled:
        raise missing_mask(image, mask)
    mask_paths = (mask,) if mask.is_file() else ()
    return Sample(image.stem, image, mask_paths, groups.get(image.stem))


def _reject_duplicate_ids(images: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for image in images:
        if image.stem in seen:
            raise DatasetError(
                f"Two images share the id '{image.stem}': '{seen[image.stem]}' and '{image}'; "
                "rename or remove one."
            )
        seen[image.stem] = image


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DatasetError(f"Cannot read '{path}': {error}. Fix or delete the file.") from error
    if not isinstance(data, dict):
        raise DatasetError(f"'{path}' should hold a JSON object, got {type(data).__name__}.")
    return data


def read_classes(path: Path) -> tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]]:
    """Class names and RGB colours from classes.json, or the binary defaults."""
    if not path.is_file():
        return BINARY_CLASS_NAMES, BINARY_CLASS_COLORS
    data = _load_json(path)
    names = tuple(str(name) for name in data.get("names", ()))
    colors = tuple(tuple(int(c) for c in color) for color in data.get("colors", ()))
    if len(names) < 2 or len(colors) != len(names) or any(len(c) != 3 for c in colors):
        raise DatasetError(
            f"'{path}' must list at least 2 class names (background first) and one "
            f"[r, g, b] colour per name; got {len(names)} names and {len(colors)} colours."
        )
    return names, colors


def _read_splits(path: Path) -> dict[str, tuple[str, ...]]:
    if not path.is_file():
        return {}
    data = _load_json(path)
    if not all(isinstance(ids, list) for ids in data.values()):
        raise DatasetError(f"'{path}' should map split names to lists of ids.")
    return {name: tuple(str(i) for i in ids) for name, ids in data.items()}


def _read_groups(path: Path) -> dict[str, str]:
    """id -> volume from meta.json items, so slices of one volume share a group."""
    if not path.is_file():
        return {}
    items = _load_json(path).get("items", [])
    return {
        str(item["id"]): str(item["volume"])
        for item in items
        if isinstance(item, dict) and "id" in item and "volume" in item
    }
