"""A training time budget (``--budget-minutes``): measured, not guessed.

The clock starts when the run starts. Every epoch is timed from the end of
the one before (training, validation and checkpoint writing), so the budget
adapts to the machine as it is now - a CPU shared with other jobs simply gets
fewer epochs. Three uses:

- ``fraction_done()`` drives the cosine learning-rate schedule, so the rate
  reaches its floor when the time is up, however many epochs that was;
- ``room_for_another_epoch()`` is asked before each epoch: it is False when
  the elapsed time plus a typical epoch (the slowest of the last three) would
  overrun the budget;
- ``out_of_time()`` is polled between optimiser steps as a hard stop, for a
  first epoch longer than the whole budget; the loop then validates the
  partly trained model so the run still keeps a best checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TimeBudget:
    """``seconds`` of training from ``start`` (``time.monotonic`` unless ``clock`` is given).

    ``already_spent`` carries the elapsed time of a resumed run.
    """

    seconds: float
    clock: Callable[[], float] = time.monotonic
    already_spent: float = 0.0
    epoch_seconds: list[float] = field(default_factory=list)
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

    def room_for_another_epoch(self) -> bool:
        return self.elapsed() + self.typical_epoch() <= self.seconds

    def out_of_time(self) -> bool:
        return self.elapsed() >= self.seconds

    def expected_epochs(self) -> int:
        """Epochs the whole budget holds at the typical epoch time (0 before the first epoch)."""
        typical = self.typical_epoch()
        return int(self.seconds // typical) if typical > 0 else 0
