"""``qtseg finetune WORKSPACE [--epochs N] [--size S] ...`` and ``--job JOB.json --events``.

With a WORKSPACE: open it for writing (close it in the app first), plan the
job, fine-tune the current model on the accepted and corrected images, and let
the no-regression gate decide whether the new model becomes current. Progress
lines go to stdout, training logs to stderr.

With ``--job JOB.json --events``: what the app runs in a subprocess; only the
training and scoring, speaking JSON lines (see ``qtseg_core.finetune.protocol``).
``--job`` without ``--events`` does the same with lines for people.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

from qtseg_core.cli.arguments import (
    canvas_size,
    non_negative_int,
    positive_float,
    positive_int,
)
from qtseg_core.finetune import (
    FinetuneCancelled,
    FinetuneError,
    FinetuneJob,
    FinetuneOutcome,
    FinetuneSettings,
    apply_outcome,
    install_candidate,
    plan_finetune,
    run_finetune,
    run_job_with_events,
)
from qtseg_core.finetune.evidence import CLEAR_GAIN, FEW_IMAGES
from qtseg_core.finetune.protocol import EXIT_CANCELLED, CancelFlag, progress_fields
from qtseg_core.finetune.settings import finetune_recipe
from qtseg_core.training import ProgressEvent
from qtseg_core.training.reporting import format_duration
from qtseg_core.workspace import Workspace, WorkspaceError

# flag -> (FinetuneSettings field, type)
SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--epochs": ("epochs", positive_int),
    "--patience": ("patience", non_negative_int),
    "--lr": ("lr", positive_float),
    "--batch-size": ("batch_size", positive_int),
    "--weight-decay": ("weight_decay", float),
    "--size": ("input_size", canvas_size),
    "--freeze-encoder-epochs": ("freeze_encoder_epochs", int),
    "--encoder-lr-scale": ("encoder_lr_scale", float),
    "--warmup-epochs": ("warmup_epochs", int),
    "--scheduler": ("scheduler", str),
    "--seed": ("seed", int),
    "--device": ("device", str),
}
# finetune_recipe sets these from the number of training images
BY_DATA_SIZE = frozenset({"epochs", "patience", "freeze_batchnorm"})


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="fine-tune a workspace's model on its accepted and corrected images",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("workspace", nargs="?", help="workspace folder (opened for writing)")
    parser.add_argument("--job", metavar="JOB_JSON", help="run a planned job only (the app)")
    parser.add_argument("--events", action="store_true", help="JSON lines on stdout (with --job)")
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument(
        "--install-if-better", action="store_true",
        help="also install a new model that is better on average on too few validation "
             f"images to clear the gate's bar (fewer than {FEW_IMAGES}: a gain of "
             f"{CLEAR_GAIN:.0f} Dice on each of at least 2); without it such a model is kept out")
    parser.add_argument(
        "--install-candidate", action="store_true",
        help="train nothing: install the last fine-tune's model that the gate kept out for "
             "too few validation images (what --install-if-better would have installed)")
    defaults = FinetuneSettings()
    for flag, (name, kind) in SETTINGS.items():
        default = ("the recipe's for the number of training images" if name in BY_DATA_SIZE
                   else getattr(defaults, name))
        parser.add_argument(flag, type=kind, dest=name, default=None, help=f"default: {default}")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.workspace) == bool(args.job):
        raise ValueError("Give either a WORKSPACE folder or --job JOB_JSON (not both).")
    if args.job and args.events:
        return run_job_with_events(args.job, stdin=sys.stdin)
    if args.events:
        raise ValueError("--events goes with --job JOB_JSON (the app's subprocess).")
    try:
        if args.job:
            return _run_job(FinetuneJob.load(args.job))
        if args.install_candidate:
            return _install_candidate(args.workspace, _settings(args))
        return _run_workspace(args.workspace, _settings(args), args.install_if_better)
    except WorkspaceError as error:
        raise FinetuneError(str(error)) from error


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The FinetuneSettings fields given by flags (empty when none are)."""
    given = {f.name: getattr(args, f.name) for f in fields(FinetuneSettings)
             if getattr(args, f.name, None) is not None}
    if args.no_augment:
        given["augment"] = False
    return given


def settings_with_flags(workspace: Workspace, given: dict[str, Any]) -> FinetuneSettings | None:
    """The flags over the recipe for the images the split trains on (so what a flag does
    not name, e.g. BatchNorm, stays the recipe's); None (the recipe) without flags."""
    if not given:
        return None
    batch = given.get("batch_size", FinetuneSettings.batch_size)
    return replace(finetune_recipe(len(workspace.split_plan().train), batch_size=batch), **given)


def _run_workspace(folder: str, given: dict[str, Any], install_unsure: bool = False) -> int:
    with Workspace.open(folder, create=False) as workspace:
        job = plan_finetune(workspace, settings_with_flags(workspace, given))
        print(f"job {job.output_dir}: {job.model_version}, {len(job.train)} training and "
              f"{len(job.val)} validation images, size {job.settings.input_size}", flush=True)
        outcome = _train(job)
        if outcome is None:
            return EXIT_CANCELLED
        result = apply_outcome(workspace, job, outcome, install_unsure=install_unsure)
    print(result.message, flush=True)
    if result.unsure:
        print(f"To install it: qtseg finetune {folder} --install-candidate (it is kept in "
              f"{job.output_dir} until the next fine-tune). The app shows old and new scores "
              "on each validation image and asks.", flush=True)
    return 0


def _install_candidate(folder: str, given: dict[str, Any]) -> int:
    """Install the kept candidate; 1 when the gate still refuses it (the model changed)."""
    if given:
        raise ValueError(f"--install-candidate trains nothing; drop the training settings "
                         f"{sorted(given)}, or fine-tune again without --install-candidate.")
    with Workspace.open(folder, create=False) as workspace:
        result = install_candidate(workspace)
    print(result.message, flush=True)
    return 0 if result.accepted else 1


def _run_job(job: FinetuneJob) -> int:
    outcome = _train(job)
    if outcome is None:
        return EXIT_CANCELLED
    print(f"{outcome.summary}; candidate {outcome.candidate_path}", flush=True)
    return 0


def _train(job: FinetuneJob) -> FinetuneOutcome | None:
    """Run the job with progress lines; None when cancelled (Ctrl-C / SIGTERM)."""
    cancel = CancelFlag()
    previous = {sig: signal.signal(sig, cancel.set) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run_finetune(job, progress=_print_progress, cancel=cancel,
                            status=lambda text: print(text, flush=True))
    except FinetuneCancelled as stop:
        print(stop, flush=True)
        return None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_progress(event: ProgressEvent) -> None:
    values = progress_fields(event)
    print(f"epoch {values['epoch']}/{values['epochs']} loss {values['loss']:.4f} "
          f"val Dice {values['val_dice']:.1f} (best {values['best_val_dice']:.1f}) "
          f"ETA {format_duration(values['eta_s'])}", flush=True)
