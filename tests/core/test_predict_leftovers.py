"""A crashed writer's temporary files are removed by the next qtseg predict; a live writer's
are not (issue 13)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2

from qtseg_core.predict import predict_files
from qtseg_core.temporaries import STALE_AFTER_S, stale_temporaries
from tests.core.test_training_fixtures import (  # noqa: F401
    disc_pair,
    one_torch_thread,
    tiny_checkpoint,
)

ROOT = Path(__file__).resolve().parents[2]
#: A writer that fills a temporary for argv[1] through qtseg predict's batch, says so, then
#: either is killed at once (argv[2] == "crash") or waits for its stdin to close.
WRITER = """
import os, sys
from qtseg_core.atomic_batch import AtomicWriteBatch
AtomicWriteBatch().write(sys.argv[1], lambda stream: stream.write(b"half a mask"))
print("written", flush=True)
if sys.argv[2] == "crash":
    os._exit(9)
sys.stdin.read()
"""


def start_writer(target: Path, how: str) -> subprocess.Popen:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), how], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert writer.stdout.readline() == "written\n"
    return writer


def temporaries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.endswith(".tmp")}


def test_the_next_run_removes_a_crashed_writers_temporaries_and_keeps_a_live_ones(
        tmp_path, checkpoint):
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    for k in range(2):
        cv2.imwrite(str(images / f"case{k}.png"), disc_pair(k)[0])
    crashed = start_writer(out / "case0.png", "crash")
    assert crashed.wait(30) == 9
    left_by_crash = temporaries(out)
    live = start_writer(out / "case1.png", "live")  # e.g. another rank, still writing
    try:
        in_use = temporaries(out) - left_by_crash
        assert len(left_by_crash) == 1 and len(in_use) == 1
        assert str(crashed.pid) in next(iter(left_by_crash))  # the name says who wrote it

        report = predict_files(checkpoint, [images], out, progress=False, workers=0)
        assert [p.name for p in report.leftovers] == list(left_by_crash)
        assert temporaries(out) == in_use  # the live writer's file is still there
        assert sorted(p.name for p in out.glob("*.png")) == ["case0.png", "case1.png"]
    finally:
        live.stdin.close()
        live.wait(30)


def test_old_temporaries_go_whoever_wrote_them_and_other_files_stay(tmp_path):
    another_host = tmp_path / ".a.png.4242@some-other-node.k3j4h5g6.tmp"
    not_ours = tmp_path / ".notes.txt.k3j4h5g6.tmp"  # no writer in the name: never touched
    for path in (another_host, not_ours):
        path.write_bytes(b"x")
    assert stale_temporaries(tmp_path) == []  # a writer on another node may be live
    day_later = time.time() + STALE_AFTER_S + 60
    assert stale_temporaries(tmp_path, now=day_later) == [another_host]
