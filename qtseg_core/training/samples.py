"""Which samples train and which validate: DataConfig -> (train, validation) lists of Samples.

The test split is never used here. Rules, in order:

- explicit ``train_pairs`` / ``val_pairs`` (the fine-tune feature) are used as given;
- ``split="auto"``: an official train/val split when the data set has one; otherwise
  ``val_fraction`` of the training pool validates, by group (volume, patient) when
  the samples have groups (the layout's meta.json), ``group_pattern`` is set or
  every id reads ``<volume>_z<slice>``; a single volume gives its last slices
  (a contiguous block, never slices drawn at random); ungrouped images use the
  paper's sorted K-fold;
- ``split="grouped"`` / ``"kfold"`` force one rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qtseg_core.data.layouts import open_dataset
from qtseg_core.data.samples import (
    BINARY_CLASS_COLORS,
    BINARY_CLASS_NAMES,
    DatasetError,
    DatasetIndex,
    Sample,
)
from qtseg_core.data.splits import SLICE_OF_VOLUME, group_ids, grouped_split, kfold_split
from qtseg_core.training.config import DataConfig


@dataclass(frozen=True)
class TrainingData:
    """Samples on each side plus the classes they are labelled with."""

    train: list[Sample]
    val: list[Sample]
    class_names: tuple[str, ...] = BINARY_CLASS_NAMES
    class_colors: tuple[tuple[int, int, int], ...] = BINARY_CLASS_COLORS
    description: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def resolve_training_data(data: DataConfig, seed: int = 0) -> TrainingData:
    """Apply the split rules above; errors say what to change when a side would be empty."""
    if data.train_pairs is not None:
        train, val = samples_from_pairs(data.train_pairs), samples_from_pairs(data.val_pairs or ())
        return TrainingData(train, val, description="listed pairs")
    index = open_dataset(Path(data.root), data.layout)
    train_ids, val_ids, how = _split_ids(index, data, seed)
    if not train_ids or not val_ids:
        raise DatasetError(
            f"The {how} split of {data.root} left {len(train_ids)} training and "
            f"{len(val_ids)} validation images; both need at least one - add images or "
            "change --split / --val-fraction / --num-folds."
        )
    return TrainingData(
        index.select(train_ids),
        index.select(val_ids),
        index.class_names,
        index.class_colors,
        f"{index.layout} {how}",
    )


def _split_ids(index: DatasetIndex, data: DataConfig, seed: int) -> tuple[list, list, str]:
    if data.split == "auto" and "train" in index.splits and "val" in index.splits:
        return list(index.splits["train"]), list(index.splits["val"]), "official"
    test = set(index.splits.get("test", ()))
    pool = index.splits.get("train") or [i for i in index.ids if i not in test]
    groups = _groups(index, data, pool)
    if data.split == "kfold" or (data.split == "auto" and groups is None):
        train, val = kfold_split(pool, data.num_folds, data.fold)
        return train, val, f"sorted {data.num_folds}-fold (fold {data.fold})"
    if data.split not in ("auto", "grouped"):
        raise ValueError(f"split={data.split!r}: use auto, grouped or kfold.")
    if groups is None:
        raise DatasetError(
            f"split=grouped but the samples of {index.root} have no groups: give "
            "--group-pattern, e.g. '^(.+)_z\\d+$' for '<volume>_z<slice>' ids."
        )
    if len(set(group_ids(pool, groups).values())) == 1:
        train, val = last_slices_split(pool, data.val_fraction)
        return train, val, f"last {len(val)} slices of the one volume"
    train, val = grouped_split(pool, groups, val_fraction=data.val_fraction, seed=seed)
    return train, val, "grouped"


def last_slices_split(ids: list[str], val_fraction: float) -> tuple[list[str], list[str]]:
    """One volume: its last ``val_fraction`` of slices (sorted, at least one) validate."""
    ordered = sorted(ids)
    count = min(len(ordered) - 1, max(1, round(val_fraction * len(ordered))))
    return ordered[: len(ordered) - count], ordered[len(ordered) - count :]


def _groups(index: DatasetIndex, data: DataConfig, pool: list[str]) -> dict[str, str] | str | None:
    """A regex (when given) or the readers' id -> group mapping, or None when ungrouped."""
    if data.group_pattern:
        return data.group_pattern
    mapping = {s.id: s.group for s in index.samples if s.group is not None and s.id in pool}
    if mapping:
        return mapping
    if pool and all(re.match(SLICE_OF_VOLUME, sample_id) for sample_id in pool):
        return SLICE_OF_VOLUME
    return None


def samples_from_pairs(pairs: tuple[tuple[str, str], ...]) -> list[Sample]:
    """(image, mask) paths -> Samples; ids are the image file names without extension."""
    return [Sample(Path(image).stem, Path(image), (Path(mask),)) for image, mask in pairs]
