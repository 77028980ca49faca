"""``run.json``: what made a run, so it can be reported and repeated (as nnU-Net's debug.json).

Written once when a run starts (a resumed run adds a ``resumed`` entry): the
package version and git commit when the code runs from a git checkout, the
command, the environment (python, torch, CUDA, GPUs, host, world size) and the
exact image files on each side of the split. The per-epoch figures are in
``metrics.jsonl`` and everything printed is in ``train.log``.
"""

from __future__ import annotations

import datetime
import json
import platform
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from qtseg_core import __version__
from qtseg_core.data import open_dataset
from qtseg_core.data.samples import Sample
from qtseg_core.io import write_json_atomic
from qtseg_core.training.config import DataConfig
from qtseg_core.training.samples import TrainingData

RUN_RECORD = "run.json"


def write_run_record(run_dir: Path, data_config: DataConfig, data: TrainingData,
                     world_size: int, *, resume: bool) -> None:
    """Write ``run_dir/run.json`` (on resume: add when and where it continued)."""
    path = run_dir / RUN_RECORD
    if resume and path.is_file():
        record = json.loads(path.read_text("utf-8"))
        record.setdefault("resumed", []).append(_start(world_size))
    else:
        record = {"qtseg_studio": __version__, "git_commit": git_commit(), **_start(world_size),
                  "files": file_lists(data_config, data)}
    write_json_atomic(path, record)


def git_commit() -> str | None:
    """The commit of the checkout the code runs from (None for an installed wheel)."""
    source = Path(__file__).resolve().parents[2]
    if not (source / ".git").exists():
        return None
    try:
        result = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def environment(world_size: int) -> dict[str, Any]:
    """Python, torch, CUDA and GPU names, operating system, host and processes."""
    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpu_threads": torch.get_num_threads(),
        "world_size": world_size,
    }


def file_lists(data_config: DataConfig, data: TrainingData) -> dict[str, list[str]]:
    """Image files on each side; ``held_out``: the data folder's images training never saw."""
    lists = {"train": _paths(data.train), "val": _paths(data.val)}
    if data_config.root is not None:
        used = set(lists["train"]) | set(lists["val"])
        every = _paths(open_dataset(Path(data_config.root), data_config.layout).samples)
        lists["held_out"] = [path for path in every if path not in used]
    return lists


def _start(world_size: int) -> dict[str, Any]:
    return {
        "command": shlex.join(sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(world_size),
    }


def _paths(samples: list[Sample]) -> list[str]:
    return sorted(str(sample.image_path) for sample in samples)
