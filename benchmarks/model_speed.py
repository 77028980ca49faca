"""Latency, FLOPs and peak memory of the eager model vs our inference path.

    python benchmarks/model_speed.py [--checkpoint M.safetensors] [--sizes 256 512 1024]
        [--threads 2] [--repeats 10] [--device cpu|cuda] [--batch 1] [--bf16]

"fast" is prepare_for_inference on torch; "onnxruntime" the same prepared
network on ONNX Runtime (when installed: pip install "qtseg[fast]"; its graph
is exported before timing, or loaded from the cache). The variants run
interleaved in one process (so machine noise hits all alike); each line
prints latency, GFLOP/s and the ratio to eager, and compares its masks with
eager's pixel by pixel. Peak memory is measured in a fresh subprocess per
variant, holding only that variant: the whole process's peak resident set
size on the CPU (Python, torch and the model included), max allocated tensor
memory on CUDA.

Measured 2026-12-01, starter checkpoint, batch 1, on the shared 2-core CPU
(load 2-7 from other engineers, run under nice -n 10, so absolute times are
inflated; each line's ratios come from one interleaved run):
    --threads 1, load ~3: 256² eager 125 ms, fast 111 (0.89), onnxruntime 69 (0.55)
                          512² eager 376 ms, fast 335 (0.89), onnxruntime 258 (0.68)
    --threads 1, load ~3: 1024² eager 1320 ms, fast 1205 (0.91), onnxruntime 1046 (0.79)
    --threads 2, load ~2: 256² eager 2450 ms, fast 1539 (0.63), onnxruntime 76 (0.03)
                          512² eager 1997 ms, fast 1603 (0.80), onnxruntime 296 (0.15)
                          1024² eager 4572 ms, fast 3259 (0.71), onnxruntime 1204 (0.26)
With 2 threads on a loaded machine torch's OpenMP threads wait at every
operator for a preempted partner; ORT's pool (no spinning) does not, hence the
extreme 2-thread ratios. The 1-thread lines compare the kernels themselves.
Masks identical to eager in every case; logits within 2e-5.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qtseg_core import build_model, load_model  # noqa: E402
from qtseg_core.model_info import describe  # noqa: E402
from qtseg_core.models import onnx_runtime, prepare_for_inference  # noqa: E402
from qtseg_core.resources import STARTER_MODEL, resource_path  # noqa: E402

STARTER = resource_path(STARTER_MODEL)


def make_model(checkpoint: str | None):
    if checkpoint:
        return load_model(checkpoint)
    if STARTER.exists():
        return load_model(STARTER)
    return build_model("qtseg").eval()


def build_variant(name, model, device):
    """(network, input layout function) for "eager", "fast", "onnxruntime" or "compiled"."""
    if name == "eager":
        return model.to(device).eval(), lambda x: x
    backend = "onnxruntime" if name == "onnxruntime" else "torch"
    net = prepare_for_inference(model, device=device, compile=name == "compiled", backend=backend)
    return net, net.to_layout


def variant_names(args):
    """eager, fast (torch backend), onnxruntime when installed on the CPU, compiled if asked."""
    names = ["eager", "fast"]
    if onnx_runtime.available() and args.device == "cpu" and not args.bf16:
        names.append("onnxruntime")
    return names + ["compiled"] if args.compile else names


def variants(model, device, names):
    return {name: build_variant(name, model, device) for name in names}


def time_once(model, images, device, bf16):
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        logits = model(images)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, logits


def measure(args, size):
    device = torch.device(args.device)
    model = make_model(args.checkpoint)
    images = torch.rand(args.batch, model.config.in_channels, size, size, device=device) * 2 - 1
    runs = variants(model, device, variant_names(args))
    times = {name: [] for name in runs}
    masks = {}
    for repeat in range(args.repeats + 2):
        for name, (net, layout) in runs.items():
            seconds, logits = time_once(net, layout(images), device, args.bf16)
            if repeat >= 2:
                times[name].append(seconds)
            masks[name] = logits.argmax(1)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}, masks


def peak_memory(args, size, variant):
    """Run one variant in a fresh process (see ``child_peak_memory``) and read its peak."""
    command = [sys.executable, __file__, "--child", variant, "--sizes", str(size),
               "--threads", str(args.threads), "--device", args.device, "--batch", str(args.batch)]
    if args.checkpoint:
        command += ["--checkpoint", args.checkpoint]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_peak_memory(args):
    device = torch.device(args.device)
    model = make_model(args.checkpoint)
    net, layout = build_variant(args.child, model, device)
    size = args.sizes[0]
    images = layout(torch.rand(args.batch, model.config.in_channels, size, size, device=device))
    with torch.inference_mode():
        net(images)
        net(images)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--compile", action="store_true",
                        help="also time prepare_for_inference(compile=True) (slow first call)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(child_peak_memory(args)))
        return
    model = make_model(args.checkpoint)
    source = args.checkpoint or ("starter checkpoint" if STARTER.exists() else "random weights")
    print(f"model: {source}; device {args.device}, {args.threads} threads, "
          f"batch {args.batch}, bf16 {args.bf16}")
    for size in args.sizes:
        info = describe(model, size)
        latency, masks = measure(args, size)
        memory = {name: peak_memory(args, size, name) for name in latency}
        print(f"{size}²: params {info.parameters:,}  FLOPs {info.flops / 1e9:.2f} G")
        for name in latency:
            differing = int((masks["eager"] != masks[name]).sum())
            flops_per_second = info.flops * args.batch / (latency[name] / 1000)
            print(
                f"    {name:>11}: {latency[name]:7.1f} ms  {flops_per_second / 1e9:5.1f} GFLOP/s  "
                f"ratio to eager {latency[name] / latency['eager']:.2f}  "
                f"peak RSS {memory[name]:.0f} MiB  "
                f"mask pixels differing from eager {differing} of {masks['eager'].numel()}"
            )


if __name__ == "__main__":
    main()
