"""SegmentationDataset: tensors for the training loop, per-epoch seeds, unreadable samples."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from qtseg_core.data import open_dataset
from qtseg_core.data.dataset import SegmentationDataset
from qtseg_core.io import ImageReadError


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i in range(4):
        image = np.random.default_rng(i).integers(0, 255, (24, 32, 3), dtype=np.uint8)
        mask = np.zeros((24, 32), np.uint8)
        mask[4:12, 4 + i : 12 + i] = 255
        cv2.imwrite(str(tmp_path / "images" / f"s{i}.png"), image)
        cv2.imwrite(str(tmp_path / "masks" / f"s{i}.png"), mask)
    return tmp_path


def test_items_are_network_ready(folder):
    dataset = SegmentationDataset(open_dataset(folder).samples, 32, in_channels=1)
    image, mask, index = dataset[2]
    assert image.shape == (1, 32, 32) and image.dtype == torch.float32
    assert image.min() == -1 and image.max() == 1
    assert mask.shape == (32, 32) and mask.dtype == torch.int64 and index == 2
    assert mask.sum() == 8 * 8  # 24x32 -> 24x32 on a 32 canvas: no resize


def test_augmentation_depends_on_seed_epoch_and_index_only(folder):
    samples = open_dataset(folder).samples
    dataset = SegmentationDataset(samples, 32, 3, augment=True, seed=1)
    twin = SegmentationDataset(samples, 32, 3, augment=True, seed=1)
    epoch0 = [dataset[i][0] for i in range(4)]
    assert all(torch.equal(a, twin[i][0]) for i, a in enumerate(epoch0))
    dataset.set_epoch(1)
    epoch1 = [dataset[i][0] for i in range(4)]
    assert any(not torch.equal(a, b) for a, b in zip(epoch0, epoch1, strict=True))


def test_works_in_a_dataloader(folder):
    dataset = SegmentationDataset(open_dataset(folder).samples, 32, 3, augment=True)
    images, masks, indices = next(iter(DataLoader(dataset, batch_size=4)))
    assert images.shape == (4, 3, 32, 32) and masks.shape == (4, 32, 32)
    assert indices.tolist() == [0, 1, 2, 3]


def test_corrupt_image_raises_or_is_skipped(folder, caplog):
    (folder / "images" / "s1.png").write_bytes(b"broken")
    samples = open_dataset(folder).samples
    with pytest.raises(ImageReadError, match=r"s1\.png"):
        SegmentationDataset(samples, 32, 3)[1]
    skipping = SegmentationDataset(samples, 32, 3, skip_unreadable=True)
    assert skipping[1][2] == 2  # the next readable sample
    assert "s1.png" in caplog.text
