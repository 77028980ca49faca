"""DataLoaders for training and validation: sharding, per-epoch seeding, unreadable-image skipping.

Determinism: every epoch's shuffle and augmentation seeds derive from
``(seed, epoch)`` alone, so a resumed run sees the same batches as an
uninterrupted one, whatever the number of loader workers.

Robustness: a sample whose image or mask cannot be read (corrupt file, size
mismatch) is replaced by the next readable one, reported once with its path,
and the epoch goes on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from qtseg_core.data.samples import DatasetError
from qtseg_core.io import ImageReadError
from qtseg_core.training.distributed import DistributedContext


@dataclass
class SkippedSample:
    """Marker for a sample that could not be loaded: which file and why."""

    path: str
    reason: str


class SkipUnreadable(Dataset):
    """Wraps a dataset so that an unreadable sample never stops an epoch.

    With ``replace`` (training) it is replaced by the next readable sample:
    batches stay full, so distributed processes stay in step. Without it
    (validation) the item is None and dropped, so no image is scored twice.
    ``__getitem__`` returns ``(item, skipped)``; ``skipped`` lists the
    SkippedSamples met on the way.
    """

    def __init__(self, dataset: Dataset, *, replace: bool = True) -> None:
        self.dataset = dataset
        self.replace = replace

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Any, list[SkippedSample]]:
        skipped: list[SkippedSample] = []
        for offset in range(len(self)):
            try:
                return self.dataset[(index + offset) % len(self)], skipped
            except ImageReadError as error:
                skipped.append(SkippedSample(str(error.path), str(error)))
                if not self.replace:
                    return None, skipped
        raise DatasetError(
            f"None of the {len(self)} samples could be read; the first error was: "
            f"{skipped[0].reason if skipped else 'empty dataset'}"
        )

    def set_epoch(self, epoch: int) -> None:
        """Pass the epoch on to a dataset whose augmentation is seeded per epoch."""
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)


@dataclass
class SkipLog:
    """Paths skipped so far (each reported once) - goes into the epoch log."""

    reported: dict[str, str] = field(default_factory=dict)

    def add(self, skipped: list[SkippedSample], announce: bool) -> None:
        for item in skipped:
            if item.path not in self.reported:
                self.reported[item.path] = item.reason
                if announce:
                    print(f"skipping unreadable sample: {item.reason}", file=sys.stderr, flush=True)


def collate_readable(items: list[tuple[tuple | None, list[SkippedSample]]]) -> dict[str, Any]:
    """SegmentationDataset items -> {"image" (B, C, S, S) float32, "mask" (B, S, S) int64,
    "index" (B,) sample positions, "skipped" [SkippedSample]}; B may be 0 in validation."""
    good = [item for item, _ in items if item is not None]
    return {
        "image": torch.stack([item[0] for item in good]) if good else torch.empty(0),
        "mask": torch.stack([item[1].long() for item in good]) if good else torch.empty(0),
        "index": torch.tensor([int(item[2]) for item in good], dtype=torch.long),
        "skipped": [skip for _, skips in items for skip in skips],
    }


class EpochShuffleSampler(Sampler[int]):
    """This process's share of a seeded permutation of the dataset, new every epoch.

    Rank r takes positions r, r + world, ... of the permutation of epoch e
    (seed ``seed + e``), so shards never overlap and a resumed epoch repeats
    exactly. With ``pad`` (training) the permutation is padded with its own
    first items so that every rank runs the same number of steps, as DDP
    requires; validation does not pad, so no image is counted twice.
    """

    def __init__(
        self, size: int, *, seed: int, shuffle: bool, pad: bool, context: DistributedContext
    ) -> None:
        self.size, self.seed, self.shuffle, self.pad = size, seed, shuffle, pad
        self.context = context
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _order(self) -> list[int]:
        if not self.shuffle:
            return list(range(self.size))
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(self.size, generator=generator).tolist()

    def _padded_size(self) -> int:
        world = self.context.world_size
        return -(-self.size // world) * world if self.pad else self.size

    def __iter__(self) -> Iterator[int]:
        order = self._order()
        order += order[: self._padded_size() - self.size]
        return iter(order[self.context.rank :: self.context.world_size])

    def __len__(self) -> int:
        return len(range(self.context.rank, self._padded_size(), self.context.world_size))


def make_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    shuffle: bool,  # training: shuffled, padded shards, unreadable samples replaced
    seed: int,
    num_workers: int,
    context: DistributedContext,
) -> DataLoader:
    """A DataLoader over ``dataset`` sharded for this process, skipping unreadable samples.

    Call ``set_loader_epoch(loader, epoch)`` before each epoch.
    """
    sampler = EpochShuffleSampler(
        len(dataset), seed=seed, shuffle=shuffle, pad=shuffle, context=context
    )
    return DataLoader(
        SkipUnreadable(dataset, replace=shuffle),
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_readable,
        pin_memory=context.device.type == "cuda",
        persistent_workers=False,  # workers must see each epoch's set_epoch
        drop_last=False,
    )


def set_loader_epoch(loader: DataLoader, epoch: int) -> None:
    """Tell the sampler and the dataset (augmentation seeds) which epoch starts."""
    loader.sampler.set_epoch(epoch)  # type: ignore[union-attr]
    loader.dataset.set_epoch(epoch)  # type: ignore[union-attr]


def batches_with_skips(loader: DataLoader, log: SkipLog, announce: bool) -> Iterator[dict]:
    """Iterate ``loader``, recording skipped samples in ``log`` (printed when ``announce``)."""
    for batch in loader:
        log.add(batch["skipped"], announce)
        yield batch
