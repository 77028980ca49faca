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
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from qtseg_core.checkpoint import Checkpoint, ModelMetadata, load_checkpoint
from qtseg_core.classes import default_colors
from qtseg_core.data.preprocess import Letterbox, match_channels, normalize_min_max, prepare_image
from qtseg_core.device import pick_device
from qtseg_core.io import (
    SUPPORTED_SUFFIXES,
    ImageReadError,
    is_image_file,
    read_image,
    write_png_atomic,
)
from qtseg_core.models import prepare_for_inference
from qtseg_core.predict_outputs import check_output_folder, output_files, output_names

DEFAULT_SIZE = 512
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
    ones the model is least sure about.
    """

    mask: np.ndarray
    probabilities: np.ndarray
    uncertainty: np.ndarray
    uncertainty_score: float

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
    """

    def __init__(
        self, model: nn.Module, device: str | torch.device | None = None, size: int | None = None,
        *, metadata: ModelMetadata | None = None, compile: bool = False,
    ) -> None:
        self.device = pick_device(str(device) if device is not None else None)
        self.size = _canvas_size(metadata, size)
        self.in_channels = int(model.config.in_channels)
        self.num_classes = int(model.config.num_classes)
        self.metadata = metadata
        self._model = prepare_for_inference(model, device=self.device, compile=compile)
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
        for chunk in _chunks(images, batch_size):
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
        batch = torch.from_numpy(np.ascontiguousarray(canvases)).to(self.device)
        with self._lock, torch.inference_mode():
            logits = self._model(batch)
            return logits.float().softmax(dim=1).cpu().numpy()


def prediction_from_probabilities(probabilities: np.ndarray) -> Prediction:
    """(N, H, W) class probabilities -> Prediction (argmax mask, entropy, score)."""
    probabilities = np.ascontiguousarray(probabilities, dtype=np.float32)
    if not np.isfinite(probabilities).all():
        raise ValueError("The model's output holds NaN or Inf (diverged weights?); its "
                         "prediction is not used. Load another model.")
    uncertainty = normalised_entropy(probabilities)
    return Prediction(
        mask=probabilities.argmax(axis=0).astype(np.uint8),
        probabilities=probabilities,
        uncertainty=uncertainty,
        uncertainty_score=uncertainty_score(probabilities, uncertainty),
    )


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

    ``options`` go to ``Predictor`` (device, size, compile); a checkpoint's
    metadata comes along, a bare model has none (default class names and size).
    """
    if isinstance(source, (str, os.PathLike)):
        source = load_checkpoint(source)
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


def _chunks(items: Iterable[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    chunk: list[np.ndarray] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class PredictReport:
    """What ``predict_files`` wrote: mask paths by input, and inputs it could not read."""

    written: dict[str, Path]
    skipped: dict[str, str]


def predict_files(
    checkpoint: str | os.PathLike | Checkpoint | nn.Module,
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    probabilities: bool = False,
    overlay: bool = False,
    device: str | None = None,
    size: int | None = None,
    batch_size: int = 8,
    compile: bool = False,
) -> PredictReport:
    """Predict every readable image among ``inputs`` (files or folders) into ``output_dir``.

    Writes ``<name>.png`` masks at the original size (0/255 for a binary model,
    class indices otherwise); with ``probabilities`` ``<name>_probability.png``
    (foreground probability x255; one file per class when multi-class); with
    ``overlay`` ``<name>_overlay.png`` (the image with the mask tinted in its
    class colours). An unreadable file is reported and skipped. Refuses
    (ValueError, before writing anything) an output folder where one of these
    files would replace an input image, or that is an existing file.
    """
    predictor = predictor_for(checkpoint, device=device, size=size, compile=compile)
    files = list_image_files(inputs)
    names = output_names(files)
    planned = [out for name in names.values() for out in output_files(
        name, num_classes=predictor.num_classes, probabilities=probabilities, overlay=overlay)]
    folder = check_output_folder(files, output_dir, planned)
    writer = _OutputWriter(folder, names, predictor, probabilities, overlay)
    skipped: dict[str, str] = {}
    for chunk in _chunks(files, batch_size):
        loaded = [(path, image) for path in chunk if (image := _read(path, skipped)) is not None]
        predictions = predictor.predict_batch([image for _, image in loaded], batch_size)
        for (path, image), prediction in zip(loaded, predictions, strict=True):
            writer.write(path, image, prediction)
    return PredictReport(writer.written, skipped)


def list_image_files(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given, and the readable-looking files of each folder (sorted, not recursive)."""
    files: list[Path] = []
    for entry in map(Path, inputs):
        if entry.is_dir():
            found = sorted(p for p in entry.iterdir() if is_image_file(p))
            if not found:
                raise FileNotFoundError(
                    f"Folder {entry} holds no images ({', '.join(SUPPORTED_SUFFIXES)})."
                )
            files.extend(found)
        elif entry.is_file():
            files.append(entry)
        else:
            raise FileNotFoundError(f"Input {entry} does not exist; check the path and file name.")
    if not files:
        raise FileNotFoundError("No input images given.")
    return files


def _read(path: Path, skipped: dict[str, str]) -> np.ndarray | None:
    try:
        return read_image(path)
    except ImageReadError as error:
        skipped[str(path)] = str(error)
        print(f"skipping: {error}", file=sys.stderr, flush=True)
        return None


class _OutputWriter:
    """Names and writes a prediction's files; ``written`` maps each input to its mask file."""

    def __init__(self, folder: Path, names: dict[Path, str], predictor: Predictor,
                 probabilities: bool, overlay: bool):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.names = folder, names
        self.probabilities, self.overlay = probabilities, overlay
        self.colors = _class_colors(predictor)
        self.written: dict[str, Path] = {}

    def write(self, path: Path, image: np.ndarray, prediction: Prediction) -> None:
        name = self.names[path]
        binary = len(self.colors) == 2
        mask = prediction.mask * np.uint8(255) if binary else prediction.mask
        self.written[str(path)] = write_png_atomic(self.folder / f"{name}.png", mask)
        if self.probabilities:
            self._write_probabilities(name, prediction.probabilities)
        if self.overlay:
            write_png_atomic(
                self.folder / f"{name}_overlay.png",
                overlay_mask(image, prediction.mask, self.colors),
            )

    def _write_probabilities(self, name: str, probabilities: np.ndarray) -> None:
        planes = (
            {"": probabilities[1]}
            if probabilities.shape[0] == 2
            else {f"_{c}": probabilities[c] for c in range(1, probabilities.shape[0])}
        )
        for suffix, plane in planes.items():
            scaled = np.round(plane * 255).astype(np.uint8)
            write_png_atomic(self.folder / f"{name}_probability{suffix}.png", scaled)


def overlay_mask(
    image: np.ndarray, mask: np.ndarray, colors: Sequence[tuple[int, int, int]], alpha: float = 0.5
) -> np.ndarray:
    """(H, W, 3) uint8: the image (min-max to 0..255) with class pixels tinted in their colours."""
    rgb = normalize_min_max(match_channels(image, 3), 0.0, 255.0)
    palette = np.asarray(colors, dtype=np.float32)
    tinted = np.where(mask[..., None] > 0, (1 - alpha) * rgb + alpha * palette[mask], rgb)
    return np.clip(np.round(tinted), 0, 255).astype(np.uint8)


def _class_colors(predictor: Predictor) -> list[tuple[int, int, int]]:
    colors = getattr(predictor.metadata, "class_colors", None)
    if colors and len(colors) == predictor.num_classes:
        return [tuple(int(v) for v in c) for c in colors]
    return list(default_colors(predictor.num_classes))
