"""Export reviewed images as a training set that ``qtseg train`` reads directly.

Layout written to ``out_dir``::

    images/<id>.<ext>     the original file, byte for byte (a volume's slice: <id>.tif,
                          float32 in the volume's units)
    masks/<id>.png        0/255 for binary tasks, class indices otherwise
    classes.json          {"names": [...], "colors": [[r, g, b], ...]}
    splits.json           {"train": [ids], "val": [ids]}  (the workspace's split plan)
    meta.json             {"items": [{"id": ..., "volume": group}]} so groups stay together
    statuses.csv          every image: id, status, reviewer, time, Dice and IoU of
                          the model's prediction against the accepted mask, comments
    coco.json             optional, one annotation per image and class (RLE, compressed
                          RLE or polygons)
    qtseg_export.json     marks the folder as an export and lists every file it wrote,
                          so a later export may replace exactly those files

The export is built in a hidden sibling folder and moved into place when
complete, so an interrupted export never leaves a half-written training set.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qtseg_core.io import write_png_atomic
from qtseg_core.wording import shortlist
from qtseg_core.workspace.coco import CocoImage, coco_document
from qtseg_core.workspace.errors import ExportError
from qtseg_core.workspace.images import EXPORT_MARKER
from qtseg_core.workspace.records import ImageRecord, ReviewStatus
from qtseg_core.workspace.statuses import write_statuses_csv
from qtseg_core.workspace.workspace import Workspace

MARKER_FORMAT = "qtseg-generic"
MARKER_VERSION = 2  # 2: the marker lists the files the export wrote


def export_training_set(ws: Workspace, out_dir: str | Path, *, include_corrected: bool = False,
                        coco: bool = False, coco_encoding: str = "rle") -> Path:
    """Write accepted (and optionally corrected) images and masks to ``out_dir``.

    Refuses (ExportError) a non-empty folder that is not a previous export, and
    a previous export holding files it did not write (naming them); a previous
    export is replaced as a whole once the new one is complete.
    Returns ``out_dir``.
    """
    return write_staged(out_dir, lambda staging: _write_export(
        ws, staging, include_corrected=include_corrected, coco=coco_encoding if coco else None))


def write_staged(out_dir: str | Path, write: Callable[[Path], object]) -> Path:
    """Run ``write(staging_folder)`` and move the result to ``out_dir`` once complete.

    Refuses (ExportError) a non-empty folder that is not a previous export (the
    writer must leave EXPORT_MARKER, to which the list of files written is added)
    or a previous export holding files of the user's; a previous export is
    replaced as a whole."""
    out = Path(out_dir).expanduser().resolve()
    _check_target(out)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        write(staging)
        _list_files_in_marker(staging)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def export_ids(images: list[ImageRecord]) -> dict[int, str]:
    """File-name ids for images: the name's stem, made unique with the database id."""
    stems = {image.id: re.sub(r"[^A-Za-z0-9._-]+", "_", Path(image.name).stem)
             for image in images}
    taken = Counter(stems.values())
    return {image_id: stem if taken[stem] == 1 else f"{stem}-{image_id}"
            for image_id, stem in stems.items()}


def why_nothing_to_export(ws: Workspace, format: str, skipped: dict[str, str], *,
                          include_corrected: bool) -> str:
    """Why an export as ``format`` holds no image, and what to do (the CLI and the app's
    Export say it)."""
    if skipped:
        reasons = "; ".join(f"{name}: {why}" for name, why in list(skipped.items())[:5])
        return (f"{reasons}; accept the masks first (or pass include_corrected / "
                "--include-corrected)")
    if format in ("nifti", "dicom-seg") and not ws.volumes():
        return ("it holds 2D images, no volumes (a NIfTI, NRRD, DICOM series ...); export "
                "2D images as generic, coco or nnunet")
    if include_corrected:
        return "no image is accepted or corrected yet; correct or accept masks first"
    corrected = ws.readable_counts()[ReviewStatus.CORRECTED]
    also = (f", or include the {corrected} corrected image(s) (include_corrected / "
            "--include-corrected)" if corrected else "")
    return f"no image is accepted yet; accept the masks first{also}"


def _write_export(ws: Workspace, folder: Path, *, include_corrected: bool,
                  coco: str | None) -> None:
    names, colors = ws.classes()
    ids = export_ids(ws.images())
    chosen = _chosen_images(ws, include_corrected)
    (folder / "images").mkdir()
    (folder / "masks").mkdir()  # there even when no image is chosen: statuses.csv alone
    coco_images = []
    for image in chosen:
        mask = ws.read_mask(ws.final_mask(image.id))
        file_name = _write_pair(ws, image, mask, ids[image.id], folder, binary=len(names) == 2)
        coco_images.append(CocoImage(image.id, file_name, mask))
    _write_json(folder / "classes.json", {"names": names, "colors": [list(c) for c in colors]})
    _write_json(folder / "splits.json", _splits(chosen, ids, ws.split_plan().sides))
    _write_json(folder / "meta.json", {"items": [{"id": ids[im.id], "volume": im.group}
                                                 for im in chosen if im.group]})
    write_statuses_csv(ws, folder / "statuses.csv", ids)
    if coco:
        _write_json(folder / "coco.json", coco_document(coco_images, names, coco))
    _write_json(folder / EXPORT_MARKER, {"format": MARKER_FORMAT, "version": MARKER_VERSION,
                                         "workspace": str(ws.folder), "images": len(chosen),
                                         "include_corrected": include_corrected})


def _chosen_images(ws: Workspace, include_corrected: bool) -> list[ImageRecord]:
    statuses = [ReviewStatus.ACCEPTED] + ([ReviewStatus.CORRECTED] if include_corrected else [])
    return [image for image in ws.images(status=statuses)
            if image.readable and ws.final_mask(image.id) is not None]


def _write_pair(ws: Workspace, image: ImageRecord, mask: np.ndarray, export_id: str,
                folder: Path, *, binary: bool) -> str:
    """Copy the original image bytes (a slice: its pixels as float32 TIFF) and write its
    mask (0/255 when binary); returns the image's file name."""
    if not image.path.exists():
        raise ExportError(f"Image file '{image.path}' ({image.name}) is gone; put it back or "
                          "reject the image, then export again.")
    if image.volume_id is not None:
        file_name = f"{export_id}.tif"
        ws.write_slice_image(image.id, folder / "images" / file_name)
    else:
        file_name = f"{export_id}{image.path.suffix.lower()}"
        shutil.copyfile(image.path, folder / "images" / file_name)
    stored = (mask > 0).astype(np.uint8) * 255 if binary else mask
    write_png_atomic(folder / "masks" / f"{export_id}.png", stored)
    return file_name


def _splits(images: list[ImageRecord], ids: dict[int, str],
            sides: dict[int, str]) -> dict[str, list[str]]:
    """The plan's validation images as "val", every other exported image as "train"."""
    splits: dict[str, list[str]] = {"train": [], "val": []}
    for image in images:
        splits["val" if sides.get(image.id) == "val" else "train"].append(ids[image.id])
    return splits


def _check_target(out: Path) -> None:
    """Refuse a file, a foreign non-empty folder, or an export that holds files of the user's."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"'{out}' is a file; choose a folder for the export.")
    if not out.is_dir() or not any(out.iterdir()):
        return
    written = _previous_export_files(out)
    if written is None:
        raise ExportError(
            f"'{out}' is not empty and is not a previous QTSeg export (no {EXPORT_MARKER} "
            "listing the files an export wrote); nothing was written. Choose an empty or new "
            "folder so no files of yours are overwritten.")
    foreign = sorted(_files_in(out) - written - {EXPORT_MARKER})
    if foreign:
        shown = shortlist(foreign)
        raise ExportError(
            f"'{out}' is a previous export but also holds {len(foreign)} file(s) the export "
            f"did not write ({shown}); nothing was written. Move them out of the folder or "
            "choose another one, so the new export does not delete them.")


def _list_files_in_marker(folder: Path) -> None:
    """Add the files the export wrote to its marker: only those are replaced next time."""
    marker = folder / EXPORT_MARKER
    data = json.loads(marker.read_text(encoding="utf-8"))
    _write_json(marker, {**data, "files": sorted(_files_in(folder) - {EXPORT_MARKER})})


def _previous_export_files(out: Path) -> set[str] | None:
    """Files a previous export in ``out`` wrote (its marker's list); None if not trusted."""
    try:
        marker = json.loads((out / EXPORT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = marker.get("files") if isinstance(marker, dict) else None
    if not isinstance(files, list):
        return None
    return {str(name) for name in files}


def _files_in(folder: Path) -> set[str]:
    """Every file under ``folder``, as a relative POSIX path."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


def _swap_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` (empty or a previous export) by the finished ``staging`` folder."""
    if not out.exists():
        staging.rename(out)
        return
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
