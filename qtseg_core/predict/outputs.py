"""Where ``qtseg predict`` may write, checked before anything is written.

Every input's files (``PredictionWriter.outputs(name)``: the mask, then the
optional probability, overlay and uncertainty maps) are planned for the whole
input list first. An output folder that is a file, or where a planned file
would replace one of the input images (``qtseg predict M FOLDER -o FOLDER``
with an input ``a_overlay.png``, say), is refused, so the images can never be
overwritten with their masks. The check is one set lookup per planned file
(no file-system call), so it stays O(n) on 10^5 inputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from qtseg_core.wording import shortlist


def check_output_folder(
    inputs: Iterable[Path], output_dir: str | os.PathLike, planned: Iterable[Path]
) -> Path:
    """Refuse an output folder that is a file or whose ``planned`` files would replace inputs.

    ``planned`` are the files inside ``output_dir`` the run would write. Raises
    ValueError naming the output folder and (up to five of) the input images
    that would be overwritten; returns the folder.
    """
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"-o {folder} is an existing file; give a folder for the masks (it is created "
            "when missing)."
        )
    target = str(folder.resolve())
    inputs_inside = _inputs_under(inputs, target)
    if not inputs_inside:
        return folder
    clashes = sorted({
        os.path.normpath(os.path.join(target, path.relative_to(folder))) for path in planned
    } & inputs_inside)
    if clashes:
        shown = shortlist(clashes)
        raise ValueError(
            f"Writing the masks to {folder} would overwrite {len(clashes)} input image(s) "
            f"({shown}); nothing was written. Give another output folder with -o."
        )
    return folder


def _inputs_under(inputs: Iterable[Path], target: str) -> set[str]:
    """The resolved input paths inside the folder ``target`` (itself resolved).

    Inputs are resolved one folder at a time (a folder's images share it), not
    one file at a time.
    """
    folders: dict[Path, str] = {}
    inside: set[str] = set()
    for path in inputs:
        parent = folders.get(path.parent)
        if parent is None:
            parent = folders[path.parent] = str(path.parent.resolve())
        if parent == target or parent.startswith(target + os.sep):
            inside.add(os.path.join(parent, path.name))
    return inside
