"""How much does fine-tuning on N corrected images help on the rest of a held-out field?

    .venv/bin/python benchmarks/finetune_gain.py [--base-epochs 25] [--size 128]
        [--epochs 60] [--lr 1e-3] [--patience 15] [--counts 2 5 10]

The situation: a model trained on one kind of image meets a new kind, and an
annotator corrects a few of them.
1. A base model (``--base``, or trained here: the tiny QTSeg on the brain MRI,
   breast MRI and lung CT volumes of ../shared/data except lung1, validated
   on lung1) plays "the current model". It has never seen microscopy.
2. The held-out data is the real nuclei field (DSB2018, 512²) cut into 16
   tiles of 128²: two fixed tiles are the fine-tune's validation set (early
   stopping and the no-regression gate); an annotator corrects N of the other
   14 (their ground truth), spread over the field. The fine-tune engine
   (``run_finetune``, the code behind the app's button) trains on them from
   the base weights.
3. Dice (mean per-image x100, original resolution) of the base model and of
   the candidate on the 14 - N tiles nobody corrected, the gate's verdict, and
   the wall time of the fine-tune. Figures only; no pass/fail.

(The lung2 CT volume was tried first as the held-out set: the tiny base at
128² never found its lesions, 0.06-0.6 % of a slice, so before and after were
both 0 Dice and showed nothing.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from qtseg_core.finetune import FinetuneJob, FinetuneSettings, TrainingPair, run_finetune
from qtseg_core.finetune.engine import score_model
from qtseg_core.training import resolve_config, train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NUCLEI = SHARED / "stardist_dsb2018_nuclei"
BASE_VALIDATION = "lung1"
TILE, VALIDATION_TILES = 128, (5, 10)
TINY = {"base_width": 8, "decoder_depths": [1, 1, 1], "num_heads": 4, "mlp_dim": 64}


def slices(volume_prefix: str) -> list[TrainingPair]:
    """The slices of a volume (e.g. 'lung1') as image/mask pairs, in slice order."""
    pairs = []
    for index, image in enumerate(sorted(SHARED.glob(f"*/images/{volume_prefix}_z*.png"))):
        mask = image.parent.parent / "masks" / image.name
        pairs.append(TrainingPair(index, image.stem, str(image), str(mask)))
    return pairs


def nuclei_tiles(work: Path) -> list[TrainingPair]:
    """The nuclei field cut into TILE x TILE tiles (row-major), written as PNG pairs."""
    image = cv2.imread(str(NUCLEI / "images" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(NUCLEI / "masks" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    (work / "tiles").mkdir(parents=True, exist_ok=True)
    pairs = []
    for index, (row, col) in enumerate(np.ndindex(image.shape[0] // TILE, image.shape[1] // TILE)):
        block = np.s_[row * TILE:(row + 1) * TILE, col * TILE:(col + 1) * TILE]
        paths = [work / "tiles" / f"tile{index:02d}{suffix}.png" for suffix in ("", "_mask")]
        cv2.imwrite(str(paths[0]), image[block])
        cv2.imwrite(str(paths[1]), mask[block])
        pairs.append(TrainingPair(index, f"tile{index:02d}", str(paths[0]), str(paths[1])))
    return pairs


def base_pairs() -> list[tuple[str, str]]:
    """Every CT/MRI slice of ../shared/data except the base's validation volume."""
    pairs = []
    for image in sorted(SHARED.glob("pyradiomics_*/images/*.png")):
        if not image.stem.startswith(BASE_VALIDATION):
            pairs.append((str(image), str(image.parent.parent / "masks" / image.name)))
    return pairs


def train_base(work: Path, size: int, epochs: int) -> Path:
    """The tiny QTSeg trained from scratch on the other volumes ("cpu-demo" recipe)."""
    val = [(p.image, p.mask) for p in slices(BASE_VALIDATION)]
    config = resolve_config("cpu-demo", overrides={
        "data": {"train_pairs": base_pairs(), "val_pairs": val},
        "model": TINY, "input_size": size, "epochs": epochs, "lr": 3e-3,
        "output_dir": str(work / "base"), "tensorboard": False, "log_every": 1000,
    })
    result = train(config)
    print(f"base model: {result.epochs_completed} epochs, best canvas Dice on {BASE_VALIDATION} "
          f"{result.best_val_dice:.1f}", flush=True)
    return Path(result.best_checkpoint)


def chosen(total: int, n: int) -> list[int]:
    """Indices of ``n`` slices spread evenly over ``total`` (what an annotator might pick)."""
    return sorted({int(i) for i in np.linspace(0, total - 1, n).round()})


def finetune_once(base: Path, n: int, settings: FinetuneSettings, work: Path) -> dict:
    tiles = nuclei_tiles(work)
    val = tuple(tiles[i] for i in VALIDATION_TILES)
    pool = [t for t in tiles if t.image_id not in VALIDATION_TILES]
    picked = chosen(len(pool), n)
    rest = tuple(p for i, p in enumerate(pool) if i not in picked)
    job = FinetuneJob(
        workspace=str(work), model_version="base", model_path=str(base),
        train=tuple(pool[i] for i in picked), val=val,
        settings=settings.resolved(settings.input_size or 256),
        output_dir=str(work / f"finetune-n{n}"),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    start = time.perf_counter()
    outcome = run_finetune(job)
    seconds = time.perf_counter() - start
    before = np.mean(list(score_model(base, rest).values()))
    after = np.mean(list(score_model(outcome.candidate_path, rest).values()))
    return {"n": n, "rest": len(rest), "before": before, "after": after, "seconds": seconds,
            "gate": outcome, "epochs": outcome.epochs_run}


def print_table(rows: list[dict]) -> None:
    print(f"\n{'N':>3} {'scored':>6} {'Dice before':>11} {'Dice after':>10} {'gain':>6} "
          f"{'gate (val tiles old->new)':>26} {'epochs':>6} {'time s':>7}")
    for row in rows:
        gate = row["gate"]
        word = "accept" if gate.accepted else "refuse"
        verdict = f"{word} {gate.old_dice:.1f}->{gate.new_dice:.1f}"
        print(f"{row['n']:>3} {row['rest']:>6} {row['before']:>11.1f} {row['after']:>10.1f} "
              f"{row['after'] - row['before']:>+6.1f} {verdict:>26} {row['epochs']:>6} "
              f"{row['seconds']:>7.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="base checkpoint (default: train one here)")
    parser.add_argument("--base-epochs", type=int, default=25)
    parser.add_argument("--size", type=int, default=128, help="canvas of base and fine-tune")
    parser.add_argument("--epochs", type=int, default=FinetuneSettings().epochs,
                        help="fine-tune epochs at most")
    parser.add_argument("--lr", type=float, default=FinetuneSettings().lr)
    parser.add_argument("--patience", type=int, default=FinetuneSettings().patience)
    parser.add_argument("--counts", type=int, nargs="+", default=[2, 5, 10])
    args = parser.parse_args(argv)
    settings = FinetuneSettings(
        input_size=args.size, epochs=args.epochs, lr=args.lr, patience=args.patience
    )
    with tempfile.TemporaryDirectory(prefix="finetune-gain-") as folder:
        work = Path(folder)
        start = time.perf_counter()
        base = args.base or train_base(work, args.size, args.base_epochs)
        print(f"base ready after {time.perf_counter() - start:.0f} s; fine-tune settings "
              f"{settings}", flush=True)
        rows = [finetune_once(base, n, settings, work) for n in args.counts]
    print_table(rows)
    print(f"\ntotal {time.perf_counter() - start:.0f} s on {sys.platform}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
