"""Small image folders for the workspace tests (real demo images and hand-made files)."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from qtseg_core.resources import resource_path

DEMO_IMAGES = resource_path("demo/images")


def demo_folder(tmp_path: Path, names: tuple[str, ...]) -> Path:
    """A workspace folder with ``images/`` holding the named real demo images."""
    folder = tmp_path / "ws"
    (folder / "images").mkdir(parents=True)
    for name in names:
        shutil.copyfile(DEMO_IMAGES / f"{name}.png", folder / "images" / f"{name}.png")
    return folder


def write_gray(path: Path, height: int = 32, width: int = 48) -> Path:
    """A small 8-bit PNG with a gradient."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = (np.arange(height * width) % 251).astype(np.uint8).reshape(height, width)
    cv2.imwrite(str(path), image)
    return path


def write_huge_png_header(path: Path, width: int = 20000, height: int = 6000) -> Path:
    """A PNG whose header claims width x height (pixel data cut short): a 'huge' file,
    cheaply."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
                     + _chunk(b"IEND", b""))
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def square_mask(height: int, width: int, top: int, left: int, size: int,
                label: int = 1) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[top:top + size, left:left + size] = label
    return mask
