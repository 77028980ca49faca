"""examples/train_starter_model.py's data folder: whole volumes apart, a volume left out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from examples.train_starter_model import NUCLEI, build_dataset, train_command


def fake_shared(root):
    """Two brain volumes and the nuclei field in ../shared/data's layout."""
    for name in ("brain1_z001", "brain1_z002", "brain2_z001", "lung2_z001", "lung2_z002"):
        folder = root / f"pyradiomics_{name.split('_')[0]}"
        for sub in ("images", "masks"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / sub / f"{name}.png"), np.zeros((16, 16), np.uint8))
    for sub in ("images", "masks"):
        (root / NUCLEI / sub).mkdir(parents=True)
        cv2.imwrite(str(root / NUCLEI / sub / "dsb2018_img2d.png"), np.zeros((32, 32), np.uint8))
    return root


def test_a_left_out_volume_is_on_neither_side(tmp_path):
    shared = fake_shared(tmp_path / "shared")
    split = build_dataset(tmp_path / "data", shared, leave_out=frozenset({"lung2"}))
    everything = split["train"] + split["val"]
    assert not any(name.startswith("lung2") for name in everything)
    assert not list((tmp_path / "data" / "images").glob("lung2*"))
    assert "brain2_z001" in split["val"] and "brain1_z001" in split["train"]
    assert json.loads((tmp_path / "data" / "splits.json").read_text()) == split
    assert len([n for n in everything if n.startswith("nuclei")]) == 4


def test_the_click_conditioned_recipe_reaches_qtseg_train():
    args = argparse.Namespace(
        work=Path("/w"), size=256, epochs=400, step_size="60", lr="5e-4", scheduler="cosine",
        budget_minutes="33", interactive=True, init_from=Path("starter.safetensors"))
    command = " ".join(train_command(args))
    assert "--scheduler cosine --budget-minutes 33 --patience 0 --interactive" in command
    assert command.endswith("--init-from starter.safetensors")


def test_the_starter_recipe_is_the_published_one_not_the_planners():
    """The bundled starter was trained with the paper preset (its metadata says so);
    without --preset qtseg train now plans its own recipe, which is not the starter's."""
    args = argparse.Namespace(
        work=Path("/w"), size=256, epochs=150, step_size="60", lr="1e-3", scheduler=None,
        budget_minutes=None, interactive=False, init_from=None)
    assert "-o /w/run --preset paper --size 256 --epochs 150" in " ".join(train_command(args))
