"""``evaluate(checkpoint, data) -> EvaluationResult``: the paper's scores, and the honest ones.

Two figures per metric (MAE, accuracy, Dice, IoU; per image, averaged, x100):

- ``canvas``: on the letterboxed ``size`` x ``size`` canvas, padding included,
  exactly as the authors' tables are computed;
- ``original``: at the image's own resolution (padding cropped, probabilities
  resized back before the argmax), the figure that matters clinically.

Multi-class models get each foreground class too. Writes ``per_image.csv`` and
``summary.json`` when given an output folder. Unreadable images are skipped,
named in the summary, and do not stop the evaluation.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from qtseg_core.checkpoint import Checkpoint
from qtseg_core.data.layouts import open_dataset
from qtseg_core.data.preprocess import prepare_mask
from qtseg_core.data.samples import DatasetError, Sample, load_sample
from qtseg_core.inference import Predictor, predictor_for
from qtseg_core.io import ImageReadError, write_json_atomic
from qtseg_core.metrics import image_scores, summarize

PER_IMAGE_CSV = "per_image.csv"
SUMMARY_JSON = "summary.json"


@dataclass(frozen=True)
class EvaluationResult:
    """``summary``: {"canvas": {metric: x100}, "original": {...}, "images": n, ...}."""

    summary: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    csv_path: Path | None = None
    json_path: Path | None = None

    @property
    def dice(self) -> float:
        """Mean Dice x100 at the original resolution."""
        return float(self.summary["original"]["dice"])


def evaluate(
    model: nn.Module | Checkpoint | str | os.PathLike,
    data: str | os.PathLike | Sequence[Sample],
    *,
    split: str = "test",
    layout: str = "auto",
    size: int | None = None,
    device: str | None = None,
    batch_size: int = 8,
    output_dir: str | os.PathLike | None = None,
) -> EvaluationResult:
    """Score ``model`` (a QTSeg, a Checkpoint or a checkpoint path) on ``data`` (folder or Samples).

    ``split``: an official split of the folder ("test", "val", "train") or "all".
    """
    predictor = predictor_for(model, device=device, size=size)
    samples, source = _select_samples(data, split, layout)
    rows, skipped = _score_samples(predictor, samples, batch_size)
    if not rows:
        raise DatasetError(f"None of the {len(samples)} images of {source} could be scored.")
    summary = _summary(rows, predictor, source, split, skipped)
    return _write(EvaluationResult(summary, rows), output_dir)


def _select_samples(
    data: str | os.PathLike | Sequence[Sample], split: str, layout: str
) -> tuple[list[Sample], str]:
    if not isinstance(data, (str, os.PathLike)):
        return list(data), f"{len(data)} listed images"
    index = open_dataset(data, layout)
    if split == "all":
        return list(index.samples), str(data)
    if split not in index.splits:
        raise DatasetError(
            f"{data} ({index.layout}) has no '{split}' split (it has "
            f"{sorted(index.splits) or 'none'}); use --split all to score every image, or add "
            "a splits.json."
        )
    return index.split(split), f"{data} [{split}]"


def _score_samples(
    predictor: Predictor, samples: list[Sample], batch_size: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for start in range(0, len(samples), batch_size):
        loaded = _load_readable(samples[start : start + batch_size], predictor, skipped)
        if not loaded:
            continue
        canvases, letterboxes = predictor.prepare([image for _, image, _ in loaded])
        probabilities = predictor.canvas_probabilities(canvases)
        for (sample, _, mask), probs, box in zip(loaded, probabilities, letterboxes, strict=True):
            rows.append(_image_row(sample, probs, box, mask, predictor))
    return rows, skipped


def _load_readable(
    samples: list[Sample], predictor: Predictor, skipped: dict[str, str]
) -> list[tuple[Sample, np.ndarray, np.ndarray]]:
    loaded = []
    for sample in samples:
        try:
            loaded.append((sample, *load_sample(sample, predictor.num_classes)))
        except ImageReadError as error:
            skipped[str(error.path)] = str(error)
            print(f"skipping unreadable sample: {error}", file=sys.stderr, flush=True)
    return loaded


def _image_row(
    sample: Sample,
    probabilities: np.ndarray,
    letterbox: Any,
    mask: np.ndarray,
    predictor: Predictor,
) -> dict[str, Any]:
    """Scores of one image on the canvas (``canvas_*``) and at the original size."""
    classes = predictor.num_classes
    canvas = image_scores(probabilities.argmax(0), prepare_mask(mask, predictor.size), classes)
    original = image_scores(letterbox.restore(probabilities).argmax(0), mask, classes)
    return {
        "id": sample.id,
        "image": str(sample.image_path),
        **{f"canvas_{key}": value for key, value in canvas.items()},
        **original,
    }


def _summary(
    rows: list[dict[str, Any]],
    predictor: Predictor,
    source: str,
    split: str,
    skipped: dict[str, str],
) -> dict[str, Any]:
    means = summarize(rows)
    names = _class_names(predictor)
    summary = {
        "data": source,
        "split": split,
        "images": len(rows),
        "size": predictor.size,
        "canvas": _named({k[7:]: v for k, v in means.items() if k.startswith("canvas_")}, names),
        "original": _named({k: v for k, v in means.items() if not k.startswith("canvas_")}, names),
        "skipped": skipped,
    }
    return summary


def _class_names(predictor: Predictor) -> list[str]:
    names = getattr(predictor.metadata, "class_names", None)
    return list(names) if names else [f"class {i}" for i in range(predictor.num_classes)]


def _named(scores: dict[str, float], names: list[str]) -> dict[str, Any]:
    """{"dice": x, "dice/1": y} -> {"dice": x, "per_class": {"<name of 1>": {"dice": y}}}."""
    result: dict[str, Any] = {k: v for k, v in scores.items() if "/" not in k}
    for key, value in scores.items():
        if "/" in key:
            metric, index = key.split("/")
            name = names[int(index)] if int(index) < len(names) else index
            result.setdefault("per_class", {}).setdefault(name, {})[metric] = value
    return result


def _write(result: EvaluationResult, output_dir: str | os.PathLike | None) -> EvaluationResult:
    if output_dir is None:
        return result
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = folder / PER_IMAGE_CSV, folder / SUMMARY_JSON
    columns = list(dict.fromkeys(key for row in result.rows for key in row))
    with open(csv_path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(result.rows)
    write_json_atomic(json_path, result.summary)
    return EvaluationResult(result.summary, result.rows, csv_path, json_path)
