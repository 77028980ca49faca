"""The fast inference path: same masks as the eager model, less time.

BatchNorm is folded into the convolution before it (eval statistics become
the conv's weight scale and bias) and the model runs channels-last, which
lets oneDNN pick its fastest convolution kernels on the CPU. The decoder's
token/pixel attentions and its DMA blocks' channel branch project on the
tokens' side (``token_side_attention``): the same function with fewer
multiply-adds (the last upsampling already runs with the mask head per pixel
block in every model, ``pixel_blocks``). ``compile=True``
adds torch.compile (Inductor, weights frozen as constants) for batch jobs: it
fuses the decoder's LayerNorm/GELU passes but costs tens of seconds on first
use per input shape, so the app and ``qtseg predict`` leave it off by default.

``backend`` picks what runs the folded network: "torch", "openvino" or
"onnxruntime" (CPU only; both run the graph ``onnx_runtime`` exports, see
``openvino_runtime``) or "auto" (the default): OpenVINO when it is installed (a
regular dependency; the fastest, measured there), else ONNX Runtime, when the
model runs on the CPU without clicks or compile, else torch. "auto" exports
and compiles in the background and answers with torch until the runtime is
ready for the input's shape, so preparing never blocks.
``QTSEG_INFERENCE_BACKEND=torch`` in the environment makes "auto" choose torch
(the test suite sets it, so tiny test models start no export each).
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from qtseg_core.models import onnx_runtime, openvino_runtime
from qtseg_core.models.blocks import ConvBNAct, ConvTransposeBNAct
from qtseg_core.models.decoder import MaskDecoder
from qtseg_core.models.token_side_attention import move_projections_to_tokens

BACKENDS = ("auto", "torch", "onnxruntime", "openvino")
#: The backends that run the exported graph (``onnx_runtime.cached_graph``).
RUNTIMES = ("onnxruntime", "openvino")
#: Environment variable: "torch" makes backend="auto" choose torch; unset or "auto": the default.
BACKEND_VARIABLE = "QTSEG_INFERENCE_BACKEND"


@dataclass(frozen=True)
class InferenceModel:
    """A frozen network and the memory layout its inputs run fastest in.

    Calling it puts a B x C x H x W batch in that layout (a no-op when it
    already is) and returns the network's logits. The layout is held here,
    not attached to the network, so compiling the network cannot drop it.
    """

    network: nn.Module | Callable[..., torch.Tensor]
    channels_last: bool

    def __call__(self, images: torch.Tensor, clicks: torch.Tensor | None = None) -> torch.Tensor:
        """Logits; ``clicks`` are a click-conditioned network's extra inputs (None: automatic)."""
        if clicks is None:
            return self.network(self.to_layout(images))
        return self.network(self.to_layout(images), self.to_layout(clicks))

    def to_layout(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` in the layout the network runs fastest with."""
        if self.channels_last:
            return images.contiguous(memory_format=torch.channels_last)
        return images


def prepare_for_inference(
    model: nn.Module, *, device: str | torch.device | None = None, channels_last: bool = True,
    compile: bool = False, backend: str = "auto", in_place: bool = False,
    share_cpu: bool = False,
) -> InferenceModel:
    """A frozen copy of ``model`` for inference (on ``device``); the original is left untouched,
    unless ``in_place`` (a model loaded for this alone: the copy would cost ~0.1 s).
    ``share_cpu``: other busy threads of this process work while the model runs (``qtseg
    predict``'s readers and writers), so ONNX Runtime's threads do not spin."""
    if backend not in BACKENDS:
        raise ValueError(f"Unknown inference backend {backend!r}; choose one of {BACKENDS}.")
    fast = (model if in_place else copy.deepcopy(model)).eval()
    if device is not None:
        fast = fast.to(device)
    for module in fast.modules():
        if isinstance(module, (ConvBNAct, ConvTransposeBNAct)):
            fold_batchnorm(module)
    decoder = getattr(fast, "decoder", None)
    if isinstance(decoder, MaskDecoder):
        move_projections_to_tokens(decoder)
    for parameter in fast.parameters():
        parameter.requires_grad_(False)
    if channels_last:
        fast = fast.to(memory_format=torch.channels_last)
    if backend in RUNTIMES:
        runtime = _runtime_network(backend, fast, compile, not share_cpu)
        return InferenceModel(runtime, channels_last=False)
    chosen = default_backend()
    if backend == "auto" and chosen in RUNTIMES and _runtime_fits(fast, compile):
        make_runtime = functools.partial(_make_runtime, chosen, spin=not share_cpu)
        switch = onnx_runtime.BackgroundSwitch(fast, _in_channels(fast), make_runtime)
        return InferenceModel(switch, channels_last)
    return InferenceModel(_compiled(fast) if compile else fast, channels_last)


def default_backend() -> str:
    """What backend="auto" runs on the CPU: "openvino" when installed (the fastest, measured
    in ``openvino_runtime``), else "onnxruntime", else "torch"; "torch" when switched off."""
    if _requested_backend() == "torch" or not onnx_runtime.exporter_available():
        return "torch"
    if openvino_runtime.available():
        return "openvino"
    return "onnxruntime" if onnx_runtime.available() else "torch"


def describe_default_backend() -> str:
    """One line for ``qtseg info``: what the default path runs on the CPU, and why."""
    chosen = default_backend()
    if chosen == "openvino":
        return (f"openvino {openvino_runtime.version()} (exported once per model, compiled once "
                "per input shape, in the background)")
    if chosen == "onnxruntime":
        return f"onnxruntime {onnx_runtime.version()} (exported once per model, in the background)"
    if _requested_backend() == "torch":
        return f"torch ({BACKEND_VARIABLE}=torch)"
    return "torch (openvino, onnxruntime or onnx not installed: pip install openvino onnx)"


def _requested_backend() -> str:
    """``$QTSEG_INFERENCE_BACKEND``: "auto" (also when unset) or "torch"; anything else raises."""
    chosen = os.environ.get(BACKEND_VARIABLE, "auto").strip().lower() or "auto"
    if chosen not in ("auto", "torch"):
        raise ValueError(f"{BACKEND_VARIABLE}={chosen!r}: set it to 'torch' (always torch) or "
                         f"'auto' (OpenVINO or ONNX Runtime when installed), or unset it.")
    return chosen


def _runtime_fits(network: nn.Module, compile: bool) -> bool:
    """Whether a runtime can run ``network``: the exporter installed, CPU, no clicks, not
    compiled."""
    config = getattr(network, "config", None)
    on_cpu = all(p.device.type == "cpu" for p in network.parameters())
    return (onnx_runtime.exporter_available() and on_cpu and not compile and config is not None
            and not getattr(config, "click_inputs", False))


def _runtime_network(
    backend: str, network: nn.Module, compile: bool, spin: bool
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``backend`` asked for by name: the network exported (or its cached graph) and loaded."""
    installed = {"onnxruntime": onnx_runtime.available, "openvino": openvino_runtime.available}
    if not (installed[backend]() and _runtime_fits(network, compile)):
        raise ValueError(
            f"backend={backend!r} needs {backend} and onnx installed (pip install {backend} "
            "onnx), a QTSeg model on the CPU without click inputs, and compile=False; "
            "use backend='auto' to fall back to torch otherwise."
        )
    graph = onnx_runtime.cached_graph(network, _in_channels(network))
    return _make_runtime(backend, graph, torch.get_num_threads(), spin=spin)


def _make_runtime(
    backend: str, graph: Path, threads: int, *, spin: bool
) -> Callable[[torch.Tensor], torch.Tensor]:
    if backend == "openvino":
        return openvino_runtime.OpenVinoNetwork(graph, threads)
    return onnx_runtime.OnnxRuntimeNetwork(graph, threads, spin=spin)


def _in_channels(network: nn.Module) -> int:
    return int(network.config.in_channels)


def _compiled(model: nn.Module) -> nn.Module:
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True  # weights are constants: lets Inductor pre-pack them
    return torch.compile(model, dynamic=False)


@torch.no_grad()
def fold_batchnorm(block: ConvBNAct | ConvTransposeBNAct) -> None:
    """Fold ``block.norm`` (eval statistics) into ``block.conv``; the norm becomes Identity."""
    norm, conv = block.norm, block.conv
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)  # C_out
    out_axis = 1 if isinstance(conv, nn.ConvTranspose2d) else 0
    shape = [1] * conv.weight.ndim
    shape[out_axis] = -1
    conv.weight.mul_(scale.reshape(shape))
    conv.bias = nn.Parameter(norm.bias - norm.running_mean * scale)
    block.norm = nn.Identity()

