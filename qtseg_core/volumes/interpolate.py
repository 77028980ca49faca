"""Fill the slices between two edited slices (3D Slicer's "fill between slices").

Shape-based interpolation: each class of the two edited masks becomes a signed
distance map (negative inside, in pixels); a slice at fraction t between them
takes (1 - t) * d_first + t * d_last < 0 (Herman et al. 1992). A class present in
only one of the two shrinks to nothing halfway to the other.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def signed_distance(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> float32 distance to the outline, negative inside; +inf when empty."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return np.full(mask.shape, np.inf, dtype=np.float32)
    outside = ndimage.distance_transform_edt(~mask)
    inside = ndimage.distance_transform_edt(mask)
    return (outside - inside + 0.5 * mask - 0.5 * ~mask).astype(np.float32)


def interpolate_slices(first: np.ndarray, last: np.ndarray, gap: int) -> list[np.ndarray]:
    """The ``gap`` masks strictly between ``first`` and ``last`` ((H, W) uint8 class
    indices), class by class; where two classes claim a pixel the deeper one wins."""
    if first.shape != last.shape:
        raise ValueError(f"the two edited slices differ in size: {first.shape} vs {last.shape}.")
    labels = sorted(set(np.unique(first).tolist()) | set(np.unique(last).tolist()) - {0})
    distances = {c: _pair(signed_distance(first == c), signed_distance(last == c))
                 for c in labels}
    filled = []
    for step in range(1, gap + 1):
        t = step / (gap + 1)
        depth = np.zeros(first.shape, dtype=np.float32)  # background: 0
        mask = np.zeros(first.shape, dtype=np.uint8)
        for label, (start, end) in distances.items():
            value = (1 - t) * start + t * end
            wins = (value < 0) & (value < depth)
            mask[wins], depth[wins] = label, value[wins]
        filled.append(mask)
    return filled


def _pair(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A class missing on one side gets there the mirror of the other side's map, so its
    shape shrinks to nothing halfway instead of vanishing at once."""
    if not np.isfinite(end).all():
        end = np.abs(start) + 1.0
    elif not np.isfinite(start).all():
        start = np.abs(end) + 1.0
    return start, end
