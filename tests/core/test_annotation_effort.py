"""benchmarks/annotation_effort.py runs end to end and writes the issue's JSON format."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from benchmarks import annotation_effort
from qtseg_core import build_model, save_model


@pytest.mark.slow
def test_the_benchmark_writes_noc_iou_and_seconds_for_each_mode(tmp_path):
    for sub in ("images", "masks"):
        (tmp_path / "data" / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for ident in ("a_z1", "b_z1"):
        image = rng.integers(0, 60, (64, 64), dtype=np.uint8)
        image[20:40, 20:40] = 220
        mask = np.zeros((64, 64), np.uint8)
        mask[20:40, 20:40] = 255
        cv2.imwrite(str(tmp_path / "data" / "images" / f"{ident}.png"), image)
        cv2.imwrite(str(tmp_path / "data" / "masks" / f"{ident}.png"), mask)
    torch.manual_seed(0)  # an untrained model: its automatic masks depend on the weights
    save_model(build_model("qtseg-tiny"), tmp_path / "m.safetensors", input_size=64)
    out = tmp_path / "effort.json"
    annotation_effort.main(
        [str(tmp_path / "data"), "--model", str(tmp_path / "m.safetensors"),
         "--max-clicks", "4", "--json", str(out), "--threads", "1"]
    )
    report = json.loads(out.read_text())
    assert report["images"] == 2
    assert {"brush", "refine", "box+refine"} <= set(report["modes"])
    boxed, clicked = report["modes"]["box+refine"], report["modes"]["refine"]
    assert boxed["iou_after"]["1"] > clicked["iou_after"]["1"]  # a box says more than a click
    brush = report["modes"]["brush"]
    assert set(brush["noc"]) == {"0.85", "0.9"} and set(brush["iou_after"]) == {"0", "1", "3", "5"}
    assert all(1 <= v <= 5 for v in brush["noc"].values())  # a random model needs clicks
    assert brush["iou_after"]["1"] > brush["iou_after"]["0"]
    assert brush["seconds_per_click"] > 0


@pytest.mark.slow
def test_sequential_blocks_accept_fine_tune_and_report_each_block(tmp_path, capsys):
    for sub in ("images", "masks"):
        (tmp_path / "data" / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for ident in ("vol_z1", "vol_z2", "vol_z3", "vol_z4", "vol_z5"):
        image = rng.integers(0, 60, (64, 64), dtype=np.uint8)
        image[20:40, 20:40] = 220
        mask = np.zeros((64, 64), np.uint8)
        mask[20:40, 20:40] = 255
        cv2.imwrite(str(tmp_path / "data" / "images" / f"{ident}.png"), image)
        cv2.imwrite(str(tmp_path / "data" / "masks" / f"{ident}.png"), mask)
    save_model(build_model("qtseg-tiny"), tmp_path / "m.safetensors", input_size=64)
    out = tmp_path / "effort.json"
    annotation_effort.main(
        [str(tmp_path / "data"), "--model", str(tmp_path / "m.safetensors"), "--sequential",
         "--finetune-every", "2", "--finetune-epochs", "2", "--max-clicks", "3", "--json",
         str(out), "--threads", "1"])
    report = json.loads(out.read_text())
    blocks = report["blocks"]
    assert [block["images"] for block in blocks] == [
        ["vol_z1.png", "vol_z2.png"], ["vol_z3.png", "vol_z4.png"], ["vol_z5.png"]]
    assert blocks[0]["model"] == "v1" and set(blocks[0]["noc"]) == {"0.85", "0.9"}
    assert all(0.0 <= block["auto_dice"] <= 1.0 for block in blocks)
    # after each block but the last the product's fine-tune ran and its gate decided
    assert all(("in use" in b["finetune"]) or b["finetune"].startswith("kept v")
               for b in blocks[:-1]) and "finetune" not in blocks[-1]
    assert blocks[1]["model"] == ("v2" if "v2 in use" in blocks[0]["finetune"] else "v1")
    assert len([line for line in capsys.readouterr().out.splitlines()
                if line.startswith("block ")]) == 3
