"""Window/level and brightness/contrast on the image's native values (8-bit, 16-bit, HU).

The display never converts the image to 8 bits: the window is handed to
pyqtgraph as levels on the native array, so a CT keeps its Hounsfield units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowLevel:
    """A display window: values ``center ± width / 2`` map to black..white."""

    center: float
    width: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", max(float(self.width), 1e-6))

    @property
    def levels(self) -> tuple[float, float]:
        """(low, high) for pyqtgraph's ``ImageItem.setLevels``."""
        return (self.center - self.width / 2.0, self.center + self.width / 2.0)

    @classmethod
    def from_levels(cls, low: float, high: float) -> WindowLevel:
        return cls(center=(low + high) / 2.0, width=high - low)

    def with_brightness_contrast(self, brightness: float, contrast: float) -> WindowLevel:
        """Apply brightness in [-1, 1] (shifts the window by up to its width) and
        contrast in [-1, 1] (narrows the window up to 10x or widens it up to 10x)."""
        width = self.width / (10.0 ** float(np.clip(contrast, -1.0, 1.0)))
        center = self.center - float(np.clip(brightness, -1.0, 1.0)) * self.width
        return WindowLevel(center, width)

    def dragged(self, dx: float, dy: float) -> WindowLevel:
        """Right-drag window/level, from the window at the press and the move since it in
        screen pixels: right widens the window (x2 per 200 px), left narrows it; down
        raises the level (one width per 200 px, darker), up lowers it."""
        return WindowLevel(self.center + dy / 200.0 * self.width,
                           self.width * 2.0 ** (dx / 200.0))


#: Standard CT windows in Hounsfield units (center, width).
CT_PRESETS: dict[str, WindowLevel] = {
    "Lung": WindowLevel(-600.0, 1500.0),
    "Soft tissue": WindowLevel(40.0, 400.0),
    "Bone": WindowLevel(400.0, 1800.0),
    "Brain": WindowLevel(40.0, 80.0),
}


def value_range(image: np.ndarray) -> tuple[float, float]:
    """The dtype's representable range for integers, else the finite min..max (sets the
    window spin boxes' step)."""
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return float(info.min), float(info.max)
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def auto_window(image: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> WindowLevel:
    """A window spanning the 0.5..99.5 percentiles of the image's values.

    Sampled on a regular grid of at most ~256k pixels so it stays fast on 2048²
    images. (The canvas applies it to single-channel images only; colour images are
    shown with automatic levels.)
    """
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / 262_144)))
    sample = np.asarray(image[::step, ::step], dtype=np.float64)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return WindowLevel(0.5, 1.0)
    low, high = np.percentile(sample, [low_pct, high_pct])
    if high <= low:
        low, high = float(sample.min()), float(sample.max())
    if high <= low:
        high = low + 1.0
    return WindowLevel.from_levels(float(low), float(high))


def looks_like_ct(image: np.ndarray) -> bool:
    """True for single-channel signed data reaching air or lung (at most -800 HU; a small
    field of view may miss the -1000 of air): CT presets make sense."""
    signed = np.issubdtype(image.dtype, np.signedinteger) or np.issubdtype(image.dtype, np.floating)
    if image.ndim != 2 or not signed:
        return False
    step = max(1, image.shape[0] // 128)
    return float(np.min(image[::step, ::step])) <= -800.0
