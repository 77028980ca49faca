"""Train the bundled starter model (qtseg_core/resources/models/) on the real sample data.

    python examples/train_starter_model.py [--epochs 120] [--size 256] [--work /tmp/qtseg-starter]
        [--interactive [--init-from CKPT]] [--scheduler cosine] [--budget-minutes M]
        [--shared ../shared/data]

1. Builds a generic-layout folder (images/, masks/, splits.json) from
   ../shared/data: whole volumes go to train or validation (never slices of
   one volume on both sides); the single nuclei field is tiled into four
   256² blocks, three for training and the bottom-right one for validation.
2. Runs ``qtseg train`` on it (the exact command is printed and stored in the
   checkpoint's provenance).
3. Copies the best checkpoint (chosen on validation Dice; after clicks for
   ``--interactive``) to
   qtseg_core/resources/models/starter.safetensors in half precision.

``--interactive`` trains the click-conditioned model (``qtseg train
--interactive``: simulated clicks, see qtseg_core.interactive.simulation),
optionally from ``--init-from`` (e.g. the automatic starter, trained on the
same split). Its best epoch is chosen on the validation Dice after the robot
user's clicks (``val_click_dice``, qtseg_core.training.validation);
benchmarks/annotation_effort.py on the validation volumes measures its clicks.
``--budget-minutes`` stops the run on time (the schedule follows the elapsed
share), as the click-conditioned starter was trained (MODEL_CARD.md).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
from pathlib import Path

import cv2

from qtseg_core.checkpoint import load_checkpoint, save_model
from qtseg_core.cli import main as qtseg

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
VALIDATION_VOLUMES = {"brain2", "lung1"}
NUCLEI = "stardist_dsb2018_nuclei"


def build_dataset(
    out: Path, shared: Path = SHARED, leave_out: frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    """Copy the shared sets into one generic-layout folder; return the split.

    ``leave_out`` names volumes (e.g. {"lung2"}) kept out of both sides, for a
    base model that has never seen them (benchmarks/finetune_gain.py).
    """
    for sub in ("images", "masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    split: dict[str, list[str]] = {"train": [], "val": []}
    for image_path in sorted(shared.glob("pyradiomics_*/images/*.png")):
        ident = image_path.stem
        volume = ident.split("_z")[0]
        if volume in leave_out:
            continue
        shutil.copy(image_path, out / "images" / image_path.name)
        shutil.copy(image_path.parent.parent / "masks" / image_path.name, out / "masks")
        split["val" if volume in VALIDATION_VOLUMES else "train"].append(ident)
    _tile_nuclei(out, split, shared)
    (out / "splits.json").write_text(json.dumps(split, indent=1))
    return split


def _tile_nuclei(out: Path, split: dict[str, list[str]], shared: Path) -> None:
    image = cv2.imread(str(shared / NUCLEI / "images" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(shared / NUCLEI / "masks" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    half_h, half_w = image.shape[0] // 2, image.shape[1] // 2
    for row in range(2):
        for col in range(2):
            ident = f"nuclei_tile{row}{col}"
            rows = slice(row * half_h, (row + 1) * half_h)
            block = (rows, slice(col * half_w, (col + 1) * half_w))
            cv2.imwrite(str(out / "images" / f"{ident}.png"), image[block])
            cv2.imwrite(str(out / "masks" / f"{ident}.png"), mask[block])
            split["val" if (row, col) == (1, 1) else "train"].append(ident)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=120)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--lr", default="1e-3")
    parser.add_argument("--step-size", default="60")
    parser.add_argument("--scheduler", default=None, help="qtseg train's --scheduler")
    parser.add_argument("--budget-minutes", default=None, help="qtseg train's --budget-minutes")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qtseg-starter"))
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared real data")
    parser.add_argument("--interactive", action="store_true", help="click-conditioned model")
    parser.add_argument("--init-from", type=Path, default=None, help="start from these weights")
    return parser.parse_args()


def train_command(args: argparse.Namespace) -> list[str]:
    command = [
        "train", str(args.work / "data"), "-o", str(args.work / "run"), "--preset", "paper",
        "--size", str(args.size), "--epochs", str(args.epochs), "--batch-size", "8",
        "--step-size", args.step_size, "--lr", args.lr, "--no-tensorboard", "--log-every", "100",
    ]
    if args.scheduler:
        command += ["--scheduler", args.scheduler]
    if args.budget_minutes:
        command += ["--budget-minutes", args.budget_minutes, "--patience", "0"]
    if args.interactive:
        command.append("--interactive")
    if args.init_from:
        command += ["--init-from", str(args.init_from)]
    return command


def main() -> None:
    args = parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    split = build_dataset(args.work / "data", args.shared)
    print(f"train {len(split['train'])} images, validation {len(split['val'])}: {split['val']}")
    command = train_command(args)
    print("qtseg " + shlex.join(command))
    if qtseg(command) != 0:
        raise SystemExit("training failed")
    trained = load_checkpoint(args.work / "run" / "best.safetensors")
    target = REPO / "qtseg_core" / "resources" / "models" / "starter.safetensors"
    save_model(
        trained.model,
        target,
        metadata=trained.metadata,
        half_precision=True,
        input_size=args.size,
        command="qtseg " + shlex.join(command),
        trained_on=split["train"],
        validated_on=split["val"],
        checkpoint="best",
    )
    print(f"wrote {target} ({target.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
