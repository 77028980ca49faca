"""Test helpers: real sample images, a tiny real model, and a person's mouse on the canvas."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

DATA = Path("/work/shared/data")
if not DATA.is_dir():  # the repository's sibling checkout of the shared data
    DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def copy_real_images(dest: Path, count_ct: int = 3, count_mri: int = 2) -> list[Path]:
    """Copy a few real CT and MRI slices (8-bit PNG) into ``dest``; returns the copies."""
    dest.mkdir(parents=True, exist_ok=True)
    sources = sorted((DATA / "pyradiomics_lung_ct" / "images").glob("*.png"))[:count_ct]
    sources += sorted((DATA / "pyradiomics_brain_mri" / "images").glob("*.png"))[:count_mri]
    return [Path(shutil.copy(src, dest / src.name)) for src in sources]


REPO = Path(__file__).resolve().parents[2]


def run_window_script(script: str, tmp_path: Path,
                      **variables: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter on a one-image folder, with ``variables``
    added to the environment; it must exit 0."""
    folder = tmp_path / "ws"
    folder.mkdir()
    # One readable image: an empty folder would stop at the blocking "no image to show" dialog.
    cv2.imwrite(str(folder / "slice.png"), np.zeros((64, 64), np.uint8))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path),
           **variables}
    result = subprocess.run([sys.executable, "-c", script, str(folder)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def write_tiny_model(path: Path, input_size: int = 128, seed: int = 0) -> Path:
    """A real (untrained) QTSeg small enough to predict in milliseconds on a CPU.

    Seeded: an unseeded model predicts a different random mask on every run, and
    a test painting class 1 where that mask already has it would fail by chance.
    """
    import torch

    from qtseg_core import build_model, save_model

    torch.manual_seed(seed)
    model = build_model("qtseg", base_width=8, decoder_depths=(1, 1, 1), mlp_dim=64)
    save_model(model, path, input_size=input_size, name="tiny test model")
    return path


def write_huge_png_header(path: Path, width: int = 40_000, height: int = 40_000) -> Path:
    """A PNG whose header claims 1.6 gigapixels (no pixel data): must be refused, not read."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def _send_mouse(widget: QtWidgets.QWidget, kind: QtCore.QEvent.Type, pos: QtCore.QPoint,
                button: QtCore.Qt.MouseButton, buttons: QtCore.Qt.MouseButton) -> None:
    local = QtCore.QPointF(pos)
    event = QtGui.QMouseEvent(kind, local, QtCore.QPointF(widget.mapToGlobal(pos)), button,
                              buttons, QtCore.Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, event)


def drag_on_canvas(canvas: QtWidgets.QGraphicsView, pixels: list[tuple[float, float]]) -> None:
    """Press the left button at the first image pixel (x, y), move through the others,
    release at the last: what a person's brush stroke sends to the view."""
    press_and_move(canvas, pixels)
    release_on_canvas(canvas, *pixels[-1])


def press_and_move(canvas: QtWidgets.QGraphicsView, pixels: list[tuple[float, float]]) -> None:
    """Press the left button at the first image pixel (x, y) and move through the others,
    holding it (a drag not yet released)."""
    viewport = canvas.viewport()
    left = QtCore.Qt.MouseButton.LeftButton
    none = QtCore.Qt.MouseButton.NoButton
    QtWidgets.QApplication.processEvents()  # pending layout first: positions must hold
    start = canvas.widget_pos_of_pixel(*pixels[0])
    _send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, start, left, left)
    for x, y in pixels[1:]:
        _send_mouse(viewport, QtCore.QEvent.Type.MouseMove, canvas.widget_pos_of_pixel(x, y),
                    none, left)
        # pyqtgraph drops moves closer than 1/mouseRateLimit s apart (100 per second)
        time.sleep(0.011)
        QtWidgets.QApplication.processEvents()


def release_on_canvas(canvas: QtWidgets.QGraphicsView, x: float, y: float) -> None:
    """Release the held left button over image pixel (x, y)."""
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    end = canvas.widget_pos_of_pixel(x, y)
    _send_mouse(canvas.viewport(), QtCore.QEvent.Type.MouseButtonRelease, end, left, none)
    QtWidgets.QApplication.processEvents()


def hover_canvas(canvas: QtWidgets.QGraphicsView, x: float, y: float) -> None:
    """Move the pointer (no button) over image pixel (x, y)."""
    point = canvas.widget_pos_of_pixel(x, y)
    _send_mouse(canvas.viewport(), QtCore.QEvent.Type.MouseMove, point,
                QtCore.Qt.MouseButton.NoButton, QtCore.Qt.MouseButton.NoButton)
    QtWidgets.QApplication.processEvents()


def open_active(qtbot, folder: Path, model: Path | None = None):  # noqa: ANN201
    """Open the real window on ``folder`` and wait until it has the keyboard and the model
    (read in the background) is loaded or has failed to load."""
    from qtseg_app.qt.app import open_window

    window = open_window(folder, model)
    assert window is not None, "the workspace did not open"
    qtbot.addWidget(window)
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    wait_for_model(qtbot, window)
    return window


def wait_for_model(qtbot, window) -> None:  # noqa: ANN001
    """Wait until no model is being loaded in the background."""
    qtbot.waitUntil(lambda: not window.models.loading, timeout=30_000)
