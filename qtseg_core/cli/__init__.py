"""The ``qtseg`` command: thin argparse front ends over the plain Python API."""

from __future__ import annotations

import argparse
import importlib
import sys

from qtseg_core import __version__

# Each module has ``register(subparsers)`` which adds one sub-command whose
# ``func(args) -> int`` calls a plain function of qtseg_core.
COMMAND_MODULES = (
    "info", "import_checkpoint", "train", "eval", "predict", "finetune", "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qtseg", description="Train, evaluate and run the QTSeg segmentation network."
    )
    parser.add_argument("--version", action="version", version=f"qtseg-studio {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"qtseg_core.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"qtseg {args.command}: error: {error}", file=sys.stderr)
        return 2
