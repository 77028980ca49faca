"""``evaluate(checkpoint, data) -> EvaluationResult``: the paper's scores, and the honest ones.

Two figures per metric (MAE, accuracy, Dice, IoU; per image, averaged, x100):

- ``canvas``: on the letterboxed ``size`` x ``size`` canvas, padding included,
  exactly as the authors' tables are computed;
- ``original``: at the image's own resolution (padding cropped, probabilities
  resized back before the argmax), the figure that matters clinically.

Multi-class models get each foreground class too. Boundary scores with the
pixel spacing (HD95, surface Dice at a tolerance; :mod:`.boundary_eval`) are
given per image and, for slices of volumes, per volume in 3D. Writes
``per_image.csv``, ``per_volume.csv`` (volumes only) and ``summary.json`` when
given an output folder. Unreadable images are skipped,
named in the summary, and do not stop the evaluation.
"""

from __future__ import annotations

import csv
import json
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
from qtseg_core.training.boundary_eval import (
    BOUNDARY_KEYS,
    DEFAULT_TOLERANCE_MM,
    VolumeScores,
    slice_scores,
    summarize_boundary,
)
from qtseg_core.training.run_record import RUN_RECORD

PER_IMAGE_CSV = "per_image.csv"
PER_VOLUME_CSV = "per_volume.csv"
SUMMARY_JSON = "summary.json"


@dataclass(frozen=True)
class EvaluationResult:
    """``summary``: {"canvas": {metric: x100}, "original": {...}, "images": n, ...}."""

    summary: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    csv_path: Path | None = None
    json_path: Path | None = None
    volume_rows: list[dict[str, Any]] = field(default_factory=list)

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
    tolerance_mm: float = DEFAULT_TOLERANCE_MM,
    backend: str = "auto",
) -> EvaluationResult:
    """Score ``model`` (a QTSeg, a Checkpoint or a checkpoint path) on ``data`` (folder or Samples).

    ``split``: an official split of the folder ("test", "val", "train") or "all".
    ``tolerance_mm``: the surface Dice tolerance (pixels for 2D images without spacing).
    ``backend``: the inference backend (see ``Predictor``).
    """
    predictor = predictor_for(model, device=device, size=size, backend=backend)
    samples, source = _select_samples(data, split, layout, _run_record_of(model))
    volumes = VolumeScores(predictor.num_classes, tolerance_mm)
    rows, skipped = _score_samples(predictor, samples, batch_size, volumes)
    if not rows:
        raise DatasetError(f"None of the {len(samples)} images of {source} could be scored.")
    summary = _summary(rows, predictor, source, split, skipped)
    summary["boundary"] = summarize_boundary(rows, tolerance_mm)
    if volumes.finish():
        summary["volumes"] = _volume_summary(volumes.rows, tolerance_mm)
    return _write(EvaluationResult(summary, rows, volume_rows=volumes.rows), output_dir)


def _volume_summary(rows: list[dict[str, Any]], tolerance: float) -> dict[str, Any]:
    return {"count": len(rows), "dice": 100.0 * float(np.mean([r["dice"] for r in rows])),
            **summarize_boundary(rows, tolerance)}


def _run_record_of(model: object) -> Path | None:
    """The ``run.json`` beside a checkpoint file (its run folder), if there is one."""
    if not isinstance(model, (str, os.PathLike)):
        return None
    record = Path(model).parent / RUN_RECORD
    return record if record.is_file() else None


def _select_samples(
    data: str | os.PathLike | Sequence[Sample], split: str, layout: str,
    run_record: Path | None = None,
) -> tuple[list[Sample], str]:
    if not isinstance(data, (str, os.PathLike)):
        return list(data), f"{len(data)} listed images"
    index = open_dataset(data, layout)
    if split == "all":
        return list(index.samples), str(data)
    if split not in index.splits:
        run_side = _run_side(index.samples, split, run_record)
        if run_side:
            return run_side, f"{data} [the run's {split} images, {run_record}]"
        raise DatasetError(
            f"{data} ({index.layout}) has no '{split}' split (it has "
            f"{sorted(index.splits) or 'none'}) and no run.json beside the checkpoint lists "
            f"its {split} images; use --split all to score every image, or add a splits.json."
        )
    return index.split(split), f"{data} [{split}]"


def _run_side(samples: Sequence[Sample], split: str, run_record: Path | None) -> list[Sample]:
    """The samples ``run.json`` lists on the ``split`` side ("train", "val") of the run that
    made the checkpoint (a folder without splits.json was split at training time)."""
    if run_record is None or split not in ("train", "val"):
        return []
    try:
        files = json.loads(run_record.read_text(encoding="utf-8"))["files"][split]
        listed = {Path(path).resolve() for path in files}
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [sample for sample in samples if Path(sample.image_path).resolve() in listed]


def _score_samples(
    predictor: Predictor, samples: list[Sample], batch_size: int, volumes: VolumeScores
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
            row, prediction = _image_row(sample, probs, box, mask, predictor)
            volumes.add(sample, prediction, mask)
            rows.append({**row, **slice_scores(sample, prediction, mask, predictor.num_classes,
                                               volumes.tolerance)})
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
) -> tuple[dict[str, Any], np.ndarray]:
    """Scores of one image on the canvas (``canvas_*``) and at the original size, and the
    predicted mask at the original size."""
    classes = predictor.num_classes
    canvas = image_scores(probabilities.argmax(0), prepare_mask(mask, predictor.size), classes)
    prediction = letterbox.restore(probabilities).argmax(0)
    original = image_scores(prediction, mask, classes)
    row = {
        "id": sample.id,
        "image": str(sample.image_path),
        **{f"canvas_{key}": value for key, value in canvas.items()},
        **original,
    }
    return row, prediction


def _summary(
    rows: list[dict[str, Any]],
    predictor: Predictor,
    source: str,
    split: str,
    skipped: dict[str, str],
) -> dict[str, Any]:
    means = summarize([{k: v for k, v in r.items() if k not in BOUNDARY_KEYS} for r in rows])
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
    _write_csv(csv_path, result.rows)
    if result.volume_rows:
        _write_csv(folder / PER_VOLUME_CSV, result.volume_rows)
    write_json_atomic(json_path, result.summary)
    return EvaluationResult(result.summary, result.rows, csv_path, json_path, result.volume_rows)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
