"""COCO JSON with run-length encoded masks, written without pycocotools.

Uses COCO's *uncompressed* RLE: ``{"size": [H, W], "counts": [...]}`` where the
counts alternate background / foreground run lengths over the mask read in
column-major (Fortran) order, starting with background (possibly 0).
pycocotools and most COCO readers accept it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def rle_encode(binary: np.ndarray) -> dict[str, Any]:
    """Uncompressed COCO RLE of a (H, W) boolean mask."""
    flat = np.asarray(binary, dtype=bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"size": [int(binary.shape[0]), int(binary.shape[1])], "counts": counts}


def rle_decode(rle: dict[str, Any]) -> np.ndarray:
    """The (H, W) boolean mask of an uncompressed COCO RLE (inverse of :func:`rle_encode`)."""
    height, width = rle["size"]
    counts = np.asarray(rle["counts"], dtype=np.int64)
    if counts.sum() != height * width:
        raise ValueError(f"RLE counts sum to {counts.sum()}, not {height}x{width}; "
                         "the annotation is damaged or not an uncompressed RLE.")
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape((height, width), order="F")


@dataclass(frozen=True)
class CocoImage:
    """One exported image: its COCO id, file name and class-index mask."""

    image_id: int
    file_name: str
    mask: np.ndarray


def coco_document(images: Sequence[CocoImage], class_names: Sequence[str]) -> dict[str, Any]:
    """A COCO dict: one RLE annotation per (image, foreground class present)."""
    annotations: list[dict[str, Any]] = []
    for image in images:
        for label in range(1, len(class_names)):
            binary = image.mask == label
            if binary.any():
                annotations.append(_annotation(len(annotations) + 1, image.image_id, label,
                                               binary))
    return {
        "info": {"description": "QTSeg Studio export", "version": "1.0"},
        "images": [{"id": im.image_id, "file_name": im.file_name,
                    "height": int(im.mask.shape[0]), "width": int(im.mask.shape[1])}
                   for im in images],
        "categories": [{"id": k, "name": name} for k, name in enumerate(class_names) if k],
        "annotations": annotations,
    }


def _annotation(annotation_id: int, image_id: int, label: int, binary: np.ndarray
                ) -> dict[str, Any]:
    rows = np.flatnonzero(binary.any(axis=1))
    cols = np.flatnonzero(binary.any(axis=0))
    bbox = [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    return {"id": annotation_id, "image_id": image_id, "category_id": label,
            "segmentation": rle_encode(binary), "area": int(binary.sum()), "bbox": bbox,
            "iscrowd": 0}
