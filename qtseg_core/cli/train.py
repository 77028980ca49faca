"""``qtseg train DATA -o RUN_DIR [--preset NAME] [--config FILE] [flags]`` and ``--resume RUN_DIR``.

Only parses arguments: settings resolve as defaults < preset < plan < config
file < flags (``qtseg_core.training.auto_configure``), then
``qtseg_core.training.train`` runs. Without ``--preset`` the recipe is planned
from the data and the device (``--preset auto``: printed and written to
RUN_DIR/plan.json); ``--preset paper`` is the published recipe exactly.
``--budget-minutes M`` trains the best model that fits in M minutes.
Under ``torchrun --nproc-per-node N -m qtseg_core train ...`` every
process runs this command and trains one DDP replica.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any

from qtseg_core.cli.arguments import (
    canvas_size,
    fraction,
    non_negative_int,
    output_folder,
    positive_float,
    positive_int,
)
from qtseg_core.data import LAYOUTS
from qtseg_core.training import (
    PRESETS,
    DataConfig,
    RunResult,
    TrainConfig,
    auto_configure,
    read_config_file,
    resume_training,
    train,
)
from qtseg_core.training.autoconfig import describe
from qtseg_core.training.run_folder import add_to_plan, write_plan

DESCRIPTION = """\
Train QTSeg on a data set and write a run folder (best and last checkpoints,
config.json, metrics.jsonl, plan.json). Settings resolve as: the paper's
defaults, then --preset (default auto: a plan made from the data and the
device, printed and saved as plan.json; --preset paper: the published recipe
exactly), then --config FILE, then the flags below. A flag's "paper"
value is what the published recipe uses when nothing else sets it.

  qtseg train DATA -o runs/x --preset isic2016
  qtseg train --resume runs/x
  torchrun --nproc-per-node 4 -m qtseg_core train DATA -o runs/x   (one DDP replica each)
"""

# flag -> (config section or None for top level, config key, type)
SETTINGS: dict[str, tuple[str | None, str, Callable[[str], Any]]] = {
    "--epochs": (None, "epochs", positive_int),
    "--batch-size": (None, "batch_size", positive_int),
    "--grad-accum": (None, "grad_accum_steps", positive_int),
    "--size": (None, "input_size", canvas_size),
    "--optimizer": (None, "optimizer", str),
    "--lr": (None, "lr", positive_float),
    "--weight-decay": (None, "weight_decay", float),
    "--scheduler": (None, "scheduler", str),
    "--step-size": (None, "step_size", int),
    "--min-lr": (None, "min_lr", float),
    "--precision": (None, "precision", str),
    "--freeze-encoder-epochs": (None, "freeze_encoder_epochs", int),
    "--patience": (None, "early_stopping_patience", non_negative_int),
    "--ema-decay": (None, "ema_decay", float),
    "--budget-minutes": (None, "budget_minutes", positive_float),
    "--warmup-epochs": (None, "warmup_epochs", non_negative_int),
    "--seed": (None, "seed", int),
    "--device": (None, "device", str),
    "--init-from": (None, "init_from", str),
    "--log-every": (None, "log_every", positive_int),
    "--layout": ("data", "layout", str),
    "--split": ("data", "split", str),
    "--fold": ("data", "fold", int),
    "--num-folds": ("data", "num_folds", int),
    "--group-pattern": ("data", "group_pattern", str),
    "--val-fraction": ("data", "val_fraction", fraction),
    "--workers": ("data", "num_workers", non_negative_int),
}

FLAG_HELP = {
    "--epochs": "training epochs",
    "--batch-size": "images per optimiser step (per process under torchrun)",
    "--grad-accum": "batches whose gradients add up before each optimiser step",
    "--size": "square canvas side in pixels, a multiple of 32 (longer image side resized to it)",
    "--optimizer": "optimiser",
    "--lr": "initial learning rate",
    "--weight-decay": "weight decay",
    "--scheduler": "learning-rate schedule: step (x0.5 every --step-size epochs), poly, "
                   "cosine (after --warmup-epochs), constant",
    "--warmup-epochs": "epochs of linearly rising learning rate before --scheduler cosine",
    "--budget-minutes": "train the best model that fits in this many minutes on this device: "
                        "the speed is measured, the run stops before an epoch that would "
                        "overrun and keeps the best validation epoch (default: no limit)",
    "--step-size": "epochs between learning-rate halvings (--scheduler step)",
    "--min-lr": "lowest learning rate the schedule goes to",
    "--precision": "arithmetic on CUDA (fp32 on the CPU whatever is asked)",
    "--freeze-encoder-epochs": "epochs that train the decoder only, encoder frozen",
    "--patience": "stop after this many epochs without a better validation Dice; 0 never stops",
    "--ema-decay": "validate and save a moving average of the weights with this decay per "
                   "step (e.g. 0.95); 0 uses the trained weights themselves",
    "--seed": "random seed (splits of K-fold data, shuffling, augmentation)",
    "--device": "cpu, cuda, cuda:N or mps (paper: the GPU when there is one, else cpu)",
    "--init-from": "a .safetensors checkpoint whose weights start the run",
    "--log-every": "print the training loss every N steps",
    "--layout": "data-set layout (auto: detected from the folder)",
    "--split": "validation split: auto (the layout's official split, else by volume or "
               "K-fold), kfold, grouped",
    "--fold": "which fold validates (--split kfold)",
    "--num-folds": "number of folds (--split kfold)",
    "--group-pattern": "regex with one group naming an image's volume/patient, e.g. "
                       "'(.+)_z\\d+'; a volume never lands on both sides",
    "--val-fraction": "fraction of the groups that validate (--split grouped)",
    "--workers": "data-loader worker processes (0: load in the training process)",
}

FLAG_CHOICES = {
    "--optimizer": ("adamw", "sgd"),
    "--scheduler": ("step", "poly", "cosine", "constant"),
    "--precision": ("fp32", "bf16", "fp16"),
    "--layout": ("auto", *LAYOUTS),
    "--split": ("auto", "kfold", "grouped"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train QTSeg on a data set (recipe planned from the data by default)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", nargs="?", help="data-set folder (any supported layout)")
    parser.add_argument("-o", "--output", type=output_folder,
                        help="run folder to create (checkpoints, logs)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="named recipe; default auto: planned from the data and device (see plan.json)",
    )
    parser.add_argument("--config", metavar="FILE", help="JSON or TOML file of settings")
    parser.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="network setting, e.g. base_width=8 (repeatable)",
    )
    parser.add_argument("--interactive", action="store_true",
                        help="click-conditioned model, trained with simulated clicks "
                        "(qtseg_core.interactive; paper: automatic only)")
    parser.add_argument("--no-augment", action="store_true",
                        help="train without the paper's augmentation (paper: augment)")
    parser.add_argument("--no-channels-last", action="store_true",
                        help="keep NCHW memory layout on CUDA (paper: channels-last)")
    parser.add_argument("--no-tensorboard", action="store_true",
                        help="skip TensorBoard logs (written when tensorboard is installed)")
    parser.add_argument(
        "--sync-bn", action="store_true",
        help="multi-GPU: BatchNorm statistics over the global batch (SyncBatchNorm)",
    )
    defaults = paper_defaults()
    for flag, (_, key, kind) in SETTINGS.items():
        default = defaults.get(key)
        paper = "" if default is None or "(paper:" in FLAG_HELP[flag] else f" (paper: {default})"
        parser.add_argument(flag, type=kind, dest=key, default=None,
                            choices=FLAG_CHOICES.get(flag), help=FLAG_HELP[flag] + paper)
    parser.set_defaults(func=run)


def paper_defaults() -> dict[str, Any]:
    """Each setting's value in the published recipe (TrainConfig's and DataConfig's defaults)."""
    values = {f.name: f.default for f in fields(DataConfig)}
    values.update({f.name: f.default for f in fields(TrainConfig) if f.name != "data"})
    return {key: value for key, value in values.items() if value is not MISSING}


def run(args: argparse.Namespace) -> int:
    if args.resume:
        result = resume_training(args.resume, **_overrides(args, resuming=True))
    else:
        if not args.output:
            raise ValueError("Give the run folder to create with -o/--output RUN_DIR.")
        file_values = read_config_file(args.config) if args.config else {}
        config, report = auto_configure(args.preset, file_values, _overrides(args, resuming=False))
        if report is not None and _is_main_process():
            print(describe(report), flush=True)
            write_plan(config.output_dir, report.to_dict())
        result = train(config)
        if report is not None and _is_main_process():
            add_to_plan(result.run_dir, **_measured(result))
    if _is_main_process():  # under torchrun one summary, not one per rank
        _print_result(result)
    return 130 if result.status == "interrupted" else 0


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def _measured(result: RunResult) -> dict[str, Any]:
    times = [record["epoch_time_s"] for record in result.history]
    return {
        "status": result.status,
        "epochs_completed": result.epochs_completed,
        "best_epoch": result.best_epoch + 1,
        "best_val_dice": round(result.best_val_dice, 2),
        "mean_epoch_s": round(sum(times) / len(times), 2) if times else None,
    }


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
        _warn_ignored(args)
        return {key: values[key] for key in RESUMABLE if key in values}
    return values if values["data"] else {k: v for k, v in values.items() if k != "data"}


RESUMABLE = ("epochs", "device")


def _warn_ignored(args: argparse.Namespace) -> None:
    """Say which flags --resume does not apply (the run keeps its own recipe)."""
    given = [flag for flag, (_, key, _) in SETTINGS.items()
             if key not in RESUMABLE and getattr(args, key) is not None]
    given += [flag for flag, on in (("DATA", args.data), ("-o", args.output),
                                    ("--preset", args.preset), ("--config", args.config),
                                    ("--model-arg", args.model_arg),
                                    ("--no-augment", args.no_augment),
                                    ("--no-channels-last", args.no_channels_last),
                                    ("--no-tensorboard", args.no_tensorboard),
                                    ("--sync-bn", args.sync_bn),
                                    ("--interactive", args.interactive)) if on]
    if given:
        print(f"qtseg train --resume: ignoring {', '.join(given)}: a resumed run keeps its "
              "recipe (only --epochs and --device apply).", file=sys.stderr, flush=True)


def _switches(args: argparse.Namespace, values: dict[str, Any]) -> None:
    if args.no_augment:
        values["data"]["augment"] = False
    if args.no_channels_last:
        values["channels_last"] = False
    if args.no_tensorboard:
        values["tensorboard"] = False
    if args.sync_bn:
        values["sync_bn"] = True
    if args.interactive:
        values["model"] = {**values.get("model", {}), "click_inputs": True}


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
    clicked = bool(result.history) and "val_click_dice" in result.history[-1]
    score = "validation Dice after clicks" if clicked else "validation Dice"
    print(
        f"{result.status} after {result.epochs_completed} epoch(s); best {score} "
        f"{result.best_val_dice:.2f} at epoch {result.best_epoch + 1}\n"
        f"best: {result.best_checkpoint}\nlast: {result.last_checkpoint}\nrun:  {result.run_dir}",
        file=sys.stdout,
    )
    for path, reason in result.skipped_images.items():
        print(f"skipped unreadable: {path} ({reason})")
