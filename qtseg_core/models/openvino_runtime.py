"""OpenVINO as an inference backend for the prepared (BatchNorm-folded) network.

It reads the graph ``onnx_runtime`` exports once per model (any batch and size)
and compiles it for the CPU once per input shape (batch, height, width), as
the fixed shape is where OpenVINO is fastest (dynamic batch gave back most of
the gain). Each compiled shape is kept beside the graph
(``<hash>.<shape>-t<threads>.<machine>.blob``, ``compiled_path``) and imported
at the next start: measured 2026-12-04, the starter at batch 8, 0.48 s against
0.39 s reading and reshaping the graph plus 1.2 s compiling it (2-core AMD
EPYC); on an earlier 2-core machine ~0.49 s to the first result against ~0.70
s through OpenVINO's own model cache, which must still read and hash the graph
and which nothing pruned. The cache's pruning takes a graph's compiled shapes
with it. Measured 2026-12-04 on 2 cores, same weights, masks identical:
512² batch 1 on 2 threads 40 ms against ONNX Runtime's 52 (the authors' eager
code 105), on 1 thread 66 against 71; the starter at 256², batch 8, 9.6
against 11.4 ms an image on 2 threads, 17.2 against 18.3 on 1.

openvino is a regular dependency; where it is missing ``available()`` is
False and ``prepare_for_inference`` uses ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import threading
from pathlib import Path

import numpy as np
import torch

from qtseg_core.io import atomic_write
from qtseg_core.models.onnx_runtime import load_kept, runtime_machine_key

#: Input shapes kept compiled at once, in memory and on disk per graph (each holds its own
#: copy of the weights: ~39 MB for the default model).
SHAPES = 4


def available() -> bool:
    """Whether openvino is installed (the ONNX exporter is ``onnx_runtime``'s)."""
    return importlib.util.find_spec("openvino") is not None


def version() -> str:
    """The installed openvino's version, read without importing it."""
    return importlib.metadata.version("openvino")


def compiled_path(graph: Path, shape: tuple[int, ...], threads: int) -> Path:
    """Where ``graph`` compiled for inputs of ``shape`` on ``threads`` threads is kept, for
    this machine and openvino version."""
    size = "x".join(str(v) for v in shape)
    key = runtime_machine_key(version())
    return graph.with_name(f"{graph.stem}.{size}-t{threads}.{key}.blob")


class OpenVinoNetwork:
    """Calls OpenVINO like the torch network: float (B, C, H, W) in, logits out.

    ``compiled_for(shape)`` compiles a shape (or loads it from the cache) when it is
    first needed; ``ready_for(shape)`` says whether that has happened."""

    def __init__(self, graph: Path, threads: int | None = None) -> None:
        import openvino

        self.graph = graph
        self.threads = threads or torch.get_num_threads()
        self.core = openvino.Core()
        self._compiled: dict[tuple[int, ...], tuple[object, threading.Lock]] = {}
        self._lock = threading.Lock()

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(images.detach().cpu().numpy(), dtype=np.float32)
        compiled, lock = self.compiled_for(array.shape)
        with lock:  # the compiled model's own request serves one call at a time
            result = compiled({0: array})
            return torch.from_numpy(np.array(result[compiled.output(0)], copy=True))

    def ready_for(self, shape: tuple[int, ...]) -> bool:
        return tuple(int(v) for v in shape) in self._compiled

    def compiled_for(self, shape: tuple[int, ...]) -> tuple[object, threading.Lock]:
        """The compiled model for inputs of ``shape`` (B, C, H, W), compiled now if needed.

        A shape already compiled is found without the lock, so a call never waits for
        another shape's compile (~1 s) in a background thread."""
        shape = tuple(int(v) for v in shape)
        found = self._compiled.get(shape)
        if found is not None:
            return found
        with self._lock:
            found = self._compiled.get(shape)  # compiled while this call waited
            if found is None:
                found = self._compiled[shape] = (self._load(shape), threading.Lock())
                while len(self._compiled) > SHAPES:  # the oldest compiled goes first
                    self._compiled.pop(next(iter(self._compiled)))
            return found

    @property
    def _config(self) -> dict[str, object]:
        return {"INFERENCE_NUM_THREADS": self.threads, "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_PRECISION_HINT": "f32"}

    def _load(self, shape: tuple[int, ...]) -> object:
        """The kept compiled shape, else the graph compiled now (and kept)."""
        kept = compiled_path(self.graph, shape, self.threads)
        compiled = load_kept(
            kept, lambda path: self.core.import_model(path.read_bytes(), "CPU", self._config))
        if compiled is not None:
            return compiled
        model = self.core.read_model(str(self.graph))
        model.reshape({"images": list(shape)})
        compiled = self.core.compile_model(model, "CPU", self._config)
        with contextlib.suppress(OSError):  # a read-only cache: compiled at every start
            _keep(compiled, kept)
        return compiled


def _keep(compiled: object, path: Path) -> None:
    """Write ``compiled`` to ``path`` whole (renamed into place) and drop the graph's least
    recently used compiled shapes beyond ``SHAPES``."""
    exported = io.BytesIO()
    compiled.export_model(exported)
    atomic_write(path, lambda stream: stream.write(exported.getbuffer()))
    graph_stem = path.name.split(".")[0]
    shapes = sorted(path.parent.glob(f"{graph_stem}.*.blob"), key=_last_used, reverse=True)
    for stale in shapes[SHAPES:]:
        stale.unlink(missing_ok=True)


def _last_used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # pruned by another process meanwhile
        return 0.0
