"""The random walk itself: scikit-image's ``random_walker``, quiet about its own tolerance.

scikit-image solves the walk by conjugate gradient ("cg_j", to a relative
tolerance of 1e-3) and then warns when a probability lies more than 1e-3
outside [0, 1]: on about half of the click path's walks (up to 0.11 outside),
which the app logged on every click. The walker only takes the most likely
label (or the object's chance against 0.5), and its settings were chosen with
this solver (``benchmarks/annotation_effort.py``), so the range check is off
(``prob_tol``). The exact direct solve ("bf") never left the range and cost no
more, but on the lesion validation volumes it needed more clicks (NoC@0.85
7.50 against 7.33, one click on one image), so the solver stays.
"""

from __future__ import annotations

import numpy as np
from skimage.segmentation import random_walker

#: scikit-image's solver mode (its default, with which the walker was tuned).
SOLVER = "cg_j"


def object_chance(features: np.ndarray, seeds: np.ndarray, beta: float) -> np.ndarray:
    """(h, w) float: the probability that a walk from each pixel first meets a seed of label 1.

    features: (h, w, C) float in [0, 1]; seeds: (h, w) int32, 0 unknown, 1 object, 2 background.
    """
    if (seeds > 0).all():  # nothing to solve (scikit-image would warn and change layout)
        return (seeds == 1).astype(np.float32)
    return _walk(features, seeds, beta, return_full_prob=True)[0]


def walk_labels(features: np.ndarray, seeds: np.ndarray, beta: float) -> np.ndarray:
    """(h, w) int32: the seed label (1..K) each pixel most likely belongs to."""
    if (seeds > 0).all():  # nothing to solve (scikit-image would warn so)
        return seeds
    return _walk(features, seeds, beta)


def _walk(features: np.ndarray, seeds: np.ndarray, beta: float, **options: bool) -> np.ndarray:
    return random_walker(features, seeds, beta=beta, mode=SOLVER, channel_axis=-1,
                         prob_tol=np.inf, **options)
