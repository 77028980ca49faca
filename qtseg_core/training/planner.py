"""The training plan: pure functions from a data fingerprint and device facts to a recipe.

nnU-Net's idea for QTSeg: look at the data, then choose. Every choice comes
with the reason a person reads in ``plan.json``:

- **input size**: the images' longer side rounded to a multiple of 32; made
  smaller only when the device cannot afford it (memory, or the time budget)
  and never so small that the thinnest objects drop under ``MIN_VISIBLE_PX``
  canvas pixels. Thin objects (a grey-matter ribbon) get a canvas up to
  ``MAX_UPSAMPLE`` x the image for that: the network's masks come out at half
  the canvas, and on the grey-matter proxy 320 px beat 192 px by 4 validation
  Dice at the same 8-minute budget with half the epochs;
- **batch size**: about a sixteenth of the training images (a power of two,
  2..8 on a CPU, 2..32 on a GPU), within memory, so that small data sets get
  many optimiser steps per epoch (37 grey-matter slices: batch 2, not 4,
  chosen on ``benchmarks/autoconfig.py --choose``);
- **optimiser steps**: at least ``MIN_STEPS`` and at least ``MIN_EPOCHS``
  epochs, whatever the data set size (37 images at the paper's batch 32 make
  two steps per epoch: far too few);
- **schedule**: warm-up then cosine decay (the paper's StepLR assumes 350 long
  epochs);
- **augmentation**: "light" for short runs on small data (the paper's heavy
  recipe needs hundreds of epochs to pay off), the paper's otherwise;
- **keep the paper's recipe** when the data and device are what it was made
  for (hundreds of images, a GPU that holds batch 32 at 512²).

``plan_training`` is for ``qtseg train``. A fine-tune on a handful of
corrected images plans its canvas here too (``plan_input_size`` with
``max_native``: its short CPU run keeps the native size at most 256, thin
objects still get their larger canvas, up to 1.5x that: 384) and the rest of
its recipe with ``finetune_recipe`` (qtseg_core.finetune.settings), measured
for fine-tuning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qtseg_core.training.fingerprint import DataFingerprint

SIZE_MULTIPLE = 32
MIN_SIZE, MAX_SIZE = 64, 1024
MIN_VISIBLE_PX = 12.0  # local thickness objects keep on the canvas (6 px of the output mask)
MAX_UPSAMPLE = 1.5  # thin objects may get a canvas up to this x the images' longer side
MIN_UPSAMPLED_EPOCHS = 5  # a budget that fits fewer epochs on the larger canvas stays native
TRAIN_BYTES_PER_PIXEL = 2_500  # fp32 training memory per canvas pixel per image (order)
MIN_STEPS, MIN_EPOCHS, MAX_EPOCHS = 1_500, 50, 1_000
BUDGET_MIN_EPOCHS = 40  # a budgeted run shrinks the input size to fit at least this many epochs
IMAGES_PER_BATCH = 16  # batch ~ training images / this: more steps per epoch on small data
PAPER_MIN_IMAGES = 500  # data sets this large on a big GPU keep the paper's recipe
PAPER_SIZE, PAPER_BATCH = 512, 32


@dataclass(frozen=True)
class DeviceFacts:
    """What the planner knows about the machine.

    ``memory_gib``: GPU memory, or the RAM a CPU run may use. ``seconds_per_image``:
    measured training time (forward, backward, step) of one image on a
    ``measured_at`` x ``measured_at`` canvas (None: not measured); other sizes
    scale with the pixel count.
    """

    kind: str = "cpu"  # "cpu" | "cuda" | "mps"
    memory_gib: float = 8.0
    threads: int = 1
    seconds_per_image: float | None = None
    measured_at: int = 256


@dataclass(frozen=True)
class TrainingPlan:
    """The chosen recipe and why; ``overrides()`` gives it as TrainConfig values."""

    input_size: int
    batch_size: int
    epochs: int
    steps_per_epoch: int
    optimizer_steps: int
    scheduler: str
    warmup_epochs: int
    lr: float
    augmentation: str
    keep_paper: bool
    budget_minutes: float | None = None  # set: ``epochs`` is an estimate, the run stops on time
    epochs_fixed: bool = False
    reasons: dict[str, str] = field(default_factory=dict)

    def overrides(self) -> dict[str, Any]:
        """The plan as nested TrainConfig values (what ``resolve_config`` layers in)."""
        if self.keep_paper:
            return {"preset": "paper"}
        stops_on_time = self.budget_minutes is not None and not self.epochs_fixed
        return {
            "input_size": self.input_size,
            "batch_size": self.batch_size,
            "epochs": MAX_EPOCHS if stops_on_time else self.epochs,
            "scheduler": self.scheduler,
            "warmup_epochs": self.warmup_epochs,
            "lr": self.lr,
            "data": {"augmentation": self.augmentation},
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_training(
    data: DataFingerprint,
    device: DeviceFacts,
    budget_minutes: float | None = None,
    fixed: dict[str, int] | None = None,
) -> TrainingPlan:
    """The recipe for ``data`` on ``device`` (within ``budget_minutes`` when given).

    ``fixed`` holds the ``input_size`` / ``batch_size`` / ``epochs`` the user set
    explicitly: they are kept as given and the other choices are made around them.
    """
    fixed = fixed or {}
    if _paper_fits(data, device) and budget_minutes is None and not fixed:
        return _paper_plan(data)
    planned_size = plan_input_size(data, device, budget_minutes)
    size, size_reason = _fixed_or(fixed, "input_size", planned_size)
    planned_batch = plan_batch_size(data.num_images, size, device)
    batch, batch_reason = _fixed_or(fixed, "batch_size", planned_batch)
    steps_per_epoch = -(-data.num_images // batch)
    epochs, epochs_reason = _fixed_or(
        fixed,
        "epochs",
        plan_epochs(steps_per_epoch, data.num_images, size, device, budget_minutes),
    )
    return TrainingPlan(
        input_size=size,
        batch_size=batch,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        optimizer_steps=epochs * steps_per_epoch,
        scheduler="cosine",
        warmup_epochs=plan_warmup_epochs(epochs),
        lr=1e-3,
        augmentation=plan_augmentation(data.num_images, epochs),
        keep_paper=False,
        budget_minutes=budget_minutes,
        epochs_fixed="epochs" in fixed,
        reasons={"input_size": size_reason, "batch_size": batch_reason, "epochs": epochs_reason},
    )


def _fixed_or(fixed: dict[str, int], key: str, planned: tuple[int, str]) -> tuple[int, str]:
    if key in fixed:
        return int(fixed[key]), "set explicitly"
    return planned


def native_size(longer_side: int) -> int:
    """The multiple of 32 nearest above 95 % of the longer side (217 -> 224, 512 -> 512)."""
    size = -(-int(0.95 * longer_side) // SIZE_MULTIPLE) * SIZE_MULTIPLE
    return min(MAX_SIZE, max(MIN_SIZE, size))


def smallest_visible_size(data: DataFingerprint) -> int:
    """The canvas on which the thinnest objects are ``MIN_VISIBLE_PX`` thick (<= MAX_UPSAMPLE x)."""
    native = native_size(data.longer_side)
    if not data.object_thickness_px:
        return native
    largest = max(native, _round_size(MAX_UPSAMPLE * data.longer_side, up=False))
    wanted = _round_size(data.longer_side * MIN_VISIBLE_PX / data.object_thickness_px, up=True)
    return min(largest, wanted)


def plan_input_size(
    data: DataFingerprint, device: DeviceFacts, budget_minutes: float | None = None,
    *, max_native: int | None = None,
) -> tuple[int, str]:
    """Native size, shrunk for memory, the time budget or ``max_native`` (a caller's cap on
    the native size), never below object visibility.

    ``max_native`` bounds the thin objects' larger canvas too, to MAX_UPSAMPLE x it (256 ->
    384): a 1024-px photo with thin objects would otherwise lift a capped run to 1024.
    """
    native, memory_cap = native_size(data.longer_side), _memory_size_cap(device)
    floor = min(smallest_visible_size(data), memory_cap, _lifted_cap(max_native))
    size, reason = native, f"images' longer side {data.longer_side} px -> {native}"
    if max_native is not None and max_native < size:
        size, reason = max_native, f"{reason}; at most {max_native}"
    if memory_cap < size:
        size = memory_cap
        reason = f"{reason}; {device.memory_gib:g} GiB holds batch 2 at {memory_cap}"
    time_cap = _time_size_cap(data.num_images, device, budget_minutes)
    if time_cap is not None and time_cap < size:
        size = time_cap
        reason = f"{reason}; {BUDGET_MIN_EPOCHS} epochs in {budget_minutes:g} min fit {time_cap}"
    if size < floor and floor > native and not _affordable(floor, data, device, budget_minutes):
        floor = native  # too slow here for the larger canvas: keep the images' own size
    if size < floor:
        size, reason = floor, f"{reason}; thinnest objects need >= {floor}"
    return size, reason


def _lifted_cap(max_native: int | None) -> int:
    """The largest canvas thin objects may lift a run capped at ``max_native`` to."""
    if max_native is None:
        return MAX_SIZE
    return _round_size(MAX_UPSAMPLE * max_native, up=False)


def _affordable(size: int, data: DataFingerprint, device: DeviceFacts,
                budget_minutes: float | None) -> bool:
    """Whether MIN_UPSAMPLED_EPOCHS epochs at ``size`` fit the budget (True without one)."""
    seconds = _seconds_per_image(size, device)
    if budget_minutes is None or seconds is None:
        return True
    return budget_minutes * 60 >= MIN_UPSAMPLED_EPOCHS * data.num_images * seconds * 1.15


def plan_batch_size(num_images: int, size: int, device: DeviceFacts) -> tuple[int, str]:
    """A power of two near num_images / 16: [2, 8] on a CPU, [2, 32] on a GPU, within memory."""
    cap = 8 if device.kind == "cpu" else PAPER_BATCH
    by_memory = int(device.memory_gib * 0.6 * 2**30 // (TRAIN_BYTES_PER_PIXEL * size * size))
    batch = 2
    while batch * 2 <= min(cap, max(2, num_images // IMAGES_PER_BATCH), max(2, by_memory)):
        batch *= 2
    return batch, f"{num_images} training images -> batch {batch} ({device.kind} cap {cap})"


def plan_epochs(
    steps_per_epoch: int,
    num_images: int,
    size: int,
    device: DeviceFacts,
    budget_minutes: float | None = None,
) -> tuple[int, str]:
    """Epochs for >= MIN_STEPS optimiser steps and >= MIN_EPOCHS; a budget sets them by time."""
    if budget_minutes is not None:
        seconds = _seconds_per_image(size, device)
        if seconds is None:
            return MAX_EPOCHS, "set by the measured speed within the budget (stops on time)"
        fitting = int(budget_minutes * 60 / (seconds * num_images * 1.15))  # +15 % validation
        epochs = max(1, min(MAX_EPOCHS, fitting))
        return epochs, f"~{seconds:.2f} s per image -> ~{epochs} epochs in {budget_minutes:g} min"
    epochs = max(MIN_EPOCHS, -(-MIN_STEPS // steps_per_epoch))
    epochs = min(MAX_EPOCHS, epochs)
    return epochs, f"{steps_per_epoch} steps per epoch -> {epochs} epochs (>= {MIN_STEPS} steps)"


def plan_warmup_epochs(epochs: int) -> int:
    """About 5 % of the run (1 to 10 epochs) at a linearly rising learning rate."""
    return max(1, min(10, round(0.05 * epochs)))


def plan_augmentation(num_images: int, epochs: int) -> str:
    """'light' unless the run is long on plenty of data, where the paper's recipe pays off."""
    return "paper" if num_images >= PAPER_MIN_IMAGES and epochs >= 100 else "light"


def _paper_fits(data: DataFingerprint, device: DeviceFacts) -> bool:
    batch_at_paper_size = device.memory_gib * 0.6 * 2**30 / (TRAIN_BYTES_PER_PIXEL * PAPER_SIZE**2)
    return (
        device.kind == "cuda"
        and data.num_images >= PAPER_MIN_IMAGES
        and batch_at_paper_size >= PAPER_BATCH
        and data.longer_side >= PAPER_SIZE
    )


def _paper_plan(data: DataFingerprint) -> TrainingPlan:
    steps_per_epoch = -(-data.num_images // PAPER_BATCH)
    return TrainingPlan(
        input_size=PAPER_SIZE,
        batch_size=PAPER_BATCH,
        epochs=350,
        steps_per_epoch=steps_per_epoch,
        optimizer_steps=350 * steps_per_epoch,
        scheduler="step",
        warmup_epochs=0,
        lr=1e-3,
        augmentation="paper",
        keep_paper=True,
        reasons={"keep_paper": f"{data.num_images} images on a GPU that holds batch 32 at 512²"},
    )


def _memory_size_cap(device: DeviceFacts) -> int:
    pixels = device.memory_gib * 0.6 * 2**30 / (TRAIN_BYTES_PER_PIXEL * 2)
    return _round_size(pixels**0.5, up=False)


def _time_size_cap(
    num_images: int, device: DeviceFacts, budget_minutes: float | None
) -> int | None:
    """Largest size at which BUDGET_MIN_EPOCHS epochs fit the budget (None: no budget/speed)."""
    if budget_minutes is None or device.seconds_per_image is None:
        return None
    seconds_per_image = budget_minutes * 60 / (BUDGET_MIN_EPOCHS * num_images * 1.15)
    scale = (seconds_per_image / device.seconds_per_image) ** 0.5
    return _round_size(device.measured_at * scale, up=False)


def _seconds_per_image(size: int, device: DeviceFacts) -> float | None:
    if device.seconds_per_image is None:
        return None
    return device.seconds_per_image * (size / device.measured_at) ** 2


def _round_size(size: float, *, up: bool) -> int:
    steps = size / SIZE_MULTIPLE
    rounded = int(-(-steps // 1) if up else steps // 1) * SIZE_MULTIPLE
    return min(MAX_SIZE, max(MIN_SIZE, rounded))
