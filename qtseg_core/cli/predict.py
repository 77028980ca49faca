"""``qtseg predict CHECKPOINT INPUTS... -o OUT [--format F] [--probabilities] [--overlay]``.

Masks at each image's original size as PNG (0/255 for a binary model, class
indices otherwise). INPUTS are image files (PNG, JPEG, BMP, TIFF, DICOM),
volumes (NIfTI, NRRD, MetaImage, multi-frame DICOM, multi-page TIFF) or folders
of them; a folder's DICOM series is one volume. Volumes are segmented slice by
slice and written with their geometry: NIfTI label volumes by default,
DICOM-SEG referencing the series with --format dicom-seg, one PNG per slice
with --format png. Unreadable files are reported and skipped. An output folder
where a mask would replace an input image is refused before anything is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qtseg_core.checkpoint import Checkpoint, load_checkpoint
from qtseg_core.cli.arguments import canvas_size, positive_int
from qtseg_core.inference import PredictReport, predict_files, predictor_for
from qtseg_core.resources import MODEL_HELP, find_model
from qtseg_core.volumes.batch import predict_volume_files, split_inputs
from qtseg_core.volumes.outputs import VOLUME_FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="segment images with a checkpoint; masks at the original size",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", type=find_model, help=MODEL_HELP)
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
    parser.add_argument(
        "--format", choices=VOLUME_FORMATS, default="nifti",
        help="label volume format for volumes (default nifti; 2D images are always PNG)",
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: automatic)")
    parser.add_argument("--size", type=canvas_size,
                        help="canvas size (default: the checkpoint's)")
    parser.add_argument("--batch-size", type=positive_int, default=8)
    parser.add_argument(
        "--compile", action="store_true",
        help="torch.compile the model: faster on many images, slow first batch",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_checkpoint(args.checkpoint)  # the model with its classes and input size
    split = split_inputs(args.inputs)
    for path, reason in split.unreadable.items():
        print(f"skipped {path}: {reason}")
    if not split.images and not split.volumes:
        raise FileNotFoundError(
            f"no images or volumes to segment in {', '.join(map(str, args.inputs))}"
            f"{' (the files above are not readable)' if split.unreadable else ''}.")
    report = _predict_images(model, split.images, args) if split.images else PredictReport({}, {})
    volumes = predict_volume_files(
        predictor_for(model, device=args.device, size=args.size, compile=args.compile),
        split.volumes, Path(args.output), format=args.format,
        probabilities=args.probabilities, batch_size=args.batch_size,
    ) if split.volumes else None
    print(f"wrote {len(report.written)} mask(s) to {args.output}")
    if volumes is not None:
        print(f"wrote {len(volumes.written)} label volume(s) ({args.format}) to {args.output}")
    skipped = {**report.skipped, **(volumes.skipped if volumes else {})}
    for path, reason in skipped.items():
        print(f"skipped {path}: {reason}")
    written = len(report.written) + (len(volumes.written) if volumes else 0)
    return 1 if skipped and not written else 0


def _predict_images(model: Checkpoint, images: list[Path], args: argparse.Namespace
                    ) -> PredictReport:
    return predict_files(
        model,
        images,
        args.output,
        probabilities=args.probabilities,
        overlay=args.overlay,
        device=args.device,
        size=args.size,
        batch_size=args.batch_size,
        compile=args.compile,
    )
