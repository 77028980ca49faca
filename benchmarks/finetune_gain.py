"""How much does fine-tuning on N corrected slices help on the rest of a held-out volume?

    .venv/bin/python benchmarks/finetune_gain.py [--base-epochs 25] [--size 128] [--epochs 15]

1. A base model (``--base``, or trained here: the tiny QTSeg on every volume of
   ../shared/data except lung2, validated on lung1) plays "the current model".
   The shipped starter model cannot be used: it was trained on lung2.
2. For N = 2, 5, 10 an annotator corrects N slices of lung2 (11 slices; their
   ground-truth masks), spread over the volume. The fine-tune engine
   (``run_finetune``, same code as the app's button) trains on them from the
   base weights; validation for early stopping and the gate is lung1 (another
   CT patient), never the slices scored below.
3. Dice (mean per-image x100, original resolution) of the base model and of
   the candidate on the remaining 11 - N slices, the gate's verdict on lung1,
   and the wall time of the fine-tune. Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from qtseg_core.finetune import FinetuneJob, FinetuneSettings, TrainingPair, run_finetune
from qtseg_core.finetune.engine import score_model
from qtseg_core.training import resolve_config, train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
HELD_OUT, VALIDATION = "lung2", "lung1"
TINY = {"base_width": 8, "decoder_depths": [1, 1, 1], "num_heads": 4, "mlp_dim": 64}


def slices(volume_prefix: str) -> list[TrainingPair]:
    """The slices of a volume (e.g. 'lung2') as image/mask pairs, in slice order."""
    pairs = []
    for index, image in enumerate(sorted(SHARED.glob(f"*/images/{volume_prefix}_z*.png"))):
        mask = image.parent.parent / "masks" / image.name
        pairs.append(TrainingPair(index, image.stem, str(image), str(mask)))
    return pairs


def base_pairs() -> list[tuple[str, str]]:
    """Every image of ../shared/data except the held-out and validation volumes."""
    pairs = []
    for image in sorted(SHARED.glob("*/images/*.png")):
        if not image.stem.startswith((HELD_OUT, VALIDATION)):
            pairs.append((str(image), str(image.parent.parent / "masks" / image.name)))
    return pairs


def train_base(work: Path, size: int, epochs: int) -> Path:
    """The tiny QTSeg trained from scratch on the other volumes ("cpu-demo" recipe)."""
    val = [(p.image, p.mask) for p in slices(VALIDATION)]
    config = resolve_config("cpu-demo", overrides={
        "data": {"train_pairs": base_pairs(), "val_pairs": val},
        "model": TINY, "input_size": size, "epochs": epochs, "lr": 3e-3,
        "output_dir": str(work / "base"), "tensorboard": False, "log_every": 1000,
    })
    result = train(config)
    print(f"base model: {result.epochs_completed} epochs, best canvas Dice on {VALIDATION} "
          f"{result.best_val_dice:.1f}", flush=True)
    return Path(result.best_checkpoint)


def chosen(total: int, n: int) -> list[int]:
    """Indices of ``n`` slices spread evenly over ``total`` (what an annotator might pick)."""
    return sorted({int(i) for i in np.linspace(0, total - 1, n).round()})


def finetune_once(base: Path, n: int, settings: FinetuneSettings, work: Path) -> dict:
    volume = slices(HELD_OUT)
    picked = chosen(len(volume), n)
    rest = tuple(p for i, p in enumerate(volume) if i not in picked)
    job = FinetuneJob(
        workspace=str(work), model_version="base", model_path=str(base),
        train=tuple(volume[i] for i in picked), val=tuple(slices(VALIDATION)),
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
          f"{'gate (lung1 old->new)':>24} {'epochs':>6} {'time s':>7}")
    for row in rows:
        gate = row["gate"]
        word = "accept" if gate.accepted else "refuse"
        verdict = f"{word} {gate.old_dice:.1f}->{gate.new_dice:.1f}"
        print(f"{row['n']:>3} {row['rest']:>6} {row['before']:>11.1f} {row['after']:>10.1f} "
              f"{row['after'] - row['before']:>+6.1f} {verdict:>24} {row['epochs']:>6} "
              f"{row['seconds']:>7.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="base checkpoint (default: train one here)")
    parser.add_argument("--base-epochs", type=int, default=25)
    parser.add_argument("--size", type=int, default=128, help="canvas of base and fine-tune")
    parser.add_argument("--epochs", type=int, default=15, help="fine-tune epochs at most")
    parser.add_argument("--lr", type=float, default=FinetuneSettings().lr)
    parser.add_argument("--counts", type=int, nargs="+", default=[2, 5, 10])
    args = parser.parse_args(argv)
    settings = FinetuneSettings(input_size=args.size, epochs=args.epochs, lr=args.lr)
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
