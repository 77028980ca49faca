"""The QTSeg network, its parts and the registry of named builders."""

from __future__ import annotations

from qtseg_core.models.inference_fast import InferenceModel, prepare_for_inference
from qtseg_core.models.qtseg import (
    MODEL_REGISTRY,
    QTSeg,
    build_model,
    crop_to,
    pad_to_multiple,
    padded_size,
)

__all__ = [
    "InferenceModel",
    "MODEL_REGISTRY",
    "QTSeg",
    "build_model",
    "crop_to",
    "pad_to_multiple",
    "padded_size",
    "prepare_for_inference",
]
