"""Test Dice of the planned recipe (`qtseg train DATA --budget-minutes M`) vs the paper preset.

    .venv/bin/python benchmarks/autoconfig.py [--minutes 2] [--shared ../shared/data]
        [--tasks brain_lesion lung_lesion nuclei] [--extra DIR ...] [--keep WORKDIR]

Both recipes get the same budget on this machine, through the command line a
user types (``qtseg train DATA -o RUN --budget-minutes M``, and the same with
``--preset paper``), then ``qtseg eval RUN/best.safetensors DATA --split test``.
Tasks from ../shared/data, split as its README says (by volume, never by slice):

- brain_lesion: contrast T1 brain MRI; trains on volume brain1 (its last slices
  validate, a contiguous block), tests on brain2;
- lung_lesion: chest CT; trains on lung2, tests on lung1;
- nuclei: the 512² microscopy field in 16 tiles of 128²: rows 0-1 train, row 2
  validates, row 3 tests (spatial blocks);
- ``--extra DIR``: any generic-layout folder whose splits.json has a "test" split.

A choosing set, to pick a recipe without the check's test slices:

    .venv/bin/python benchmarks/autoconfig.py --choose /tmp/atlas/gm --seeds 0 1 \
        --train-flags "--size 320 --batch-size 4 --epochs 30"

re-splits ``DIR``'s train + val slices as the check splits a volume (by slice
position: lower half trains, next tenth validates, the 40 % above tests), so
its test slices lie above the training ones, as the check's do, and the check's
own test slices are never read. Each seed runs ``qtseg train`` with the given
flags (fixed epochs: on a shared machine a budget buys a load-dependent number
of epochs), then ``qtseg eval`` on the choosing test split. Prints Dice, the
best epoch, and epochs per minute (the speed, separately). Run it once per
candidate (e.g. with PYTHONPATH at the candidate's tree) and compare means.

Prints one line per task: Dice (mean per image x100, at the original
resolution, and on the canvas as the paper), epochs run and wall time of each
recipe, and the machine's load average before and after: on a shared CPU the
budget buys fewer epochs, which is the point of measuring speed as the run goes.
Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
VOLUME_TASKS = {  # task -> (data set folder, training volume, test volume)
    "brain_lesion": ("pyradiomics_brain_mri", "brain1", "brain2"),
    "lung_lesion": ("pyradiomics_lung_ct", "lung2", "lung1"),
}
TILE = 128


def volume_task(shared: Path, name: str, work: Path) -> Path:
    """Copy a shared set into a generic folder whose splits.json holds one volume out."""
    folder, train_volume, test_volume = VOLUME_TASKS[name]
    source, target = shared / folder, work / name
    shutil.copytree(source / "images", target / "images")
    shutil.copytree(source / "masks", target / "masks")
    ids = sorted(path.stem for path in (target / "images").glob("*.png"))
    splits = {
        "train": [i for i in ids if i.startswith(f"{train_volume}_z")],
        "test": [i for i in ids if i.startswith(f"{test_volume}_z")],
    }
    (target / "splits.json").write_text(json.dumps(splits), encoding="utf-8")
    return target


def nuclei_task(shared: Path, work: Path) -> Path:
    """The nuclei field as 16 tiles; rows 0-1 train, row 2 validates, row 3 tests."""
    source, target = shared / "stardist_dsb2018_nuclei", work / "nuclei"
    image = cv2.imread(str(source / "images" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(source / "masks" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    (target / "images").mkdir(parents=True)
    (target / "masks").mkdir()
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for row in range(image.shape[0] // TILE):
        for col in range(image.shape[1] // TILE):
            tile_id, window = f"tile_r{row}c{col}", _window(row, col)
            cv2.imwrite(str(target / "images" / f"{tile_id}.png"), image[window])
            cv2.imwrite(str(target / "masks" / f"{tile_id}.png"), mask[window])
            splits[("train", "train", "val", "test")[row]].append(tile_id)
    (target / "splits.json").write_text(json.dumps(splits), encoding="utf-8")
    return target


def choosing_task(folder: Path, work: Path) -> Path:
    """``folder``'s train + val slices re-split by position: 50 % train, 10 % val, 40 % test."""
    splits = json.loads((folder / "splits.json").read_text(encoding="utf-8"))
    ids = sorted(splits["train"] + splits["val"])  # slice ids sort by position (mni_z013...)
    target = work / f"{folder.name}-choosing"
    (target / "images").mkdir(parents=True)
    (target / "masks").mkdir()
    for image_id in ids:
        for kind in ("images", "masks"):
            shutil.copy(folder / kind / f"{image_id}.png", target / kind / f"{image_id}.png")
    train, val = len(ids) // 2, max(1, len(ids) // 10)
    choosing = {"train": ids[:train], "val": ids[train : train + val], "test": ids[train + val :]}
    (target / "splits.json").write_text(json.dumps(choosing), encoding="utf-8")
    return target


def choose(folder: Path, work: Path, seeds: list[int], flags: list[str]) -> None:
    """Fixed-flag runs on the choosing set of ``folder``, one per seed, and their mean."""
    data = choosing_task(folder, work)
    splits = json.loads((data / "splits.json").read_text(encoding="utf-8"))
    sizes = ", ".join(f"{name} {len(ids)}" for name, ids in splits.items())
    print(f"choosing set of {folder}: {sizes}; qtseg train {' '.join(flags)}", flush=True)
    dice = []
    for seed in seeds:
        load = os.getloadavg()[0]
        result = train_and_test(data, work / f"{folder.name}-seed{seed}", None, *flags,
                                "--seed", str(seed))
        dice.append(result["dice"])
        r, speed = result, 60 * result["epochs"] / result["wall_s"]
        print(f"seed {seed}: test Dice {r['dice']:6.2f} (canvas {r['canvas_dice']:6.2f}), "
              f"val {r['best_val']:6.2f} at epoch {r['best_epoch']} of {r['epochs']}, "
              f"{speed:.2f} epochs/min ({r['wall_s']:.0f} s, load {load:.1f} -> "
              f"{os.getloadavg()[0]:.1f})", flush=True)
    print(f"mean of {len(dice)} seeds: {sum(dice) / len(dice):6.2f}")


def _window(row: int, col: int) -> tuple[slice, slice]:
    return slice(row * TILE, (row + 1) * TILE), slice(col * TILE, (col + 1) * TILE)


def qtseg(*args: str) -> tuple[float, str]:
    """Run ``python -m qtseg_core ARGS`` as a user would; returns (wall seconds, output)."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "qtseg_core", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"qtseg {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.monotonic() - start, done.stdout


def train_and_test(data: Path, run: Path, minutes: float | None, *extra: str) -> dict[str, float]:
    """Train (within the budget, if given), then score best.safetensors on the test split."""
    args = ["train", str(data), "-o", str(run)]
    if minutes is not None:
        args += ["--budget-minutes", f"{minutes:g}"]
    wall, _ = qtseg(*args, "--no-tensorboard", *extra)
    best = str(run / "best.safetensors")
    qtseg("eval", best, str(data), "--split", "test", "-o", str(run / "ev"))
    summary = json.loads((run / "ev" / "summary.json").read_text(encoding="utf-8"))
    records = [json.loads(line) for line in (run / "metrics.jsonl").open(encoding="utf-8")]
    epochs = len(records)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    return {
        "dice": summary["original"]["dice"],
        "canvas_dice": summary["canvas"]["dice"],
        "epochs": epochs,
        "best_epoch": records[-1]["best_epoch"] + 1,  # counted from 1, as the log prints
        "best_val": records[-1]["best_val_dice"],
        "size": config["input_size"],
        "batch": config["batch_size"],
        "wall_s": wall,
    }


def prepare(args: argparse.Namespace, work: Path) -> dict[str, Path]:
    tasks = {}
    for name in args.tasks:
        if name == "nuclei":
            tasks[name] = nuclei_task(args.shared, work)
        else:
            tasks[name] = volume_task(args.shared, name, work)
    for folder in args.extra:
        tasks[Path(folder).name] = Path(folder)
    return tasks


def row(name: str, auto: dict[str, float], paper: dict[str, float]) -> str:
    def cell(result: dict[str, float]) -> str:
        return (
            f"{result['dice']:6.2f} {result['canvas_dice']:6.2f} {result['size']:4d}px "
            f"b{result['batch']:<2d} {result['epochs']:3d} ep {result['wall_s']:5.0f} s"
        )

    return f"{name:14s} | {cell(auto)} | {cell(paper)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="budget per run (default 2)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data")
    parser.add_argument("--tasks", nargs="*", default=[*VOLUME_TASKS, "nuclei"])
    parser.add_argument("--extra", nargs="*", default=[], help="more generic folders with test")
    parser.add_argument("--keep", type=Path, help="keep the prepared data and runs here")
    parser.add_argument("--choose", type=Path, help="a generic folder: runs on its choosing set")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1], help="with --choose")
    parser.add_argument("--train-flags", default="", help="with --choose: qtseg train's flags")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="qtseg-autoconfig-"))
    if args.choose is not None:
        choose(args.choose, work, args.seeds, args.train_flags.split())
        return 0
    load_before = os.getloadavg()
    print(f"budget {args.minutes:g} min per run; load average {load_before[0]:.1f} before")
    print(f"{'task':14s} | {'auto: Dice orig canvas size batch epochs wall':44s} | paper: same")
    for name, data in prepare(args, work).items():
        auto = train_and_test(data, work / f"{name}-auto", args.minutes)
        paper = train_and_test(data, work / f"{name}-paper", args.minutes, "--preset", "paper")
        print(row(name, auto, paper), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} after; Dice = mean per test image x100")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
