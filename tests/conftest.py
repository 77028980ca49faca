"""Shared test set-up: Qt runs without a screen unless the caller chose a platform."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Exported inference graphs (the optional ONNX Runtime backend) go to a throw-away
# folder, never to the user's cache, and it goes when the run ends (~8 MB a run).
if "QTSEG_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["QTSEG_CACHE_DIR"] = tempfile.mkdtemp(prefix="qtseg-test-cache-")
    atexit.register(shutil.rmtree, os.environ["QTSEG_CACHE_DIR"], ignore_errors=True)

# Every test model runs on torch unless its test opts back in (the ONNX Runtime tests set
# QTSEG_INFERENCE_BACKEND=auto): an export per tiny model would cost the suite minutes.
os.environ["QTSEG_INFERENCE_BACKEND"] = "torch"
