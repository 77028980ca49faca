"""``qtseg predict CHECKPOINT INPUTS... -o OUT [--probabilities] [--overlay] [--device]``.

Masks at each image's original size as PNG (0/255 for a binary model, class
indices otherwise). INPUTS are image files (PNG, JPEG, BMP, TIFF, DICOM) or
folders of them; unreadable files are reported and skipped.
"""

from __future__ import annotations

import argparse

from qtseg_core.inference import predict_files


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="segment images with a checkpoint; masks at the original size",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", help=".safetensors checkpoint")
    parser.add_argument("inputs", nargs="+", help="image files or folders")
    parser.add_argument("-o", "--output", required=True, help="folder for the masks")
    parser.add_argument(
        "--probabilities",
        action="store_true",
        help="also write <name>_probability.png (foreground probability x255)",
    )
    parser.add_argument(
        "--overlay",
        action="store_true",
        help="also write <name>_overlay.png (image with the mask tinted)",
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: automatic)")
    parser.add_argument("--size", type=int, help="canvas size (default: the checkpoint's)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--compile", action="store_true",
        help="torch.compile the model: faster on many images, slow first batch",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = predict_files(
        args.checkpoint,
        args.inputs,
        args.output,
        probabilities=args.probabilities,
        overlay=args.overlay,
        device=args.device,
        size=args.size,
        batch_size=args.batch_size,
        compile=args.compile,
    )
    print(f"wrote {len(report.written)} mask(s) to {args.output}")
    for path, reason in report.skipped.items():
        print(f"skipped {path}: {reason}")
    return 1 if report.skipped and not report.written else 0
