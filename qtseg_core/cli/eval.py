"""``qtseg eval CHECKPOINT DATA [--split test] [-o OUT]``: the paper's scores and the honest ones.

Prints MAE, accuracy, Dice and IoU (per image, averaged, x100) on the padded
canvas as the paper computes them and at the original resolution, then HD95
and surface Dice at --tolerance-mm with the pixel spacing, per image and (for
slices of volumes) per volume in 3D; writes ``per_image.csv``,
``per_volume.csv`` and ``summary.json`` to OUT (default: next to the checkpoint).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qtseg_core.cli.arguments import canvas_size, output_folder, positive_int
from qtseg_core.resources import MODEL_HELP, find_model
from qtseg_core.training.boundary_eval import DEFAULT_TOLERANCE_MM
from qtseg_core.training.evaluation import EvaluationResult, evaluate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score a checkpoint on a data set (Dice, IoU, accuracy, MAE)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", type=find_model, help=MODEL_HELP)
    parser.add_argument("data", help="data-set folder (any supported layout)")
    parser.add_argument("--split", default="test", help="test (default), val, train or all")
    parser.add_argument("--layout", default="auto", help="data-set layout (default: detect)")
    parser.add_argument("--size", type=canvas_size,
                        help="canvas size (default: the checkpoint's)")
    parser.add_argument("--batch-size", type=positive_int, default=8)
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: automatic)")
    parser.add_argument("-o", "--output", type=output_folder,
                        help="folder for per_image.csv and summary.json")
    parser.add_argument(
        "--tolerance-mm", type=float, default=DEFAULT_TOLERANCE_MM,
        help=f"surface Dice tolerance in mm (pixels for 2D images; default "
             f"{DEFAULT_TOLERANCE_MM})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    output = args.output or Path(args.checkpoint).with_suffix("").as_posix() + f"-eval-{args.split}"
    result = evaluate(
        args.checkpoint,
        args.data,
        split=args.split,
        layout=args.layout,
        size=args.size,
        device=args.device,
        batch_size=args.batch_size,
        output_dir=output,
        tolerance_mm=args.tolerance_mm,
    )
    _print_summary(result)
    return 0


def _print_summary(result: EvaluationResult) -> None:
    summary = result.summary
    print(f"{summary['images']} images of {summary['data']} at {summary['size']}px")
    print(f"{'':10s} {'Dice':>7s} {'IoU':>7s} {'Acc':>7s} {'MAE':>7s}")
    for name, label in (("canvas", "paper"), ("original", "original")):
        scores = summary[name]
        print(
            f"{label:10s} {scores['dice']:7.2f} {scores['iou']:7.2f} "
            f"{scores['accuracy']:7.2f} {scores['mae']:7.2f}"
        )
        for class_name, per_class in scores.get("per_class", {}).items():
            print(f"  {class_name:8s} {per_class['dice']:7.2f} {per_class['iou']:7.2f}")
    for name, label in (("boundary", "per image"), ("volumes", "per volume")):
        if name in summary:
            print(_boundary_line(label, summary[name]))
    if summary["skipped"]:
        print(
            f"skipped {len(summary['skipped'])} unreadable: "
            + json.dumps(sorted(summary["skipped"]))
        )
    print(f"per image: {result.csv_path}\nsummary:   {result.json_path}")


def _boundary_line(label: str, scores: dict) -> str:
    """e.g. 'per volume: Dice 81.20  HD95 4.31 mm (1 missed)  NSD@2mm 77.50 (3 volumes)'."""
    def shown(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    unit, tolerance = scores["unit"], scores["tolerance"]
    dice = f"Dice {scores['dice']:.2f}  " if "dice" in scores else ""
    missed = f" ({scores['hd95_infinite']} missed)" if scores["hd95_infinite"] else ""
    count = f" ({scores['count']} volumes)" if "count" in scores else ""
    return (f"{label}: {dice}HD95 {shown(scores['hd95'])} {unit}{missed}  "
            f"NSD@{tolerance:g}{unit} {shown(scores['nsd'])}{count}")
