"""qtseg predict's masks are synced to disk in groups: a mask under its final name is complete."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from qtseg_core import atomic_batch
from qtseg_core.atomic_batch import AtomicWriteBatch
from qtseg_core.io import read_image
from qtseg_core.predict import PngMaskWriter, predict_files
from qtseg_core.predict import pipeline as pipeline_module
from tests.core.test_training_fixtures import (  # noqa: F401
    disc_pair,
    one_torch_thread,
    tiny_checkpoint,
)


def test_files_get_their_names_only_after_one_sync_of_all_of_them(tmp_path, monkeypatch):
    synced = []

    def sync(paths):  # at the sync: every temporary written, no final name yet
        assert all(path.is_file() for path in paths)
        assert not any((tmp_path / f"{k}.bin").exists() for k in range(5))
        synced.append(len(paths))

    monkeypatch.setattr(atomic_batch, "sync_files", sync)
    batch = AtomicWriteBatch()
    for k in range(5):
        batch.write(tmp_path / f"{k}.bin", lambda stream, k=k: stream.write(bytes([k]) * 100))
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".tmp")) == []
    assert batch.commit() == [tmp_path / f"{k}.bin" for k in range(5)]
    assert synced == [5]
    assert [(tmp_path / f"{k}.bin").read_bytes() for k in range(5)] == [
        bytes([k]) * 100 for k in range(5)]
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_failed_sync_names_nothing_and_leaves_no_temporaries(tmp_path, monkeypatch):
    def sync(paths):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic_batch, "sync_files", sync)
    batch = AtomicWriteBatch()
    batch.write(tmp_path / "a.png", lambda stream: stream.write(b"x"))
    with pytest.raises(OSError, match="Input/output"):
        batch.commit()
    assert list(tmp_path.iterdir()) == []


def test_the_real_sync_flushes_files_on_this_file_system(tmp_path):
    batch = AtomicWriteBatch()
    for k in range(3):
        batch.write(tmp_path / "sub" / f"{k}.txt", lambda stream: stream.write(b"done"))
    assert len(batch.commit()) == 3
    assert {p.read_bytes() for p in (tmp_path / "sub").iterdir()} == {b"done"}


def test_a_run_that_stops_keeps_whole_masks_only_and_resumes(checkpoint, tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(20):
        cv2.imwrite(str(folder / f"img{k:02d}.png"), disc_pair(k, (30, 40))[0])
    monkeypatch.setattr(pipeline_module, "COMMIT_IMAGES", 4)
    real_write, calls = PngMaskWriter.write, []

    def disk_full_at_the_thirteenth(self, name, image, prediction):
        calls.append(name)
        if len(calls) == 13:
            raise OSError(28, "No space left on device")
        return real_write(self, name, image, prediction)

    monkeypatch.setattr(PngMaskWriter, "write", disk_full_at_the_thirteenth)
    with pytest.raises(OSError, match="No space"):
        predict_files(checkpoint, [folder], tmp_path / "out", device="cpu", workers=0)
    masks = sorted((tmp_path / "out").glob("*.png"))
    assert f"{calls[12]}.png" not in {mask.name for mask in masks}
    assert len(masks) >= 12  # what was written completely is kept, each mask whole
    assert all(read_image(mask).shape == (30, 40) for mask in masks)
    assert not list((tmp_path / "out").glob(".*.tmp"))

    monkeypatch.setattr(PngMaskWriter, "write", real_write)
    again = predict_files(checkpoint, [folder], tmp_path / "out", device="cpu",
                          skip_existing=True)
    assert len(again.existing) == len(masks) and len(again.written) == 20 - len(masks)
    fresh = predict_files(checkpoint, [folder], tmp_path / "fresh", device="cpu")
    for source, mask in fresh.written.items():
        name = mask.name
        assert np.array_equal(read_image(tmp_path / "out" / name), read_image(mask)), source
