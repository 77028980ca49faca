"""nnU-Net raw (2D and 3D) and Decathlon layouts: detected, one sample per slice, split by case."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from qtseg_core.data import load_sample
from qtseg_core.data.layouts import detect_layout, open_dataset
from qtseg_core.data.samples import DatasetError
from tests.core.volume_helpers import blob_volume, nnunet_3d, write_nifti


def test_nnunet_3d_cases_become_slices_grouped_by_case(tmp_path):
    root = nnunet_3d(tmp_path / "Dataset001_Blob", cases=3, shape=(32, 30, 4))
    assert detect_layout(root) == "nnunet"
    index = open_dataset(root)
    assert index.class_names == ("background", "lesion")
    assert len(index.samples) == 12 and index.samples[0].id == "case_000_z000"
    assert {s.group for s in index.samples} == {"case_000", "case_001", "case_002"}
    image, mask = load_sample(index.samples[2], index.num_classes)
    # slice 2 as (row, col), rows flipped to run towards Posterior (the affine's +y is Anterior)
    expected = np.flipud(blob_volume((32, 30, 4))[:, :, 2].T)
    np.testing.assert_array_equal(image, expected)
    np.testing.assert_array_equal(mask, (expected > 100).astype(np.uint8))


def test_nnunet_2d_png_cases(tmp_path):
    root = tmp_path / "Dataset002_Png"
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    for case in range(2):
        cv2.imwrite(str(root / "imagesTr" / f"c{case}_0000.png"), np.full((16, 20), 90, np.uint8))
        cv2.imwrite(str(root / "labelsTr" / f"c{case}.png"), np.eye(16, 20, dtype=np.uint8) * 2)
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "R"}, "labels": {"background": 0, "a": 1, "b": 2},
        "numTraining": 2, "file_ending": ".png"}))
    index = open_dataset(root)
    assert [s.id for s in index.samples] == ["c0", "c1"] and index.num_classes == 3
    assert load_sample(index.samples[0], 3)[1].max() == 2


def test_decathlon_task_reads_its_training_list(tmp_path):
    root = tmp_path / "Task04_Blob"
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    data = blob_volume((24, 24, 3))
    write_nifti(root / "imagesTr" / "blob_1.nii.gz", data)
    write_nifti(root / "labelsTr" / "blob_1.nii.gz", (data > 100).astype(np.uint8))
    (root / "dataset.json").write_text(json.dumps({
        "modality": {"0": "MRI"}, "labels": {"0": "background", "1": "blob"},
        "training": [{"image": "./imagesTr/blob_1.nii.gz", "label": "./labelsTr/blob_1.nii.gz"}]}))
    assert detect_layout(root) == "msd"
    index = open_dataset(root)
    assert [s.id for s in index.samples] == ["blob_1_z000", "blob_1_z001", "blob_1_z002"]
    assert index.class_names == ("background", "blob")


def test_region_labels_are_refused_with_the_reason(tmp_path):
    root = nnunet_3d(tmp_path / "Dataset003", cases=1)
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "CT"}, "labels": {"background": 0, "whole": [1, 2]},
        "file_ending": ".nii.gz"}))
    with pytest.raises(DatasetError, match="region labels"):
        open_dataset(root)


def test_eval_on_an_nnunet_volume_set_scores_slices_and_volumes_in_mm(tmp_path, capsys):
    import csv

    import torch

    from qtseg_core.checkpoint import save_model
    from qtseg_core.cli import main
    from qtseg_core.models import build_model
    from tests.core.test_training_fixtures import TINY_MODEL

    root = nnunet_3d(tmp_path / "Dataset004", cases=2, shape=(32, 32, 3))
    torch.manual_seed(0)
    save_model(build_model("qtseg", **TINY_MODEL), tmp_path / "m.safetensors", input_size=32)
    out = tmp_path / "eval"
    assert main(["eval", str(tmp_path / "m.safetensors"), str(root), "--split", "all",
                 "-o", str(out), "--tolerance-mm", "1.5"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["volumes"]["count"] == 2 and summary["volumes"]["tolerance"] == 1.5
    assert summary["boundary"]["unit"] == "mm"
    with open(out / "per_volume.csv") as stream:
        volumes = list(csv.DictReader(stream))
    assert [v["volume"] for v in volumes] == ["case_000", "case_001"]
    assert all(v["slices"] == "3" for v in volumes)
    assert "per volume: Dice" in capsys.readouterr().out


def test_training_split_keeps_each_case_on_one_side(tmp_path):
    from qtseg_core.training.config import DataConfig
    from qtseg_core.training.samples import resolve_training_data

    root = nnunet_3d(tmp_path / "Dataset006", cases=4, shape=(16, 16, 3))
    data = resolve_training_data(DataConfig(root=str(root), val_fraction=0.25))
    train = {s.group for s in data.train}
    val = {s.group for s in data.val}
    assert train and val and not train & val
    assert len(data.train) + len(data.val) == 12


@pytest.mark.slow
def test_train_on_an_nnunet_volume_set(tmp_path):
    from qtseg_core.cli import main
    from tests.core.test_cli_train import TINY

    root = nnunet_3d(tmp_path / "Dataset005", cases=3, shape=(32, 32, 3))
    tiny = [a for a in TINY if not a.startswith("^(") and a != "--group-pattern"]
    run = tmp_path / "run"
    assert main(["train", str(root), "-o", str(run), *tiny, "--epochs", "1"]) == 0
    assert (run / "best.safetensors").is_file()
