"""Where ``qtseg predict`` writes, decided before anything is written.

Each input image gets a name (its stem; ``stem_2``... when two inputs share
one) and, in the output folder, ``<name>.png`` plus the optional
``<name>_probability[_c].png`` and ``<name>_overlay.png``. The plan is checked
against the inputs first: an output folder that is (or holds) an input folder
is refused when a planned file would replace one of the input images, so
``qtseg predict M FOLDER -o FOLDER`` can never overwrite the images with their
masks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def output_names(files: Sequence[Path]) -> dict[Path, str]:
    """Each input's base name for its output files: the stem, ``stem_2``... on clashes."""
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path in files:
        name, count = path.stem, 1
        while name in taken:
            count += 1
            name = f"{path.stem}_{count}"
        taken.add(name)
        names[path] = name
    return names


def output_files(
    name: str, *, num_classes: int, probabilities: bool, overlay: bool
) -> list[str]:
    """File names written for one input named ``name`` (see the module docstring)."""
    files = [f"{name}.png"]
    if probabilities:
        planes = [""] if num_classes == 2 else [f"_{c}" for c in range(1, num_classes)]
        files += [f"{name}_probability{plane}.png" for plane in planes]
    if overlay:
        files.append(f"{name}_overlay.png")
    return files


def check_output_folder(
    inputs: Sequence[Path], output_dir: str | os.PathLike, planned: Sequence[str]
) -> Path:
    """Refuse an output folder that is a file or whose ``planned`` files would replace inputs.

    Raises ValueError naming the output folder and (up to five of) the input
    images that would be overwritten; returns the folder.
    """
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"-o {folder} is an existing file; give a folder for the masks (it is created "
            "when missing)."
        )
    target = folder.resolve()
    inputs_here = {p.resolve() for p in inputs if p.resolve().parent == target}
    clashes = sorted({str(target / n) for n in planned if (target / n).resolve() in inputs_here})
    if clashes:
        shown = ", ".join(clashes[:5]) + (f" and {len(clashes) - 5} more" if len(clashes) > 5
                                          else "")
        raise ValueError(
            f"Writing the masks to {folder} would overwrite {len(clashes)} input image(s) "
            f"({shown}); nothing was written. Give another output folder with -o."
        )
    return folder
