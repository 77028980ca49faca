"""The prediction pipeline: source -> batches -> model -> writer.

Reading and letterboxing (``workers`` threads), the model (this thread) and
restoring + writing (``workers`` more threads) overlap, so the model does
not wait for the disk: OpenCV's decode, resize and encode and torch's
forward pass all release the GIL. At most a few batches are in flight at
any time, so memory stays flat on 10^5 images. ``workers=0`` runs every step
in this thread, one after the other (for debugging and the benchmark).

Written files get their final names in groups (``writer.commit()``: one
sync to disk for the group instead of one per file, at least every
``COMMIT_IMAGES`` images or ``COMMIT_SECONDS``); an input counts as done
(report, progress bar) once its group is committed, and a crash loses at
most the group in flight, never leaving a half-written mask under its name.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qtseg_core.data.preprocess import Letterbox
from qtseg_core.inference import Predictor, prediction_from_probabilities
from qtseg_core.io import ImageReadError, read_image
from qtseg_core.predict.inputs import PredictInput
from qtseg_core.predict.progress import Progress
from qtseg_core.predict.writers import PredictionWriter

#: Batches read ahead of (and waiting to be written behind) the model.
BATCHES_IN_FLIGHT = 2
#: Written inputs made final together (one sync to disk), at least this often.
COMMIT_IMAGES = 32
COMMIT_SECONDS = 1.0


@dataclass
class PipelineResult:
    """Mask path by input path, and why each skipped input could not be read."""

    written: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Canvas:
    """One input ready for the model: its letterboxed canvas, and the image when the writer
    needs it."""

    item: PredictInput
    canvas: np.ndarray  # C x size x size float32
    letterbox: Letterbox
    image: np.ndarray | None


def run_pipeline(
    items: Iterable[PredictInput], predictor: Predictor, writer: PredictionWriter, *,
    batch_size: int = 8, workers: int = 2, progress: Progress | None = None,
    read: Callable[[Path], np.ndarray] = read_image,
) -> PipelineResult:
    """Predict every input and hand each prediction to ``writer``; unreadable inputs are
    reported in the result, not raised. A writer's error (disk full) stops the run."""
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: must be at least 1.")
    tally = _Tally(PipelineResult(), progress, writer)
    depth = batch_size * BATCHES_IN_FLIGHT
    try:
        with _pool(workers) as readers, _pool(workers) as writers:
            prepare = _preparer(predictor, writer.needs_image, read)
            canvases = _in_order(readers, prepare, items, depth)
            finishing: deque[Future] = deque()
            for batch in _batches(canvases, batch_size, tally):
                probabilities = predictor.canvas_probabilities(np.stack([c.canvas for c in batch]))
                for canvas, plane in zip(batch, probabilities, strict=True):
                    finishing.append(writers.submit(_finish, canvas, plane, writer))
                while len(finishing) > depth:
                    tally.written(finishing.popleft().result())
            while finishing:
                tally.written(finishing.popleft().result())
    finally:  # what was written completely is kept, also when the run stops on an error
        tally.commit()
    return tally.result


def _preparer(
    predictor: Predictor, keep_image: bool, read: Callable[[Path], np.ndarray]
) -> Callable[[PredictInput], _Canvas | tuple[PredictInput, str]]:
    def prepare(item: PredictInput) -> _Canvas | tuple[PredictInput, str]:
        try:
            image = read(item.path)
            canvases, letterboxes = predictor.prepare([image])
        except (ImageReadError, ValueError) as error:
            return item, str(error)
        return _Canvas(item, canvases[0], letterboxes[0], image if keep_image else None)

    return prepare


def _finish(canvas: _Canvas, plane: np.ndarray, writer: PredictionWriter) -> tuple[str, Path]:
    """Worker thread: probabilities back to the image's size, argmax, write."""
    prediction = prediction_from_probabilities(canvas.letterbox.restore(plane))
    return str(canvas.item.path), writer.write(canvas.item.name, canvas.image, prediction)


def _batches(
    canvases: Iterator[_Canvas | tuple[PredictInput, str]], size: int, tally: _Tally
) -> Iterator[list[_Canvas]]:
    batch: list[_Canvas] = []
    for canvas in canvases:
        if isinstance(canvas, tuple):
            tally.skipped(*canvas)
            continue
        batch.append(canvas)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _in_order(
    pool: Executor, work: Callable, items: Iterable, depth: int
) -> Iterator:
    """``work(item)`` for each item on ``pool``, results in input order, ``depth`` ahead."""
    pending: deque[Future] = deque()
    for item in items:
        pending.append(pool.submit(work, item))
        if len(pending) > depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class _Tally:
    """Records finished and skipped inputs, commits the writer's files in groups and moves
    the progress bar."""

    def __init__(
        self, result: PipelineResult, progress: Progress | None, writer: PredictionWriter
    ) -> None:
        self.result, self.progress, self.writer = result, progress, writer
        self._written: list[tuple[str, Path]] = []  # waiting for the next commit
        self._last_commit = time.monotonic()

    def written(self, done: tuple[str, Path]) -> None:
        self._written.append(done)
        if (len(self._written) >= COMMIT_IMAGES
                or time.monotonic() - self._last_commit >= COMMIT_SECONDS):
            self.commit()

    def commit(self) -> None:
        self.writer.commit()
        self._last_commit = time.monotonic()
        for source, mask in self._written:
            self.result.written[source] = mask
            self._advance()
        self._written = []

    def skipped(self, item: PredictInput, reason: str) -> None:
        self.result.skipped[str(item.path)] = reason
        self._advance()

    def _advance(self) -> None:
        if self.progress is not None:
            self.progress.advance()


class _InThisThread(Executor):
    """An executor that runs each task at once, in the caller's thread (``workers=0``)."""

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the caller by future.result()
            future.set_exception(error)
        return future


def _pool(workers: int) -> Executor:
    if workers < 0:
        raise ValueError(f"workers={workers}: give 0 (all in one thread) or more.")
    if workers == 0:
        return _InThisThread()
    return ThreadPoolExecutor(workers, thread_name_prefix="qtseg-predict")
