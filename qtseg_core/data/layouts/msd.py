"""Medical Segmentation Decathlon tasks (``TaskXX_Name``).

::

    root/dataset.json   {"modality": {"0": "CT"}, "labels": {"0": "background", "1": ...},
                         "training": [{"image": "./imagesTr/x.nii.gz",
                                       "label": "./labelsTr/x.nii.gz"}, ...]}
    root/imagesTr/*.nii.gz, root/labelsTr/*.nii.gz

Each case becomes one sample per slice grouped by case. Multi-modal cases (4D
images, e.g. BraTS) are not read: QTSeg takes one channel per slice.
"""

from __future__ import annotations

from pathlib import Path

from qtseg_core.data.layouts.nnunet import (
    _dataset_json,
    case_samples,
    class_names_from_labels,
    palette,
)
from qtseg_core.data.samples import DatasetError, DatasetIndex, Sample

NAME = "msd"
EXPECTS = "dataset.json (modality, labels, training list), imagesTr/*.nii.gz, labelsTr/*.nii.gz"


def looks_like(root: Path) -> bool:
    info = _dataset_json(root, strict=False)
    return (root / "imagesTr").is_dir() and "training" in info and "modality" in info


def read(root: Path) -> DatasetIndex:
    info = _dataset_json(root)
    names = class_names_from_labels(info.get("labels"), root)
    training = info.get("training")
    if not isinstance(training, list) or not training:
        raise DatasetError(f"{root / 'dataset.json'}: 'training' must list "
                           "{\"image\": ..., \"label\": ...} pairs.")
    samples: list[Sample] = []
    for pair in training:
        image, label = root / str(pair["image"]), root / str(pair["label"])
        case = image.name.split(".")[0]
        samples += case_samples(case, image, label, ".nii.gz")
    return DatasetIndex(root, NAME, tuple(samples), names, palette(len(names)))
