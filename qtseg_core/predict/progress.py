"""Progress of a long ``qtseg predict``: a bar with rate and ETA on a terminal, plain
lines (one every ``LOG_INTERVAL_S`` seconds, for log files and cluster jobs) otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
REDRAW_INTERVAL_S = 0.2
LOG_INTERVAL_S = 30.0


class Progress:
    """Counts finished images out of ``total`` and reports to ``stream`` (stderr)."""

    def __init__(
        self, total: int, stream: TextIO | None = None, *, label: str = "predict",
        interactive: bool | None = None,
    ) -> None:
        self.total, self.done, self.label = total, 0, label
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._start = self._last = time.perf_counter()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.perf_counter()
        interval = REDRAW_INTERVAL_S if self.interactive else LOG_INTERVAL_S
        if now - self._last >= interval or self.done >= self.total:
            self._last = now
            self._show(now - self._start)

    def close(self) -> None:
        """End the bar's line (the last state stays on screen)."""
        if self.interactive and self.total:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self, elapsed: float) -> None:
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        figures = f"{self.done}/{self.total} images, {rate:.1f} img/s, ETA {_clock(left)}"
        if self.interactive:
            filled = BAR_WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {figures}")
        else:
            self.stream.write(f"{self.label}: {figures}\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN: no rate yet
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
