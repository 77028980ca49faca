"""A data set without a validation split: a fixed fraction, whole volumes, never random slices."""

from __future__ import annotations

import re

from qtseg_core.training import DataConfig
from qtseg_core.training.samples import resolve_training_data
from tests.core.test_training_fixtures import make_generic_dataset


def volume(sample_id: str) -> str:
    return re.sub(r"_z\d+$", "", sample_id)


def test_slices_named_volume_z_slice_validate_by_whole_volumes(tmp_path):
    data = make_generic_dataset(tmp_path / "data", volumes=5, slices=4)
    split = resolve_training_data(DataConfig(root=str(data), val_fraction=0.2))
    train_volumes = {volume(s.id) for s in split.train}
    val_volumes = {volume(s.id) for s in split.val}
    assert len(val_volumes) == 1 and len(split.val) == 4  # a fifth of the volumes, all slices
    assert not train_volumes & val_volumes and len(train_volumes) == 4
    again = resolve_training_data(DataConfig(root=str(data), val_fraction=0.2))
    assert [s.id for s in again.val] == [s.id for s in split.val]  # fixed, not drawn anew


def test_one_volume_validates_on_its_last_slices_as_one_block(tmp_path):
    data = make_generic_dataset(tmp_path / "data", volumes=1, slices=10)
    split = resolve_training_data(DataConfig(root=str(data), val_fraction=0.2))
    assert [s.id for s in split.val] == ["vol0_z008", "vol0_z009"]
    assert "one volume" in split.description


def test_images_without_volumes_keep_the_papers_sorted_kfold(tmp_path):
    data = make_generic_dataset(tmp_path / "data", volumes=2, slices=5)
    for path in sorted((data / "images").iterdir()) + sorted((data / "masks").iterdir()):
        path.rename(path.with_name(path.name.replace("_z", "-")))
    split = resolve_training_data(DataConfig(root=str(data)))
    assert "5-fold" in split.description and len(split.val) == 2
