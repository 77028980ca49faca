"""Segment a volume slice by slice with the 2D model, in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from qtseg_core.inference import Prediction, Predictor
from qtseg_core.volumes.volume import Volume

#: progress(done_slices, total_slices), called after each batch.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VolumePrediction:
    """labels: (slices, rows, cols) uint8 class indices; probabilities: (slices, N, rows,
    cols) float32 when asked for, else None (a CT's maps take slices x N x 1 MB)."""

    labels: np.ndarray
    probabilities: np.ndarray | None


def predict_volume(
    predictor: Predictor, volume: Volume, *, batch_size: int = 8,
    keep_probabilities: bool = False, first: int | None = None, progress: Progress | None = None,
) -> VolumePrediction:
    """Every slice through ``predictor`` (``batch_size`` at a time). ``first`` is predicted
    before the others (the slice on screen), the result is in slice order all the same."""
    order = slice_order(volume.num_slices, first)
    labels = np.zeros(volume.voxels.shape[:3], dtype=np.uint8)
    maps = None
    for done, (index, prediction) in enumerate(
            iter_slice_predictions(predictor, volume, order, batch_size), start=1):
        labels[index] = prediction.mask
        if keep_probabilities:
            if maps is None:
                maps = np.zeros((volume.num_slices, *prediction.probabilities.shape), np.float32)
            maps[index] = prediction.probabilities
        if progress is not None and (done % batch_size == 0 or done == len(order)):
            progress(done, len(order))
    return VolumePrediction(labels, maps)


def iter_slice_predictions(
    predictor: Predictor, volume: Volume, order: Iterable[int], batch_size: int = 8
) -> Iterator[tuple[int, Prediction]]:
    """(slice index, Prediction) for the slices in ``order``, as each batch finishes."""
    order = list(order)
    slices = (volume.slice(index) for index in order)
    yield from zip(order, predictor.iter_predictions(slices, batch_size), strict=True)


def slice_order(count: int, first: int | None = None) -> list[int]:
    """0..count-1, or ``first`` then its neighbours outwards (first, first+1, first-1, ...)."""
    if first is None:
        return list(range(count))
    if not 0 <= first < count:
        raise IndexError(f"first slice {first} is outside the volume's 0..{count - 1}.")
    order = [first]
    for step in range(1, count):
        order += [i for i in (first + step, first - step) if 0 <= i < count]
    return order
