"""CPU threads for training, chosen by measuring steps as they run (a shared CPU changes).

On an idle 2-core machine two torch threads train ~1.7x faster than one. When
other jobs take the cores, threads that wait for each other at every
operation run 5-15x *slower* than one thread alone (batch 4 at 192² on this
project's 2-core machine at load 6: one thread 1.3 s a step, two threads
6-22 s). A choice made once at start is wrong as soon as the load changes, so
:class:`ThreadChooser` times every optimiser step (seconds per image) and:

- starts on one thread when the load average already says the cores are
  taken (two threads' first steps there cost a minute at 320²), else on all
  of them with a ``PROBE_STEPS``-step try of one thread after ``TYPICAL_OF``
  warm steps, keeping the faster only when it is ``KEEP_MARGIN`` x faster
  (the median of the try's steps after its first, which warms the pool up);
- on the larger count, the median of its last ``TYPICAL_OF`` steps more than
  ``SLOWDOWN`` x slower than its usual speed (the median of its last
  ``USUAL_OF`` steps: the machine got busy) makes it try one thread again, and
  the try is judged against that median. One slow step is not enough: on an
  idle machine a data loader's burst makes single 2-thread steps 2x slow, and
  one such step used to move a whole run to one thread; nor is the fastest
  step seen the bar, nor one step of a try the verdict: on the idle machine
  single steps vary 0.6-1.7x, and that moved the brain run between 1 and 2
  threads 5 times;
- on one thread, it tries the larger count again after ``interval`` steps,
  and only when the load average says the other cores look free (a try on a
  busy machine costs three steps at the slow rate, ~60 s); each failed try
  doubles the interval.

Only plain CPU runs use it (``wanted`` in :func:`thread_chooser`): a count the
user set, a single-thread torch, or a GPU keep their threads.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import deque
from collections.abc import Callable

import torch

PROBE_STEPS = 3  # steps at the other count; the first after a switch warms the pool up
KEEP_MARGIN = 1.25  # a count just tried is kept only when this much faster than the other
USUAL_OF = 20  # steps whose median stands for a count's usual speed (before any slowdown)
TYPICAL_OF = 3  # steps whose median stands for a thread count's speed now
SLOWDOWN = 2.0  # typical steps this much slower than usual at the same count: load arrived
FIRST_INTERVAL = 20  # steps on one thread before the larger count is tried again


class ThreadChooser:
    """Switches torch between ``most`` threads and one, whichever trains faster now.

    Call :meth:`epoch_started` before an epoch's first step (validation and
    checkpoints between epochs are not steps) and :meth:`step_done` after
    each optimiser step with its image count.
    """

    def __init__(
        self,
        most: int,
        *,
        clock: Callable[[], float] = time.perf_counter,
        set_threads: Callable[[int], None] = torch.set_num_threads,
        say: Callable[[str], None] | None = None,
        others_idle: Callable[[int], bool] | None = None,
    ) -> None:
        self.most, self.clock, self.set_threads, self.say = most, clock, set_threads, say
        self.others_idle = others_idle or other_jobs_idle
        self.current = most
        self.recent: dict[int, float] = {}  # threads -> seconds per image of the latest step
        self._window: dict[int, deque[float]] = {}  # threads -> the last TYPICAL_OF steps
        self._history: dict[int, deque[float]] = {}  # threads -> the last USUAL_OF steps
        self.interval = FIRST_INTERVAL
        self._probe_left = 0  # steps of a try still to run
        self._probe_seconds: list[float] = []  # seconds per image of the try's steps
        self._steps_here = 0  # steps since the last switch
        self._return_to = most
        self._last: float | None = None
        self._steps = 0
        if not self.others_idle(1):  # this process's planning ran on about one core
            self._switch(1)

    def epoch_started(self) -> None:
        self._last = self.clock()

    def step_done(self, images: int) -> None:
        now = self.clock()
        if self._last is None or images < 1:
            self._last = now
            return
        seconds = (now - self._last) / images
        self._last = now
        self._steps += 1
        self._steps_here += 1
        if self._steps == 1:
            return  # the first step of a run pays one-off start-up costs
        self.recent[self.current] = seconds
        self._window.setdefault(self.current, deque(maxlen=TYPICAL_OF)).append(seconds)
        self._history.setdefault(self.current, deque(maxlen=USUAL_OF)).append(seconds)
        if self._probe_left:
            self._probe_seconds.append(seconds)
        self._decide()

    def _decide(self) -> None:
        if self._probe_left:
            self._probe_left -= 1
            if not self._probe_left:
                self._judge_probe()
        elif self.current == self.most and self._slowed_down():
            self._try(1)
        elif self.current == 1 and self._steps_here >= self.interval:
            if self.others_idle(self.current):
                self._try(self.most)

    def _slowed_down(self) -> bool:
        """First measured steps (no comparison yet), or typical steps far slower than usual.

        Against the usual (median) speed, not the fastest step seen: on an idle machine
        single steps vary 0.6-1.7x, and the fastest of hundreds set a bar that ordinary
        steps kept failing, each time starting a try of one thread.
        """
        if 1 not in self.recent:  # the first try, once a few warm steps give a fair comparison
            return len(self._window[self.most]) >= TYPICAL_OF
        return self._typical(self.most) > SLOWDOWN * self.usual(self.most)

    def usual(self, threads: int) -> float:
        """Median seconds per image of the last USUAL_OF steps at ``threads``."""
        return statistics.median(self._history[threads])

    def _typical(self, threads: int) -> float:
        """Median of the last steps at ``threads``: one slow step (a loader's burst) is noise."""
        return statistics.median(self._window[threads])

    def _try(self, threads: int) -> None:
        self._return_to, self._probe_left, self._probe_seconds = self.current, PROBE_STEPS, []
        self._switch(threads)

    def _judge_probe(self) -> None:
        """Keep the count just tried if its warm steps beat the one it replaced by KEEP_MARGIN.

        Judging one step against the other count without a margin moved runs on an
        idle machine to and fro between them.
        """
        tried, before = self.current, self._return_to
        seconds = statistics.median(self._probe_seconds[1:])  # the first warms the pool up
        if seconds * KEEP_MARGIN < self._typical(before):
            self.interval = FIRST_INTERVAL
            self._announce(f"{tried} thread(s) train faster now "
                           f"({seconds:.3f} vs {self._typical(before):.3f} s per image)")
            self._steps_here = 0
            return
        if tried == self.most:
            self.interval *= 2
        else:  # one thread is no faster: the machine is slower for both, a new baseline
            self._history[before] = deque(self._window[before], maxlen=USUAL_OF)
        self._switch(before)

    def _switch(self, threads: int) -> None:
        self.current, self._steps_here = threads, 0
        self.set_threads(threads)

    def restore(self) -> None:
        """Give torch back the count it had (the run is over)."""
        self._switch(self.most)

    def _announce(self, text: str) -> None:
        if self.say is not None:
            self.say(f"CPU threads: {text}")


def other_jobs_idle(own_threads: int) -> bool:
    """Whether the 1-minute load average, less this run's own threads, is under half a core."""
    try:
        return os.getloadavg()[0] - own_threads < 0.5
    except (OSError, AttributeError):  # no load average (Windows): let the timing decide
        return True


def thread_chooser(
    device: torch.device, fixed: int | None, say: Callable[[str], None] | None = None
) -> ThreadChooser | None:
    """A chooser for a CPU run whose threads nobody fixed (None otherwise)."""
    most = torch.get_num_threads()
    if device.type != "cpu" or fixed or most < 2:
        return None
    return ThreadChooser(most, say=say)
