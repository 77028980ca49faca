"""A workspace of many images: first scan, ``next_image`` and filtered lists.

    python benchmarks/workspace_scale.py [--images 20000] [--photos 100] [--calls 200]

Prints, measured in this run:

- the first scan's cost per file, header only (what ``Workspace.scan`` does now)
  against a full decode (what it did before), on ``--photos`` 1024x768 JPEG photos;
- the time to add ``--images`` tiny PNGs to a new workspace (scan + database),
  and that rate carried over to 10^5 images;
- ``next_image`` (median and 95th percentile over ``--calls`` calls from random
  images, in each list order, with and without a status filter; goal: median
  <= 20 ms at 20,000 images) and a filtered ``images()`` list;
- what the app does on each status change (the list's counts and unreadable
  count: read from the table the database keeps, against the GROUP BY recount of
  before) and to start "Predict all" (the images left to predict: two queries,
  against every record built and one query per image before).

The machine's load average is printed with the figures: on a shared machine
the absolute times move with the other work running.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qtseg_core.io import read_image  # noqa: E402
from qtseg_core.workspace import MaskKind, ReviewStatus, Workspace  # noqa: E402
from qtseg_core.workspace.scan import probe_image  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--calls", type=int, default=200)
    return parser.parse_args()


def per_file_ms(function, paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        function(path)
    return 1000 * (time.perf_counter() - start) / len(paths)


def report_probe(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    folder = root / "photos"
    folder.mkdir()
    paths = []
    for index in range(count):
        photo = cv2.GaussianBlur(rng.integers(0, 255, (768, 1024, 3), np.uint8), (9, 9), 3)
        paths.append(folder / f"photo_{index:04d}.jpg")
        cv2.imwrite(str(paths[-1]), photo)
    probe_image(paths[0]), read_image(paths[0])  # first calls load PIL and OpenCV plugins
    header = per_file_ms(probe_image, paths)
    decode = per_file_ms(read_image, paths)
    print(f"first scan per 1024x768 JPEG: header {header:.2f} ms, full decode {decode:.2f} ms; "
          f"10^5 photos: {1e5 * header / 60e3:.1f} min against {1e5 * decode / 60e3:.1f} min")


def make_workspace(root: Path, count: int) -> tuple[Workspace, float]:
    folder = root / "ws" / "images"
    folder.mkdir(parents=True)
    _, encoded = cv2.imencode(".png", np.full((24, 32), 128, np.uint8))
    for index in range(count):
        (folder / f"case{index // 100:04d}_z{index % 100:03d}.png").write_bytes(encoded.tobytes())
    start = time.perf_counter()
    ws = Workspace.open(root / "ws")
    seconds = time.perf_counter() - start
    print(f"adding {count} images to a new workspace: {seconds:.1f} s "
          f"({1000 * seconds / count:.2f} ms each; 10^5: {1e5 * seconds / count / 60:.1f} min)")
    return ws, seconds


def give_statuses(ws: Workspace) -> None:
    """A worked-on workspace: a fifth predicted (with scores), some accepted."""
    mask = np.zeros((24, 32), np.uint8)
    ids = [image.id for image in ws.images()]
    rng = random.Random(0)
    for image_id in ids[::50]:
        ws.save_prediction(image_id, mask, "v1", uncertainty=rng.random())
    for image_id in ids[::500]:
        ws.set_status(image_id, ReviewStatus.ACCEPTED, "bench")


def report_next_image(ws: Workspace, calls: int) -> None:
    ids = [image.id for image in ws.images()]
    rng = random.Random(1)
    for order in ("name", "uncertainty", "status"):
        for status in (None, ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED):
            times = []
            for _ in range(calls):
                after = rng.choice(ids)
                start = time.perf_counter()
                ws.next_image(after, status=status, order=order)
                times.append(1000 * (time.perf_counter() - start))
            times.sort()
            label, p95 = status.value if status else "any", times[int(0.95 * len(times))]
            print(f"next_image order={order:<11} status={label:<10}: median "
                  f"{statistics.median(times):6.2f} ms, p95 {p95:6.2f} ms")
    start = time.perf_counter()
    listed = ws.images(status=ReviewStatus.PREDICTED, order="uncertainty")
    print(f"images(status=predicted, order=uncertainty): {len(listed)} records in "
          f"{1000 * (time.perf_counter() - start):.1f} ms")


def median_ms(function, calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def report_status_counts(ws: Workspace, calls: int) -> None:
    def recount() -> None:  # what ImageList.replace_record ran on every status change
        ws._query("SELECT status, COUNT(*) AS n FROM images GROUP BY status")
        ws._query("SELECT COUNT(*) FROM images WHERE read_error IS NOT NULL")

    kept = median_ms(lambda: (ws.counts(), ws.unreadable_count()), calls)
    old = median_ms(recount, calls)
    print(f"counts after a status change: {kept:.3f} ms (kept by the database) against "
          f"{old:.2f} ms (GROUP BY recount), median of {calls}")


def report_predict_all(ws: Workspace) -> None:
    def old_todo() -> list[int]:  # ModelService.predict_all + predict_images before
        todo = [r.id for r in ws.images() if r.readable and not _predicted_by_v1(ws, r.id)]
        return [image_id for image_id in todo if not _predicted_by_v1(ws, image_id)]

    def new_todo() -> list[int]:
        done = ws.predicted_by("v1")
        return [image_id for image_id in ws.readable_ids() if image_id not in done]

    timings = {}
    for label, function in (("now", new_todo), ("before", old_todo)):
        start = time.perf_counter()
        timings[label] = (function(), 1000 * (time.perf_counter() - start))
    assert timings["now"][0] == timings["before"][0]
    print(f"Predict all, the {len(timings['now'][0])} images left to predict: "
          f"{timings['now'][1]:.0f} ms (two queries) against {timings['before'][1]:.0f} ms "
          "(every record, one query per image)")


def _predicted_by_v1(ws: Workspace, image_id: int) -> bool:
    latest = ws.latest_mask(image_id, MaskKind.PREDICTION)
    return latest is not None and latest.model_version == "v1"


def main() -> None:
    args = parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="qtseg-ws-bench-") as scratch:
        root = Path(scratch)
        report_probe(root, args.photos)
        ws, _ = make_workspace(root, args.images)
        with ws:
            give_statuses(ws)
            report_next_image(ws, args.calls)
            report_status_counts(ws, args.calls)
            report_predict_all(ws)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
