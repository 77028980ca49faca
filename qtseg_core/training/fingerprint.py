"""The data fingerprint (as nnU-Net's): what the training images look like, measured once.

``fingerprint(samples, num_classes)`` reads up to ``max_images`` training
samples (evenly spread, deterministic) through the one image reader and
records their sizes, channels, intensities, how much of the image each class
covers and how large and how thin the labelled objects are. The planner
(:mod:`qtseg_core.training.planner`) turns it into a recipe; it is a plain
dataclass so tests can make one up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
from skimage.morphology import skeletonize

from qtseg_core.data.samples import Sample, load_sample
from qtseg_core.io import ImageReadError


@dataclass(frozen=True)
class DataFingerprint:
    """Summary statistics of a training set (sizes in pixels of the original images).

    ``object_thickness_px`` is the median over images of the foreground's
    local thickness along its medial axis (the median, over skeleton pixels,
    of twice their distance to the background): a ribbon of cortex measures
    its 2-4 px however large its area, a large organ its width. ``object_area_px`` is the 5th
    percentile of the connected objects' areas. Both are None when no sample
    has foreground.
    """

    num_images: int
    num_val_images: int
    median_height: int
    median_width: int
    max_side: int
    aspect_ratio: float  # median width / height
    channels: int
    intensity: dict[str, float] = field(default_factory=dict)  # p0.5, p50, p99.5, mean, std
    class_fractions: tuple[float, ...] = ()  # mean share of pixels per class, background first
    object_area_px: float | None = None
    object_thickness_px: float | None = None
    sampled_images: int = 0

    @property
    def longer_side(self) -> int:
        return max(self.median_height, self.median_width)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["class_fractions"] = list(self.class_fractions)
        return data


def fingerprint(
    train: list[Sample], val: list[Sample], num_classes: int, max_images: int = 64
) -> DataFingerprint:
    """Measure the training samples (unreadable ones are left out; at least one must read)."""
    chosen = _spread(train, max_images)
    measured = [m for m in (_measure(sample, num_classes) for sample in chosen) if m is not None]
    if not measured:
        raise ImageReadError(train[0].image_path, "no training image could be read to plan from.")
    heights = [m["shape"][0] for m in measured]
    widths = [m["shape"][1] for m in measured]
    thickness = [m["thickness"] for m in measured if m["thickness"] is not None]
    areas = [a for m in measured for a in m["areas"]]
    return DataFingerprint(
        num_images=len(train),
        num_val_images=len(val),
        median_height=int(np.median(heights)),
        median_width=int(np.median(widths)),
        max_side=int(max(max(heights), max(widths))),
        aspect_ratio=round(float(np.median(np.divide(widths, heights))), 3),
        channels=int(np.bincount([m["channels"] for m in measured]).argmax()),
        intensity=_pooled_intensity([m["values"] for m in measured]),
        class_fractions=tuple(
            round(float(f), 5) for f in np.mean([m["fractions"] for m in measured], axis=0)
        ),
        object_area_px=float(np.percentile(areas, 5)) if areas else None,
        object_thickness_px=round(float(np.median(thickness)), 2) if thickness else None,
        sampled_images=len(measured),
    )


def _spread(samples: list[Sample], count: int) -> list[Sample]:
    if len(samples) <= count:
        return list(samples)
    positions = np.linspace(0, len(samples) - 1, count).round().astype(int)
    return [samples[i] for i in positions]


def _measure(sample: Sample, num_classes: int) -> dict[str, Any] | None:
    try:
        image, mask = load_sample(sample, num_classes)
    except ImageReadError:
        return None
    fractions = np.bincount(mask.ravel(), minlength=num_classes)[:num_classes] / mask.size
    areas, thickness = _objects(mask)
    values = image.astype(np.float32).ravel()
    return {
        "shape": image.shape[:2],
        "channels": 1 if image.ndim == 2 else image.shape[2],
        "values": values[:: max(1, values.size // 20000)],
        "fractions": fractions,
        "areas": areas,
        "thickness": thickness,
    }


def _objects(mask: np.ndarray) -> tuple[list[float], float | None]:
    """Areas of the foreground components, and the foreground's typical thickness (see above)."""
    foreground = (mask > 0).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(foreground, connectivity=8)
    if count < 2:
        return [], None
    distance = cv2.distanceTransform(np.pad(foreground, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    thickness = 2.0 * float(np.median(distance[skeletonize(foreground > 0)]))
    return stats[1:, cv2.CC_STAT_AREA].astype(float).tolist(), thickness


def _pooled_intensity(values: list[np.ndarray]) -> dict[str, float]:
    pooled = np.concatenate(values)
    low, median, high = np.percentile(pooled, [0.5, 50, 99.5])
    return {
        "p0.5": round(float(low), 3),
        "p50": round(float(median), 3),
        "p99.5": round(float(high), 3),
        "mean": round(float(pooled.mean()), 3),
        "std": round(float(pooled.std()), 3),
    }
