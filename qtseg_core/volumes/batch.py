"""``qtseg predict`` on volumes: which inputs are volumes, and writing their label volumes."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qtseg_core.inference import Predictor
from qtseg_core.predict.inputs import process_share
from qtseg_core.volumes.outputs import volume_name, write_labels, write_probabilities
from qtseg_core.volumes.predict import predict_volume
from qtseg_core.volumes.reader import SeriesRef, is_volume_file, read_volume, scan_folder
from qtseg_core.volumes.volume import VolumeReadError


@dataclass
class SplitInputs:
    """``qtseg predict`` inputs sorted out: volumes (files, DICOM series), 2D inputs left to
    the 2D path (files and folders), and files that are neither, with the reason."""

    volumes: list[Path | SeriesRef] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)


def split_inputs(inputs: Sequence[str | os.PathLike]) -> SplitInputs:
    """Volume files and DICOM series (2+ files of one SeriesInstanceUID in a folder) apart
    from 2D images; a folder's other files are listed with why they are not read."""
    split = SplitInputs()
    for entry in map(Path, inputs):
        if entry.is_dir():
            scan = scan_folder(entry)
            series = [v for v in scan.volumes if isinstance(v, SeriesRef)]
            if len(series) > 1:
                series = [_tagged(s) for s in series]
            split.volumes += [v for v in scan.volumes if not isinstance(v, SeriesRef)] + series
            split.images += scan.images
            split.unreadable.update({str(p): r for p, r in scan.unreadable.items()})
        elif is_volume_file(entry):
            split.volumes.append(entry)
        else:
            split.images.append(entry)  # the 2D path reports missing or bad files
    return split


def _tagged(series: SeriesRef) -> SeriesRef:
    """Several series in one folder are named by UID, not by the shared folder name."""
    return SeriesRef(series.folder, series.uid, series.description, series.num_files,
                     shares_folder=True)


@dataclass
class VolumeReport:
    written: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def predict_volume_files(
    predictor: Predictor, volumes: Sequence[Path | SeriesRef], output_dir: Path, *,
    format: str = "nifti", probabilities: bool = False, batch_size: int = 8,
    num_parts: int = 1, part_id: int = 0,
) -> VolumeReport:
    """Segment each volume slice by slice; write its labels as ``format`` into ``output_dir``
    (and ``<name>_probabilities.npz`` with ``probabilities``). A volume that cannot be read
    or written is reported and skipped; the others go on. Names come from the whole list;
    this process segments its share (``--num-parts``, torchrun's rank) as the 2D path does."""
    output_dir.mkdir(parents=True, exist_ok=True)
    report, names = VolumeReport(), _Names()
    named = [(entry, names.take(volume_name(entry))) for entry in volumes]
    for entry, name in process_share(named, num_parts, part_id):
        where = str(entry.folder if isinstance(entry, SeriesRef) else entry)
        try:
            path = _predict_one(predictor, entry, output_dir, name,
                                format, probabilities, batch_size)
        except (VolumeReadError, ValueError) as error:
            report.skipped[where] = str(error)
            print(f"skipping: {error}", file=sys.stderr, flush=True)
            continue
        report.written[where] = path
    return report


def _predict_one(predictor: Predictor, entry: Path | SeriesRef, folder: Path, name: str,
                 format: str, probabilities: bool, batch_size: int) -> Path:
    volume = entry.read() if isinstance(entry, SeriesRef) else read_volume(entry)
    result = predict_volume(predictor, volume, batch_size=batch_size,
                            keep_probabilities=probabilities)
    classes = _class_names(predictor)
    version = str(getattr(predictor.metadata, "provenance", {}).get("version", "unknown"))
    written = write_labels(folder, name, result.labels, volume, format, class_names=classes,
                           model_version=version)
    if result.probabilities is not None:
        write_probabilities(folder, name, result.probabilities, volume, classes)
    return written


def _class_names(predictor: Predictor) -> list[str]:
    names = getattr(predictor.metadata, "class_names", None)
    if names and len(names) == predictor.num_classes:
        return [str(n) for n in names]
    return ["background"] + [f"class {c}" for c in range(1, predictor.num_classes)]


class _Names:
    """Unique output names: ``name``, ``name_2``... when two volumes share one."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, name: str) -> str:
        candidate, count = name, 1
        while candidate in self._taken:
            count += 1
            candidate = f"{name}_{count}"
        self._taken.add(candidate)
        return candidate
