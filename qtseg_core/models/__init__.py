"""The QTSeg network, its parts and the registry of named builders."""

from __future__ import annotations

from qtseg_core.models.inference_fast import InferenceModel, prepare_for_inference
from qtseg_core.models.qtseg import (
    CLICK_CHANNELS,
    MODEL_REGISTRY,
    ClickEncoder,
    QTSeg,
    add_click_inputs,
    build_model,
    crop_to,
    pad_to_multiple,
    padded_size,
)

__all__ = [
    "CLICK_CHANNELS",
    "InferenceModel",
    "MODEL_REGISTRY",
    "ClickEncoder",
    "QTSeg",
    "add_click_inputs",
    "build_model",
    "crop_to",
    "pad_to_multiple",
    "padded_size",
    "prepare_for_inference",
]
