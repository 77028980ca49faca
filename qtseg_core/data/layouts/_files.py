"""File-listing helpers shared by the layout readers."""

from __future__ import annotations

from pathlib import Path

from qtseg_core.data.samples import DatasetError
from qtseg_core.io import SUPPORTED_SUFFIXES, is_image_file


def image_files(folder: Path, suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES) -> list[Path]:
    """Image files directly in ``folder`` (hidden files skipped), sorted by name."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in suffixes and is_image_file(path)
    )


def require_folder(folder: Path, what: str) -> Path:
    """``folder`` if it is a directory, else a DatasetError saying what belongs there."""
    if not folder.is_dir():
        raise DatasetError(f"Missing folder '{folder}': it should hold {what}.")
    return folder


def require_files(files: list, folder: Path, what: str) -> list:
    """``files`` if not empty, else a DatasetError naming the empty folder."""
    if not files:
        raise DatasetError(
            f"No {what} found in '{folder}'; put the files there or point to the right folder."
        )
    return files


def missing_mask(image: Path, expected: Path) -> DatasetError:
    return DatasetError(
        f"Image '{image}' has no mask: expected '{expected}'. Add the mask, or remove the "
        "image from the folder."
    )
