"""ONNX Runtime as an inference backend for the prepared (BatchNorm-folded) network.

The network is exported once per model content (any batch and any H, W that
are multiples of 32: the export has dynamic axes) to
``<user cache>/qtseg/onnx/<hash>.onnx``; a second preparation of the same
weights loads that file in about a second instead of tracing again (~15 s on
2 cores). ORT runs it with every graph optimisation and, on a shared CPU,
without spinning threads, so it neither fights torch nor the other processes.

Optional: ``pip install "qtseg[fast]"``. Without it ``available()`` is False
and ``prepare_for_inference`` stays on torch.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import io
import os
import threading
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from qtseg_core.io import atomic_write

#: Bump when the export recipe changes, so stale cached graphs are not reused.
EXPORT_VERSION = 1
OPSET = 17
#: Graphs kept in the cache (~37 MB each for the default model); least recently used go first.
CACHE_ENTRIES = 8


def available() -> bool:
    """Whether onnxruntime and onnx (needed by the exporter) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


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
    """The exported graph of ``network``, exported now only when not cached yet."""
    path = cache_dir() / f"{content_hash(network)}.onnx"
    if path.exists():
        path.touch()  # recently used: pruned last
        return path
    graph = export(network, in_channels)
    atomic_write(path, lambda stream: stream.write(graph))
    prune_cache(CACHE_ENTRIES)
    return path


def prune_cache(keep: int) -> None:
    """Delete all but the ``keep`` most recently used graphs (each fine-tuned model adds one)."""
    graphs = sorted(cache_dir().glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in graphs[keep:]:
        stale.unlink(missing_ok=True)


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
    """Calls an ORT session like the torch network: float (B, C, H, W) in, logits out."""

    def __init__(self, graph: Path, threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.graph = graph
        self.session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"])

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(images.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {"images": array})[0])


class BackgroundSwitch:
    """Runs the torch network until the ORT session is ready, then ORT.

    The export (when the graph is not cached) and the session load run in a
    thread, so preparing a model never blocks the caller; the logits agree to
    1e-4 either way. Not a daemon: a process that ends while the export runs
    (a short ``qtseg predict``) waits for it, once per model, instead of being
    aborted by the C++ runtime mid-export (exit status 134 after a good run).
    """

    def __init__(self, network: nn.Module, in_channels: int) -> None:
        self.torch_network = network
        self.runtime: OnnxRuntimeNetwork | None = None
        self.error: BaseException | None = None
        threads = torch.get_num_threads()  # the caller's setting, not the worker thread's
        self._thread = threading.Thread(target=self._load, args=(in_channels, threads),
                                        name="qtseg-onnx-export", daemon=False)
        self._thread.start()

    def _load(self, in_channels: int, threads: int) -> None:
        try:  # a copy: tracing must not share modules with predictions running meanwhile
            network = copy.deepcopy(self.torch_network)
            self.runtime = OnnxRuntimeNetwork(cached_graph(network, in_channels), threads)
        except Exception as error:  # the torch path keeps working; say why in .error
            self.error = error

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the ORT session is ready (True) or failed (False, see ``error``)."""
        self._thread.join(timeout)
        return self.runtime is not None

    def __call__(self, images: torch.Tensor, *clicks: torch.Tensor) -> torch.Tensor:
        runtime = self.runtime
        if runtime is None or clicks:
            return self.torch_network(images, *clicks)
        return runtime(images)
