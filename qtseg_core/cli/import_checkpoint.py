"""``qtseg import-checkpoint AUTHORS.pt -o model.safetensors``."""

from __future__ import annotations

import argparse

from qtseg_core.official_checkpoint import import_checkpoint


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-checkpoint", help="convert a checkpoint published by the QTSeg authors"
    )
    parser.add_argument("source", help="the authors' .pt/.pth file")
    parser.add_argument("-o", "--output", required=True, help="the .safetensors file to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = import_checkpoint(args.source, args.output)
    config = model.config
    print(
        f"wrote {args.output}: {config.num_classes} classes, {config.in_channels} input "
        f"channels, {sum(p.numel() for p in model.parameters()):,} parameters"
    )
    return 0
