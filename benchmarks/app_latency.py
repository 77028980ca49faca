"""Latency of the desktop app on the CPU: open -> overlay on screen, brush stroke -> repaint.

Runs the real main window (offscreen unless a display is set) on a real CT
slice at 512² and the same slice upscaled to 2048², with the paper-size QTSeg
(untrained weights, 512² input: the timing does not depend on the weights).
Prints figures; no pass/fail.

    python benchmarks/app_latency.py [--repeats 5] [--tiny]
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
from PySide6 import QtCore, QtWidgets  # noqa: E402

SOURCE = Path("/work/shared/data/pyradiomics_lung_ct/images/lung1_z032.png")


def make_workspace(root: Path, size: int, copies: int) -> Path:
    image = cv2.imread(str(SOURCE), cv2.IMREAD_GRAYSCALE)
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)
    (root / "images").mkdir(parents=True)
    for index in range(copies):
        cv2.imwrite(str(root / "images" / f"ct_{size}_{index:02d}.png"), np.roll(image, index, 1))
    return root


def make_model(path: Path, tiny: bool) -> Path:
    from qtseg_core import build_model, save_model

    overrides = dict(base_width=8, decoder_depths=(1, 1, 1), mlp_dim=64) if tiny else {}
    save_model(build_model("qtseg", **overrides), path, input_size=512)
    return path


def wait_for(app: QtWidgets.QApplication, condition: object, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("timed out")
        app.processEvents()
        time.sleep(0.0005)


def time_open(app: QtWidgets.QApplication, window: object, image_id: int) -> tuple[float, float]:
    """(ms to image painted, ms to its predicted overlay painted) for an image not cached."""
    shown: list[int] = []
    window.prediction_shown.connect(shown.append)
    start = time.perf_counter()
    window.session.open_image(image_id)
    window.canvas.viewport().repaint()
    image_ms = (time.perf_counter() - start) * 1000
    wait_for(app, lambda: image_id in shown)
    window.canvas.viewport().repaint()
    overlay_ms = (time.perf_counter() - start) * 1000
    window.prediction_shown.disconnect(shown.append)
    return image_ms, overlay_ms


def time_cached_open(app: QtWidgets.QApplication, window: object, image_id: int) -> float:
    """ms from opening a prefetched image to its overlay painted."""
    wait_for(app, lambda: window.session.predictions.result(image_id) is not None)
    start = time.perf_counter()
    window.session.open_image(image_id)
    window.canvas.viewport().repaint()
    return (time.perf_counter() - start) * 1000


class PaintWatcher(QtCore.QObject):
    """Counts the viewport's paint events and the area they repaint."""

    def __init__(self, widget: QtWidgets.QWidget) -> None:
        super().__init__(widget)
        self.paints: list[int] = []
        widget.installEventFilter(self)

    def eventFilter(self, _obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Paint:
            rect = event.region().boundingRect()
            self.paints.append(rect.width() * rect.height())
        return False


def until_painted(app: QtWidgets.QApplication, watcher: PaintWatcher) -> int:
    """Run the event loop until the next paint event; returns its area in screen pixels."""
    seen = len(watcher.paints)
    wait_for(app, lambda: len(watcher.paints) > seen, timeout=5.0)
    return watcher.paints[-1]


def time_strokes(app: QtWidgets.QApplication, window: object, size: int,
                 segments: int = 60) -> tuple[float, float, float]:
    """(median ms from a brush segment to its repaint, share of the view repainted,
    ms for re-rendering and repainting the whole overlay instead)."""
    tools, canvas = window.tools, window.canvas
    watcher = PaintWatcher(canvas.viewport())
    view_area = canvas.viewport().width() * canvas.viewport().height()
    window.session.tool_settings.set_radius(max(4, size // 100))
    times, areas = [], []
    y = size / 2
    tools.stroke_started(size * 0.2, y)
    until_painted(app, watcher)
    for k in range(segments):
        x = size * (0.2 + 0.6 * (k + 1) / segments)
        revision = window.document.editor.revision
        start = time.perf_counter()
        tools.stroke_moved(x, y + 20 * np.sin(k / 5))
        if window.document.editor.revision == revision:
            continue  # the segment changed no pixel: nothing to repaint
        areas.append(until_painted(app, watcher) / view_area)
        times.append((time.perf_counter() - start) * 1000)
    tools.stroke_finished(x, y)
    app.processEvents()
    start = time.perf_counter()
    canvas.overlay_item.show_mask(window.document.mask)  # what a full update would cost
    until_painted(app, watcher)
    return statistics.median(times), statistics.median(areas), (time.perf_counter() - start) * 1000


def time_autosave(window: object) -> float:
    start = time.perf_counter()
    window.document.editor.revision += 1
    window.session.save()
    return (time.perf_counter() - start) * 1000


def run(size: int, tiny: bool, repeats: int, app: QtWidgets.QApplication) -> dict[str, float]:
    from qtseg_app.qt.app import open_window

    with tempfile.TemporaryDirectory() as tmp:
        root = make_workspace(Path(tmp) / "ws", size, repeats + 2)
        model = make_model(Path(tmp) / "model.safetensors", tiny)
        window = open_window(root, model)
        window.resize(1400, 900)
        ids = [r.id for r in window.ws.images()]
        wait_for(app, lambda: window.document is not None and window.document.prediction)
        window.service.cancel_pending()
        wait_for(app, lambda: window.service.busy_count == 0)
        window.session.predictions.clear()  # measure cold opens
        opens = [time_open(app, window, image_id) for image_id in ids[1:repeats + 1]]
        cached = time_cached_open(app, window, ids[repeats + 1])
        stroke_ms, stroke_area, full_ms = time_strokes(app, window, size)
        save_ms = time_autosave(window)
        device = window.models.info.device
        window.close()
    return {"image": statistics.median(o[0] for o in opens),
            "overlay": statistics.median(o[1] for o in opens), "cached": cached,
            "stroke": stroke_ms, "area": stroke_area, "full": full_ms, "save": save_ms,
            "device": device}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="a tiny model instead of the paper's")
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    import torch

    model = "tiny QTSeg" if args.tiny else "paper-size QTSeg (9.2 M parameters)"
    print(f"{model}, 512² model input, torch threads {torch.get_num_threads()}, "
          f"Qt platform {os.environ['QT_QPA_PLATFORM']}")
    header = (f"{'image':>6} {'device':>6} {'open->image':>12} {'open->overlay':>14} "
              f"{'prefetched->overlay':>20} {'stroke->repaint':>16} {'(view share)':>12} "
              f"{'full overlay':>13} "
              f"{'autosave':>9}")
    print(header)
    for size in (512, 2048):
        r = run(size, args.tiny, args.repeats, app)
        print(f"{size:>5}² {r['device']:>6} {r['image']:>9.1f} ms {r['overlay']:>11.1f} ms "
              f"{r['cached']:>17.1f} ms {r['stroke']:>13.2f} ms {100 * r['area']:>11.1f}% "
              f"{r['full']:>10.1f} ms "
              f"{r['save']:>6.1f} ms")


if __name__ == "__main__":
    main()
