"""``qtseg predict`` as a library: inputs and names, the pipeline, writers, the job.

``predict_files(checkpoint, inputs, output_dir, **options)`` is the entry
point; ``run_pipeline(items, predictor, writer)`` is the part other output
formats reuse with their own :class:`PredictionWriter`.
"""

from __future__ import annotations

from qtseg_core.predict.inputs import PredictInput, find_inputs, select_part, unique_names
from qtseg_core.predict.job import MANIFEST_FILE, PredictOptions, PredictReport, predict_files
from qtseg_core.predict.pipeline import PipelineResult, run_pipeline
from qtseg_core.predict.writers import PngMaskWriter, PredictionWriter, overlay_mask

__all__ = [
    "MANIFEST_FILE",
    "PipelineResult",
    "PngMaskWriter",
    "PredictInput",
    "PredictOptions",
    "PredictReport",
    "PredictionWriter",
    "find_inputs",
    "overlay_mask",
    "predict_files",
    "run_pipeline",
    "select_part",
    "unique_names",
]
