"""The model in use, a model being read, a batch being predicted, a fine-tune running."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qtseg_app.state.events import Evented

NO_MODEL_HINT = (
    "No model: annotate by hand, or load a checkpoint (Model ▸ Load model…, Ctrl+M). "
    "Train one with: qtseg train FOLDER -o runs/my_model"
)


@dataclass(frozen=True)
class ModelInfo:
    """What the window shows about the loaded model."""

    version: str
    name: str | None
    device: str
    class_names: tuple[str, ...]
    class_colors: tuple[tuple[int, int, int], ...]

    @property
    def label(self) -> str:
        """'v3' or 'v3 · lung starter' when the checkpoint names itself."""
        return f"{self.version} · {self.name}" if self.name else self.version

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def binary(self) -> bool:
        return self.num_classes == 2


@dataclass(eq=False)
class ModelState(Evented):
    """info: the model in use (None: annotate by hand). loading: the label of a model
    being read in the background, else None. batch: (done, total) of "Predict all" or
    a re-predict after a model change, None when no batch runs. queued: images waiting
    for (or in) the prediction worker."""

    info: ModelInfo | None = None
    loading: str | None = None
    batch: tuple[int, int] | None = None
    queued: int = 0


@dataclass(eq=False)
class FinetuneState(Evented):
    """A fine-tune on corrections.

    running: a child process trains. status: the line the dock shows.
    progress: the protocol's last progress event (epoch from 1, loss, val Dice, eta).
    outcome: how the last run ended ("accepted", "refused", "cancelled", "failed").
    """

    running: bool = False
    cancelling: bool = False
    status: str = "No fine-tune running. Accept or correct images, then press Fine-tune."
    progress: dict[str, Any] | None = None
    outcome: str | None = None
    versions_changed: int = field(default=0)  # bumped when the registry changed
