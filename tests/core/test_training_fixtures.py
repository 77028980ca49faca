"""Small data sets and configs shared by the training, inference and CLI tests (no tests here).

Images are 64x48 grey with one bright disc (the lesion) whose position
varies; the mask is that disc. Ids follow the shared data's ``<volume>_z<slice>``
so grouped splits put whole volumes on one side.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from qtseg_core.checkpoint import save_model
from qtseg_core.models import build_model
from qtseg_core.training import DataConfig, TrainConfig


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny 64² models run fastest on one thread; two threads on a busy 2-core machine
    spend most of their time waiting for each other (10x slower measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


TINY_MODEL = {"base_width": 8, "decoder_depths": [1, 1, 1], "mlp_dim": 64}


@pytest.fixture(scope="module", name="checkpoint")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A TINY_MODEL checkpoint with random weights (seed 0) at a 64-px canvas."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    save_model(build_model("qtseg", **TINY_MODEL), path, input_size=64)
    return path


def disc_pair(seed: int, shape: tuple[int, int] = (48, 64)) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8, mask uint8 0/255) with a disc of radius 6-10 at a random place."""
    rng = np.random.default_rng(seed)
    height, width = shape
    centre = (int(rng.integers(12, width - 12)), int(rng.integers(12, height - 12)))
    mask = np.zeros(shape, np.uint8)
    cv2.circle(mask, centre, int(rng.integers(6, 10)), 255, -1)
    image = rng.normal(60, 12, shape) + (mask > 0) * 120
    return np.clip(image, 0, 255).astype(np.uint8), mask


def make_generic_dataset(root: Path, volumes: int = 3, slices: int = 3) -> Path:
    """A generic-layout folder: images/<vol>_z<k>.png + masks/<vol>_z<k>.png."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for v in range(volumes):
        for z in range(slices):
            image, mask = disc_pair(10 * v + z)
            cv2.imwrite(str(root / "images" / f"vol{v}_z{z:03d}.png"), image)
            cv2.imwrite(str(root / "masks" / f"vol{v}_z{z:03d}.png"), mask)
    return root


def tiny_config(data_root: Path, output_dir: Path, **changes: object) -> TrainConfig:
    """A seconds-long run: tiny network at 64², grouped split by volume, no TensorBoard."""
    data = DataConfig(root=str(data_root), group_pattern=r"^(.+)_z\d+$", val_fraction=0.34)
    values = {
        "data": data,
        "output_dir": str(output_dir),
        "model": dict(TINY_MODEL),
        "input_size": 64,
        "epochs": 2,
        "batch_size": 3,
        "log_every": 100,
        "tensorboard": False,
        **changes,
    }
    return TrainConfig(**values)
