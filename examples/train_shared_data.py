"""A short CPU training run on the real CT, MRI and microscopy images of ``/work/shared/data``.

Trains QTSeg on some volumes and reports validation Dice on held-out ones:
slices of one volume never sit on both sides (grouped by the ``<volume>_z``
prefix). Training: lung CT ``lung2``, brain MRI ``brain1``, breast MRI
``breast1`` and three 256² blocks of the nuclei field; validation: lung CT
``lung1``, brain MRI ``brain2`` and the fourth (bottom-right) nuclei block, kept
spatially apart as the data README asks. The CT/MRI lesions cover 0.06-1.5 %
of each image, so the loss keeps the paper's soft-Dice term and the figure to
read is Dice, reported per source (a pooled mean would hide that the CT/MRI
lesions of unseen patients are far harder than nuclei).

    .venv/bin/python examples/train_shared_data.py [--epochs 80] [--size 128] [-o runs/shared]

Takes a few minutes on two CPU cores. Prints the held-out volumes' Dice
before training (an untrained model) and after, then evaluates the best
checkpoint at the original resolution with ``evaluate``.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from qtseg_core.io import read_image, write_png_atomic
from qtseg_core.training import DataConfig, ProgressEvent, TrainConfig, train
from qtseg_core.training.evaluation import evaluate
from qtseg_core.training.samples import samples_from_pairs

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"  # the checkout's ../shared
SETS = ("pyradiomics_lung_ct", "pyradiomics_brain_mri", "pyradiomics_breast_mri")
HELD_OUT = ("lung1", "brain2", "nuclei_block11")
NUCLEI = SHARED / "stardist_dsb2018_nuclei"


def volume_pairs(held_out: tuple[str, ...]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(image, mask) path pairs of the training volumes and of the held-out volumes."""
    train_pairs, val_pairs = [], []
    for name in SETS:
        for image in sorted((SHARED / name / "images").glob("*.png")):
            volume = re.match(r"^(.+)_z\d+$", image.stem).group(1)
            pair = (str(image), str(SHARED / name / "masks" / image.name))
            (val_pairs if volume in held_out else train_pairs).append(pair)
    return train_pairs, val_pairs


def nuclei_block_pairs(folder: Path) -> list[tuple[str, str]]:
    """Cut the 512² nuclei field into four 256² blocks ``nuclei_block<row><col>`` in ``folder``."""
    image = read_image(NUCLEI / "images" / "dsb2018_img2d.png")
    mask = read_image(NUCLEI / "masks" / "dsb2018_img2d.png")
    pairs = []
    for row, col in ((0, 0), (0, 1), (1, 0), (1, 1)):
        block = np.s_[row * 256 : (row + 1) * 256, col * 256 : (col + 1) * 256]
        name = f"nuclei_block{row}{col}.png"
        write_png_atomic(folder / "images" / name, image[block])
        write_png_atomic(folder / "masks" / name, mask[block])
        pairs.append((str(folder / "images" / name), str(folder / "masks" / name)))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--base-width", type=int, default=8)
    parser.add_argument("-o", "--output", help="run folder (default: a new temporary folder)")
    args = parser.parse_args()
    output = Path(args.output or tempfile.mkdtemp(prefix="qtseg-shared-"))
    train_pairs, val_pairs = volume_pairs(HELD_OUT)
    for pair in nuclei_block_pairs(output / "nuclei"):
        (val_pairs if Path(pair[0]).stem in HELD_OUT else train_pairs).append(pair)
    config = TrainConfig(
        data=DataConfig(train_pairs=tuple(train_pairs), val_pairs=tuple(val_pairs)),
        output_dir=str(Path(output) / "run"),
        preset="cpu-demo",
        model={"base_width": args.base_width, "decoder_depths": [1, 1, 1], "mlp_dim": 256},
        input_size=args.size,
        epochs=args.epochs,
        batch_size=4,
        step_size=max(1, args.epochs // 2),
        log_every=1000,
        tensorboard=False,
    )
    print(f"train: {len(train_pairs)} slices, validation: {len(val_pairs)} slices of {HELD_OUT}")
    start = time.perf_counter()
    result = train(config, progress=_print_progress)
    minutes = (time.perf_counter() - start) / 60
    first = result.history[0]["val_dice"]
    print(
        f"\nvalidation Dice (canvas, x100): after epoch 1 {first:.2f} -> best "
        f"{result.best_val_dice:.2f} at epoch {result.best_epoch + 1}; {minutes:.1f} min"
    )
    report = evaluate(
        result.best_checkpoint,
        samples_from_pairs(tuple(val_pairs)),
        device="cpu",
        output_dir=output / "eval",
    )
    print(f"best checkpoint on held-out images, original resolution ({report.csv_path}):")
    for volume in HELD_OUT:
        rows = [row for row in report.rows if row["id"].startswith(volume)]
        dice = 100 * float(np.mean([row["dice"] for row in rows]))
        iou = 100 * float(np.mean([row["iou"] for row in rows]))
        print(f"  {volume:15s} {len(rows)} image(s)  Dice {dice:6.2f}  IoU {iou:6.2f}")


def _print_progress(event: ProgressEvent) -> None:
    print(
        f"epoch {event.epoch + 1:3d}/{event.epochs} loss {event.train_loss:.3f} "
        f"val Dice {event.val_dice:6.2f} (best {event.best_val_dice:6.2f}) "
        f"ETA {event.eta_s:4.0f}s",
        flush=True,
    )


if __name__ == "__main__":
    main()
