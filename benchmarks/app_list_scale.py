"""The app on a workspace of many images: window open time and the image list.

    QT_QPA_PLATFORM=offscreen python benchmarks/app_list_scale.py [--images 10000]

Builds a workspace of ``--images`` tiny PNGs (the scan is done first and not
timed), then prints, measured in this run:

- the time from ``open_window(folder)`` to a shown window with the list filled
  and the first image on screen (no model, as for a folder with none);
- the list's refill (filter / order change) and scrolling to the bottom;
- beside it, what the list used to do: read every record (``ws.images()``) and
  build one ``QListWidgetItem`` per image with its badge and tooltip.

The machine's load average is printed with the figures: on a shared machine
the absolute times move with the other work running.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtWidgets  # noqa: E402

from qtseg_app.qt import app as app_module  # noqa: E402
from qtseg_app.qt.filmstrip import STATUS_COLORS, describe  # noqa: E402
from qtseg_app.qt.image_list_model import status_icon  # noqa: E402
from qtseg_app.services import models  # noqa: E402
from qtseg_core.workspace import Workspace  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    return parser.parse_args()


def make_workspace(root: Path, count: int) -> Path:
    folder = root / "ws" / "images"
    folder.mkdir(parents=True)
    _, encoded = cv2.imencode(".png", np.full((24, 32), 128, np.uint8))
    for index in range(count):
        (folder / f"case{index // 100:04d}_z{index % 100:03d}.png").write_bytes(encoded.tobytes())
    Workspace.open(root / "ws").close()  # the first scan, not timed here
    return root / "ws"


def seconds(function) -> float:  # noqa: ANN001
    start = time.perf_counter()
    function()
    QtWidgets.QApplication.processEvents()
    return time.perf_counter() - start


def report_window(folder: Path, count: int) -> None:
    holder: list = []
    opened = seconds(lambda: holder.append(app_module.open_window(folder)))
    window = holder[0]
    assert window.document is not None and window.filmstrip.model.rowCount() == count
    print(f"open_window on {count} images: {opened * 1000:.0f} ms (list filled, first image "
          "on screen)")
    strip = window.filmstrip
    refill = seconds(lambda: strip.set_order("Status"))
    bottom = seconds(lambda: (strip.list.scrollToBottom(), strip.list.viewport().repaint()))
    print(f"list refill (order change): {refill * 1000:.0f} ms; scroll to the bottom: "
          f"{bottom * 1000:.1f} ms; records read: {len(window.session.images._records)}")
    report_old_list(window.ws, count)
    window.close()


def report_old_list(ws: Workspace, count: int) -> None:
    """The list before the model/view change: every record read and one item per image."""
    icons = {status: status_icon(rgb) for status, rgb in STATUS_COLORS.items()}
    widget = QtWidgets.QListWidget()

    def fill() -> None:
        for record in ws.images():
            item = QtWidgets.QListWidgetItem(describe(record))
            item.setIcon(icons[record.status])
            item.setToolTip(f"{record.path}\nstatus: {record.status.value}")
            widget.addItem(item)

    print(f"for comparison, ws.images() + one QListWidgetItem per image ({count}): "
          f"{seconds(fill) * 1000:.0f} ms")


def main() -> None:
    args = parse_args()
    models.bundled_starter = lambda: None  # a folder without a model opens without one here
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="qtseg-app-bench-") as scratch:
        report_window(make_workspace(Path(scratch), args.images), args.images)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
