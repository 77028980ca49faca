"""Slices of volumes as training samples: one Sample per slice, the volume as its group.

A layout reader lists a volume's slices from its header (no voxels read);
pixels are loaded per slice through ``read_volume``, with the last volumes
read kept in memory up to a budget, since a loader asks for many slices of
the same volume.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from qtseg_core.io import ImageReadError, read_volume
from qtseg_core.volumes import Volume

#: Bytes of decoded volumes each process keeps (QTSEG_VOLUME_CACHE_MB overrides).
CACHE_BYTES = int(os.environ.get("QTSEG_VOLUME_CACHE_MB", "1024")) * 2**20


class _VolumeCache:
    """Least recently used volumes, up to ``budget`` bytes of voxels."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._volumes: OrderedDict[tuple[Path, str | None], Volume] = OrderedDict()

    def get(self, path: Path, series_uid: str | None = None) -> Volume:
        key = (Path(path), series_uid)
        with self._lock:  # the app reads slices from its GUI and prediction threads
            if key in self._volumes:
                self._volumes.move_to_end(key)
                return self._volumes[key]
            volume = read_volume(path, series_uid)
            self._volumes[key] = volume
            while len(self._volumes) > 1 and self._used() > self.budget:
                self._volumes.popitem(last=False)
            return volume

    def _used(self) -> int:
        return sum(v.voxels.nbytes for v in self._volumes.values())


_CACHE = _VolumeCache(CACHE_BYTES)


def cached_volume(path: Path, series_uid: str | None = None) -> Volume:
    """``read_volume(path, series_uid)``, from this process's cache when read lately."""
    return _CACHE.get(path, series_uid)


def num_slices(path: Path) -> int:
    """Slices of a volume file from its header alone (NIfTI), else by reading it."""
    from qtseg_core.volumes import volume_suffix

    if volume_suffix(path) in (".nii", ".nii.gz"):
        import nibabel as nib

        shape = nib.load(str(path)).shape
        return int(shape[2]) if len(shape) >= 3 else 1
    return _CACHE.get(path).num_slices


def load_volume_slice(image_path: Path, label_path: Path | None, index: int,
                      num_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(slice (rows, cols) native units, labels (rows, cols) uint8) of slice ``index``."""
    volume = _CACHE.get(image_path)
    image = volume.slice(index)
    if label_path is None:
        return image, np.zeros(image.shape[:2], dtype=np.uint8)
    labels = _CACHE.get(label_path)
    if labels.voxels.shape[:3] != volume.voxels.shape[:3]:
        raise ImageReadError(label_path, f"the label volume is {labels.voxels.shape[:3]} "
                             f"(slice, row, col) but its image {image_path.name} is "
                             f"{volume.voxels.shape[:3]}; they must match voxel for voxel.")
    return image, _class_indices(labels.slice(index), label_path, num_classes)


def _class_indices(plane: np.ndarray, path: Path, num_classes: int | None) -> np.ndarray:
    values = np.unique(plane)
    limit = num_classes if num_classes is not None else 256
    if values.min(initial=0) < 0 or values.max(initial=0) >= limit or \
            not np.all(np.mod(values, 1) == 0):
        raise ImageReadError(path, f"label values {values[:8].tolist()} are not class indices "
                             f"0..{limit - 1}; list the classes in dataset.json.")
    return plane.astype(np.uint8)


def volume_spacing(sample: object) -> tuple[float, float, float] | None:
    """(slice, row, col) mm of the volume a slice sample comes from; None for 2D samples."""
    if getattr(sample, "slice_index", None) is None:
        return None
    return _CACHE.get(sample.image_path).spacing
