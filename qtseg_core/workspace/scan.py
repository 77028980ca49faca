"""Finding image files and checking each one before it is listed.

The check reads the file's header only (size; about 0.1 ms against 20 ms for
decoding a 1024x768 JPEG), so adding 10^5 images takes seconds to minutes;
pixels are decoded when an image is first shown or predicted, and a file
whose header is sound but whose pixels are damaged fails then, naming the
file (``Workspace.read_image``). A file whose header cannot be read is
decoded in full to say what is wrong. A bad file (corrupt, unreadable,
absurdly large) is listed with the reason instead of stopping the scan, so
the app shows it as such and the rest open.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qtseg_core.io import (
    ImageReadError,
    image_size,
    is_image_file,
    max_pixels,
    read_image,
    too_large_reason,
)
from qtseg_core.volumes import is_volume_file

IMAGE_FOLDER = "images"
#: What a workspace folder may hold, for messages that say what to put in one.
READABLE_FILES = ("PNG, JPEG, BMP, TIFF or DICOM images, or NIfTI, NRRD or MetaImage volumes "
                  "(a folder holding a DICOM series is one volume)")
_VOLUME_SLICE = re.compile(r"^(?P<volume>.+?)_z\d+$")


@dataclass(frozen=True)
class ImageProbe:
    """What we learnt about a file: its size, or why it cannot be used."""

    width: int | None
    height: int | None
    error: str | None


def image_root(folder: Path) -> Path:
    """Where a workspace's own images live: ``folder/images`` if present, else ``folder``."""
    sub = folder / IMAGE_FOLDER
    return sub if sub.is_dir() else folder


def find_images(root: Path, *, skip: tuple[Path, ...] = (),
                known: Callable[[str], bool] = lambda _path: False) -> list[Path]:
    """Image and volume files under ``root`` (recursively, ``io.is_image_file`` or
    ``volumes.is_volume_file``), sorted; hidden files and folders and ``skip`` dirs left out.

    ``known(path)`` (the path as text) says a file is listed already: it is left out
    unchecked, so a rescan of 10^5 listed images opens no file and stats each once.
    """
    found = [Path(path) for path in _visible_files(root, skip) if not known(path)]
    return sorted(p for p in found if is_image_file(p) or is_volume_file(p))


def _visible_files(root: Path, skip: tuple[Path, ...]) -> list[str]:
    """Paths (as text) of the files under ``root``, hidden ones and ``skip`` folders left out."""
    skipped = {str(folder) for folder in skip}
    files = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")
                         and os.path.join(folder, name) not in skipped]
        files += [os.path.join(folder, name) for name in names if not name.startswith(".")]
    return files


def probe_image(path: Path, *, decode: bool = False) -> ImageProbe:
    """Size of the image at ``path`` from its header, or the reason it cannot be opened
    (above ``io.max_pixels()``: listed with its size, never decoded). Only a file whose
    header cannot be read is decoded here, to say what is wrong; ``decode`` decodes
    every file (for the few listed as unreadable, whose header may well be sound)."""
    size = image_size(path)
    if size is not None and size[0] * size[1] > max_pixels():
        return _too_large(*size)
    if size is not None and not decode:
        return ImageProbe(int(size[0]), int(size[1]), None)
    try:
        pixels = read_image(path)
    except (ImageReadError, OSError, ValueError, MemoryError) as error:
        return ImageProbe(None, None, _reason(error))
    height, width = pixels.shape[:2]
    if width * height > max_pixels():
        return _too_large(width, height)
    return ImageProbe(int(width), int(height), None)


def guess_group(path: Path, root: Path) -> str | None:
    """Patient / volume of an image: the name before ``_z<slice>``, else its sub-folder."""
    match = _VOLUME_SLICE.match(path.stem)
    if match:
        return match["volume"]
    try:
        parent = path.parent.relative_to(root)
    except ValueError:
        return None
    return parent.as_posix() if parent.parts else None


def _too_large(width: int, height: int) -> ImageProbe:
    return ImageProbe(width, height, too_large_reason(width, height))


def _reason(error: BaseException) -> str:
    if isinstance(error, ImageReadError):
        return error.reason
    if isinstance(error, MemoryError):
        return "not enough memory to open it."
    text = str(error) or type(error).__name__
    return f"cannot read it ({text}); the file may be corrupt or not an image."
