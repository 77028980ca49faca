"""Click tool response in the app on the CPU: a click -> the refined overlay on screen.

Opens the real main window (offscreen unless a display is set) on a real CT
slice (512², and the same slice upscaled with ``--sizes``), with the bundled
starter model, switches to the click tool and lets the robot user of
``benchmarks/annotation_effort.py`` click on the tumour through the window's
tool controller (the refinement runs on the app's worker thread). Prints the
median, 90th percentile and largest time from a click to the repaint of the
overlay it changed; no pass/fail.

    python benchmarks/click_response.py [--clicks 10] [--sizes 512 1024] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6 import QtWidgets  # noqa: E402

try:  # run as a script (benchmarks/ on sys.path) or as the benchmarks package
    from app_latency import SOURCE, PaintWatcher, wait_for
except ImportError:
    from benchmarks.app_latency import SOURCE, PaintWatcher, wait_for

TRUTH = SOURCE.parent.parent / "masks" / SOURCE.name


def make_workspace(root: Path, size: int) -> tuple[Path, np.ndarray]:
    """A workspace folder with the CT slice at ``size``², and its tumour mask at that size."""
    image = cv2.resize(cv2.imread(str(SOURCE), cv2.IMREAD_GRAYSCALE), (size, size),
                       interpolation=cv2.INTER_CUBIC)
    truth = cv2.resize(cv2.imread(str(TRUTH), cv2.IMREAD_GRAYSCALE), (size, size),
                       interpolation=cv2.INTER_NEAREST) > 0
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / f"ct_{size}.png"), image)
    return root, truth


def time_clicks(app: QtWidgets.QApplication, window: object, truth: np.ndarray,
                clicks: int) -> list[float]:
    """ms from each robot click to the repaint of the overlay it changed."""
    from qtseg_core.interactive import next_click

    tools, watcher = window.tools, PaintWatcher(window.canvas.viewport())
    tools.set_tool("click")
    times = []
    for _ in range(clicks):
        click = next_click(window.document.mask > 0, truth)
        if click is None:
            break
        revision, painted = window.document.editor.revision, len(watcher.paints)
        start = time.perf_counter()
        (tools.clicked if click.positive else tools.right_clicked)(click.col + 0.5,
                                                                   click.row + 0.5)
        wait_for(app, lambda: not tools.clicks.busy, timeout=30.0)
        if window.document.editor.revision == revision:
            continue  # the click changed nothing: nothing to repaint
        wait_for(app, lambda p=painted: len(watcher.paints) > p, timeout=5.0)
        times.append((time.perf_counter() - start) * 1000)
    return times


def run(size: int, clicks: int, app: QtWidgets.QApplication) -> tuple[list[float], str]:
    from qtseg_app.qt.app import open_window
    from qtseg_core.resources import resource_path

    with tempfile.TemporaryDirectory() as tmp:
        root, truth = make_workspace(Path(tmp) / "ws", size)
        window = open_window(root, resource_path("models/starter.safetensors"))
        window.resize(1400, 900)
        wait_for(app, lambda: window.document is not None and window.document.prediction)
        times = time_clicks(app, window, truth, clicks)
        refiner = type(window.tools.clicks.refiner).__name__
        window.close()
    return times, refiner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512])
    parser.add_argument("--threads", type=int, default=2, help="torch / BLAS threads")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    print(f"bundled starter, torch threads {torch.get_num_threads()}, "
          f"Qt platform {os.environ['QT_QPA_PLATFORM']}")
    print(f"{'image':>6} {'refiner':>20} {'clicks':>7} {'median':>9} {'p90':>9} {'max':>9}")
    for size in args.sizes:
        times, refiner = run(size, args.clicks, app)
        if not times:
            print(f"{size:>5}² {refiner:>20} no click changed the mask")
            continue
        p90 = float(np.percentile(times, 90))
        print(f"{size:>5}² {refiner:>20} {len(times):>7} {statistics.median(times):>6.1f} ms "
              f"{p90:>6.1f} ms {max(times):>6.1f} ms")


if __name__ == "__main__":
    main()
