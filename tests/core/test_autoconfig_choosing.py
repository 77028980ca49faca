"""benchmarks/autoconfig.py's choosing set: the check's split again, inside its train + val."""

from __future__ import annotations

import json

import cv2
import numpy as np

from benchmarks.autoconfig import choosing_task


def test_the_choosing_set_never_reads_the_checks_test_slices_and_tests_above_its_training(
    tmp_path,
):
    source = tmp_path / "gm"
    (source / "images").mkdir(parents=True)
    (source / "masks").mkdir()
    ids = [f"mni_z{z:03d}" for z in range(10, 158, 2)]  # 74 slices, bottom to top
    for image_id in ids:
        cv2.imwrite(str(source / "images" / f"{image_id}.png"), np.zeros((8, 8), np.uint8))
        cv2.imwrite(str(source / "masks" / f"{image_id}.png"), np.zeros((8, 8), np.uint8))
    check = {"train": ids[:37], "val": ids[37:44], "test": ids[44:]}
    (source / "splits.json").write_text(json.dumps(check), encoding="utf-8")

    folder = choosing_task(source, tmp_path / "work")

    splits = json.loads((folder / "splits.json").read_text(encoding="utf-8"))
    assert [len(splits[name]) for name in ("train", "val", "test")] == [22, 4, 18]
    assert sorted(splits["train"] + splits["val"] + splits["test"]) == ids[:44]
    assert max(splits["train"]) < min(splits["val"]) <= max(splits["val"]) < min(splits["test"])
    copied = sorted(path.stem for path in (folder / "images").glob("*.png"))
    assert copied == ids[:44] and not set(copied) & set(check["test"])
