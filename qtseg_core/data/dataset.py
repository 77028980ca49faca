"""Torch dataset: samples on disk -> (image, mask, index) ready for the network.

Per item: read with the one image reader, letterbox image and mask to
``size`` x ``size``, optionally augment (the paper's recipe, see
:mod:`qtseg_core.data.augment`), min-max the image to [-1, 1].

Augmentation is reproducible: item ``i`` of epoch ``e`` uses the seed
derived from ``(seed, e, i)``, whatever the number of DataLoader workers.
Call :meth:`SegmentationDataset.set_epoch` before each epoch (with
``persistent_workers=False``, so workers see it), or every epoch repeats the
same augmentations.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from qtseg_core.data.augment import augmentation_for
from qtseg_core.data.preprocess import letterbox_image, normalize_min_max, prepare_mask
from qtseg_core.data.samples import Sample, load_sample
from qtseg_core.io import ImageReadError

logger = logging.getLogger(__name__)


class SegmentationDataset(Dataset):
    """``dataset[i]`` -> (image float32 (C, size, size) in [-1, 1], mask int64 (size, size), i).

    With ``skip_unreadable``, a sample whose image or mask cannot be read
    (:class:`ImageReadError`, which includes a mask/image size mismatch) is
    logged once with its path and the next readable sample is returned
    instead, with *its* index; otherwise the error propagates.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        size: int,
        in_channels: int,
        augment: bool = False,
        seed: int = 0,
        *,
        num_classes: int | None = None,
        skip_unreadable: bool = False,
        augmentation: str = "paper",
    ) -> None:
        if not samples:
            raise ValueError("SegmentationDataset needs at least one sample.")
        self.samples = list(samples)
        self.size, self.in_channels, self.num_classes = size, in_channels, num_classes
        self.augmentation = augmentation_for(augmentation) if augment else None
        self.seed, self.epoch = seed, 0
        self.skip_unreadable = skip_unreadable
        self.unreadable: set[int] = set()

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose augmentations the next items get."""
        self.epoch = int(epoch)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        if not self.skip_unreadable:
            return self._item(index)
        for offset in range(len(self.samples)):
            candidate = (index + offset) % len(self.samples)
            if candidate in self.unreadable:
                continue
            try:
                return self._item(candidate)
            except ImageReadError as error:
                self.unreadable.add(candidate)
                logger.warning("Skipping unreadable sample %s: %s", candidate, error)
        raise ImageReadError(
            self.samples[index].image_path, "no sample of the data set is readable."
        )

    def _item(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        image, mask = load_sample(self.samples[index], self.num_classes)
        canvas, _ = letterbox_image(image, self.size, self.in_channels)
        mask = prepare_mask(mask, self.size)
        if self.augmentation is not None:
            unit = normalize_min_max(canvas, 0.0, 1.0)
            canvas, mask = self.augmentation(unit, mask, seed=self.item_seed(index))
        image_tensor = torch.from_numpy(
            np.ascontiguousarray(normalize_min_max(canvas).transpose(2, 0, 1))
        )
        return image_tensor, torch.from_numpy(mask.astype(np.int64)), index

    def item_seed(self, index: int) -> int:
        """The augmentation seed of item ``index`` in the current epoch (stable across runs)."""
        sequence = np.random.SeedSequence([self.seed, self.epoch, index])
        return int(sequence.generate_state(1)[0])
