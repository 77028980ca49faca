"""A process that ends while the ONNX Runtime export still runs exits cleanly (status 0)."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_ending_during_the_background_export_is_a_clean_exit(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    env = {**os.environ, "QTSEG_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}

    done = subprocess.run([sys.executable, "-c", PREPARE_AND_LEAVE], env=env,
                          capture_output=True, text=True, timeout=240)

    assert done.returncode == 0, done.stderr[-2000:]
    assert "(1, 2, 64, 64)" in done.stdout
    assert list((tmp_path / "onnx").glob("*.onnx"))  # the export finished and was cached
