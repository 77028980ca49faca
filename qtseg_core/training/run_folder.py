"""A run folder: resolved config, per-epoch log, last/best checkpoints and the resume state.

::

    RUN_DIR/
      config.json          the resolved TrainConfig (what --resume reads back)
      plan.json            with the "auto" preset: data fingerprint, device facts, the plan
      metrics.jsonl        one line per epoch (losses, validation scores, lr, time)
      run.json             version, git commit, command, environment, the exact file lists
      train.log            everything the run printed
      last.safetensors     weights after the latest epoch (product checkpoint format)
      best.safetensors     weights of the epoch with the best validation Dice
      resume.pt            optimiser, scheduler, RNG, counters (torch.load weights_only)
      tensorboard/         when tensorboard is installed
"""

from __future__ import annotations

import datetime
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from torch import nn

from qtseg_core.checkpoint import save_model
from qtseg_core.io import write_json_atomic
from qtseg_core.training.config import TrainConfig

CONFIG_FILE = "config.json"
PLAN_FILE = "plan.json"
LAST_CHECKPOINT = "last.safetensors"
BEST_CHECKPOINT = "best.safetensors"


def create_run_folder(config: TrainConfig, *, resume: bool) -> Path:
    """Make (or, when resuming, check) the run folder and write ``config.json``.

    A fresh run refuses a folder that already holds a run, so a second
    ``qtseg train`` never overwrites the first one's checkpoints.
    """
    run_dir = Path(config.output_dir)
    has_run = (run_dir / CONFIG_FILE).is_file()
    if resume and not has_run:
        raise FileNotFoundError(f"{run_dir} holds no run to resume (no {CONFIG_FILE}).")
    if not resume:
        check_free_for_new_run(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        write_config(run_dir, config)
    return run_dir


def check_free_for_new_run(run_dir: Path) -> None:
    """A fresh run never overwrites another run's files."""
    if (run_dir / CONFIG_FILE).is_file():
        raise ValueError(
            f"{run_dir} already holds a run; choose another --output folder, or continue it "
            f"with `qtseg train --resume {run_dir}`."
        )


def write_plan(run_dir: str | Path, plan: dict[str, Any]) -> Path:
    """Write ``plan.json`` (before the run starts; refuses a folder that holds a run)."""
    run_dir = Path(run_dir)
    check_free_for_new_run(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return write_json_atomic(run_dir / PLAN_FILE, plan)


def add_to_plan(run_dir: str | Path, **measured: Any) -> None:
    """Record what the run measured (epochs done, epoch time) under ``measured`` in plan.json."""
    path = Path(run_dir) / PLAN_FILE
    if path.is_file():
        plan = json.loads(path.read_text("utf-8"))
        plan["measured"] = {**plan.get("measured", {}), **measured}
        write_json_atomic(path, plan)


def write_config(run_dir: Path, config: TrainConfig) -> None:
    write_json_atomic(run_dir / CONFIG_FILE, config.to_dict())


def read_run_config(run_dir: str | Path) -> TrainConfig:
    """The TrainConfig a run folder was started with."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} is not a training run folder (no {CONFIG_FILE}); give the folder "
            "that `qtseg train --output` created."
        )
    return TrainConfig.from_dict(json.loads(path.read_text("utf-8")))


def provenance(config: TrainConfig, **extra: Any) -> dict[str, Any]:
    """What a checkpoint records about how it was made (plus ``extra`` scores)."""
    return {
        "data": config.data.root or f"{len(config.data.train_pairs or ())} listed images",
        "preset": config.preset,
        "command": shlex.join(sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seed": config.seed,
        "init_from": config.init_from,
        **extra,
    }


def save_run_checkpoint(
    model: nn.Module,
    path: Path,
    config: TrainConfig,
    class_info: tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]],
    **scores: Any,
) -> None:
    """Save ``model`` in the product format with classes, input size and provenance."""
    names, colors = class_info
    save_model(
        model,
        path,
        class_names=list(names),
        class_colors=[tuple(c) for c in colors],
        input_size=config.input_size,
        **provenance(config, **scores),
    )
