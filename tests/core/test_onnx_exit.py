"""A process that ends while the ONNX Runtime export still runs exits at once and cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREPARE_AND_LEAVE = """
import torch
from qtseg_core.models import build_model
from qtseg_core.models.inference_fast import prepare_for_inference
torch.manual_seed(0)
fast = prepare_for_inference(build_model("qtseg", base_width=8, decoder_depths=(1, 1, 1),
                                         mlp_dim=64))
print(tuple(fast(torch.zeros(1, 3, 64, 64)).shape))  # answered by torch; the export goes on
"""


def test_a_process_ending_during_the_export_exits_at_once_and_the_export_still_lands(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    env = {**os.environ, "QTSEG_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(REPO),
           "QTSEG_INFERENCE_BACKEND": "auto"}  # the suite runs "auto" on torch
    cache = tmp_path / "onnx"

    done = subprocess.run([sys.executable, "-c", PREPARE_AND_LEAVE], env=env,
                          capture_output=True, text=True, timeout=240)
    ended = time.time()

    assert done.returncode == 0, done.stderr[-2000:]
    assert "(1, 2, 64, 64)" in done.stdout
    deadline = time.monotonic() + 240  # the export job goes on by itself
    while not (list(cache.glob("*.onnx")) and not list(cache.glob(".export-*"))):
        assert time.monotonic() < deadline, "the export job left no graph in the cache"
        time.sleep(0.5)
    graph = next(cache.glob("*.onnx"))
    assert graph.stat().st_mtime > ended  # written after the process had gone: it did not wait
