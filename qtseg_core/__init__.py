"""QTSeg: the network, its checkpoint format, data readers, training and inference.

Nothing in this package imports Qt (enforced by tests/core/test_no_qt.py).
"""

from __future__ import annotations

from qtseg_core.checkpoint import load_model, save_model
from qtseg_core.config import ModelConfig
from qtseg_core.models import build_model

__all__ = ["ModelConfig", "build_model", "load_model", "save_model"]
