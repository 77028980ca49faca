"""``qtseg predict CHECKPOINT INPUTS... -o OUT [--format F] [options]``.

Masks at each image's original size as PNG (0/255 for a binary model, class
indices otherwise). INPUTS are image files (PNG, JPEG, BMP, TIFF, DICOM),
volumes (NIfTI, NRRD, MetaImage, multi-frame DICOM, multi-page TIFF), folders
of them (a folder's DICOM series is one volume), or .txt lists of image files
or folders (one a line, relative to the list's folder); unreadable files are
reported and skipped. Volumes are segmented slice by slice and written with
their geometry: NIfTI label volumes by default, DICOM-SEG referencing the
series with --format dicom-seg, one PNG per slice with --format png. A folder's
images keep their path inside it (with --recursive, subfolders too); when two
inputs have the same name the later ones get _2, _3... and OUT/manifest.csv
maps every input to its mask. An output folder where a mask would replace an
input image is refused before anything is written.

Many images: --skip-existing resumes an interrupted run; --num-parts N
--part-id K predicts one of N disjoint parts (one per machine or GPU); under
`torchrun --nproc-per-node G -m qtseg_core predict ...` each rank takes its
share on its own GPU (gloo on the CPU) and writes it into OUT, which must be one
folder every rank sees (checked at start).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from qtseg_core.cli.arguments import canvas_size, non_negative_int, positive_int
from qtseg_core.resources import MODEL_HELP, find_model
from qtseg_core.volumes.outputs import VOLUME_FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="segment images with a checkpoint; masks at the original size",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", type=find_model, help=MODEL_HELP)
    parser.add_argument("inputs", nargs="+", help="image files, folders or .txt file lists")
    parser.add_argument("-o", "--output", required=True, help="folder for the masks")
    _add_output_options(parser)
    _add_scale_options(parser)
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


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--probabilities", action="store_true",
        help="also write <name>_probability.png (foreground probability x255) and the float "
             "maps as <name>_probabilities.npz (volumes: one .npz with the affine)",
    )
    parser.add_argument(
        "--overlay", action="store_true",
        help="also write <name>_overlay.png (image with the mask tinted)",
    )
    parser.add_argument(
        "--uncertainty", action="store_true",
        help="also write <name>_uncertainty.png (normalised entropy x255)",
    )


def _add_scale_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recursive", action="store_true", help="also read subfolders")
    parser.add_argument(
        "--skip-existing", action="store_true",
        help="leave out inputs whose outputs are all there (resume a run)",
    )
    parser.add_argument("--num-parts", type=positive_int, default=1,
                        help="split the inputs in N parts")
    parser.add_argument("--part-id", type=non_negative_int, default=0,
                        help="the part to predict, 0..N-1")
    parser.add_argument(
        "--workers", type=non_negative_int, default=2,
        help="threads reading and (as many) writing beside the model; 0: all in one thread",
    )


def run(args: argparse.Namespace) -> int:
    from qtseg_core.checkpoint import read_metadata  # torch loads here, not for --help
    from qtseg_core.volumes.batch import split_inputs

    read_metadata(args.checkpoint)  # a missing or bad checkpoint is the first error
    split = split_inputs(args.inputs)
    for path, reason in split.unreadable.items():
        print(f"skipped {path}: {reason}")
    if not split.images and not split.volumes:
        raise FileNotFoundError(
            f"no images or volumes to segment in {', '.join(map(str, args.inputs))}"
            f"{' (the files above are not readable)' if split.unreadable else ''}.")
    with _torchrun_ranks(args) as rank:
        return _predict(split, args, rank)


def _predict(split: object, args: argparse.Namespace, rank: str) -> int:
    # Without volumes the 2D path takes the inputs as given (folders keep their names,
    # --recursive, .txt lists); with volumes, the 2D files found beside them.
    images = args.inputs if not split.volumes else split.images
    report = _predict_images(images, args) if split.images else None
    volumes = _predict_volumes(split.volumes, args) if split.volumes else None
    written = len(report.written) if report else 0
    print(f"{rank}wrote {written} mask(s) to {args.output}")
    if report and report.existing:
        print(f"{rank}left {len(report.existing)} finished input(s) as they were "
              "(--skip-existing)")
    if report and report.leftovers:
        print(f"{rank}removed {len(report.leftovers)} temporary file(s) a stopped run left "
              f"in {args.output}")
    if report and report.manifest is not None:
        print(f"some inputs shared a name: {report.manifest} maps each input to its mask")
    if volumes is not None:
        print(f"{rank}wrote {len(volumes.written)} label volume(s) ({args.format}) to "
              f"{args.output}")
        written += len(volumes.written)
    skipped = {**(report.skipped if report else {}), **(volumes.skipped if volumes else {})}
    for path, reason in skipped.items():
        print(f"skipped {path}: {reason}")
    return 1 if skipped and not written else 0


@contextlib.contextmanager
def _torchrun_ranks(args: argparse.Namespace) -> Iterator[str]:
    """Under torchrun: join the ranks and check that OUT is one folder for all of them
    (every rank fails at start otherwise); yields "rank R/W: " for the summary lines,
    "" in a single process."""
    from qtseg_core.training.distributed import check_shared_folder, setup_distributed

    context = setup_distributed(args.device)
    if not context.enabled:
        yield ""
        return
    import torch.distributed as dist

    try:
        check_shared_folder(Path(args.output), context,
                            "every rank writes its share of the masks there")
        yield f"rank {context.rank}/{context.world_size}: "
    finally:
        dist.destroy_process_group()


def _predict_images(images: list, args: argparse.Namespace) -> object:
    from qtseg_core.predict import predict_files

    return predict_files(
        args.checkpoint, images, args.output,
        probabilities=args.probabilities, overlay=args.overlay, uncertainty=args.uncertainty,
        device=args.device, size=args.size, batch_size=args.batch_size, workers=args.workers,
        compile=args.compile, recursive=args.recursive, skip_existing=args.skip_existing,
        num_parts=args.num_parts, part_id=args.part_id,
    )


def _predict_volumes(volumes: list, args: argparse.Namespace) -> object:
    from qtseg_core.inference import predictor_for
    from qtseg_core.volumes.batch import predict_volume_files

    predictor = predictor_for(args.checkpoint, device=args.device, size=args.size,
                              compile=args.compile)
    return predict_volume_files(
        predictor, volumes, Path(args.output), format=args.format,
        probabilities=args.probabilities, batch_size=args.batch_size,
        num_parts=args.num_parts, part_id=args.part_id,
    )
