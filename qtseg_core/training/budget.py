"""A training time budget (``--budget-minutes``): measured, not guessed.

The clock starts when the run starts. Every epoch is timed from the end of
the one before (training, validation and checkpoint writing), so the budget
adapts to the machine as it is now - a CPU shared with other jobs simply gets
fewer epochs. The run also notes how long closing an epoch (validation and
checkpoints) takes: that much is kept back, so the last epoch's validation
ends on time too. Three uses:

- ``fraction_done()`` drives the cosine learning-rate schedule, so the rate
  reaches its floor when the time is up, however many epochs that was;
- ``room_for_another_epoch()`` is asked before each epoch: it is False when
  less than ``MIN_PARTIAL_EPOCH`` of a typical epoch's training fits before
  the closing reserve;
- ``out_of_time()`` is polled between optimiser steps: the epoch then stops
  where it is and is validated like any other (kept when it is the best), so
  the minutes a whole epoch would not fit in still train.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MIN_PARTIAL_EPOCH = 0.25  # a last, partial epoch must train at least this share of an epoch


@dataclass
class TimeBudget:
    """``seconds`` of training from ``start`` (``time.monotonic`` unless ``clock`` is given).

    ``already_spent`` carries the elapsed time of a resumed run.
    """

    seconds: float
    clock: Callable[[], float] = time.monotonic
    already_spent: float = 0.0
    epoch_seconds: list[float] = field(default_factory=list)
    closing_seconds: float = 0.0  # validation + checkpoints of the slowest recent epoch
    start: float = field(init=False)
    last_mark: float = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.last_mark = self.clock()

    @classmethod
    def from_minutes(cls, minutes: float, **kwargs: object) -> TimeBudget:
        return cls(seconds=60.0 * minutes, **kwargs)  # type: ignore[arg-type]

    def elapsed(self) -> float:
        return self.already_spent + self.clock() - self.start

    def fraction_done(self, _epoch: int = 0) -> float:
        """Elapsed share of the budget, 0..1 (the schedule's ``progress``)."""
        return min(1.0, self.elapsed() / self.seconds)

    def mark_epoch(self) -> float:
        """Note that an epoch ended; returns its length (since the previous mark)."""
        now = self.clock()
        self.epoch_seconds.append(now - self.last_mark)
        self.last_mark = now
        return self.epoch_seconds[-1]

    def restart_epoch_clock(self) -> None:
        """Exclude one-off set-up time (the checkpoint written before epoch 1) from epochs."""
        self.last_mark = self.clock()

    def typical_epoch(self) -> float:
        """The slowest of the last three epochs (0 before the first)."""
        return max(self.epoch_seconds[-3:], default=0.0)

    def note_closing(self, seconds: float) -> None:
        """How long the epoch just trained took to validate and save (kept back from training)."""
        self.closing_seconds = max(seconds, 0.5 * self.closing_seconds)

    def training_left(self) -> float:
        """Seconds that can still train before the closing reserve."""
        return self.seconds - self.elapsed() - self.closing_seconds

    def room_for_another_epoch(self) -> bool:
        training = max(0.0, self.typical_epoch() - self.closing_seconds)
        return self.training_left() >= MIN_PARTIAL_EPOCH * training

    def out_of_time(self) -> bool:
        return self.training_left() <= 0

    def expected_epochs(self) -> int:
        """Epochs the whole budget holds at the typical epoch time (0 before the first epoch)."""
        typical = self.typical_epoch()
        return int(self.seconds // typical) if typical > 0 else 0
