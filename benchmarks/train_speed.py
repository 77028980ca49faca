"""Training throughput: the data pipeline alone, and full training steps, in images per second.

    .venv/bin/python benchmarks/train_speed.py [--sizes 256 512] [--steps 3] [--batch 4]

Data pipeline: ``SegmentationDataset`` with the paper's augmentation over the
real 512x512 CT slices of ``/work/shared/data`` (read, letterbox, augment,
normalise), through a DataLoader with 0 and 2 workers. Training step: the
paper's network (9.2 M parameters) doing forward, loss (CE + soft Dice),
backward and AdamW step on loader batches. On a CUDA machine the step is also
timed with bf16 autocast and channels-last, each on and off. Prints figures;
there is no pass/fail.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_speed.py --compare 320 [--rounds 4]

times the CPU training step before and after the pixel-block mask head and the
fused AdamW, interleaved in one process on one batch (see ``compare_paths``).
Measured 2026-12-01 22:12-22:16, load (1-min) 3.4-5.3 on the shared 2-core
machine, one thread, nice 10, 320 px, batch 4, 4 rounds x 3 steps:

    path                        wall img/s   CPU-time img/s
    grid head + AdamW loop         0.76          1.24       (before)
    block head + AdamW loop        0.88          1.63
    block head + fused AdamW       0.98          1.88       (the product)

The CPU-time column is the step's own work (3.2 -> 2.1 s a step, 1.5x); wall
time also holds the other jobs' share of the cores, so it varied 0.54-1.24
img/s between rounds. Where the time went before (torch.profiler, one step):
GELU's backward over the 4 x 64 x 160 x 160 map that LayerNorm2d left in a
transposed layout (0.44 s of 4.6 s), the deconvolution's backward into it
(0.24 s), LayerNorm and the copies around it (0.2 s), AdamW's per-tensor loop
(0.27 s); the data pipeline was 0.06 s a batch in the main process.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from qtseg_core.data.augment import PaperAugmentation
from qtseg_core.data.dataset import SegmentationDataset
from qtseg_core.data.layouts import open_dataset
from qtseg_core.models import build_model
from qtseg_core.training.config import DataConfig, TrainConfig
from qtseg_core.training.losses import SegmentationLoss
from qtseg_core.training.optim import build_optimizer

DATA = Path("/work/shared/data/pyradiomics_lung_ct")


def pipeline_speed(size, workers, batches, batch_size):
    """Images/s of loading + letterbox + augmentation + normalisation alone."""
    dataset = SegmentationDataset(open_dataset(DATA).samples, size, 3, augment=True)
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=True, num_workers=workers, persistent_workers=False
    )
    stream = itertools.chain.from_iterable(itertools.repeat(loader))
    next(stream)  # start the workers before timing
    start = time.perf_counter()
    for _ in range(batches):
        next(stream)
    return batches * batch_size / (time.perf_counter() - start)


def augment_ms(size, canvases=40):
    """Milliseconds per canvas of the paper's augmentation alone (0-4 random transforms)."""
    augment = PaperAugmentation()
    rng = np.random.default_rng(0)
    image = rng.random((size, size, 3), dtype=np.float32)
    mask = (image[..., 0] > 0.5).astype(np.uint8)
    start = time.perf_counter()
    for seed in range(canvases):
        augment(image, mask, seed=seed)
    return (time.perf_counter() - start) / canvases * 1000


def step_speed(size, steps, batch_size, device, dtype=None, channels_last=False):
    """Images/s of full training steps (loader batch -> forward, loss, backward, AdamW)."""
    model = build_model("qtseg").to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    config = TrainConfig(DataConfig(root=str(DATA)), lr=1e-3, weight_decay=1e-4)
    optimizer = build_optimizer(model.parameters(), config)
    loss_fn = SegmentationLoss()
    dataset = SegmentationDataset(open_dataset(DATA).samples, size, 3, augment=True)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2)
    batches = itertools.chain.from_iterable(itertools.repeat(loader))
    _step(model, optimizer, loss_fn, next(batches), device, dtype, channels_last)  # warm-up
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        _step(model, optimizer, loss_fn, next(batches), device, dtype, channels_last)
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


class GridMaskHead(torch.nn.Module):
    """The mask head as the paper writes it (the path before the pixel-block head):
    upsample on the image grid, then tokens . pixels, then resize."""

    def forward(self, tokens, features, upsample, output_size):
        upsampled = upsample(features)
        b, c, h, w = upsampled.shape
        logits = torch.bmm(tokens, upsampled.reshape(b, c, h * w)).reshape(b, -1, h, w)
        return torch.nn.functional.interpolate(
            logits, size=output_size, mode="bilinear", align_corners=False
        )


def compare_paths(size, batch_size, rounds, steps):
    """Images/s of a CPU training step, the pre-change path against the product's, interleaved.

    "grid head + AdamW loop": upsampling on the grid then the dot product, AdamW one
    tensor at a time (torch's CPU default). "block head + AdamW loop": the product's mask
    head only. "block head + fused AdamW": the product (``build_optimizer``). Same weights,
    same batch (read and augmented once). Prints each round and the medians, in wall
    time and in this process's CPU time (on a shared machine the wall time also counts
    the other jobs' share of the cores; the CPU time counts this step's own work).
    """
    dataset = SegmentationDataset(open_dataset(DATA).samples, size, 3, augment=True)
    images = torch.stack([dataset[i][0] for i in range(batch_size)])
    masks = torch.stack([dataset[i][1].long() for i in range(batch_size)])
    torch.manual_seed(0)
    start = build_model("qtseg").state_dict()
    variants = {
        "grid head + AdamW loop": (True, False),
        "block head + AdamW loop": (False, False),
        "block head + fused AdamW": (False, True),
    }
    runs = {name: _variant(start, grid, fused) for name, (grid, fused) in variants.items()}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    loss_fn = SegmentationLoss()
    for _ in range(rounds):
        for name, (model, optimizer) in runs.items():
            _step_cpu(model, optimizer, loss_fn, images, masks)  # warm-up / caches
            times, cpu_times = [], []
            for _ in range(steps):
                began, began_cpu = time.perf_counter(), time.process_time()
                _step_cpu(model, optimizer, loss_fn, images, masks)
                times.append(time.perf_counter() - began)
                cpu_times.append(time.process_time() - began_cpu)
            wall[name].append(batch_size / statistics.median(times))
            cpu[name].append(batch_size / statistics.median(cpu_times))
        print("  wall img/s " + ", ".join(f"{n}: {v[-1]:.2f}" for n, v in wall.items()), flush=True)
    for name in runs:
        print(f"train step CPU {size}px batch={batch_size} {name:26s}: "
              f"{statistics.median(wall[name]):5.2f} img/s wall, "
              f"{statistics.median(cpu[name]):5.2f} img/s of CPU time "
              f"(medians of {rounds} rounds x {steps} steps)")


def _variant(state, grid_head, fused):
    model = build_model("qtseg").train()
    model.load_state_dict(state)
    if grid_head:
        model.decoder.mask_head = GridMaskHead()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4, fused=fused)
    return model, optimizer


def _step_cpu(model, optimizer, loss_fn, images, masks):
    loss, _ = loss_fn(model(images), masks)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def _step(model, optimizer, loss_fn, batch, device, dtype, channels_last):
    images, masks = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        logits = model(images)
    loss, _ = loss_fn(logits, masks)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--steps", type=int, default=3, help="timed CPU steps per size")
    parser.add_argument("--batch", type=int, default=4, help="CPU batch size")
    parser.add_argument("--compare", type=int, metavar="SIZE",
                        help="only the before/after comparison of the CPU step at SIZE px")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of the comparison")
    parser.add_argument("--gpu-steps", type=int, default=20)
    parser.add_argument("--gpu-batch", type=int, default=16)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    if args.compare:
        compare_paths(args.compare, args.batch, args.rounds, args.steps)
        return
    for size in args.sizes:
        print(f"augmentation   {size}px            : {augment_ms(size):7.1f} ms/canvas")
        for workers in (0, 2):
            speed = pipeline_speed(size, workers, batches=8, batch_size=4)
            print(f"data pipeline  {size}px  workers={workers}: {speed:7.1f} img/s")
    cpu = torch.device("cpu")
    for size in args.sizes:
        speed = step_speed(size, args.steps, args.batch, cpu)
        print(f"train step CPU {size}px  batch={args.batch}: {speed:7.2f} img/s")
    if torch.cuda.is_available():
        _gpu_table(args)


def _gpu_table(args):
    device = torch.device("cuda")
    print(f"GPU: {torch.cuda.get_device_name(device)}")
    for size in args.sizes:
        for dtype, channels_last in itertools.product((None, torch.bfloat16), (False, True)):
            speed = step_speed(size, args.gpu_steps, args.gpu_batch, device, dtype, channels_last)
            label = f"{'bf16' if dtype else 'fp32'} {'channels-last' if channels_last else 'NCHW'}"
            print(
                f"train step GPU {size}px  batch={args.gpu_batch} {label:18s}: {speed:7.1f} img/s"
            )


if __name__ == "__main__":
    main()
