"""Data side of QTSeg: layout readers, samples, splits, preprocessing.

The torch dataset (:mod:`qtseg_core.data.dataset`) and the augmentation
(:mod:`qtseg_core.data.augment`) are not imported here, so the app and the
Predictor can use preprocessing without loading torch.
"""

from __future__ import annotations

from qtseg_core.data.layouts import LAYOUTS, detect_layout, open_dataset
from qtseg_core.data.preprocess import Letterbox, prepare_image, prepare_mask
from qtseg_core.data.samples import (
    DatasetError,
    DatasetIndex,
    MaskMismatchError,
    Sample,
    load_sample,
)
from qtseg_core.data.splits import grouped_split, kfold_split

__all__ = [
    "LAYOUTS",
    "DatasetError",
    "DatasetIndex",
    "Letterbox",
    "MaskMismatchError",
    "Sample",
    "detect_layout",
    "grouped_split",
    "kfold_split",
    "load_sample",
    "open_dataset",
    "prepare_image",
    "prepare_mask",
]
