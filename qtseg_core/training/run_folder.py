"""A run folder: resolved config, per-epoch log, last/best checkpoints and the resume state.

::

    RUN_DIR/
      config.json          the resolved TrainConfig (what --resume reads back)
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
    if not resume and has_run:
        raise ValueError(
            f"{run_dir} already holds a run; choose another --output folder, or continue it "
            f"with `qtseg train --resume {run_dir}`."
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        write_config(run_dir, config)
    return run_dir


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
