"""ONNX Runtime as an inference backend for the prepared (BatchNorm-folded) network.

The network is exported once per model content (any batch and any H, W that
are multiples of 32: the export has dynamic axes) to
``<user cache>/qtseg/onnx/<hash>.onnx``; a second preparation of the same
weights loads that file instead of tracing again (~15 s on 2 cores). ORT runs
it with every graph optimisation. Its threads spin between operations while a
run is in progress, as torch's OpenMP threads do (at 512² on 2 cores 59 -> 51 ms
a forward), and sleep once it ends, so between runs they take nothing from
torch or other processes; with ``spin=False`` (``qtseg predict``, whose reading
and writing threads work beside the model: 54 -> 49 images/s with spinning)
they sleep between operations too. The optimised
graph is kept too (``<hash>.<machine>.opt.onnx``): its fused kernels and
blocked layouts suit only the CPU and runtime that made it, so its name holds
both (``machine_key``); loading it skips the optimisation (the session of the
default model 0.25-0.30 -> 0.06-0.13 s, of qtseg-tiny 0.15 -> 0.02 s).

onnxruntime and onnx (the exporter needs it) are regular dependencies; where
they are missing ``available()`` is False and ``prepare_for_inference`` stays on
torch.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
import torch
from torch import nn

from qtseg_core.io import atomic_write
from qtseg_core.temporaries import remove_stale_temporaries, temporary_prefix

#: Bump when the export recipe changes, so stale cached graphs are not reused.
EXPORT_VERSION = 4  # 3: DMA blocks read CAB on the tokens' side; 4: SAM's channel mean as a MatMul
OPSET = 17
#: The /proc/cpuinfo lines an optimised graph's key takes (x86: model and flags; ARM too).
CPU_FIELDS = ("model name", "flags", "Features", "CPU implementer", "CPU part")
#: Graphs kept in the cache, least recently used going first. For the default model each is
#: ~37 MB, with up to ~230 MB made from it (an optimised graph, up to 4 compiled shapes).
CACHE_ENTRIES = 8


def available() -> bool:
    """Whether onnxruntime and onnx (needed by the exporter) are installed."""
    return exporter_available() and importlib.util.find_spec("onnxruntime") is not None


def exporter_available() -> bool:
    """Whether onnx, which torch's exporter needs to write the graph, is installed."""
    return importlib.util.find_spec("onnx") is not None


def version() -> str:
    """The installed onnxruntime's version, read without importing it."""
    return importlib.metadata.version("onnxruntime")


def cache_dir() -> Path:
    """Where exported graphs live: $QTSEG_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, /qtseg."""
    root = os.environ.get("QTSEG_CACHE_DIR")
    if root:
        return Path(root) / "onnx"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qtseg" / "onnx"


def content_hash(network: nn.Module) -> str:
    """SHA-256 of the prepared network's config, weights and the export recipe."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}|{torch.__version__}".encode())
    digest.update(repr(getattr(network, "config", type(network).__name__)).encode())
    for name, tensor in network.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()[:32]


def cached_graph(network: nn.Module, in_channels: int) -> Path:
    """The exported graph of ``network``, exported now (from a copy) only when not cached yet."""
    path = cache_dir() / f"{content_hash(network)}.onnx"
    if path.exists():
        path.touch()  # recently used: pruned last
        return path
    graph = export(copy.deepcopy(network), in_channels)  # tracing leaves the caller's alone
    atomic_write(path, lambda stream: stream.write(graph))
    prune_cache(CACHE_ENTRIES)
    return path


def optimized_graph_path(graph: Path) -> Path:
    """Where ORT's optimised form of ``graph`` is kept for this machine and runtime."""
    return graph.with_name(f"{graph.stem}.{machine_key()}.opt.onnx")


def machine_key() -> str:
    """A short hash of what an optimised graph depends on: onnxruntime's version and the CPU."""
    return runtime_machine_key(version())


@functools.cache
def runtime_machine_key(runtime_version: str) -> str:
    """A short hash of what code a runtime made for this machine depends on: the runtime's
    version and the CPU (architecture and, on Linux, its model and instruction-set flags;
    ARM: its part and features)."""
    cpu = platform.machine() + platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            first = info.read().split("\n\n")[0]
        cpu += "".join(line for line in first.splitlines()
                       if line.startswith(CPU_FIELDS))
    except OSError:  # not Linux: the architecture and platform.processor() name it
        pass
    return hashlib.sha256(f"{runtime_version}|{cpu}".encode()).hexdigest()[:12]


def load_kept(path: Path, load: Callable[[Path], object]) -> object | None:
    """``load(path)`` of what an earlier start made for this machine (an optimised graph, a
    compiled shape), marked recently used; None when it is missing or unreadable (cut
    short, another runtime's), and an unreadable one is deleted to be made again."""
    if not path.exists():
        return None
    try:
        loaded = load(path)
    except Exception:  # made again by the caller
        with contextlib.suppress(OSError):  # a read-only cache keeps it
            path.unlink(missing_ok=True)
        return None
    with contextlib.suppress(OSError):
        path.touch()  # recently used
    return loaded


def prune_cache(keep: int) -> None:
    """Delete all but the ``keep`` most recently used graphs (each fine-tuned model adds one),
    with what was made from each for this machine (``<hash>.*``: ONNX Runtime's optimised
    graph, OpenVINO's compiled shapes)."""
    graphs = [p for p in cache_dir().glob("*.onnx") if p.name.count(".") == 1]
    graphs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in graphs[keep:]:
        for made in stale.parent.glob(f"{stale.stem}.*.*"):
            made.unlink(missing_ok=True)
        stale.unlink(missing_ok=True)
    remove_stale_temporaries({cache_dir()})  # optimised graphs of runs that were killed
    # OpenVINO's own model cache, used before its compiled shapes were kept here: never pruned
    shutil.rmtree(cache_dir().parent / "openvino", ignore_errors=True)


def export(network: nn.Module, in_channels: int) -> bytes:
    """``network`` as ONNX bytes with dynamic batch, height and width."""
    example = torch.zeros(1, in_channels, 64, 64)
    axes = {0: "batch", 2: "height", 3: "width"}
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings on the (constant) input-size checks
        torch.onnx.export(network, (example,), buffer, dynamo=False, opset_version=OPSET,
                          input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": axes, "logits": axes})
    return buffer.getvalue()


class OnnxRuntimeNetwork:
    """Calls an ORT session like the torch network: float (B, C, H, W) in, logits out.

    The session starts from this machine's optimised form of ``graph`` when it is
    cached, else optimises ``graph`` and keeps the result for the next start."""

    def __init__(self, graph: Path, threads: int | None = None, *, spin: bool = True) -> None:
        self.graph = graph
        self.threads = threads or torch.get_num_threads()
        self.spin = spin
        optimized = optimized_graph_path(graph)
        self.session = load_kept(optimized, lambda kept: self._session(kept, optimize=False))
        if self.session is None:
            self.session = self._session(graph, optimize=True, keep_as=optimized)

    def _session(self, graph: Path, *, optimize: bool, keep_as: Path | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        levels = onnxruntime.GraphOptimizationLevel
        options.graph_optimization_level = (
            levels.ORT_ENABLE_ALL if optimize else levels.ORT_DISABLE_ALL)
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", str(int(self.spin)))
        options.add_session_config_entry("session.force_spinning_stop", "1")  # when a run ends
        options.log_severity_level = 3  # not the warning that the kept graph suits this CPU only
        partial = None
        if keep_as is not None:  # ORT writes it while optimising; renamed whole into place
            with contextlib.suppress(OSError):  # a read-only cache: optimised at every start
                handle, partial = tempfile.mkstemp(prefix=temporary_prefix(keep_as),
                                                   suffix=".tmp", dir=keep_as.parent)
                os.close(handle)
                options.optimized_model_filepath = partial
        try:
            session = onnxruntime.InferenceSession(
                str(graph), options, providers=["CPUExecutionProvider"])
            if partial is not None:
                os.replace(partial, keep_as)
        finally:
            if partial is not None:
                Path(partial).unlink(missing_ok=True)  # left only when the session failed
        return session

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(images.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {"images": array})[0])


class BackgroundSwitch:
    """Runs the torch network until the runtime is ready, then the runtime (ONNX Runtime or
    OpenVINO: ``make_runtime(graph, threads)``), and torch again for an input shape the
    runtime is still compiling, in a thread of its own (OpenVINO compiles per shape).

    A graph not cached yet is exported by a process of its own
    (``onnx_export_job``, at low priority), so preparing a model never blocks
    the caller, and a process that ends before the export does (a short
    ``qtseg predict``, a test) exits at once: the export goes on and leaves the
    graph for the next run. The thread that waits for it and loads the session
    stops waiting when the main thread has ended, and one started after that
    (a model prepared by a worker that outlived the main thread) does nothing:
    torch code running while the interpreter finalizes aborts the process.
    The logits agree to 1e-4 either way.
    """

    def __init__(
        self, network: nn.Module, in_channels: int,
        make_runtime: Callable[[Path, int], Callable[[torch.Tensor], torch.Tensor]],
    ) -> None:
        self.torch_network = network
        self.runtime: Callable[[torch.Tensor], torch.Tensor] | None = None
        self.error: BaseException | None = None
        self._make_runtime = make_runtime
        self._compiling: set[tuple[int, ...]] = set()  # shapes asked of the runtime
        self._compiling_lock = threading.Lock()
        threads = torch.get_num_threads()  # the caller's setting, not the worker thread's
        self._thread = threading.Thread(target=self._load, args=(in_channels, threads),
                                        name="qtseg-onnx-load", daemon=False)
        self._thread.start()

    def _load(self, in_channels: int, threads: int) -> None:
        if not threading.main_thread().is_alive():
            return  # the interpreter is exiting: the caller's torch network answers
        try:
            path = cache_dir() / f"{content_hash(self.torch_network)}.onnx"
            if not path.exists() and not _export_elsewhere(self.torch_network, path):
                return  # the caller has ended: nothing left to answer
            path.touch()  # recently used: pruned last
            if threading.main_thread().is_alive():  # no runtime start-up during the exit
                self.runtime = self._make_runtime(path, threads)
        except Exception as error:  # the torch path keeps working; say why in .error
            self.error = error

    def wait(self, timeout: float | None = None, shape: tuple[int, ...] | None = None) -> bool:
        """Block until the runtime is ready (True) or failed (False, see ``error``), and
        given an input ``shape``, until the runtime has compiled it (here, if need be)."""
        self._thread.join(timeout)
        runtime = self.runtime
        if runtime is not None and shape is not None and hasattr(runtime, "compiled_for"):
            runtime.compiled_for(tuple(int(v) for v in shape))
        return runtime is not None

    def __call__(self, images: torch.Tensor, *clicks: torch.Tensor) -> torch.Tensor:
        runtime = self.runtime
        if runtime is None or clicks:
            return self.torch_network(images, *clicks)
        ready_for = getattr(runtime, "ready_for", None)
        if ready_for is not None and not ready_for(tuple(images.shape)):
            self._compile(runtime, tuple(int(v) for v in images.shape))
            return self.torch_network(images)
        return runtime(images)

    def _compile(self, runtime: object, shape: tuple[int, ...]) -> None:
        """Compile ``shape`` in a thread of its own, once."""
        with self._compiling_lock:
            if shape in self._compiling:
                return
            self._compiling.add(shape)

        def compile_shape() -> None:
            if not threading.main_thread().is_alive():
                return  # no runtime start-up during the exit
            try:
                runtime.compiled_for(shape)
            except Exception as error:  # torch keeps answering for this shape
                self.error = error

        threading.Thread(target=compile_shape, name="qtseg-runtime-compile",
                         daemon=False).start()


def _export_elsewhere(network: nn.Module, path: Path) -> bool:
    """Export ``network`` to ``path`` in a process of its own; False if the caller ended first.

    One export job runs at a time on the machine (per cache folder): the job
    inherits a lock on ``EXPORT_LOCK`` and holds it until it ends, even when
    its caller has gone. A caller that finds the lock taken waits for it (or
    for the graph, if the running job is exporting the same model), so many
    short runs with new models never pile up exports that share two cores.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _take_export_lock(path)
    if lock is None:
        return path.exists()
    with lock:
        if path.exists():  # the job we waited for exported this very model
            return True
        handle, model_file = tempfile.mkstemp(prefix=".export-", suffix=".safetensors",
                                              dir=path.parent)
        os.close(handle)
        save_prepared(network, Path(model_file))
        job = subprocess.Popen([sys.executable, "-m", "qtseg_core.models.onnx_export_job",
                                model_file, str(path)], env=_child_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               pass_fds=_lock_fds(lock))
    while job.poll() is None:
        if not threading.main_thread().is_alive():
            return False  # the job finishes on its own and cleans up after itself
        time.sleep(0.1)
    if job.returncode != 0 or not path.exists():
        raise RuntimeError(f"the ONNX export of {path.name} failed (exit status "
                           f"{job.returncode}): {job.stderr.read().decode()[-2000:]}")
    return True


EXPORT_LOCK = ".export.lock"


def _take_export_lock(path: Path) -> IO[bytes] | None:
    """The open, exclusively locked ``EXPORT_LOCK`` file beside ``path``; None if waiting ended.

    Waiting ends when the graph appears (another job exported the same model)
    or the caller's main thread has ended. Without ``fcntl`` (Windows) the
    lock file is opened but not locked: exports are then not limited.
    """
    lock = open(path.parent / EXPORT_LOCK, "a+b")  # noqa: SIM115 - closed by the caller's with
    try:
        import fcntl
    except ImportError:
        return lock
    while True:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if path.exists() or not threading.main_thread().is_alive():
                lock.close()
                return None
            time.sleep(0.5)


def _lock_fds(lock: IO[bytes]) -> tuple[int, ...]:
    """The lock's descriptor, inherited by the job so the lock lasts as long as the job."""
    return (lock.fileno(),) if sys.platform != "win32" else ()


def save_prepared(network: nn.Module, path: Path) -> None:
    """The prepared network's weights and config, for the export job (not a checkpoint)."""
    from safetensors.torch import save_file

    state = {name: tensor.detach().contiguous() for name, tensor in network.state_dict().items()}
    save_file(state, str(path), metadata={"model_config": json.dumps(network.config.to_dict())})


def _child_environment() -> dict[str, str]:
    """The caller's environment, with this copy of qtseg_core first on the path."""
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}
