"""Training, validation and evaluation of QTSeg: a plain Python API behind ``qtseg train|eval``.

``train(config) -> RunResult`` is what the CLI, the fine-tune feature and the
tests call; ``evaluate(...)`` scores a checkpoint the way the paper does.
"""

from __future__ import annotations

from qtseg_core.training.autoconfig import auto_configure
from qtseg_core.training.config import (
    PRESETS,
    DataConfig,
    TrainConfig,
    read_config_file,
    resolve_config,
)
from qtseg_core.training.evaluation import EvaluationResult, evaluate
from qtseg_core.training.reporting import ProgressEvent, read_metrics
from qtseg_core.training.run import RunResult, resume_training, train

__all__ = [
    "PRESETS",
    "DataConfig",
    "EvaluationResult",
    "ProgressEvent",
    "RunResult",
    "TrainConfig",
    "auto_configure",
    "evaluate",
    "read_config_file",
    "read_metrics",
    "resolve_config",
    "resume_training",
    "train",
]
