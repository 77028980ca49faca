"""What a click-guided correction does to a multi-class mask, and a box as clicks.

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

#: A box is read as its centre (object) plus this many negative clicks around it.
BOX_MARGIN = 3  # pixels outside the box edge where its negative clicks go


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


def box_clicks(corner: tuple[float, float], opposite: tuple[float, float],
               shape: tuple[int, int]) -> list[Click]:
    """A box prompt as clicks the training-free refiner understands: a positive click at
    the box's centre and negative clicks just outside its corners and side middles
    (those inside the image). Points are (x, y) image pixels."""
    height, width = shape
    left, right = sorted((corner[0], opposite[0]))
    top, bottom = sorted((corner[1], opposite[1]))
    clicks = [Click(int(np.clip((top + bottom) / 2, 0, height - 1)),
                    int(np.clip((left + right) / 2, 0, width - 1)), True)]
    rows = (top - BOX_MARGIN, (top + bottom) / 2, bottom + BOX_MARGIN)
    cols = (left - BOX_MARGIN, (left + right) / 2, right + BOX_MARGIN)
    for row in rows:
        for col in cols:
            inside_box = row == rows[1] and col == cols[1]
            if not inside_box and 0 <= row < height and 0 <= col < width:
                clicks.append(Click(int(row), int(col), False))
    return clicks
