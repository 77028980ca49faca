"""Shared test set-up: Qt runs without a screen unless the caller chose a platform."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Exported inference graphs (the optional ONNX Runtime backend) go to a throw-away
# folder, never to the user's cache.
if "QTSEG_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["QTSEG_CACHE_DIR"] = tempfile.mkdtemp(prefix="qtseg-test-cache-")

# Every test model runs on torch unless its test opts back in (the ONNX Runtime tests set
# QTSEG_INFERENCE_BACKEND=auto): an export per tiny model would cost the suite minutes.
os.environ["QTSEG_INFERENCE_BACKEND"] = "torch"
