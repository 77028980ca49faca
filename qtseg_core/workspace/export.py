"""Export reviewed images as a training set that ``qtseg train`` reads directly.

Layout written to ``out_dir``::

    images/<id>.<ext>     the original file, byte for byte
    masks/<id>.png        0/255 for binary tasks, class indices otherwise
    classes.json          {"names": [...], "colors": [[r, g, b], ...]}
    splits.json           {"train": [ids], "val": [ids]}  (the workspace's fixed split)
    statuses.csv          every image: id, status, reviewer, time, Dice and IoU of
                          the model's prediction against the accepted mask
    coco.json             optional, one RLE annotation per image and class
    qtseg_export.json     marks the folder as an export so a later one may replace it
"""

from __future__ import annotations

from pathlib import Path

from qtseg_core.workspace.workspace import Workspace

EXPORT_MARKER = "qtseg_export.json"


def export_training_set(ws: Workspace, out_dir: str | Path, *, include_corrected: bool = False,
                        coco: bool = False) -> Path:
    """Write accepted (and optionally corrected) images and masks to ``out_dir``.

    Refuses (ExportError) a non-empty folder that is not a previous export;
    a previous export is replaced as a whole only once the new one is complete.
    Returns ``out_dir``.
    """
    raise NotImplementedError
