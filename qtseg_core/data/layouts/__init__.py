"""Readers for the published data-set layouts and the generic (app export) layout.

Each module lists files only and returns a :class:`DatasetIndex`; pixels are
loaded by :func:`qtseg_core.data.samples.load_sample`.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

from qtseg_core.data.layouts import (
    busi,
    dsb2018,
    fives,
    generic,
    isic2016,
    kvasir,
    msd,
    neopolyp,
    nnunet,
)
from qtseg_core.data.samples import DatasetError, DatasetIndex

#: Layout name -> reader module, in detection order: the specific folder
#: names first (nnU-Net and the Decathlon by their dataset.json), then Kvasir
#: (JPEG masks), then generic (PNG masks).
LAYOUTS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (nnunet, msd, isic2016, busi, neopolyp, dsb2018, fives, kvasir, generic)
}


def detect_layout(root: str | os.PathLike) -> str:
    """Name of the layout ``root`` is in; DatasetError listing what each expects if none."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Data folder '{root}' does not exist or is not a folder.")
    for name, module in LAYOUTS.items():
        if module.looks_like(root):
            return name
    expected = "; ".join(f"{name}: {module.EXPECTS}" for name, module in LAYOUTS.items())
    raise DatasetError(
        f"'{root}' is in no layout we know. Expected one of - {expected}. Point to the "
        "folder that holds these, or export the data from the app (generic layout)."
    )


def open_dataset(root: str | os.PathLike, layout: str = "auto", **options: Any) -> DatasetIndex:
    """Index a data-set folder.

    ``layout`` is "auto" (detected) or one of :data:`LAYOUTS`. ``options`` go
    to that reader: ``include_normal`` (busi), ``classes="binary"|"multiclass"``
    (neopolyp), ``allow_unlabelled`` (generic).
    """
    root = Path(root)
    name = detect_layout(root) if layout == "auto" else layout.lower()
    if name not in LAYOUTS:
        raise ValueError(f"layout='{layout}': use 'auto' or one of {sorted(LAYOUTS)}.")
    return LAYOUTS[name].read(root, **options)


__all__ = ["LAYOUTS", "detect_layout", "open_dataset"]
