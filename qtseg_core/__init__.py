"""QTSeg: the network, its checkpoint format, data readers, training and inference.

Nothing in this package imports Qt (enforced by tests/core/test_no_qt.py).
``import qtseg_core`` is cheap: the names below load torch only when first used,
so ``qtseg --help`` and ``qtseg --version`` start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ModelConfig": "qtseg_core.config",
    "build_model": "qtseg_core.models",
    "load_checkpoint": "qtseg_core.checkpoint",
    "load_model": "qtseg_core.checkpoint",
    "save_model": "qtseg_core.checkpoint",
}

__all__ = [
    "ModelConfig", "__version__", "build_model", "load_checkpoint", "load_model", "save_model",
]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - returns whichever object was asked for
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qtseg_core' has no attribute {name!r}")
