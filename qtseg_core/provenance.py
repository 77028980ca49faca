"""Which images a model was trained on, recorded in its checkpoint and found again later.

A checkpoint's provenance (``ModelMetadata.provenance["trained_on"]``) lists its
training images as ``{"id": ..., "name": ..., "sha256": ...}``: the sample id
(or workspace image id), the file name, and the SHA-256 of the image file's
bytes. The hash finds an image again in another folder, under another name;
so the fine-tune never validates a model on an image it has learnt, and it can
replay a few of them. Older checkpoints list bare names (e.g. the starter's
"brain1_z011"); those match by file stem.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class TrainedImage:
    """One training image of a model as its provenance lists it."""

    name: str
    sha256: str | None = None
    id: str | None = None

    def matches(self, path: str | os.PathLike, digest: str | None = None) -> bool:
        """True when ``path`` (with its ``digest`` if known) is this image."""
        if self.sha256 is not None:
            return (digest or file_sha256(path)) == self.sha256
        return Path(self.name).stem == Path(path).stem


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes ('' when it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def describe_training_images(images: Iterable[tuple[object, str | os.PathLike]]) -> list[dict]:
    """``trained_on`` entries for (id, image path) pairs: id, file name, content hash."""
    return [{"id": ident, "name": Path(path).name, "sha256": file_sha256(path)}
            for ident, path in images]


def trained_images(provenance: dict) -> list[TrainedImage]:
    """The training images a provenance lists (dict entries or bare names); [] if none."""
    listed = provenance.get("trained_on")
    if not isinstance(listed, list):
        return []
    images = []
    for entry in listed:
        if isinstance(entry, str):
            images.append(TrainedImage(name=entry))
        elif isinstance(entry, dict) and "name" in entry:
            ident = entry.get("id")
            images.append(TrainedImage(str(entry["name"]), entry.get("sha256") or None,
                                       None if ident is None else str(ident)))
    return images
