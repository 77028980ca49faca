"""The ``qtseg`` command: thin argparse front ends over the plain Python API."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from qtseg_core import __version__

# command -> (module in qtseg_core.cli with ``register(subparsers)``, one-line summary).
# Only the module of the command being run is imported, so ``qtseg --help`` and
# ``qtseg --version`` do not load torch; the summaries list the commands meanwhile.
COMMANDS = {
    "info": ("info", "parameters, FLOPs and output shape of a model"),
    "import-checkpoint": ("import_checkpoint", "convert a checkpoint published by the QTSeg "
                          "authors"),
    "train": ("train", "train QTSeg on a data set (paper recipe by default)"),
    "eval": ("eval", "score a checkpoint on a data set (Dice, IoU, accuracy, MAE)"),
    "predict": ("predict", "segment images with a checkpoint; masks at the original size"),
    "finetune": ("finetune", "fine-tune a workspace's model on its accepted and corrected "
                 "images"),
    "export": ("export", "export a workspace's reviewed masks (NIfTI, DICOM-SEG, nnU-Net, "
               "COCO)"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` (or None: all of them) fully registered."""
    parser = argparse.ArgumentParser(
        prog="qtseg", description="Train, evaluate and run the QTSeg segmentation network."
    )
    parser.add_argument("--version", action="version", version=f"qtseg-studio {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(f"qtseg_core.cli.{module}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    try:
        args = build_parser(command if command in COMMANDS else "").parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error argparse already printed
        return stop.code if isinstance(stop.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except _user_errors() as error:
        print(f"qtseg {args.command}: error: {_reason(error)}", file=sys.stderr)
        return 2


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix; imported late (the workspace package loads torch,
    and ``qtseg --help`` must not)."""
    from qtseg_core.workspace.errors import WorkspaceError

    return ValueError, OSError, RuntimeError, WorkspaceError


def _reason(error: BaseException) -> str:
    """The message for people; an OSError's names the file (e.g. -o is a file)."""
    if isinstance(error, OSError) and error.filename and not isinstance(error, FileNotFoundError):
        return f"{error.strerror or error} ('{error.filename}'); check that path."
    return str(error)
