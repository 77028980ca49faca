"""Training throughput: the data pipeline alone, and full training steps, in images per second.

    .venv/bin/python benchmarks/train_speed.py [--sizes 256 512] [--steps 3] [--batch 4]

Data pipeline: ``SegmentationDataset`` with the paper's augmentation over the
real 512x512 CT slices of ``/work/shared/data`` (read, letterbox, augment,
normalise), through a DataLoader with 0 and 2 workers. Training step: the
paper's network (9.2 M parameters) doing forward, loss (CE + soft Dice),
backward and AdamW step on loader batches. On a CUDA machine the step is also
timed with bf16 autocast and channels-last, each on and off. Prints figures;
there is no pass/fail.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from qtseg_core.data.augment import PaperAugmentation
from qtseg_core.data.dataset import SegmentationDataset
from qtseg_core.data.layouts import open_dataset
from qtseg_core.models import build_model
from qtseg_core.training.losses import SegmentationLoss

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
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
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
    parser.add_argument("--gpu-steps", type=int, default=20)
    parser.add_argument("--gpu-batch", type=int, default=16)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
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
