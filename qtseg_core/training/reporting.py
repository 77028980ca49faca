"""What a run tells people: progress on stderr, ``metrics.jsonl``, TensorBoard when installed.

Only rank 0 reports. The progress callback (``ProgressEvent``) is how the app's
fine-tune dialog shows epoch, loss, validation Dice and time left.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"


@dataclass(frozen=True)
class ProgressEvent:
    """One epoch's summary for a progress callback; ``eta_s`` is the estimated time left.

    ``val_dice`` is the score that picks the best epoch, as ``best_val_dice``: for a
    click-conditioned model the validation Dice after the robot's clicks (``val_click_dice``).
    """

    epoch: int
    epochs: int
    train_loss: float
    val_dice: float
    best_val_dice: float
    eta_s: float


ProgressCallback = Callable[[ProgressEvent], None]


def format_duration(seconds: float) -> str:
    """e.g. 3725 -> '1:02:05'."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class StepMeter:
    """Running loss and throughput within an epoch, printed every ``every`` steps."""

    def __init__(self, *, epoch: int, epochs: int | None, steps: int, every: int,
                 stream: TextIO | None):
        """``epochs=None``: a run that stops on time (its lines say "epoch N", no total)."""
        self.epoch, self.epochs, self.steps, self.every = epoch, epochs, steps, max(1, every)
        self.stream = stream
        self.start = time.perf_counter()
        self.loss_sum, self.count, self.images = 0.0, 0, 0

    def update(self, step: int, loss: float, batch_images: int) -> None:
        """Add one optimiser step's loss; print a line on the ``every``-th step and the last."""
        self.loss_sum += loss
        self.count += 1
        self.images += batch_images
        if (step + 1) % self.every == 0 or step + 1 == self.steps:
            self._print(step)

    @property
    def mean_loss(self) -> float:
        return self.loss_sum / max(1, self.count)

    @property
    def images_per_s(self) -> float:
        return self.images / max(1e-9, time.perf_counter() - self.start)

    def _print(self, step: int) -> None:
        if self.stream is None:
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / (step + 1) * (self.steps - step - 1)
        print(
            f"epoch {self.epoch + 1}{'' if self.epochs is None else f'/{self.epochs}'} "
            f"step {step + 1}/{self.steps} "
            f"loss {self.mean_loss:.4f} {self.images_per_s:.1f} img/s "
            f"epoch ETA {format_duration(eta)}",
            file=self.stream,
            flush=True,
        )


class RunReporter:
    """Writes the per-epoch log of a run folder and, when available, TensorBoard scalars."""

    def __init__(
        self, run_dir: Path | None, *, tensorboard: bool, stream: TextIO | None = sys.stderr
    ):
        self.run_dir = run_dir
        self.stream = stream
        self.writer = _open_tensorboard(run_dir) if (run_dir and tensorboard) else None
        if run_dir and tensorboard and self.writer is None:  # said once per run
            self.message("TensorBoard logging is on but tensorboard is not installed; "
                         "metrics.jsonl still has every epoch. Install it with "
                         "pip install 'qtseg-studio[tensorboard]', or pass --no-tensorboard.")

    def epoch(self, record: dict[str, Any]) -> None:
        """Append ``record`` (epoch, losses, val scores, lr, time) to metrics.jsonl; print it."""
        if self.run_dir is not None:
            with open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)) and key != "epoch":
                    self.writer.add_scalar(key, value, record["epoch"])
            self.writer.flush()
        self._say(_epoch_line(record))

    def message(self, text: str) -> None:
        """A one-off note for people (skipped image, resume point, early stop)."""
        self._say(text)

    def _say(self, text: str) -> None:
        """Print ``text`` and append it to the run's ``train.log``."""
        if self.stream is not None:
            print(text, file=self.stream, flush=True)
        if self.run_dir is not None:
            with open(self.run_dir / LOG_FILE, "a", encoding="utf-8") as log:
                log.write(text + "\n")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _epoch_line(record: dict[str, Any]) -> str:
    return (
        f"epoch {_position(record)} "
        f"train loss {record['train_loss']:.4f} val dice {record['val_dice']:.2f} "
        f"{_click_part(record)}"
        f"(best {record['best_val_dice']:.2f} @ {record['best_epoch'] + 1}) "
        f"lr {record['lr']:.2e} {record['epoch_time_s']:.1f}s "
        f"ETA {format_duration(record['eta_s'])}"
    )


def _position(record: dict[str, Any]) -> str:
    """'3/30', or in a run that stops on time '3 (1.2 of 8 min)'."""
    if "budget_min" not in record:
        return f"{record['epoch'] + 1}/{record['epochs']}"
    used, allowed = record["budget_used_min"], record["budget_min"]
    return f"{record['epoch'] + 1} ({used:.1f} of {allowed:g} min)"


def _click_part(record: dict[str, Any]) -> str:
    """A click-conditioned run's Dice after the robot's clicks (its best epoch's score)."""
    if "val_click_dice" not in record:
        return ""
    return (f"after 1/3 clicks {record['val_dice_1_click']:.2f}/{record['val_dice_3_clicks']:.2f} "
            f"click score {record['val_click_dice']:.2f} ")


def _open_tensorboard(run_dir: Path) -> Any:
    """A SummaryWriter in ``run_dir/tensorboard`` or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The epochs logged so far in ``run_dir/metrics.jsonl`` (empty when none)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def event_from_record(record: dict[str, Any]) -> ProgressEvent:
    """The callback's view of an epoch record."""
    fields = {k: record[k] for k in ProgressEvent.__dataclass_fields__}
    fields["val_dice"] = record.get("val_click_dice", record["val_dice"])
    return ProgressEvent(**fields)
