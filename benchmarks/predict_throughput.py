"""Images/s of ``qtseg predict`` against the model's own forward-only images/s.

    OMP_NUM_THREADS=1 python benchmarks/predict_throughput.py [--device cpu|cuda]
        [--checkpoint starter | --model qtseg-tiny] [--size 256] [--image 512x512]
        [--count 300] [--batch-size 8] [--workers 2] [--threads 1]
        [--backend openvino|onnxruntime|torch] [--rounds 3] [--rate-only]

By default it measures what a user runs: the bundled starter model at its own
canvas (256²) on 512x512 PNG photos (a CT or MRI slice's size), on the backend
``qtseg predict`` ends up on (OpenVINO when installed, else ONNX Runtime, else torch).
``--model NAME`` takes random weights of another architecture instead. It
writes ``--count`` synthetic photos to a temporary folder and prints, all
measured in this one run:

- forward-only: the inference model (the one ``qtseg predict`` runs) on
  ready canvases of ``--batch-size``, images/s, and ``qtseg predict``'s
  images/s on the same images and device (reading, letterboxing, restoring,
  argmax and PNG writing included), with the share of the model's rate kept
  (goal: >= 90 % on the CPU, >= 80 % on a GPU). Both sides run the same
  ``--backend`` with the same torch threads: "auto" would start on torch and
  switch to ONNX Runtime mid-run, so it is not offered here. ``--rounds``
  rounds (the model, ``qtseg predict`` on the photos, then on 4 folders of
  them, the model again: its rate is that of both) each give two shares: a
  whole run of ``--count`` images, start-up included, and at scale, from the
  second run's extra images over its extra time (every one-off cost paid by
  then: the rate a run of 10^5 images sees). The medians are the figures,
  with the one-off cost in seconds. CPU time per image (all threads) of both
  says how much work the pipeline adds, whatever the machine's load;
- CPU time per image of each stage, one after the other in one thread (the
  same functions ``qtseg predict`` runs): reading, letterboxing, the model
  with its softmax, restoring with the argmax, PNG encoding with the write,
  and the commit (sync and renames): where the time outside the model goes;

and then the issue's scale checks, on ``--checks-count`` (750) and 4x as many
tiny 160x120 photos through random qtseg-tiny weights at 128² (the model
costs little there, so the pipeline's own time shows):

- the time for 4x the images over the time for 1x (linear: 4; goal <= 4.6);
- ``--skip-existing`` on the finished folder over the first run (goal < 20 %);
- two ``--num-parts 2`` parts: disjoint, and together every image.

On such a tiny model the rate's share is far lower (about 60 % on 2 cores,
``--model qtseg-tiny --size 128 --image 160x120 --backend torch``): the
pipeline's ~0.8 ms of CPU per image outside the model is a third of the model's
own time there, and the two cores share their caches and memory bus.

The machine's load average is printed with the figures: on a shared machine
the model and the pipeline compete with other work, so compare the ratios,
which are measured side by side, rather than absolute rates across runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qtseg_core import build_model  # noqa: E402
from qtseg_core.checkpoint import read_metadata, save_model  # noqa: E402
from qtseg_core.device import pick_device  # noqa: E402
from qtseg_core.inference import predictor_for  # noqa: E402
from qtseg_core.models import prepare_for_inference  # noqa: E402
from qtseg_core.models.inference_fast import default_backend  # noqa: E402
from qtseg_core.predict import PredictReport, predict_files  # noqa: E402
from qtseg_core.resources import find_model  # noqa: E402

#: The long run of each round, in copies of the photos (its extra images give the rate at scale).
LONG_RUN = 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--checkpoint", default="starter",
                        help="the model to run (default: the bundled starter)")
    parser.add_argument("--model", help="random weights of this architecture instead "
                        "(qtseg-tiny, qtseg, ...)")
    parser.add_argument("--size", type=int, help="canvas side (default: the checkpoint's own)")
    parser.add_argument("--image", default="512x512", help="photo WIDTHxHEIGHT")
    parser.add_argument("--count", type=int, default=300, help="photos for the rate")
    parser.add_argument("--checks-count", type=int, default=750,
                        help="tiny photos for the scale checks (and 4x as many)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--rate-only", action="store_true",
                        help="only the rates (skip the scaling, --skip-existing and parts checks)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="forward-only / qtseg predict pairs for the rate (median ratio)")
    parser.add_argument("--backend", choices=("torch", "onnxruntime", "openvino"),
                        default=default_backend(),
                        help="what runs the network, on both sides (default: what qtseg "
                        "predict ends up on)")
    return parser.parse_args()


def write_photos(folder: Path, count: int, width: int, height: int) -> Path:
    """``count`` noisy RGB photos with a bright disc, as PNG."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        photo = rng.normal(90, 20, (height, width, 3))
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        cv2.circle(photo, centre, max(4, width // 8), (220, 180, 160), -1)
        cv2.imwrite(str(folder / f"photo_{index:06d}.png"), np.clip(photo, 0, 255).astype(np.uint8))
    return folder


@dataclass(frozen=True)
class Timing:
    """Wall seconds and this process's CPU seconds (all threads) for ``images`` images."""

    images: int
    wall_s: float
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.images / self.wall_s

    @property
    def cpu_ms_per_image(self) -> float:
        return 1000 * self.cpu_s / self.images


def timed(images: int, work: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return Timing(images, time.perf_counter() - wall, time.process_time() - cpu)


def forward_only(checkpoint: Path, args: argparse.Namespace) -> Callable[[int], Timing]:
    """The inference model alone on ready (B, 3, size, size) canvases: ``count`` images."""
    from qtseg_core.checkpoint import load_model

    device = pick_device(args.device)
    net = prepare_for_inference(load_model(checkpoint), device=device, backend=args.backend)
    canvases = torch.rand(args.batch_size, 3, args.size, args.size, device=device) * 2 - 1

    def run(count: int) -> Timing:
        batches = max(1, count // args.batch_size)

        def forward() -> None:
            for _ in range(batches):
                net(canvases)
            _sync(device)

        with torch.inference_mode():
            net(canvases)  # warm-up
            _sync(device)
            return timed(batches * args.batch_size, forward)

    return run


def timed_predict(
    checkpoint: Path, folders: list[Path], out: Path, args: argparse.Namespace,
    **options: object,
) -> tuple[float, PredictReport]:
    start = time.perf_counter()
    report = predict_files(
        checkpoint, folders, out,
        device=args.device, size=args.size, batch_size=args.batch_size, workers=args.workers,
        backend=args.backend, progress=False,
        **options,
    )
    return time.perf_counter() - start, report


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.image.split("x"))
    with tempfile.TemporaryDirectory(prefix="qtseg-predict-bench-") as scratch:
        root = Path(scratch)
        checkpoint, name = model_under_test(args, root)
        args.size = args.size or read_metadata(checkpoint).input_size
        photos = write_photos(root / "photos", args.count, width, height)
        print(f"{name} at {args.size}², {width}x{height} PNG photos, batch "
              f"{args.batch_size}, {args.workers} worker(s), {args.threads} torch thread(s), "
              f"device {args.device}, backend {args.backend}")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        report_rates(checkpoint, photos, root, args)
        report_stages(checkpoint, photos, root / "stages", args)
        if not args.rate_only:
            report_scaling(root / "checks", args)
        print(f"load average after: {os.getloadavg()[0]:.1f}")


def model_under_test(args: argparse.Namespace, root: Path) -> tuple[Path, str]:
    """The checkpoint the rate is measured with, and what to call it."""
    if args.model is None:
        checkpoint = find_model(args.checkpoint)
        return checkpoint, checkpoint.name
    torch.manual_seed(0)
    checkpoint = root / f"{args.model}.safetensors"
    save_model(build_model(args.model).eval(), checkpoint, input_size=args.size or 256)
    return checkpoint, f"{args.model} (random weights)"


def report_rates(checkpoint: Path, photos: Path, root: Path, args) -> None:
    """Rounds of forward-only then ``qtseg predict`` on the same images, side by side: the
    load of a shared machine drifts within seconds, so each round gives its own ratio.

    Each round runs ``qtseg predict`` twice, on the photos and on ``LONG_RUN`` folders of
    them: the second run's extra time is what its extra images cost once every one-off cost
    (reading the checkpoint, preparing or compiling the model, filling and draining the
    pipeline) is paid, the rate a run of 10^5 images sees."""
    timed_predict(checkpoint, [photos], root / "warm", args)  # first-call costs (imports, caches)
    forward = forward_only(checkpoint, args)
    folders = [photos] + [root / f"photos_again{k}" for k in range(1, LONG_RUN)]
    for again in folders[1:]:  # the same files under other folders (their names collide)
        shutil.copytree(photos, again, copy_function=os.link)
    rounds = []
    for index in range(args.rounds):
        before = forward(args.count)
        run = timed(args.count, lambda i=index: timed_predict(
            checkpoint, [photos], root / f"rate{i}", args))
        long = timed(LONG_RUN * args.count, lambda i=index: timed_predict(
            checkpoint, folders, root / f"long{i}", args))
        extra = Timing(long.images - run.images, long.wall_s - run.wall_s,
                       long.cpu_s - run.cpu_s)
        after = forward(args.count)  # the machine's speed drifts: the model before and after
        model = Timing(before.images + after.images, before.wall_s + after.wall_s,
                       before.cpu_s + after.cpu_s)
        rounds.append((model, run, extra))
        print(f"round {index + 1}: model {model.rate:.1f} img/s, qtseg predict {run.rate:.1f} "
              f"img/s = {100 * run.rate / model.rate:.0f} % on {args.count} images, "
              f"{extra.rate:.1f} img/s = {100 * extra.rate / model.rate:.0f} % at scale "
              f"(load {os.getloadavg()[0]:.1f})")
    shares = sorted(run.rate / model.rate for model, run, _ in rounds)
    at_scale = sorted(extra.rate / model.rate for model, _, extra in rounds)
    print(f"qtseg predict, share of the model's rate (goal >= 90 % on the CPU): at scale median "
          f"{100 * statistics.median(at_scale):.0f} % (rounds {100 * at_scale[0]:.0f}-"
          f"{100 * at_scale[-1]:.0f} %); a whole run of {args.count} images, start-up included, "
          f"median {100 * statistics.median(shares):.0f} % (rounds {100 * shares[0]:.0f}-"
          f"{100 * shares[-1]:.0f} %)")
    one_off = statistics.median(run.wall_s - args.count / extra.rate for _, run, extra in rounds)
    print(f"one-off cost of a run (its time less its images at the at-scale rate): "
          f"{one_off:.2f} s")
    model_cpu = statistics.median(model.cpu_ms_per_image for model, _, _ in rounds)
    run_cpu = statistics.median(extra.cpu_ms_per_image for _, _, extra in rounds)
    print(f"CPU time per image at scale, all threads: model {model_cpu:.1f} ms, qtseg predict "
          f"{run_cpu:.1f} ms (+{run_cpu - model_cpu:.1f} ms reading, letterboxing, restoring, "
          "writing; hidden only where a core is free)")


def report_stages(checkpoint: Path, photos: Path, out: Path, args: argparse.Namespace) -> None:
    """CPU ms per image of each stage of ``qtseg predict``, run one after the other here."""
    from qtseg_core.inference import prediction_from_probabilities
    from qtseg_core.io import read_image
    from qtseg_core.predict import PngMaskWriter

    predictor = predictor_for(checkpoint, device=args.device, size=args.size,
                              backend=args.backend)
    writer = PngMaskWriter(out, predictor.metadata.class_colors)
    files, spent = sorted(photos.iterdir()), dict.fromkeys(
        ("read", "letterbox", "model+softmax", "restore+argmax", "encode+write", "commit"), 0.0)

    def stage(name: str, work: Callable, *inputs: object) -> object:
        start = time.thread_time()
        result = work(*inputs)
        spent[name] += time.thread_time() - start
        return result

    for first in range(0, len(files), args.batch_size):
        chunk = files[first:first + args.batch_size]
        images = [stage("read", read_image, path) for path in chunk]
        canvases, boxes = stage("letterbox", predictor.prepare, images)
        planes = stage("model+softmax", predictor.canvas_probabilities, canvases)
        for path, box, plane in zip(chunk, boxes, planes, strict=True):
            prediction = stage("restore+argmax", lambda b=box, p=plane:
                               prediction_from_probabilities(b.restore(p)))
            stage("encode+write", writer.write, path.stem, None, prediction)
        stage("commit", writer.commit)
    per_image = {name: 1000 * seconds / len(files) for name, seconds in spent.items()}
    outside = sum(per_image.values()) - per_image["model+softmax"]
    stages = ", ".join(f"{name} {ms:.2f}" for name, ms in per_image.items())
    print(f"CPU ms per image by stage, one thread: {stages}; outside the model {outside:.2f}")


def report_scaling(root: Path, args: argparse.Namespace) -> None:
    """The issue's scale checks: tiny photos through random qtseg-tiny weights at 128²."""
    tiny = argparse.Namespace(**{**vars(args), "size": 128})
    torch.manual_seed(0)
    checkpoint = root / "qtseg-tiny.safetensors"
    root.mkdir()
    save_model(build_model("qtseg-tiny").eval(), checkpoint, input_size=tiny.size)
    small = write_photos(root / "small", args.checks_count, 160, 120)
    large = write_photos(root / "large", 4 * args.checks_count, 160, 120)
    timed_predict(checkpoint, [small], root / "warm", tiny)  # first-call costs (export, caches)
    small_s, _ = timed_predict(checkpoint, [small], root / "small_out", tiny)
    large_s, _ = timed_predict(checkpoint, [large], root / "large_out", tiny)
    print(f"scale checks, qtseg-tiny at 128² on 160x120 photos: {4 * args.checks_count} vs "
          f"{args.checks_count} images: {large_s:.2f} s / {small_s:.2f} s = "
          f"{large_s / small_s:.2f} (linear 4, goal <= 4.6)")
    again_s, again = timed_predict(checkpoint, [large], root / "large_out", tiny,
                                   skip_existing=True)
    print(f"--skip-existing on the finished folder: {again_s:.2f} s = "
          f"{100 * again_s / large_s:.1f} % of the first run ({len(again.existing)} left as they "
          f"were, {len(again.written)} predicted; goal < 20 %)")
    reports = [
        timed_predict(checkpoint, [small], root / "parts", tiny, num_parts=2, part_id=k)[1]
        for k in (0, 1)
    ]
    parts = [set(report.written) for report in reports]
    every = {str(path) for path in small.iterdir()}
    print(f"--num-parts 2: {len(parts[0])} + {len(parts[1])} images, "
          f"{len(parts[0] & parts[1])} in both, {len(every - parts[0] - parts[1])} in neither")


if __name__ == "__main__":
    main()
