"""Latency and GFLOP/s of the eager model, our default inference path and, given
their source, the authors' own implementation; same masks checked pixel by pixel.

    python benchmarks/model_speed.py [--reference AUTHORS_SRC] [--checkpoint M.safetensors]
        [--sizes 256 512 1024] [--threads 2] [--repeats 10] [--device cpu|cuda] [--batch 1]
        [--bf16] [--compile] [--traced] [--memory]

Variants, run interleaved in one process (machine noise hits all alike):
  authors  the authors' eager code (``--reference``: a folder holding their ``networks/``
           and ``configs/``, never committed), random weights and random BatchNorm
           statistics; every other variant then holds the same weights, converted
           by ``qtseg import-checkpoint``'s function (see ``reference_model.py``)
  eager    our QTSeg module as it is
  default  ``prepare_for_inference(model)``: what the app, ``qtseg predict``, the
           fine-tune gate and the click tool run (its backend is printed; an export
           is waited for before timing)
  torch    ``prepare_for_inference(model, backend="torch")``: the default without a runtime
  traced   (``--traced``) that torch path through ``torch.jit.trace`` + ``torch.jit.freeze``,
           one trace per input shape, made on its first (untimed) call
Each line prints the median latency, GFLOP/s, the ratio to the baseline (authors
when given, else eager: the ratio of the medians, then the first and third quartiles
of the per-repeat ratios, which show how much the machine's load moved it), mask
pixels differing from the baseline and how many of those are near ties (the eager
model's top two logits there within ``NEAR_TIE`` = 1e-4, the check's logit
tolerance: float rounding decides their class), and the largest logit difference.
With ``--threads 1`` each line also gives the calling thread's CPU time, which other
processes' load barely changes (both torch and ONNX Runtime then compute on that
thread). ``--memory`` adds each variant's peak memory, measured in a fresh subprocess
holding only that variant (peak RSS on the CPU, Python and torch included; max
allocated tensor memory on CUDA).

(The figures from 2026-12-01 below count "near ties" the older way: every pixel of the image
whose top two logits in the baseline were closer than the largest logit difference, flipped
or not.)

Measured 2026-12-01 with ``--reference`` (the authors' v0.3.1 src/), batch 1, nice -n 10 on
the shared 2-core CPU (load 7-11 from other engineers: absolute times inflated; each line's
ratios come from one interleaved run). ONNX Runtime is the default backend of a plain install:
    512², 1 thread, 8 repeats, load ~10.5: authors 1381 ms (cpu 449), eager 1084 (0.78),
        default on ONNX Runtime 658 (0.48; cpu 0.48), torch backend 883 (0.64); 0 mask
        pixels differ (1 near tie), largest logit difference 2.7e-6
    512², 2 threads (the default), load ~9.5: authors 5323 ms, default 677 (0.13), torch 3212
        (0.60); 0 differ. torch's OpenMP threads wait for each other on a loaded machine,
        ORT's do not spin: this ratio is the load's
    idle machine (load ~0.6, nothing else running), 512², 8 repeats: 2 threads (the default)
        authors 261.8 ms, eager 0.86, default on ONNX Runtime 144.1 (0.55), torch 0.69;
        1 thread authors 418.7 ms, default 217.7 (0.52; cpu 0.52), torch 0.71; 0 differ
    256², 1 thread, 4 repeats, load ~8.5: authors 457 ms (cpu 151), default 192 (0.42; cpu
        0.41), torch 349 (0.76); 0 differ
    1024², 1 thread, 4 repeats, load ~8: authors 6394 ms (cpu 2083), default 3065 (0.48; cpu
        0.48), torch 3651 (0.57; cpu 0.64); 0 differ (5 near ties)
    (the last session at 512², load 8-13: default 0.49 and 0.54, once 1 pixel differed, a near tie)
After the DMA blocks read their channel branch on the tokens' side (EXPORT_VERSION 3; A/B of
the two exports in one process, 512², 1 thread, thread CPU: 0.931x and 0.968x the old graph,
load 7-9), 2026-12-01 22:05-22:12, nice -n 10, load 3-5 (not idle):
    512², 1 thread, 8 repeats, load ~4: authors 1115.9 ms (cpu 567.6), eager 0.79, default on
        ONNX Runtime 572.3 (0.51; cpu 0.50), torch backend 0.74 (cpu 0.72); 0 differ (1 near tie)
    512², 2 threads, load ~4.6: authors 2934 ms, default 480 (0.16), torch 0.59: the load's ratio
    256², 1 thread, 4 repeats, load ~4.5: authors 368.0 ms (cpu 243.5), default 150.9 (0.41; cpu
        0.48), torch 0.66; 0 differ
    1024², 1 thread, 4 repeats, load ~4: authors 3079.6 ms (cpu 2192.5), default 1512.9 (0.49;
        cpu 0.46), torch 0.63 (cpu 0.60); 0 differ (2 near ties)
After SAM's channel mean became a MatMul (EXPORT_VERSION 4; A/B 512², 1 thread, thread CPU:
0.968x and 0.942x the form-3 graph, load 6-7), 2026-12-01 22:36, nice -n 10, load ~4 (not idle):
    512², 1 thread, 8 repeats: authors 768.0 ms (cpu 552.0), eager 0.73, default on ONNX Runtime
        352.5 (0.46; cpu 0.42), torch backend 0.60 (cpu 0.59); 1 pixel differs, a near tie
        (largest logit difference 3.3e-6). On 6 other seeded inputs form 4 differed in 0 pixels,
        form 3 in 1 (one input): which near ties flip is the input's luck, for either form
2026-12-02 00:27-00:34, form 4 unchanged, nice -n 10, load 5-7.5 (not idle); near ties now
counted among the differing pixels (eager margin within 1e-4); "per repeat" = quartiles of the
paired ratios:
    512², 1 thread, 12 repeats, load ~7: authors 1177.5 ms (cpu 480.1), eager 0.81, default on
        ONNX Runtime 541.0 (0.46, per repeat 0.44-0.48; cpu 0.45, 0.44-0.46), torch 0.66 (cpu
        0.67); 1 pixel differs, 1 of them a near tie; largest logit difference 3.3e-6
    256², 1 thread, 6 repeats, load ~5: authors 166.0 ms (cpu 148.1), default 68.2 (0.41; cpu
        0.41), torch 0.83; 0 differ
    1024², 1 thread, 6 repeats, load ~5: authors 3801.5 ms (cpu 2083.9), default 1412.4 (0.37;
        cpu 0.40), torch 0.48 (cpu 0.53); 0 differ
    512², 2 threads, 12 repeats, load ~5: default 0.16 (per repeat 0.08-0.17), eager 1.37 (per
        repeat 0.54-2.48): torch's threads waiting for each other, the load's ratio, not ours
    Export forms tried against form 4 (A/B, 512², 1 thread, thread CPU, 24 repeats, load 4-8),
    none kept (the rule: at most 0.97x in each of two runs): SAM's channel max as a tree of
    maxima over channel halves 0.998x; SAM on the pixel rows (reductions over the contiguous
    axis) 0.983x; the DMA blocks without transposing the C x HW map (products with transposed
    operands instead) 1.025x
    ONNX Runtime session options, interleaved on the same graph (512², thread CPU at 1 thread,
    wall and process CPU at 2, against the shipped ALL / no spinning / sequential): EXTENDED
    1.10x (no NCHWc), LAYOUT 1.00x, no memory pattern 0.99x, no arena 1.07x, denormals as zero
    0.98x and 0.99x; 2 threads: spinning 1.29x and 1.30x wall, parallel execution 1.24-1.73x,
    dynamic block base 4 0.89x then 1.04x wall (noise); none kept. OpenVINO 2026.4.1 (from the
    ONNX graph or from torch by convert_model, 1 thread): 1.22x the CPU time, and its logits
    differed from the authors' by up to 2.1 (72k mask pixels; cause not found): not pursued
2026-12-03 14:22-15:10, form 4 unchanged, load 7-9.5 (not idle: every ratio reads lower than idle):
    512², 1 thread, 10 repeats: authors 414.6 ms (cpu 206.4), default on ONNX Runtime 0.32 (per
        repeat 0.28-0.43; cpu 0.39), torch 0.59; 1 pixel differs, the same near tie: the authors'
        margin there is +5.5e-7, our model in float64 +6.0e-7 (float64 sides with the authors),
        ONNX Runtime's -9.7e-8; 37 pixels of that image have a margin under 1e-4, 3 under 1e-5
    256², 1 thread, 6 repeats: default 0.40 (cpu 0.33), 0 differ; 1024²: 0.24 (cpu 0.24), 0 differ
    512², 1 thread, --traced: authors 581.3 ms (cpu 232.4), default 0.39 (cpu 0.40), torch 0.60
        (cpu 0.63), traced 0.50 (cpu 0.55; tracing and freezing take ~6 s); in a scratch run
        (8 repeats, load 8) traced 0.574 against torch 0.612 and ONNX Runtime 0.343 (cpu):
        TorchScript takes 7-12 % off the torch path's CPU time but needs 1.4-1.6x ONNX
        Runtime's, so it is not the default
    Tried against the shipped session, A/B in one process, thread CPU, 100 repeats, two rounds,
    load 5-5.5 (an A/A pair of identical sessions read 0.995 and 0.984): the mask head's s x s
    sub-blocks as 16 separate chains (intermediates of 1 MB instead of 16 MB; bit-identical
    logits) 0.977 and 0.974; a session with batch, height and width fixed (free-dimension
    overrides: the shape arithmetic and positional encodings fold; 1.6 s to create per shape)
    0.989 and 1.003; both 0.965 and 0.959 (quartiles 0.89-1.03); ORT's offline transformer
    optimizer (exact GELU; it finds no Attention to fuse) 0.973 and 1.004 (60 repeats, A/A 0.985
    and 1.002); BatchNorm folded in float64 and rounded once: the same speed, mean logit error
    against float64 2.53e-7 against 2.38e-7 over 8 other inputs. None kept: gains of 1-3 % within
    the quartiles; ONNX Runtime's CPU time at 512² is ~41 % convolutions (~110 GFLOP/s on one
    thread) and ~20 % the mask head, whose 16 MB maps make it memory-bound
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.reference_model import build_reference, converted_copy  # noqa: E402
from qtseg_core import build_model, load_model  # noqa: E402
from qtseg_core.model_info import describe  # noqa: E402
from qtseg_core.models import prepare_for_inference  # noqa: E402
from qtseg_core.resources import STARTER_MODEL, resource_path  # noqa: E402

STARTER = resource_path(STARTER_MODEL)


def make_model(checkpoint: str | None):
    if checkpoint:
        return load_model(checkpoint)
    if STARTER.exists():
        return load_model(STARTER)
    return build_model("qtseg").eval()


def build_variant(name, model, device, reference=None):
    """(network, input layout function) for one variant name (see the module docstring)."""
    if name == "authors":
        return reference.to(device).eval(), lambda x: x
    if name == "eager":
        return model.to(device).eval(), lambda x: x
    if name == "traced":
        net = prepare_for_inference(model, device=device, backend="torch")
        return TracedPerShape(net), net.to_layout
    backend = "torch" if name in ("torch", "compiled") else "auto"
    net = prepare_for_inference(model, device=device, compile=name == "compiled", backend=backend)
    return net, net.to_layout


def wait_for_runtime(net, shape) -> None:
    """Time the runtime (exported, and compiled for ``shape``), not torch answering meanwhile."""
    wait = getattr(getattr(net, "network", None), "wait", None)
    if wait is not None and not wait(shape=shape):
        print(f"    (default: the runtime failed, torch answers: {net.network.error})")


class TracedPerShape:
    """The torch-backend network as a frozen TorchScript trace, one per input shape (a trace
    bakes the shapes in), traced on the first call of each shape."""

    def __init__(self, prepared) -> None:
        self.network, self.traces = prepared.network, {}

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        shape = tuple(images.shape)
        if shape not in self.traces:
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings on the input-size checks
                traced = torch.jit.trace(self.network, images, check_trace=False)
                self.traces[shape] = torch.jit.freeze(traced.eval())
        return self.traces[shape](images)


def backend_of(net) -> str:
    """Which engine a prepared model runs on, in words."""
    inner = getattr(net, "network", net)
    runtime = getattr(inner, "runtime", None)
    return type(runtime or inner).__name__


def variant_names(args):
    names = ["authors"] if args.reference else []
    names += ["eager", "default", "torch"]
    names += ["traced"] if args.traced else []
    return names + ["compiled"] if args.compile else names


def time_once(model, images, device, bf16):
    if device.type == "cuda":
        torch.cuda.synchronize()
    start, cpu_start = time.perf_counter(), time.thread_time()
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        logits = model(images)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.thread_time() - cpu_start, logits.float()


def measure(args, runs, size, in_channels):
    """Each variant's milliseconds per repeat (wall, and the calling thread's CPU) and last
    logits, interleaved: repeat r of every variant ran back to back."""
    device = torch.device(args.device)
    images = torch.rand(args.batch, in_channels, size, size, device=device) * 2 - 1
    for net, _ in runs.values():
        wait_for_runtime(net, tuple(images.shape))
    times = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    logits = {}
    for repeat in range(args.repeats + 2):
        for name, (net, layout) in runs.items():
            seconds, cpu_seconds, logits[name] = time_once(net, layout(images), device, args.bf16)
            if repeat >= 2:  # the first two calls warm caches and pick kernels
                times[name].append(seconds)
                cpu[name].append(cpu_seconds)
    in_ms = {name: [t * 1000 for t in seconds] for name, seconds in times.items()}
    return in_ms, {name: [t * 1000 for t in seconds] for name, seconds in cpu.items()}, logits


def paired_quartiles(times: list[float], base: list[float]) -> tuple[float, float]:
    """First and third quartiles of the per-repeat ratios times[r] / base[r]: how steady the
    ratio of the medians is while the machine's load changes between repeats."""
    ratios = [t / b for t, b in zip(times, base, strict=True)]
    if len(ratios) < 2:
        return ratios[0], ratios[0]
    first, _, third = statistics.quantiles(ratios, n=4)
    return first, third


def peak_memory(args, size, variant):
    """Run one variant in a fresh process (see ``child_peak_memory``) and read its peak."""
    command = [sys.executable, __file__, "--child", variant, "--sizes", str(size),
               "--threads", str(args.threads), "--device", args.device, "--batch", str(args.batch)]
    for flag in ("checkpoint", "reference"):
        if getattr(args, flag):
            command += [f"--{flag}", getattr(args, flag)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_peak_memory(args):
    device = torch.device(args.device)
    model, reference = models(args)
    net, layout = build_variant(args.child, model, device, reference)
    size = args.sizes[0]
    images = layout(torch.rand(args.batch, model.config.in_channels, size, size, device=device))
    wait_for_runtime(net, tuple(images.shape))
    with torch.inference_mode():
        net(images)
        net(images)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def models(args):
    """(our model, the authors' model or None): theirs converted when ``--reference``."""
    if not args.reference:
        return make_model(args.checkpoint), None
    reference = build_reference(args.reference)
    return converted_copy(reference), reference


def report(args, size, model, times, cpu_times, logits, runs):
    info = describe(model, size)
    base = "authors" if args.reference else "eager"
    latency = {name: statistics.median(t) for name, t in times.items()}
    cpu = {name: statistics.median(t) for name, t in cpu_times.items()}
    foreground = float((logits[base].argmax(1) > 0).float().mean())
    print(f"{size}²: params {info.parameters:,}  FLOPs {info.flops / 1e9:.2f} G  "
          f"(baseline {base}; its mask has {foreground:.1%} foreground)")
    memory = {name: peak_memory(args, size, name) for name in latency} if args.memory else {}
    for name, ms in latency.items():
        flipped = logits[base].argmax(1) != logits[name].argmax(1)
        differing = int(flipped.sum())
        largest = float((logits[base] - logits[name]).abs().max())
        ties = int((flipped & (margin(logits["eager"]) <= NEAR_TIE)).sum())
        label = f"{name} ({backend_of(runs[name][0])})" if name == "default" else name
        pixels = logits[base].argmax(1).numel()
        low, high = paired_quartiles(times[name], times[base])
        line = (f"    {label:>34}: {ms:7.1f} ms  {info.flops * args.batch / ms / 1e6:5.1f} GFLOP/s"
                f"  ratio {ms / latency[base]:.2f} (per repeat {low:.2f}-{high:.2f})"
                f"  mask pixels differing {differing} of "
                f"{pixels} ({ties} of them near ties)  max |logit diff| {largest:.1e}")
        if args.threads == 1:  # everything runs on the calling thread: its CPU time
            low, high = paired_quartiles(cpu_times[name], cpu_times[base])
            line += (f"  cpu {cpu[name]:7.1f} ms (ratio {cpu[name] / cpu[base]:.2f}, "
                     f"per repeat {low:.2f}-{high:.2f})")
        print(line + (f"  peak {memory[name]:.0f} MiB" if memory else ""))


#: Top-two logit margin (in the eager model) below which a differing pixel counts as a near tie.
NEAR_TIE = 1e-4


def margin(logits: torch.Tensor) -> torch.Tensor:
    """Per pixel, the top class's logit minus the runner-up's."""
    top2 = logits.topk(2, dim=1).values
    return top2[:, 0] - top2[:, 1]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", help="folder holding the authors' networks/ and configs/")
    parser.add_argument("--checkpoint")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--compile", action="store_true",
                        help="also time prepare_for_inference(compile=True) (slow first call)")
    parser.add_argument("--traced", action="store_true",
                        help="also time the torch path as a frozen torch.jit.trace (per shape)")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(child_peak_memory(args)))
        return
    device = torch.device(args.device)
    model, reference = models(args)
    source = ("the authors' code, random weights" if args.reference
              else args.checkpoint or ("starter" if STARTER.exists() else "random weights"))
    print(f"model: {source}; device {args.device}, {args.threads} threads, batch {args.batch}, "
          f"bf16 {args.bf16}, {args.repeats} repeats")
    runs = {name: build_variant(name, model, device, reference) for name in variant_names(args)}
    for size in args.sizes:
        latency, cpu, logits = measure(args, runs, size, model.config.in_channels)
        report(args, size, model, latency, cpu, logits, runs)


if __name__ == "__main__":
    main()
