"""Fine-tune on corrections: the model learns from what annotators fixed (Qt-free).

Three steps, so that the slow one can run in a separate process while the app
keeps the workspace open:

1. ``plan_finetune(workspace, settings) -> FinetuneJob``: the current model and
   the accepted / corrected images on each side of the workspace's fixed
   train / validation split (``NotEnoughImagesError`` says how many more are needed);
2. ``run_finetune(job, progress=, cancel=) -> FinetuneOutcome``: train a
   candidate from the current weights, score old and new on the same
   validation images; never touches the workspace;
3. ``apply_outcome(workspace, job, outcome) -> GateResult``: the no-regression
   gate registers the candidate and makes it current only if it is better;
   ``apply_finished_jobs(workspace)`` does it at the next open for a run that
   finished after its app was closed, and ``install_candidate(workspace)`` on
   the user's word for the last run the gate kept out only for too few images.

``qtseg finetune WORKSPACE`` runs all three; ``qtseg finetune --job JOB.json
--events`` runs step 2 for the app (protocol: :mod:`qtseg_core.finetune.protocol`).
"""

from __future__ import annotations

from qtseg_core.finetune.engine import (
    FinetuneOutcome,
    discard_job,
    note_cancelled,
    run_finetune,
    score_model,
)
from qtseg_core.finetune.errors import FinetuneCancelled, FinetuneError, NotEnoughImagesError
from qtseg_core.finetune.gate import (
    GateResult,
    apply_finished_jobs,
    apply_outcome,
    images_to_repredict,
    install_candidate,
)
from qtseg_core.finetune.job import (
    FinetuneJob,
    TrainingPair,
    plan_finetune,
)
from qtseg_core.finetune.protocol import parse_event, run_job_with_events
from qtseg_core.finetune.settings import FinetuneSettings

__all__ = [
    "FinetuneCancelled",
    "FinetuneError",
    "FinetuneJob",
    "FinetuneOutcome",
    "FinetuneSettings",
    "GateResult",
    "NotEnoughImagesError",
    "TrainingPair",
    "apply_finished_jobs",
    "apply_outcome",
    "discard_job",
    "note_cancelled",
    "images_to_repredict",
    "install_candidate",
    "parse_event",
    "plan_finetune",
    "run_finetune",
    "run_job_with_events",
    "score_model",
]
