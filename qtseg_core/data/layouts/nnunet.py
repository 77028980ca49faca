"""nnU-Net v2 raw data sets (``DatasetXXX_Name``), 2D or 3D.

::

    root/dataset.json   {"channel_names": {"0": "CT"}, "labels": {"background": 0, ...},
                         "numTraining": N, "file_ending": ".nii.gz" | ".png" | ...}
    root/imagesTr/<case>_0000<file_ending>   channel 0 (further channels _0001... unused)
    root/labelsTr/<case><file_ending>        class indices

3D cases become one sample per slice (``<case>_z<k>``) grouped by case, so
splits keep a volume on one side. No official split (nnU-Net cross-validates).
"""

from __future__ import annotations

import json
from pathlib import Path

from qtseg_core.data.layouts._files import missing_mask, require_files, require_folder
from qtseg_core.data.samples import DatasetError, DatasetIndex, Sample
from qtseg_core.data.volume_slices import num_slices
from qtseg_core.volumes import VOLUME_SUFFIXES

NAME = "nnunet"
EXPECTS = "dataset.json (channel_names, labels, file_ending), imagesTr/<case>_0000.*, labelsTr/"
_PALETTE = ((0, 0, 0), (255, 0, 0), (0, 200, 0), (0, 0, 255), (255, 200, 0), (200, 0, 255))


def looks_like(root: Path) -> bool:
    return (root / "imagesTr").is_dir() and "channel_names" in _dataset_json(root, strict=False)


def read(root: Path) -> DatasetIndex:
    """Index the training cases of an nnU-Net raw folder (``imagesTr`` with ``labelsTr``)."""
    info = _dataset_json(root)
    ending = str(info.get("file_ending", ".nii.gz"))
    names = class_names_from_labels(info.get("labels"), root)
    images = require_folder(root / "imagesTr", f"the images, <case>_0000{ending}")
    labels = require_folder(root / "labelsTr", f"the labels, <case>{ending}")
    channel0 = require_files(sorted(p for p in images.glob(f"*_0000{ending}")
                                    if not p.name.startswith(".")), images,
                             f"channel-0 images (*_0000{ending})")
    samples: list[Sample] = []
    for image in channel0:
        case = image.name[: -len(f"_0000{ending}")]
        samples += case_samples(case, image, labels / f"{case}{ending}", ending)
    return DatasetIndex(root, NAME, tuple(samples), names, palette(len(names)))


def case_samples(case: str, image: Path, label: Path, ending: str) -> list[Sample]:
    """One sample for a 2D case; one per slice, grouped by case, for a volume."""
    if not label.is_file():
        raise missing_mask(image, label)
    if ending.lower() not in VOLUME_SUFFIXES:
        return [Sample(case, image, (label,))]
    return [Sample(f"{case}_z{k:03d}", image, (label,), group=case, slice_index=k)
            for k in range(num_slices(image))]


def class_names_from_labels(labels: object, root: Path) -> tuple[str, ...]:
    """nnU-Net's {"name": index} (or the Decathlon's {"index": "name"}) -> names by index."""
    if not isinstance(labels, dict) or not labels:
        raise DatasetError(f"{root / 'dataset.json'}: 'labels' must map class names to indices "
                           "(nnU-Net) or indices to names (Decathlon).")
    pairs = [(int(v), str(k)) if _is_index(v) else (int(k), str(v)) for k, v in labels.items()
             if _is_index(v) or _is_index(k)]
    indices = sorted(i for i, _ in pairs)
    if len(pairs) != len(labels) or indices != list(range(len(indices))) or len(indices) < 2:
        raise DatasetError(f"{root / 'dataset.json'}: labels {labels} must number the classes "
                           "0..N-1 (background 0), one index each; region labels (lists) are "
                           "not supported.")
    return tuple(name for _, name in sorted(pairs))


def palette(count: int) -> tuple[tuple[int, int, int], ...]:
    return tuple(_PALETTE[i % len(_PALETTE)] if i else (0, 0, 0) for i in range(count))


def _is_index(value: object) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _dataset_json(root: Path, strict: bool = True) -> dict:
    path = root / "dataset.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        if not strict:
            return {}
        raise DatasetError(f"Cannot read '{path}': {error}; an nnU-Net / Decathlon folder "
                           "needs its dataset.json.") from error
    if not isinstance(data, dict):
        if not strict:
            return {}
        raise DatasetError(f"'{path}' should hold a JSON object.")
    return data
