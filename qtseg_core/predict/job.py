"""``predict_files``: what ``qtseg predict`` does, as a plain function.

Find the inputs and name their outputs (over the whole list), refuse an
output folder where a planned file would replace an input image (nothing is
written then), write the manifest when names collided, remove the temporary
files a stopped run left (only those whose writer is gone: another rank's are
in use), take this process's part (``--num-parts``, torchrun's rank), leave out
finished inputs (``--skip-existing``), and run the rest through the pipeline.
The model is loaded only when something is left.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qtseg_core.checkpoint import Checkpoint, ModelMetadata, read_metadata
from qtseg_core.inference import predictor_for
from qtseg_core.io import atomic_write
from qtseg_core.predict.inputs import PredictInput, find_inputs, process_share
from qtseg_core.predict.outputs import check_output_folder
from qtseg_core.predict.pipeline import run_pipeline
from qtseg_core.predict.progress import Progress
from qtseg_core.predict.writers import PngMaskWriter, PredictionWriter
from qtseg_core.temporaries import remove_stale_temporaries

if TYPE_CHECKING:
    from torch import nn

#: Written to the output folder when two inputs had the same name: input path -> mask path.
MANIFEST_FILE = "manifest.csv"


@dataclass(frozen=True)
class PredictOptions:
    """How to run and what to write besides the masks (see ``qtseg predict --help``)."""

    probabilities: bool = False
    overlay: bool = False
    uncertainty: bool = False
    device: str | None = None
    size: int | None = None
    batch_size: int = 8
    workers: int = 2
    compile: bool = False
    backend: str = "auto"
    recursive: bool = False
    skip_existing: bool = False
    num_parts: int = 1
    part_id: int = 0
    progress: bool = True


@dataclass(frozen=True)
class PredictReport:
    """Mask path by input path; inputs not read (with the reason); inputs left as they were
    (``skip_existing``); the manifest, when names collided; the temporary files a stopped
    run had left in the output folders, removed (see :mod:`qtseg_core.temporaries`)."""

    written: dict[str, Path]
    skipped: dict[str, str]
    existing: list[str] = field(default_factory=list)
    manifest: Path | None = None
    leftovers: list[Path] = field(default_factory=list)


def predict_files(
    checkpoint: str | os.PathLike | Checkpoint | nn.Module,
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    options: PredictOptions | None = None,
    **overrides: object,
) -> PredictReport:
    """Predict every image among ``inputs`` (files, folders, .txt lists) into ``output_dir``.

    ``overrides`` are ``PredictOptions`` fields (``predict_files(ckpt, [d], out,
    overlay=True)``). An unreadable file is reported and skipped. Refuses (ValueError,
    before writing anything) an output folder that is an existing file or where a
    planned file would replace an input image.
    """
    options = _options(options, overrides)
    output_dir = Path(output_dir)
    writer = _writer(checkpoint, output_dir, options)  # a bad checkpoint fails first
    items = find_inputs(inputs, options.recursive)
    planned = (path for item in items for path in writer.outputs(item.name))
    check_output_folder((item.path for item in items), output_dir, planned)
    manifest = write_manifest(output_dir, items, writer)
    leftovers = remove_stale_temporaries({(output_dir / item.name).parent for item in items})
    items = process_share(items, options.num_parts, options.part_id)
    done = [options.skip_existing and _is_done(item, writer) for item in items]
    existing = [str(item.path) for item, finished in zip(items, done, strict=True) if finished]
    todo = [item for item, finished in zip(items, done, strict=True) if not finished]
    if not todo:
        return PredictReport({}, {}, existing, manifest, leftovers)
    output_dir.mkdir(parents=True, exist_ok=True)
    predictor = predictor_for(
        checkpoint, device=options.device, size=options.size, compile=options.compile,
        backend=options.backend, share_cpu=options.workers > 0,
    )
    progress = Progress(len(todo)) if options.progress else None
    result = run_pipeline(
        todo, predictor, writer, batch_size=options.batch_size, workers=options.workers,
        progress=progress,
    )
    if progress is not None:
        progress.close()
    return PredictReport(result.written, result.skipped, existing, manifest, leftovers)


def write_manifest(
    output_dir: Path, items: Sequence[PredictInput], writer: PredictionWriter
) -> Path | None:
    """``manifest.csv`` (input, output) for every input when some names collided, else None.

    Every part of a split run writes the same file (names come from the whole
    list), so the one left is complete whichever part finishes last.
    """
    if not any(item.renamed for item in items):
        return None
    text = io.StringIO()
    table = csv.writer(text, lineterminator="\n")
    table.writerow(["input", "output"])
    table.writerows((str(item.path), str(writer.outputs(item.name)[0])) for item in items)
    data = text.getvalue().encode("utf-8")
    return atomic_write(output_dir / MANIFEST_FILE, lambda stream: stream.write(data))


def _is_done(item: PredictInput, writer: PredictionWriter) -> bool:
    return all(path.is_file() for path in writer.outputs(item.name))


def _writer(
    checkpoint: str | os.PathLike | Checkpoint | nn.Module, output_dir: Path,
    options: PredictOptions,
) -> PredictionWriter:
    metadata = _metadata(checkpoint)
    return PngMaskWriter(
        output_dir, metadata.class_colors, probabilities=options.probabilities,
        overlay=options.overlay, uncertainty=options.uncertainty,
    )


def _metadata(checkpoint: str | os.PathLike | Checkpoint | nn.Module) -> ModelMetadata:
    if isinstance(checkpoint, (str, os.PathLike)):
        return read_metadata(checkpoint)
    if isinstance(checkpoint, Checkpoint):
        return checkpoint.metadata
    return ModelMetadata.default_for(checkpoint.config)


def _options(options: PredictOptions | None, overrides: dict[str, object]) -> PredictOptions:
    return replace(options or PredictOptions(), **overrides)
