"""Checks on what a checkpoint file claims, before anything is built from it.

A checkpoint is a file a user hands us: its metadata and tensor shapes are
checked against sane bounds and against each other first, so a malformed or
hostile file (``num_classes: "2"``, ``decoder_depths: [1, 1, 1000000]``, a
100000-row query-token tensor) gives one message naming the file and the
field, never a traceback or gigabytes of memory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from qtseg_core.config import ModelConfig

#: Canvas sides a checkpoint may ask for (multiples of 32).
INPUT_SIZE_RANGE = (32, 4096)
#: Normalisations the product applies (``qtseg_core.data.preprocess``).
KNOWN_NORMALIZATIONS = ("per-image-minmax",)


class CheckpointFieldError(ValueError):
    """A checkpoint's metadata field is missing, malformed or out of bounds."""

    def __init__(self, path: Path, field: str, problem: str) -> None:
        self.path, self.field = path, field
        super().__init__(
            f"{path} is not a usable QTSeg checkpoint: its '{field}' {problem}. Re-export the "
            "model from the run that trained it, or ask whoever sent it for a good copy."
        )


def json_field(strings: Mapping[str, str], key: str, path: Path) -> object:
    """The JSON value of metadata entry ``key``; CheckpointFieldError when absent or not JSON."""
    if key not in strings:
        raise CheckpointFieldError(path, key, "entry is missing")
    try:
        return json.loads(strings[key])
    except (TypeError, ValueError) as error:
        raise CheckpointFieldError(path, key, f"is not valid JSON ({error})") from error


def model_config(value: object, path: Path) -> ModelConfig:
    """A ModelConfig from the metadata's ``model_config`` dict (bounds checked by ModelConfig)."""
    if not isinstance(value, dict):
        raise CheckpointFieldError(path, "model_config", f"is {value!r}, not a dict of settings")
    try:
        return ModelConfig.from_dict(value)
    except (TypeError, ValueError) as error:
        raise CheckpointFieldError(path, "model_config", f"is refused: {error}") from error


def class_names(value: object, num_classes: int, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise CheckpointFieldError(path, "class_names", f"is {value!r}, not a list of names")
    if len(value) != num_classes:
        raise CheckpointFieldError(
            path, "class_names", f"lists {len(value)} names for {num_classes} classes")
    return tuple(value)


def class_colors(value: object, num_classes: int, path: Path) -> tuple[tuple[int, int, int], ...]:
    if not isinstance(value, list) or len(value) != num_classes or not all(
            _is_rgb(c) for c in value):
        raise CheckpointFieldError(
            path, "class_colors",
            f"is {str(value)[:80]}, not {num_classes} [r, g, b] colours of integers 0..255")
    return tuple(tuple(c) for c in value)


def input_size(text: str | None, path: Path) -> int:
    low, high = INPUT_SIZE_RANGE
    try:
        size = int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CheckpointFieldError(path, "input_size", f"is {text!r}, not a whole number") from None
    if not low <= size <= high or size % 32:
        raise CheckpointFieldError(
            path, "input_size", f"is {size}; give a multiple of 32 between {low} and {high}")
    return size


def normalization(value: object, path: Path) -> dict:
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind not in KNOWN_NORMALIZATIONS:
        raise CheckpointFieldError(
            path, "normalization",
            f"is {value!r}; this version applies only {', '.join(KNOWN_NORMALIZATIONS)}")
    return value  # type: ignore[return-value]


def check_tensor_shapes(
    expected: Mapping[str, tuple[int, ...]], shapes: Mapping[str, Sequence[int]], path: Path
) -> None:
    """Refuse a file whose tensors (read from its header: no weights loaded) are not exactly
    the ``expected`` shapes of the network its config describes."""
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    wrong = [f"{k} is {tuple(shapes[k])}, expected {expected[k]}"
             for k in sorted(set(expected) & set(shapes)) if tuple(shapes[k]) != expected[k]]
    problems = [f"{label}: {', '.join(items[:3])}{' ...' if len(items) > 3 else ''}"
                for label, items in (("missing tensors", missing),
                                     ("unexpected tensors", unexpected),
                                     ("wrong shapes", wrong)) if items]
    if problems:
        raise CheckpointFieldError(
            path, "tensors", "do not match its model_config (" + "; ".join(problems) + ")")


def non_finite_tensors(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of floating-point tensors holding NaN or Inf (a diverged training)."""
    return [name for name, tensor in tensors.items()
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]


def torch_load_weights_only(path: Path, what: str) -> object:
    """``torch.load(path, weights_only=True)``: a file that is truncated, foreign or would run
    code gives a ValueError naming it and ``what`` it should be (never torch's advice to
    retry with ``weights_only=False``, which would run the file's code)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "not loadable"
        raise ValueError(
            f"{path} could not be read as {what} ({_unpickling_reason(error)}). Only plain "
            "weights-only PyTorch files are accepted; files that need arbitrary code to load "
            "are refused, and a truncated file must be copied again."
        ) from error


def _unpickling_reason(error: Exception) -> str:
    """The cause in torch's message, without its paragraph about ``weights_only=False``."""
    text = str(error)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1].split("Check the documentation")[0]
    text = " ".join(line for line in text.split() if line)
    if "weights_only" in text or not text:
        return type(error).__name__
    return text[:200]


def _is_rgb(color: object) -> bool:
    return isinstance(color, list) and len(color) == 3 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in color)
