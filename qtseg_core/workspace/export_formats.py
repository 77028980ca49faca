"""``qtseg export WORKSPACE -o OUT --format F``: the workspace's reviewed masks in the
formats other tools read.

- generic: the training-set layout ``qtseg train`` reads (see :mod:`.export`);
- coco: the generic layout plus ``coco.json`` (compressed RLE, RLE or polygons);
- nifti: ``labels/<volume>.nii.gz`` per volume, the source's shape and affine;
- dicom-seg: ``labels/<volume>.seg.dcm`` per DICOM volume, referencing its series;
- nnunet: nnU-Net v2 raw (``imagesTr/<case>_0000``, ``labelsTr/<case>``,
  ``dataset.json``): volumes whose every slice is reviewed as NIfTI, or 2D
  images as PNG when the workspace has no volumes.

Volumes are exported when a slice has a vouched-for mask (accepted, or corrected
with ``include_corrected``); slices without one are background, and
``volumes.csv`` says how many slices of each were reviewed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qtseg_core.io import write_png_atomic
from qtseg_core.volumes.nifti import write_nifti_voxels
from qtseg_core.workspace.errors import ExportError
from qtseg_core.workspace.export import (
    export_ids,
    export_training_set,
    why_nothing_to_export,
    write_staged,
)
from qtseg_core.workspace.images import EXPORT_MARKER
from qtseg_core.workspace.records import ReviewStatus, VolumeRecord
from qtseg_core.workspace.workspace import Workspace

EXPORT_FORMATS = ("generic", "nifti", "dicom-seg", "nnunet", "coco")


@dataclass
class ExportReport:
    """What an export wrote, what it skipped and why; ``empty_because`` says why a training
    set holds no image (it then holds statuses.csv and the class list only)."""

    folder: Path
    written: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    empty_because: str | None = None


def export_workspace(ws: Workspace, out_dir: str | Path, format: str = "generic", *,
                     include_corrected: bool = False,
                     coco_encoding: str = "compressed-rle") -> ExportReport:
    """Export ``ws`` to ``out_dir`` as ``format`` (one of EXPORT_FORMATS)."""
    if format in ("generic", "coco"):
        folder = export_training_set(ws, out_dir, include_corrected=include_corrected,
                                     coco=format == "coco", coco_encoding=coco_encoding)
        report = ExportReport(folder, written=[p.name for p in (folder / "masks").iterdir()])
        if not report.written:
            report.empty_because = why_nothing_to_export(
                ws, format, {}, include_corrected=include_corrected)
        return report
    writers = {"nifti": _label_volumes, "dicom-seg": _label_volumes, "nnunet": _nnunet}
    if format not in writers:
        raise ValueError(f"export format '{format}': choose one of {', '.join(EXPORT_FORMATS)}.")
    report = ExportReport(Path(out_dir))
    report.folder = write_staged(out_dir, lambda staging: writers[format](
        ws, staging, format, _statuses(include_corrected), report))
    return report


def _statuses(include_corrected: bool) -> tuple[ReviewStatus, ...]:
    return (ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED) if include_corrected else (
        ReviewStatus.ACCEPTED,)


def _label_volumes(ws: Workspace, folder: Path, format: str,
                   vouched: tuple[ReviewStatus, ...], report: ExportReport) -> None:
    rows = []
    for volume in ws.volumes():
        reviewed = _reviewed(ws, volume, vouched)
        if not reviewed:
            report.skipped[volume.name] = "no slice accepted yet"
        elif format == "dicom-seg" and volume.format != "dicom":
            report.skipped[volume.name] = f"a {volume.format} volume; DICOM-SEG needs DICOM"
        else:
            labels = _vouched_labels(ws, volume, vouched)
            path = _write_labels(ws, volume, labels, folder / "labels", format)
            report.written.append(path.name)
            rows.append({"volume": volume.name, "source": str(volume.path), "file": path.name,
                         "slices": volume.slices, "reviewed_slices": len(reviewed)})
    if not rows:
        raise ExportError(_nothing_to_export(ws, format, report, vouched))
    _write_csv(folder / "volumes.csv", rows)
    _mark(folder, format, len(rows))


def _nothing_to_export(ws: Workspace, format: str, report: ExportReport,
                       vouched: tuple[ReviewStatus, ...]) -> str:
    why = why_nothing_to_export(ws, format, report.skipped,
                                include_corrected=ReviewStatus.CORRECTED in vouched)
    return f"Nothing to export as {format} from '{ws.folder}': {why}."


def _write_labels(ws: Workspace, volume: VolumeRecord, labels: np.ndarray, folder: Path,
                  format: str) -> Path:
    from qtseg_core.volumes.outputs import write_labels

    return write_labels(folder, volume.name, labels, ws.read_volume(volume.id), format,
                        class_names=ws.classes()[0])


def _nnunet(ws: Workspace, folder: Path, format: str, vouched: tuple[ReviewStatus, ...],
            report: ExportReport) -> None:
    names = ws.classes()[0]
    (folder / "imagesTr").mkdir()
    (folder / "labelsTr").mkdir()
    volumes = ws.volumes()
    ending = ".nii.gz" if volumes else ".png"
    count = _nnunet_volumes(ws, folder, volumes, vouched, report) if volumes else \
        _nnunet_images(ws, folder, vouched, report)
    if not count:
        raise ExportError(_nothing_to_export(ws, format, report, vouched))
    dataset = {"channel_names": {"0": _modality(ws, volumes)},
               "labels": {name: index for index, name in enumerate(names)},
               "numTraining": count, "file_ending": ending}
    (folder / "dataset.json").write_text(json.dumps(dataset, indent=1) + "\n")
    _mark(folder, format, count)


def _nnunet_volumes(ws: Workspace, folder: Path, volumes: list[VolumeRecord],
                    vouched: tuple[ReviewStatus, ...], report: ExportReport) -> int:
    """Only volumes whose every slice is vouched for: nnU-Net takes the rest as background."""
    count = 0
    for volume in volumes:
        reviewed = _reviewed(ws, volume, vouched)
        if len(reviewed) < volume.slices:
            report.skipped[volume.name] = (f"{len(reviewed)} of {volume.slices} slices "
                                           "reviewed; nnU-Net needs every slice labelled")
            continue
        source = ws.read_volume(volume.id)
        write_nifti_voxels(folder / "imagesTr" / f"{volume.name}_0000.nii.gz", source.voxels,
                           source)
        write_nifti_voxels(folder / "labelsTr" / f"{volume.name}.nii.gz",
                           _vouched_labels(ws, volume, vouched), source)
        report.written.append(volume.name)
        count += 1
    return count


def _nnunet_images(ws: Workspace, folder: Path, vouched: tuple[ReviewStatus, ...],
                   report: ExportReport) -> int:
    images = [i for i in ws.images(status=list(vouched)) if i.readable
              and ws.final_mask(i.id) is not None]
    ids = export_ids(images)
    for image in images:
        pixels = ws.read_image(image.id)
        if pixels.dtype not in (np.uint8, np.uint16):
            report.skipped[image.name] = f"{pixels.dtype} pixels do not fit a PNG"
            continue
        write_png_atomic(folder / "imagesTr" / f"{ids[image.id]}_0000.png", pixels)
        write_png_atomic(folder / "labelsTr" / f"{ids[image.id]}.png",
                         ws.read_mask(ws.final_mask(image.id)))  # class indices, not 0/255
        report.written.append(ids[image.id])
    return len(report.written)


def _reviewed(ws: Workspace, volume: VolumeRecord, vouched: tuple[ReviewStatus, ...]) -> list:
    return [s for s in ws.volume_slices(volume.id)
            if s.status in vouched and ws.final_mask(s.id) is not None]


def _vouched_labels(ws: Workspace, volume: VolumeRecord,
                    vouched: tuple[ReviewStatus, ...]) -> np.ndarray:
    """The label volume from vouched-for slices only (unreviewed predictions left out)."""
    source = ws.read_volume(volume.id)
    labels = np.zeros(source.voxels.shape[:3], dtype=np.uint8)
    for image in _reviewed(ws, volume, vouched):
        labels[image.slice_index] = ws.read_mask(ws.final_mask(image.id))
    return labels


def _modality(ws: Workspace, volumes: list[VolumeRecord]) -> str:
    modality = ws.read_volume(volumes[0].id).modality if volumes else None
    return str(modality or "image")


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _mark(folder: Path, format: str, count: int) -> None:
    (folder / EXPORT_MARKER).write_text(json.dumps({"format": format, "version": 1,
                                                    "items": count}) + "\n")
