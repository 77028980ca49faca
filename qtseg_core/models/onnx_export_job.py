"""The ONNX export as a process of its own: ``python -m qtseg_core.models.onnx_export_job
WEIGHTS.safetensors GRAPH.onnx``.

``onnx_runtime.BackgroundSwitch`` starts it (at low priority) so that tracing
(~15 s on 2 cores) neither holds the caller's interpreter lock nor its exit:
a short ``qtseg predict`` ends when its work is done, while the export goes on
and leaves the graph in the cache for the next run. The weights file holds
the prepared network (``onnx_runtime.save_prepared``), the job rebuilds it
the same way; the file is deleted when the job ends.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    model_file, graph = Path(argv[0]), Path(argv[1])
    try:
        if hasattr(os, "nice"):
            os.nice(10)  # behind the app and the predictions it is exporting for
        export_checkpoint(model_file, graph)
    finally:
        model_file.unlink(missing_ok=True)
    return 0


def export_checkpoint(model_file: Path, graph: Path) -> None:
    """Rebuild the prepared network from ``onnx_runtime.save_prepared``'s file; write its graph."""
    import json

    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    from qtseg_core.config import ModelConfig
    from qtseg_core.io import atomic_write
    from qtseg_core.models import onnx_runtime, prepare_for_inference
    from qtseg_core.models.qtseg import QTSeg

    torch.set_num_threads(1)
    with safe_open(str(model_file), "pt") as stored:
        config = ModelConfig.from_dict(json.loads(stored.metadata()["model_config"]))
    network = prepare_for_inference(QTSeg(config), backend="torch").network
    network.load_state_dict(load_file(str(model_file)), strict=True)
    exported = onnx_runtime.export(network, int(network.config.in_channels))
    atomic_write(graph, lambda stream: stream.write(exported))
    onnx_runtime.prune_cache(onnx_runtime.CACHE_ENTRIES)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
