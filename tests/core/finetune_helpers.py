"""Real images for the fine-tune tests: tiles of the DSB2018 nuclei field, and a weak model.

The nuclei image (real fluorescence microscopy, real masks) is cut into 64 px
tiles: a tiny QTSeg learns them within a few CPU epochs, which the lesion
slices (0.06-0.6 % foreground) do not, so a fine-tune's gain is measurable
inside a test's time budget.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from qtseg_core.checkpoint import save_model
from qtseg_core.models import build_model
from qtseg_core.resources import resource_path
from qtseg_core.workspace import Workspace

DEMO = resource_path("demo")
NUCLEI = "dsb2018_img2d.png"
TINY = {"base_width": 8, "decoder_depths": (1, 1, 1), "num_heads": 4, "mlp_dim": 64}
TILE = 64


def nuclei_tiles(count: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``count`` (name, image, 0/1 mask) tiles of the real nuclei field, spread over it."""
    image = cv2.imread(str(DEMO / "images" / NUCLEI), cv2.IMREAD_GRAYSCALE)
    mask = (cv2.imread(str(DEMO / "ground_truth" / NUCLEI), cv2.IMREAD_GRAYSCALE) > 0)
    per_row = image.shape[1] // TILE
    positions = np.linspace(0, per_row * per_row - 1, count).round().astype(int)
    tiles = []
    for index in positions:
        row, col = divmod(int(index), per_row)
        window = np.s_[row * TILE:(row + 1) * TILE, col * TILE:(col + 1) * TILE]
        tiles.append((f"nuclei_r{row}c{col}", image[window], mask[window].astype(np.uint8)))
    return tiles


def nuclei_workspace(folder: Path, count: int) -> tuple[Path, dict[str, np.ndarray]]:
    """A workspace folder whose ``images/`` holds ``count`` tiles; returns it and the masks."""
    (folder / "images").mkdir(parents=True)
    truth = {}
    for name, image, mask in nuclei_tiles(count):
        cv2.imwrite(str(folder / "images" / f"{name}.png"), image)
        truth[f"{name}.png"] = mask
    return folder, truth


def weak_model(path: Path, seed: int = 0, input_size: int = TILE) -> Path:
    """A tiny QTSeg with random weights: a model that has not learnt the task."""
    torch.manual_seed(seed)
    save_model(build_model("qtseg", **TINY), path, input_size=input_size)
    return path


def correct(workspace: Workspace, truth: dict[str, np.ndarray], count: int | None = None) -> None:
    """The annotator paints the true mask of the first ``count`` images (all when None)."""
    for image in workspace.images()[:count]:
        workspace.save_correction(image.id, truth[image.name], "annotator")
