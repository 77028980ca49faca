"""Predictor: a numpy image in, a mask at the image's own size out.

The one prediction path of the product: ``qtseg predict``, ``qtseg eval``, the
app's background prediction and the fine-tune gate all run images through it.
Each image is letterboxed the way the model was trained (longer side resized to
``size``, zero padding to a square, min-max normalisation to [-1, 1]), the model
runs on the canvas, and the class probabilities are mapped back to the original
(H, W) (padding cropped, resized) before the argmax.

The Predictor holds no global state and a lock around the model, so the app can
call it from a worker thread while the GUI thread builds another one.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from qtseg_core.checkpoint import Checkpoint, ModelMetadata, load_checkpoint
from qtseg_core.data.preprocess import Letterbox, prepare_image
from qtseg_core.device import pick_device
from qtseg_core.models import prepare_for_inference

DEFAULT_SIZE = 512
T = TypeVar("T")
# A pixel counts towards the uncertainty score when some foreground class has at
# least this probability: the candidate lesion and its border, not the sure background.
CANDIDATE_PROBABILITY = 0.1


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one image, all at the image's original (H, W).

    mask: (H, W) uint8 class indices (argmax). probabilities: (N, H, W) float32,
    summing to 1 over classes. uncertainty: (H, W) float32 in [0, 1], the entropy
    of the class probabilities divided by log N (0 = sure, 1 = uniform).
    uncertainty_score: mean uncertainty over the candidate foreground region
    (see ``uncertainty_score``); sort images by it, highest first, to review the
    ones the model is least sure about. Both are computed on first use (the
    entropy costs about as much as the model on a small network), so a caller
    that only writes masks never pays for them.
    """

    mask: np.ndarray
    probabilities: np.ndarray

    @cached_property
    def uncertainty(self) -> np.ndarray:
        return normalised_entropy(self.probabilities)

    @cached_property
    def uncertainty_score(self) -> float:
        return uncertainty_score(self.probabilities, self.uncertainty)

    def mask_at(self, threshold: float) -> np.ndarray:
        """Binary models only: (H, W) uint8, 1 where P(foreground) >= ``threshold``."""
        if self.probabilities.shape[0] != 2:
            raise ValueError(
                f"mask_at(threshold) needs a binary model (2 classes); this one has "
                f"{self.probabilities.shape[0]}. Use .mask (argmax) for multi-class models."
            )
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold={threshold}: give a probability between 0 and 1.")
        return (self.probabilities[1] >= threshold).astype(np.uint8)


class Predictor:
    """Runs a trained QTSeg model on images of any size.

    model: a QTSeg; it is copied for inference (BatchNorm folded, channels-last),
    the caller's module is left untouched.
    device: "cpu", "cuda", "cuda:1"... or None for CUDA when available, else CPU.
    size: canvas side in pixels (multiple of 32); None takes ``metadata.input_size``
    when given, else 512.
    metadata: what the model's checkpoint says (class names and colours, input
    size); ``predictor_for(path)`` passes it from the file.
    compile: also torch.compile the model (faster for long batch jobs, tens of
    seconds of compilation on the first batch).
    backend: what runs the network, "auto", "torch" or "onnxruntime" (see
    ``prepare_for_inference``).
    in_place: prepare ``model`` itself, not a copy (it is changed): for a model loaded
    for this predictor alone, as ``predictor_for`` does with a checkpoint.
    share_cpu: other busy threads work while the model runs (``qtseg predict``'s readers
    and writers): see ``prepare_for_inference``.
    """

    def __init__(
        self, model: nn.Module, device: str | torch.device | None = None, size: int | None = None,
        *, metadata: ModelMetadata | None = None, compile: bool = False, backend: str = "auto",
        in_place: bool = False, share_cpu: bool = False,
    ) -> None:
        self.device = pick_device(str(device) if device is not None else None)
        self.size = _canvas_size(metadata, size)
        self.in_channels = int(model.config.in_channels)
        self.num_classes = int(model.config.num_classes)
        self.metadata = metadata
        self._model = prepare_for_inference(
            model, device=self.device, compile=compile, backend=backend, in_place=in_place,
            share_cpu=share_cpu)
        self._lock = threading.Lock()

    def predict(self, image: np.ndarray) -> Prediction:
        """One image, (H, W) or (H, W, C) in any dtype, -> Prediction at (H, W)."""
        return self.predict_batch([image], batch_size=1)[0]

    def predict_batch(self, images: Iterable[np.ndarray], batch_size: int = 8) -> list[Prediction]:
        """Many images (sizes may differ), run ``batch_size`` at a time; same order out."""
        return list(self.iter_predictions(images, batch_size))

    def iter_predictions(
        self, images: Iterable[np.ndarray], batch_size: int = 8
    ) -> Iterator[Prediction]:
        """Like ``predict_batch`` but yields as it goes (keeps memory flat on big folders)."""
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be at least 1.")
        for chunk in chunks(images, batch_size):
            canvases, letterboxes = self.prepare(chunk)
            probabilities = self.canvas_probabilities(canvases)
            for canvas, letterbox in zip(probabilities, letterboxes, strict=True):
                yield prediction_from_probabilities(letterbox.restore(canvas))

    def prepare(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, list[Letterbox]]:
        """Letterbox images to (B, C, size, size) float32 canvases, with their Letterboxes."""
        prepared = [prepare_image(_check_image(i), self.size, self.in_channels) for i in images]
        return np.stack([canvas for canvas, _ in prepared]), [box for _, box in prepared]

    def canvas_probabilities(self, canvases: np.ndarray) -> np.ndarray:
        """(B, C, size, size) canvases -> (B, N, size, size) float32 softmax probabilities."""
        batch = torch.from_numpy(np.ascontiguousarray(canvases))
        if self.device.type == "cuda":  # page-locked memory: a DMA copy that does not stall
            batch = batch.pin_memory().to(self.device, non_blocking=True)
        else:
            batch = batch.to(self.device)
        with self._lock, torch.inference_mode():
            logits = self._model(batch)
            return logits.float().softmax(dim=1).cpu().numpy()


def prediction_from_probabilities(probabilities: np.ndarray) -> Prediction:
    """(N, H, W) class probabilities -> Prediction (argmax mask; entropy and score lazily)."""
    probabilities = np.ascontiguousarray(probabilities, dtype=np.float32)
    if not np.isfinite(probabilities).all():
        raise ValueError("The model's output holds NaN or Inf (diverged weights?); its "
                         "prediction is not used. Load another model.")
    return Prediction(mask=class_argmax(probabilities), probabilities=probabilities)


def class_argmax(probabilities: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (H, W) uint8, the class with the highest value (the first on ties), as
    ``argmax(axis=0)`` gives it: one comparison per class over whole planes, about 2.5x
    faster than numpy's argmax along the first axis, which walks the planes pixel by pixel
    (measured on 2 x 120 x 160: it was the largest cost of writing a small mask). Two
    classes take one comparison whose booleans are the mask's bytes (no masked copy)."""
    if probabilities.shape[0] == 2:
        return np.greater(probabilities[1], probabilities[0]).view(np.uint8)
    best, mask = probabilities[0], np.zeros(probabilities.shape[1:], np.uint8)
    for index in range(1, probabilities.shape[0]):
        np.copyto(mask, np.uint8(index), where=probabilities[index] > best)
        if index < probabilities.shape[0] - 1:
            best = np.maximum(best, probabilities[index])
    return mask


def normalised_entropy(probabilities: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (H, W) float32 in [0, 1]: -sum p log p / log N."""
    clipped = np.clip(probabilities, 1e-7, 1.0)
    entropy = -(clipped * np.log(clipped)).sum(axis=0) / math.log(probabilities.shape[0])
    return np.clip(entropy, 0.0, 1.0).astype(np.float32)


def uncertainty_score(probabilities: np.ndarray, uncertainty: np.ndarray) -> float:
    """Mean uncertainty over pixels where a foreground class has P >= 0.1, 0 when there are none.

    Averaging over the whole image would drown a small uncertain lesion in
    confident background (lesions here cover < 1 % of the image).
    """
    candidates = probabilities[1:].max(axis=0) >= CANDIDATE_PROBABILITY
    if not candidates.any():
        return 0.0
    return float(uncertainty[candidates].mean())


def predictor_for(
    source: str | os.PathLike | Checkpoint | nn.Module, **options: object
) -> Predictor:
    """A Predictor for a checkpoint path, a loaded ``Checkpoint`` or a bare model.

    ``options`` go to ``Predictor`` (device, size, compile, backend); a checkpoint's
    metadata comes along, a bare model has none (default class names and size).
    """
    if isinstance(source, (str, os.PathLike)):  # loaded here for this predictor alone
        checkpoint = load_checkpoint(source)
        return Predictor(checkpoint.model, metadata=checkpoint.metadata, in_place=True, **options)
    if isinstance(source, Checkpoint):
        return Predictor(source.model, metadata=source.metadata, **options)
    return Predictor(source, **options)


def _canvas_size(metadata: ModelMetadata | None, size: int | None) -> int:
    size = size or getattr(metadata, "input_size", None) or DEFAULT_SIZE
    if size % 32:
        raise ValueError(
            f"size={size}: QTSeg needs a multiple of 32 (e.g. {size // 32 * 32 or 32})."
        )
    return int(size)


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or 0 in image.shape[:2]:
        shape = getattr(image, "shape", type(image).__name__)
        raise ValueError(
            f"Predictor expects a numpy image of shape (H, W) or (H, W, C), got {shape}; "
            "read files with qtseg_core.io.read_image."
        )
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError(
            f"The image holds {int((~np.isfinite(image)).sum())} NaN or infinite pixel values; "
            "one is enough to make the whole prediction NaN. Replace them (e.g. with 0) first."
        )
    return image


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in consecutive lists of ``size`` (the last may be shorter): the batches."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
