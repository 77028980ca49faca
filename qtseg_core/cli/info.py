"""``qtseg info [CHECKPOINT] [--size 512]``: parameters, FLOPs, output shapes, inference backend."""

from __future__ import annotations

import argparse

from qtseg_core.checkpoint import load_checkpoint
from qtseg_core.cli.arguments import canvas_size
from qtseg_core.model_info import describe
from qtseg_core.models import build_model
from qtseg_core.models.inference_fast import describe_default_backend
from qtseg_core.resources import MODEL_HELP, find_model


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="parameters, FLOPs and output shape of a model")
    parser.add_argument(
        "checkpoint", nargs="?", type=find_model,
        help=f"{MODEL_HELP} (default: the paper's untrained model)"
    )
    parser.add_argument("--size", type=canvas_size, default=512,
                        help="square input size (multiple of 32)")
    parser.add_argument("--model", default="qtseg", help="registered model when no checkpoint")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.checkpoint:
        checkpoint = load_checkpoint(args.checkpoint)
        model = checkpoint.model
        print(f"classes: {', '.join(checkpoint.metadata.class_names)}")
        for key, value in checkpoint.metadata.provenance.items():
            print(f"{key}: {value}")
    else:
        model = build_model(args.model)
    print(f"config: {model.config}")
    for line in describe(model, args.size).lines():
        print(line)
    print(f"inference backend on the CPU: {describe_default_backend()}")
    return 0
