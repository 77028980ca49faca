"""``qtseg train DATA -o RUN_DIR [--preset NAME] [--config FILE] [flags]`` and ``--resume RUN_DIR``.

Only parses arguments: settings resolve as defaults < preset < config file <
flags (``qtseg_core.training.resolve_config``), then ``qtseg_core.training.train``
runs. Under ``torchrun --nproc-per-node N -m qtseg_core train ...`` every
process runs this command and trains one DDP replica.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from qtseg_core.training import (
    PRESETS,
    RunResult,
    read_config_file,
    resolve_config,
    resume_training,
    train,
)

# flag -> (config section or None for top level, config key, type)
SETTINGS: dict[str, tuple[str | None, str, type]] = {
    "--epochs": (None, "epochs", int),
    "--batch-size": (None, "batch_size", int),
    "--grad-accum": (None, "grad_accum_steps", int),
    "--size": (None, "input_size", int),
    "--optimizer": (None, "optimizer", str),
    "--lr": (None, "lr", float),
    "--weight-decay": (None, "weight_decay", float),
    "--scheduler": (None, "scheduler", str),
    "--step-size": (None, "step_size", int),
    "--min-lr": (None, "min_lr", float),
    "--precision": (None, "precision", str),
    "--freeze-encoder-epochs": (None, "freeze_encoder_epochs", int),
    "--patience": (None, "early_stopping_patience", int),
    "--seed": (None, "seed", int),
    "--device": (None, "device", str),
    "--init-from": (None, "init_from", str),
    "--log-every": (None, "log_every", int),
    "--layout": ("data", "layout", str),
    "--split": ("data", "split", str),
    "--fold": ("data", "fold", int),
    "--num-folds": ("data", "num_folds", int),
    "--group-pattern": ("data", "group_pattern", str),
    "--val-fraction": ("data", "val_fraction", float),
    "--workers": ("data", "num_workers", int),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train QTSeg on a data set (paper recipe by default)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", nargs="?", help="data-set folder (any supported layout)")
    parser.add_argument("-o", "--output", help="run folder to create (checkpoints, logs)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="named recipe (default paper)")
    parser.add_argument("--config", metavar="FILE", help="JSON or TOML file of settings")
    parser.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="network setting, e.g. base_width=8 (repeatable)",
    )
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument("--no-channels-last", action="store_true", help="keep NCHW on CUDA")
    parser.add_argument("--no-tensorboard", action="store_true", help="skip TensorBoard logs")
    for flag, (_, key, kind) in SETTINGS.items():
        parser.add_argument(flag, type=kind, dest=key, default=None)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.resume:
        result = resume_training(args.resume, **_overrides(args, resuming=True))
    else:
        if not args.output:
            raise ValueError("Give the run folder to create with -o/--output RUN_DIR.")
        file_values = read_config_file(args.config) if args.config else {}
        result = train(resolve_config(args.preset, file_values, _overrides(args, resuming=False)))
    _print_result(result)
    return 130 if result.status == "interrupted" else 0


def _overrides(args: argparse.Namespace, *, resuming: bool) -> dict[str, Any]:
    """Flags the user gave, as a nested config dict (absent flags are left out)."""
    values: dict[str, Any] = {"data": {}}
    for section, key, _ in SETTINGS.values():
        value = getattr(args, key)
        if value is not None:
            (values["data"] if section else values)[key] = value
    if args.data and not resuming:
        values["data"]["root"] = args.data
    if args.output and not resuming:
        values["output_dir"] = args.output
    if args.model_arg:
        values["model"] = dict(_model_arg(text) for text in args.model_arg)
    _switches(args, values)
    if resuming:  # a resumed run keeps its recipe; only its length and device may change
        return {key: values[key] for key in ("epochs", "device") if key in values}
    return values if values["data"] else {k: v for k, v in values.items() if k != "data"}


def _switches(args: argparse.Namespace, values: dict[str, Any]) -> None:
    if args.no_augment:
        values["data"]["augment"] = False
    if args.no_channels_last:
        values["channels_last"] = False
    if args.no_tensorboard:
        values["tensorboard"] = False


def _model_arg(text: str) -> tuple[str, Any]:
    """ "base_width=8" -> ("base_width", 8); values parse as JSON ("[1,1,1]"), else strings."""
    key, separator, raw = text.partition("=")
    if not separator:
        raise ValueError(f"--model-arg {text!r}: write KEY=VALUE, e.g. base_width=8.")
    try:
        return key.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip(), raw


def _print_result(result: RunResult) -> None:
    print(
        f"{result.status} after {result.epochs_completed} epoch(s); best validation Dice "
        f"{result.best_val_dice:.2f} at epoch {result.best_epoch + 1}\n"
        f"best: {result.best_checkpoint}\nlast: {result.last_checkpoint}\nrun:  {result.run_dir}",
        file=sys.stdout,
    )
    for path, reason in result.skipped_images.items():
        print(f"skipped unreadable: {path} ({reason})")
