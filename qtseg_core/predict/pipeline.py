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
from qtseg_core.inference import Predictor, chunks, prediction_from_probabilities
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
class _Batch:
    """Up to ``batch_size`` consecutive inputs read and letterboxed by one worker: the readable
    ones ready for the model (their images too when the writer needs them), and why each
    of the others could not be read."""

    items: list[PredictInput]
    canvases: np.ndarray | None  # B x C x size x size float32; None when nothing was readable
    letterboxes: list[Letterbox]
    images: list[np.ndarray | None]
    unreadable: list[tuple[PredictInput, str]]


def run_pipeline(
    items: Iterable[PredictInput], predictor: Predictor, writer: PredictionWriter, *,
    batch_size: int = 8, workers: int = 2, progress: Progress | None = None,
    read: Callable[[Path], np.ndarray] = read_image,
) -> PipelineResult:
    """Predict every input and hand each prediction to ``writer``; unreadable inputs are
    reported in the result, not raised. A writer's error (disk full) stops the run.

    Workers take whole batches (one read task and one write task per batch, not per
    image): each hand-off between threads makes the model's thread wait for the GIL."""
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: must be at least 1.")
    tally = _Tally(PipelineResult(), progress, writer)
    try:
        with _pool(workers) as readers, _pool(workers) as writers:
            prepare = _preparer(predictor, writer.needs_image, read)
            batches = _in_order(readers, prepare, chunks(items, batch_size), BATCHES_IN_FLIGHT)
            finishing: deque[Future] = deque()
            shape_used = 0  # the batch size the model has run at in this run (0: none yet)
            for batch in batches:
                for item, reason in batch.unreadable:
                    tally.skipped(item, reason)
                if batch.canvases is not None:
                    canvases = _padded(batch.canvases, shape_used)
                    shape_used = len(canvases)
                    probabilities = predictor.canvas_probabilities(canvases)[:len(batch.items)]
                    finishing.append(writers.submit(_finish, batch, probabilities, writer))
                while len(finishing) > BATCHES_IN_FLIGHT:
                    tally.written(finishing.popleft().result())
            while finishing:
                tally.written(finishing.popleft().result())
    finally:  # what was written completely is kept, also when the run stops on an error
        tally.commit()
    return tally.result


def _preparer(
    predictor: Predictor, keep_image: bool, read: Callable[[Path], np.ndarray]
) -> Callable[[list[PredictInput]], _Batch]:
    def prepare(chunk: list[PredictInput]) -> _Batch:
        """Worker thread: read and letterbox a batch of inputs."""
        readable, canvases, letterboxes, images, unreadable = [], [], [], [], []
        for item in chunk:
            try:
                image = read(item.path)
                canvas, letterbox = predictor.prepare([image])
            except (ImageReadError, ValueError) as error:
                unreadable.append((item, str(error)))
                continue
            readable.append(item)
            canvases.append(canvas[0])
            letterboxes.append(letterbox[0])
            images.append(image if keep_image else None)
        stacked = np.stack(canvases) if canvases else None
        return _Batch(readable, stacked, letterboxes, images, unreadable)

    return prepare


def _padded(canvases: np.ndarray, batch_size: int) -> np.ndarray:
    """A batch shorter than the ``batch_size`` the model already ran at in this run (the
    last one, or one with unreadable files) filled up with blank canvases: the run then
    keeps one shape, which a runtime compiled per shape (OpenVINO: ~1 s a shape) needs
    once; the extra outputs are dropped. A run of one short batch runs it as it is."""
    missing = batch_size - len(canvases)
    if missing <= 0:
        return canvases
    return np.concatenate([canvases, np.zeros((missing, *canvases.shape[1:]), canvases.dtype)])


def _finish(
    batch: _Batch, probabilities: np.ndarray, writer: PredictionWriter
) -> list[tuple[str, Path]]:
    """Worker thread: each input's probabilities back to its image's size, argmax, write."""
    done = []
    for item, letterbox, image, plane in zip(
        batch.items, batch.letterboxes, batch.images, probabilities, strict=True
    ):
        prediction = prediction_from_probabilities(letterbox.restore(plane))
        done.append((str(item.path), writer.write(item.name, image, prediction)))
    return done


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

    def written(self, done: list[tuple[str, Path]]) -> None:
        self._written.extend(done)
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
