"""Annotation effort: how many clicks a robot user needs to correct the model's masks.

    .venv/bin/python benchmarks/annotation_effort.py DATA --model CKPT [--limit N]
        [--max-clicks 20] [--json OUT] [--split val] [--only brain2 lung1] [--threads 2]
        [--box-jitter 3]

DATA is a folder in the generic layout (images/, masks/; foreground = mask > 0);
``--split`` keeps one split of its splits.json, ``--only`` the ids starting
with the given prefixes (e.g. whole held-out volumes). For each image the
robot starts from the model's automatic mask (click 0) and clicks as
``qtseg_core.interactive.robot`` describes (largest error region, at the
maximum of its distance transform), with each mode:

- ``brush``: each click paints or erases a disk of radius 8 px (today's tools);
- ``refine``: the product's click-guided correction, as the app does it;
- ``training-free``: the random walker, listed when ``refine`` is something else;
- ``click-model``: the click-conditioned network itself, for checkpoints with click inputs;
- ``box+refine`` (and ``box+`` any other mode whose refiner outlines boxes): the
  robot's first interaction is the object's bounding box, each side off by up to
  ``--box-jitter`` pixels (3), then corrective clicks; the box counts as one
  interaction, so NoC and "IoU after k" count it as a click.

Prints NoC@0.85 / NoC@0.9 (mean clicks to reach that IoU; max-clicks + 1 when
never), the mean IoU after 0, 1, 3, 5 clicks and the seconds a correction takes
(torch and the walker on ``--threads`` CPU threads). ``--json`` writes
``{"images": n, "modes": {"brush": {"noc": {...}, "iou_after": {...},
"seconds_per_click": s}, ...}}``.

``--sequential --finetune-every K`` (``benchmarks/sequential_effort.py``): the
robot works through DATA in name order with the product's refiner; after
every K images its final masks are accepted as corrections and the product's
fine-tune runs (recipe and gate as the app's button); later images are
predicted by the model the gate kept. Prints one line per block; the JSON is
``{"images": n, "finetune_every": K, "blocks": [{"images": [...], "noc":
{"0.85": x, "0.9": y}, "auto_dice": d, "model": "v2", "finetune": "what the
gate did"}, ...]}``. ``--keep-models DIR`` copies each block's model there
(``v1.safetensors``, ``v2.safetensors``, ...), to study one block again without the
fine-tunes (``--model DIR/v2.safetensors --only ...``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from qtseg_core import load_checkpoint
from qtseg_core.checkpoint import Checkpoint
from qtseg_core.data.layouts import open_dataset
from qtseg_core.data.samples import Sample, load_sample
from qtseg_core.inference import Predictor, predictor_for
from qtseg_core.interactive import (
    BrushRefiner,
    ClickModelRefiner,
    ClickSession,
    RandomWalkerRefiner,
    Refiner,
    default_refiner,
)
from qtseg_core.interactive.robot import (
    BOX_JITTER,
    THRESHOLDS,
    Trajectory,
    box_around,
    run_robot,
    summarise,
)
from qtseg_core.pixel_rect import Rect

try:  # run as a script (benchmarks/ on sys.path) or as the benchmarks package
    from sequential_effort import run_sequential
except ImportError:
    from benchmarks.sequential_effort import run_sequential


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="generic-layout folder (images/, masks/)")
    parser.add_argument("--model", type=Path, required=True, help="a .safetensors checkpoint")
    parser.add_argument("--limit", type=int, default=None, help="first N images only")
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--split", default=None, help="only this split of splits.json")
    parser.add_argument("--only", nargs="*", default=None, help="only ids with these prefixes")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    parser.add_argument("--box-jitter", type=int, default=BOX_JITTER, metavar="PX",
                        help="box+ modes: each side of the robot's box is off the object's "
                             f"bounding box by up to PX pixels (default {BOX_JITTER})")
    parser.add_argument("--sequential", action="store_true",
                        help="work through DATA in name order, fine-tuning as it goes")
    parser.add_argument("--finetune-every", type=int, default=4, metavar="K",
                        help="with --sequential: accept and fine-tune after every K images")
    parser.add_argument("--finetune-epochs", type=int, default=None, metavar="N",
                        help="with --sequential: the product's recipe for the number of "
                             "images, with at most N epochs")
    parser.add_argument("--keep-models", type=Path, default=None, metavar="DIR",
                        help="with --sequential: copy each block's model here (v1, v2, ...)")
    return parser.parse_args(argv)


def select_samples(args: argparse.Namespace) -> list[Sample]:
    index = open_dataset(args.data, layout="generic")
    samples = list(index.split(args.split)) if args.split else list(index.samples)
    if args.only:
        samples = [s for s in samples if s.id.startswith(tuple(args.only))]
    if not samples:
        raise SystemExit(f"No images selected in {args.data} (split {args.split}, {args.only}).")
    return samples[: args.limit]


def modes_for(checkpoint: Checkpoint) -> dict[str, Refiner]:
    """brush, refine (the product's default), training-free where refine is not it, and
    click-model (the network's own click inputs) where the checkpoint has them."""
    refine = default_refiner(checkpoint.model, checkpoint.metadata.input_size)
    modes: dict[str, Refiner] = {"brush": BrushRefiner(), "refine": refine}
    if not isinstance(refine, RandomWalkerRefiner):
        modes["training-free"] = RandomWalkerRefiner()
    if checkpoint.model.config.click_inputs and not isinstance(refine, ClickModelRefiner):
        modes["click-model"] = ClickModelRefiner(
            checkpoint.model, size=checkpoint.metadata.input_size
        )
    return modes


def run_image(
    image: np.ndarray, truth: np.ndarray, predictor: Predictor, modes: dict[str, Refiner],
    max_clicks: int, box: Rect | None = None,
) -> dict[str, Trajectory]:
    """Every mode's robot run on one image, all from the same automatic mask; with ``box``
    also ``box+NAME`` for each mode whose refiner outlines boxes."""
    prediction = predictor.predict(image)
    automatic = prediction.mask > 0
    probability = 1.0 - prediction.probabilities[0]  # P(any foreground class)
    runs = {}
    for name, refiner in modes.items():
        session = ClickSession(image, automatic, refiner, probability)
        runs[name] = run_robot(
            automatic, truth, lambda clicks, s=session: s.add(clicks[-1]), max_clicks
        )
        if box is not None and hasattr(refiner, "outline"):
            session = ClickSession(image, automatic, refiner, probability)
            runs[f"box+{name}"] = run_robot(
                automatic, truth, lambda clicks, s=session: s.add(clicks[-1]), max_clicks,
                first=lambda s=session: s.add_box(box),
            )
    return runs


def print_table(report: dict) -> None:
    columns = [f"NoC@{t}" for t in THRESHOLDS] + [f"IoU@{k}" for k in (0, 1, 3, 5)]
    print(f"{report['images']} images, max {report['max_clicks']} clicks")
    print(f"{'mode':<18}" + "".join(f"{c:>9}" for c in columns) + f"{'s/click':>9}")
    for name, figures in report["modes"].items():
        values = list(figures["noc"].values()) + list(figures["iou_after"].values())
        cells = "".join(f"{v:>9.2f}" for v in values)
        print(f"{name:<18}{cells}{figures['seconds_per_click']:>9.3f}")


def run_all(
    samples: list[Sample], checkpoint: Checkpoint, max_clicks: int, box_jitter: int = BOX_JITTER,
) -> dict:
    """The report: every mode's figures over ``samples`` (per-image IoUs go to stderr)."""
    predictor, modes = predictor_for(checkpoint), modes_for(checkpoint)
    runs: dict[str, list[Trajectory]] = {name: [] for name in modes}
    jitter = np.random.default_rng(0)  # the robot's boxes: the same for every run
    for sample in samples:
        image, mask = load_sample(sample)
        box = box_around(mask > 0, jitter, box_jitter)
        for name, trajectory in run_image(image, mask > 0, predictor, modes, max_clicks,
                                          box).items():
            runs.setdefault(name, []).append(trajectory)
            ious = " ".join(f"{v:.2f}" for v in trajectory.ious)
            print(f"{sample.id:<24}{name:<14}IoU {ious}", file=sys.stderr, flush=True)
    figures = {name: summarise(trajectories, max_clicks) for name, trajectories in runs.items()}
    return {"images": len(samples), "max_clicks": max_clicks, "modes": figures}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if args.sequential:
        report = run_sequential(select_samples(args), args.model, args.finetune_every,
                                args.max_clicks, max_epochs=args.finetune_epochs,
                                keep_models=args.keep_models)
    else:
        report = run_all(select_samples(args), load_checkpoint(args.model), args.max_clicks,
                         args.box_jitter)
        print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
