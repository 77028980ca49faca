"""COCO JSON with run-length encoded or polygon masks, written without pycocotools.

Three encodings of an annotation's ``segmentation``:

- "rle": COCO's *uncompressed* RLE ``{"size": [H, W], "counts": [...]}``: the
  counts alternate background / foreground run lengths over the mask read in
  column-major (Fortran) order, starting with background (possibly 0);
- "compressed-rle": the same counts as COCO's compressed string (pycocotools'
  ``rleToString``: each count minus the count two before it, from the fourth
  on, in 5-bit groups, low first, 0x20 = more follows, +48 to printable ASCII);
- "polygon": outer outlines from ``cv2.findContours`` as [x1, y1, x2, y2, ...]
  (holes are not representable as COCO polygons and are filled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

ENCODINGS = ("rle", "compressed-rle", "polygon")


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


def counts_to_string(counts: Sequence[int]) -> str:
    """COCO's compressed RLE string of uncompressed ``counts``."""
    characters = []
    for index, count in enumerate(counts):
        value = int(count) - (int(counts[index - 2]) if index > 2 else 0)
        more = True
        while more:
            group = value & 0x1F
            value >>= 5  # arithmetic shift: negative deltas end in all ones
            more = value != -1 if group & 0x10 else value != 0
            characters.append(chr(group + (0x20 if more else 0) + 48))
    return "".join(characters)


def string_to_counts(text: str) -> list[int]:
    """Inverse of :func:`counts_to_string`."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            group = ord(text[position]) - 48
            value |= (group & 0x1F) << shift
            more = bool(group & 0x20)
            position, shift = position + 1, shift + 5
            if not more and group & 0x10:
                value |= -1 << shift
        counts.append(value + (counts[-2] if len(counts) > 2 else 0))
    return counts


def encode_segmentation(binary: np.ndarray, encoding: str = "rle") -> dict[str, Any] | list:
    """A (H, W) boolean mask as a COCO ``segmentation`` in ``encoding`` (see ENCODINGS)."""
    if encoding == "rle":
        return rle_encode(binary)
    if encoding == "compressed-rle":
        rle = rle_encode(binary)
        return {"size": rle["size"], "counts": counts_to_string(rle["counts"])}
    if encoding == "polygon":
        return polygons(binary)
    raise ValueError(f"COCO encoding '{encoding}': choose one of {', '.join(ENCODINGS)}.")


def polygons(binary: np.ndarray) -> list[list[float]]:
    """Outer outlines of each component, [x1, y1, ...] at pixel centres; a component of
    fewer than 3 outline points becomes its pixel's square."""
    contours, _ = cv2.findContours(np.ascontiguousarray(binary, dtype=np.uint8),
                                   cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    shapes = []
    for contour in contours:
        points = contour.reshape(-1, 2).astype(float)
        if len(points) < 3:
            x, y = points.min(axis=0)
            points = np.array([[x - 0.5, y - 0.5], [x + 0.5, y - 0.5], [x + 0.5, y + 0.5],
                               [x - 0.5, y + 0.5]])
        shapes.append([float(v) for v in points.ravel()])
    return shapes


@dataclass(frozen=True)
class CocoImage:
    """One exported image: its COCO id, file name and class-index mask."""

    image_id: int
    file_name: str
    mask: np.ndarray


def coco_document(images: Sequence[CocoImage], class_names: Sequence[str],
                  encoding: str = "rle") -> dict[str, Any]:
    """A COCO dict: one annotation per (image, foreground class present), its mask in
    ``encoding`` ("rle", "compressed-rle" or "polygon")."""
    annotations: list[dict[str, Any]] = []
    for image in images:
        for label in range(1, len(class_names)):
            binary = image.mask == label
            if binary.any():
                annotations.append(_annotation(len(annotations) + 1, image.image_id, label,
                                               binary, encoding))
    return {
        "info": {"description": "QTSeg Studio export", "version": "1.0"},
        "images": [{"id": im.image_id, "file_name": im.file_name,
                    "height": int(im.mask.shape[0]), "width": int(im.mask.shape[1])}
                   for im in images],
        "categories": [{"id": k, "name": name} for k, name in enumerate(class_names) if k],
        "annotations": annotations,
    }


def _annotation(annotation_id: int, image_id: int, label: int, binary: np.ndarray,
                encoding: str) -> dict[str, Any]:
    rows = np.flatnonzero(binary.any(axis=1))
    cols = np.flatnonzero(binary.any(axis=0))
    bbox = [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    return {"id": annotation_id, "image_id": image_id, "category_id": label,
            "segmentation": encode_segmentation(binary, encoding), "area": int(binary.sum()),
            "bbox": bbox,
            "iscrowd": 0}
