"""What a click-guided correction does to a multi-class mask, and the box a drag covers.

A refiner (``qtseg_core.interactive``) answers with a bool mask of one class;
:func:`class_change` turns that into a :class:`Change` of the class-index mask:
the class grows only over background (another class's pixels are left alone,
except under a positive click itself) and shrinks back to background. Every
click's own pixel ends on the side it asked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qtseg_app.editing.geometry import Change, change_from_arrays
from qtseg_core.interactive.clicks import Click
from qtseg_core.pixel_rect import Rect


def class_change(mask: np.ndarray, label: int, refined: np.ndarray,
                 clicks: Sequence[Click]) -> Change | None:
    """The Change making class ``label`` of ``mask`` (H, W uint8) follow ``refined``
    ((H, W) bool); None when nothing changes."""
    new = mask.copy()
    mine = mask == label
    new[mine & ~refined] = 0
    new[refined & (mask == 0)] = label
    for click in clicks:
        if click.positive:
            new[click.row, click.col] = label
        elif new[click.row, click.col] == label:
            new[click.row, click.col] = 0
    return change_from_arrays(mask, new)


def dragged_box(corner: tuple[float, float], opposite: tuple[float, float],
                shape: tuple[int, int]) -> Rect:
    """The pixel box a drag from ``corner`` to ``opposite`` ((x, y) image points) covers,
    both end pixels included, cut to an image of ``shape``."""
    left, right = sorted((corner[0], opposite[0]))
    top, bottom = sorted((corner[1], opposite[1]))
    box = Rect(int(np.floor(top)), int(np.floor(left)),
               int(np.floor(bottom)) + 1, int(np.floor(right)) + 1)
    return box.clip(*shape)
