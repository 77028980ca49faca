"""``torchrun -m qtseg_core predict`` on the CPU: two gloo ranks share one output folder."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from qtseg_core.cli import main
from tests.core.test_training_fixtures import disc_pair, tiny_checkpoint  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def _inputs(folder: Path) -> Path:
    folder.mkdir()
    for k in range(9):
        cv2.imwrite(str(folder / f"img{k}.png"), disc_pair(k, (30, 40))[0])
    for k in range(3):
        voxels = np.stack([disc_pair(10 + k + z, (30, 40))[0] for z in range(2)], axis=-1)
        nib.save(nib.Nifti1Image(voxels.astype(np.int16), np.eye(4)), folder / f"vol{k}.nii.gz")
    return folder


@pytest.mark.slow
def test_two_ranks_write_every_image_and_volume_exactly_once(checkpoint, tmp_path):
    folder, out = _inputs(tmp_path / "in"), tmp_path / "out"
    environment = {**os.environ, "OMP_NUM_THREADS": "1",
                   "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "qtseg_core", "predict", str(checkpoint), str(folder), "-o", str(out),
         "--device", "cpu"],
        env=environment, capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    masks = re.findall(r"rank (\d)/2: wrote (\d+) mask\(s\)", run.stdout)
    volumes = re.findall(r"rank (\d)/2: wrote (\d+) label volume\(s\)", run.stdout)
    assert sorted(rank for rank, _ in masks) == ["0", "1"], run.stdout
    assert sum(int(count) for _, count in masks) == 9  # each image by one rank only
    assert sorted(int(count) for _, count in volumes) == [1, 2]  # each volume by one rank
    assert sorted(p.name for p in out.glob("*.png")) == [f"img{k}.png" for k in range(9)]
    assert sorted(p.name for p in out.glob("*.nii.gz")) == [f"vol{k}.nii.gz" for k in range(3)]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no token, no temporaries


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _node_local_rank(rank: int, port: int, checkpoint: str, folder: str, root: str) -> None:
    """Each rank given its own output folder, as with node-local disks on two machines."""
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": "0",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    start, errors = time.monotonic(), io.StringIO()
    with contextlib.redirect_stderr(errors):
        status = main(["predict", checkpoint, folder, "-o", str(Path(root) / f"node{rank}"),
                       "--device", "cpu"])
    (Path(root) / f"rank{rank}.txt").write_text(
        f"{status} {time.monotonic() - start:.1f}\n{errors.getvalue()}")


@pytest.mark.slow
def test_output_folders_not_shared_between_nodes_fail_fast_on_every_rank(checkpoint, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), disc_pair(0, (30, 40))[0])
    mp.spawn(_node_local_rank, args=(_free_port(), str(checkpoint), str(folder), str(tmp_path)),
             nprocs=2, join=True)
    for rank in (0, 1):
        head, message = (tmp_path / f"rank{rank}.txt").read_text().split("\n", 1)
        status, seconds = head.split()
        assert status == "2" and float(seconds) < 60, head  # an error at start, no hang
        assert "is not shared between the processes: rank(s) 1 do not see" in message
        assert "every rank writes its share of the masks there" in message
        assert not list((tmp_path / f"node{rank}").glob("*.png"))
