"""Regenerate the app screenshots in this folder from the real demo images.

    python docs/screenshots/make_screenshots.py [--model CHECKPOINT]

A throw-away workspace is built from the bundled demo images; a few images
get their published ground-truth mask saved as a person's correction (so the
overlay shows real lesions and nuclei, not an untrained network's guess) and
some review decisions, and one corrupt file shows how unreadable files are
listed. With ``--model`` the model predicts the other images too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6 import QtWidgets  # noqa: E402

from qtseg_core.io import read_mask  # noqa: E402
from qtseg_core.resources import resource_path  # noqa: E402
from qtseg_core.workspace import ReviewStatus, Workspace  # noqa: E402

DEMO = resource_path("demo")
OUT = Path(__file__).resolve().parent
SHOWN = ("dsb2018_img2d", "brain1_z013", "brain1_z014", "brain2_z009", "lung1_z033")


def build_workspace(folder: Path) -> None:
    images = folder / "images"
    images.mkdir(parents=True)
    for path in sorted((DEMO / "images").glob("*.png")):
        shutil.copy(path, images / path.name)
    (images / "scan_export_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with Workspace.open(folder) as ws:
        ws.set_setting("reviewer_name", "Dr A. Rossi")
        by_name = {r.path.stem: r for r in ws.images()}
        for stem in SHOWN:
            mask = (read_mask(DEMO / "ground_truth" / f"{stem}.png") > 0).astype(np.uint8)
            ws.save_correction(by_name[stem].id, mask, "ground truth (published)")
        ws.set_status(by_name["brain1_z013"].id, ReviewStatus.ACCEPTED, "Dr A. Rossi")
        ws.set_status(by_name["lung1_z033"].id, ReviewStatus.FLAGGED, "Dr A. Rossi",
                      "Nodule next to the vessel: second opinion please")
        ws.set_status(by_name["breast1_z009"].id, ReviewStatus.REJECTED, "Dr A. Rossi")


def settle(app: QtWidgets.QApplication, window: object, rounds: int = 50) -> None:
    while window.models.loading:  # the model is read in the background
        app.processEvents()
        time.sleep(0.05)
    for _ in range(rounds):
        app.processEvents()
    window.service.wait_idle(60_000)
    for _ in range(rounds):
        app.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint to load (predictions on the other images)")
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from qtseg_app.qt.app import open_window

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "demo-review"
        build_workspace(folder)
        window = open_window(folder, args.model)
        window.resize(1500, 940)
        ids = {r.path.stem: r.id for r in window.ws.images()}
        window.session.open_image(ids["dsb2018_img2d"])
        settle(app, window)
        window.canvas.fit()
        window.canvas.set_brush_radius(window.tools.radius)
        settle(app, window)
        window.grab().save(str(OUT / "main_window.png"))

        window.session.open_image(ids["brain1_z014"])
        window.review_keys.toggle_mode()
        settle(app, window)
        window.canvas.view.setRange(xRange=(50, 240), yRange=(40, 200))
        settle(app, window)
        window.grab().save(str(OUT / "review_mode.png"))
        window.close()
    print(f"wrote {OUT / 'main_window.png'} and {OUT / 'review_mode.png'}")


if __name__ == "__main__":
    main()
