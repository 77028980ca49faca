"""What every data-set reader produces: samples on disk, and how to load one.

A reader (one per published layout, see :mod:`qtseg_core.data.layouts`) only
lists files; :func:`load_sample` turns a :class:`Sample` into pixels through
the one image reader, so all layouts load, fail and report the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from qtseg_core.classes import default_colors, default_names
from qtseg_core.io import ImageReadError, read_image, read_mask

#: Default class names and colours (RGB) of a binary task.
BINARY_CLASS_NAMES = default_names(2)
BINARY_CLASS_COLORS = default_colors(2)


class DatasetError(ValueError):
    """A data-set folder that cannot be used as is; the message names the file and the fix."""


class MaskMismatchError(ImageReadError):
    """A mask whose size differs from its image.

    A subclass of :class:`ImageReadError` so a training loop that skips
    unreadable samples skips these too.
    """


@dataclass(frozen=True)
class Sample:
    """One image and the mask file(s) that label it.

    ``mask_encoding`` says how the mask files become class indices (see
    :data:`MASK_DECODERS`): ``"index"`` (class-index or 0/255 files, the
    highest label wins where several overlap), ``"union"`` (any foreground of
    any file is class 1: BUSI extra masks, DSB2018 nuclei), ``"per_class"``
    (file k paints class k + 1), ``"neopolyp"`` / ``"neopolyp_binary"``
    (colour-coded BKAI-IGH masks). ``group`` keeps correlated samples (slices
    of one volume) on one side of a split. ``slice_index`` makes the sample one
    slice of the volume ``image_path`` labelled by the label volume
    ``mask_paths[0]`` (nnU-Net / Decathlon 3D layouts).
    """

    id: str
    image_path: Path
    mask_paths: tuple[Path, ...]
    group: str | None = None
    mask_encoding: str = "index"
    slice_index: int | None = None


@dataclass(frozen=True)
class DatasetIndex:
    """The samples of one data-set folder, its classes and its official splits.

    ``splits`` maps a split name ("train", "val", "test") to sample ids; it is
    empty where the data set has no official split (use
    :mod:`qtseg_core.data.splits`).
    """

    root: Path
    layout: str
    samples: tuple[Sample, ...]
    class_names: tuple[str, ...] = BINARY_CLASS_NAMES
    class_colors: tuple[tuple[int, int, int], ...] = BINARY_CLASS_COLORS
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def ids(self) -> list[str]:
        return [sample.id for sample in self.samples]

    def select(self, ids: Sequence[str]) -> list[Sample]:
        """Samples with the given ids, in that order (e.g. one side of a split)."""
        by_id = {sample.id: sample for sample in self.samples}
        unknown = [sample_id for sample_id in ids if sample_id not in by_id]
        if unknown:
            raise DatasetError(
                f"{len(unknown)} id(s) not found in {self.root}, e.g. {unknown[:3]}; "
                "check the split file against the images that exist."
            )
        return [by_id[sample_id] for sample_id in ids]

    def split(self, name: str) -> list[Sample]:
        """The samples of an official split ("train", "val", "test")."""
        if name not in self.splits:
            raise DatasetError(
                f"{self.root} ({self.layout}) has no official '{name}' split "
                f"(it has {sorted(self.splits) or 'none'}); make one with kfold_split "
                "or grouped_split."
            )
        return self.select(self.splits[name])


def load_sample(sample: Sample, num_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of one sample: (image (H, W[, C]) native dtype, mask (H, W) uint8 class indices).

    An unlabelled sample gets an all-zero mask. Raises :class:`ImageReadError`
    (naming the file) for an unreadable image or mask and
    :class:`MaskMismatchError` when the mask and image sizes differ.
    """
    if sample.slice_index is not None:
        from qtseg_core.data.volume_slices import load_volume_slice

        label = sample.mask_paths[0] if sample.mask_paths else None
        return load_volume_slice(sample.image_path, label, sample.slice_index, num_classes)
    image = read_image(sample.image_path)
    if not sample.mask_paths:
        return image, np.zeros(image.shape[:2], dtype=np.uint8)
    decode = MASK_DECODERS.get(sample.mask_encoding)
    if decode is None:
        raise ValueError(
            f"Sample {sample.id}: unknown mask_encoding '{sample.mask_encoding}'; "
            f"known: {sorted(MASK_DECODERS)}."
        )
    mask = decode(sample.mask_paths, image.shape[:2], num_classes)
    return image, mask


def _check_size(path: Path, mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if mask.shape[:2] != tuple(shape):
        raise MaskMismatchError(
            path,
            f"the mask is {mask.shape[0]}x{mask.shape[1]} (HxW) but its image is "
            f"{shape[0]}x{shape[1]}; re-export the mask at the image size.",
        )
    return mask


def _decode_index(
    paths: tuple[Path, ...], shape: tuple[int, int], classes: int | None
) -> np.ndarray:
    masks = [_check_size(path, read_mask(path, classes), shape) for path in paths]
    return np.maximum.reduce(masks) if len(masks) > 1 else masks[0]


def _decode_union(
    paths: tuple[Path, ...], shape: tuple[int, int], classes: int | None
) -> np.ndarray:
    union = np.zeros(shape, dtype=np.uint8)
    for path in paths:
        union |= _check_size(path, read_mask(path), shape) > 0
    return union


def _decode_per_class(
    paths: tuple[Path, ...], shape: tuple[int, int], classes: int | None
) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    for label, path in enumerate(paths, start=1):
        mask[_check_size(path, read_mask(path), shape) > 0] = label
    return mask


#: Hue windows of OpenCV's 0..179 scale and the least saturation / brightness
#: that still counts as colour: the BKAI-IGH masks are JPEGs, so pure red and
#: green arrive with compression noise and grey fringes at the edges.
_RED_HUES, _GREEN_HUES = ((0, 15), (165, 179)), ((35, 85),)
_MIN_SATURATION, _MIN_VALUE = 80, 60


def decode_neopolyp_colors(rgb: np.ndarray) -> np.ndarray:
    """Colour-coded BKAI-IGH mask (H, W, 3) RGB -> 0 background, 1 non-neoplastic
    (green), 2 neoplastic (red), as the data set's own class order."""
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8), cv2.COLOR_RGB2HSV)
    hue, saturation, value = hsv[:, :, 0], hsv[:, :, 1], hsv[:, :, 2]
    coloured = (saturation >= _MIN_SATURATION) & (value >= _MIN_VALUE)
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    for label, windows in ((1, _GREEN_HUES), (2, _RED_HUES)):
        for low, high in windows:
            mask[coloured & (hue >= low) & (hue <= high)] = label
    return mask


def _decode_neopolyp(
    paths: tuple[Path, ...], shape: tuple[int, int], classes: int | None
) -> np.ndarray:
    rgb = read_image(paths[0])
    if rgb.ndim != 3:
        raise ImageReadError(paths[0], "expected a colour-coded (red/green) BKAI-IGH mask.")
    return _check_size(paths[0], decode_neopolyp_colors(rgb), shape)


def _decode_neopolyp_binary(
    paths: tuple[Path, ...], shape: tuple[int, int], classes: int | None
) -> np.ndarray:
    return (_decode_neopolyp(paths, shape, classes) > 0).astype(np.uint8)


#: (a sample's mask files, the image's (H, W), number of classes or None) -> the mask.
#: Reads label files; not to be confused with the network's decoder (models/decoder.py).
MaskFileDecoder = Callable[[tuple[Path, ...], tuple[int, int], "int | None"], np.ndarray]

#: How the mask files of a sample become one (H, W) uint8 class-index mask.
MASK_DECODERS: dict[str, MaskFileDecoder] = {
    "index": _decode_index,
    "union": _decode_union,
    "per_class": _decode_per_class,
    "neopolyp": _decode_neopolyp,
    "neopolyp_binary": _decode_neopolyp_binary,
}
