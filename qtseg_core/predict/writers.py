"""Writers: what ``qtseg predict`` stores for each prediction.

A writer turns one input's :class:`~qtseg_core.inference.Prediction` into
files under the output folder. The pipeline calls ``write`` from worker
threads (so a writer keeps no per-image state), ``commit()`` every few dozen
images (the files written so far get their final names, synced to disk
together: see :mod:`qtseg_core.atomic_batch`), and asks ``outputs(name)``
for the files an input will get: ``--skip-existing`` leaves an input alone
when they all exist, and the first is the file the report and the manifest
name. Other output formats (volumes, DICOM-SEG) are other writers with the
same four members.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qtseg_core.atomic_batch import AtomicWriteBatch
from qtseg_core.data.preprocess import match_channels, normalize_min_max
from qtseg_core.inference import Prediction
from qtseg_core.io import write_png_atomic


class PredictionWriter(Protocol):
    #: True when ``write`` needs the input image (e.g. for an overlay); else it gets None.
    needs_image: bool

    def outputs(self, name: str) -> list[Path]:
        """Every file ``write`` makes for ``name``; the first is the mask."""
        ...

    def write(self, name: str, image: np.ndarray | None, prediction: Prediction) -> Path:
        """Store the prediction of the input named ``name``; returns the mask's path, which
        exists (complete) after the next ``commit``."""
        ...

    def commit(self) -> None:
        """Give every file written so far its final name, synced to disk."""
        ...


class PngMaskWriter:
    """``<name>.png`` masks at the original size (0/255 for a binary model, class
    indices otherwise), and on request ``<name>_probability.png`` (foreground
    probability x255; ``_probability_<c>`` per class when multi-class) with the
    float maps in ``<name>_probabilities.npz`` (``probabilities``: (N, H, W) float32),
    ``<name>_overlay.png`` (the image with the mask tinted in the class colours)
    and ``<name>_uncertainty.png`` (normalised entropy x255)."""

    def __init__(
        self, folder: Path, class_colors: Sequence[tuple[int, int, int]], *,
        probabilities: bool = False, overlay: bool = False, uncertainty: bool = False,
    ) -> None:
        self.folder, self.colors = Path(folder), [tuple(c) for c in class_colors]
        self.probabilities, self.overlay, self.uncertainty = probabilities, overlay, uncertainty
        self.needs_image = overlay
        self.batch = AtomicWriteBatch()

    def outputs(self, name: str) -> list[Path]:
        suffixes = [""]
        if self.probabilities:
            suffixes += [f"_probability{plane}" for plane in self._probability_planes()]
        suffixes += ["_overlay"] * self.overlay + ["_uncertainty"] * self.uncertainty
        pngs = [self.folder / f"{name}{suffix}.png" for suffix in suffixes]
        return pngs + [self.folder / f"{name}_probabilities.npz"] * self.probabilities

    def write(self, name: str, image: np.ndarray | None, prediction: Prediction) -> Path:
        """The extras first and the mask last: an existing mask means a finished input."""
        if self.probabilities:
            for plane, channel in self._probability_planes().items():
                self._write(f"{name}_probability{plane}", prediction.probabilities[channel])
            floats = prediction.probabilities.astype(np.float32)
            self.batch.write(self.folder / f"{name}_probabilities.npz",
                             lambda stream: np.savez_compressed(stream, probabilities=floats))
        if self.overlay:
            tinted = overlay_mask(image, prediction.mask, self.colors)
            write_png_atomic(self.folder / f"{name}_overlay.png", tinted, self.batch)
        if self.uncertainty:
            self._write(f"{name}_uncertainty", prediction.uncertainty)
        binary = len(self.colors) == 2
        mask = prediction.mask * np.uint8(255) if binary else prediction.mask
        return write_png_atomic(self.folder / f"{name}.png", mask, self.batch)

    def commit(self) -> None:
        self.batch.commit()

    def _probability_planes(self) -> dict[str, int]:
        if len(self.colors) == 2:
            return {"": 1}
        return {f"_{c}": c for c in range(1, len(self.colors))}

    def _write(self, stem: str, plane: np.ndarray) -> None:
        write_png_atomic(self.folder / f"{stem}.png", np.round(plane * 255).astype(np.uint8),
                         self.batch)


def overlay_mask(
    image: np.ndarray, mask: np.ndarray, colors: Sequence[tuple[int, int, int]], alpha: float = 0.5
) -> np.ndarray:
    """(H, W, 3) uint8: the image (min-max to 0..255) with class pixels tinted in their colours."""
    rgb = normalize_min_max(match_channels(image, 3), 0.0, 255.0)
    palette = np.asarray(colors, dtype=np.float32)
    tinted = np.where(mask[..., None] > 0, (1 - alpha) * rgb + alpha * palette[mask], rgb)
    return np.clip(np.round(tinted), 0, 255).astype(np.uint8)
