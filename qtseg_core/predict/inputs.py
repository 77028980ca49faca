"""What ``qtseg predict`` reads, and the output name of each input.

Inputs are image files, folders (``recursive``: with their subfolders) and
``.txt`` lists of files or folders, one a line. Every input gets an output
name (no extension, relative to the output folder) that no other input has:
its file stem, or for a folder's files their path inside the folder
(``case1/slice_004``). Two inputs with the same name get ``name``, ``name_2``,
``name_3``... in input order, in one pass (O(n)), case-insensitively, so
masks do not overwrite each other on macOS or Windows either.

Names are given over the whole input list before it is split into parts
(``select_part``, ``process_share``), so every part, and every rerun, agrees on them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from qtseg_core.io import SUPPORTED_SUFFIXES, is_image_file

Item = TypeVar("Item")  # an input of either path: PredictInput, a volume and its name

#: An input with this ending is a list of inputs, one a line, not an image.
FILE_LIST_SUFFIX = ".txt"


@dataclass(frozen=True)
class PredictInput:
    """One image to predict: the file and its output name (``a``, ``a_2``, ``sub/a``);
    ``renamed`` when another input had the name first."""

    path: Path
    name: str
    renamed: bool = False


def find_inputs(inputs: Sequence[str | os.PathLike], recursive: bool = False) -> list[PredictInput]:
    """Every image among ``inputs``, in order, each with its unique output name."""
    found = [entry for given in inputs for entry in _expand(Path(given), recursive)]
    if not found:
        raise FileNotFoundError("No input images given.")
    names = unique_names([name for _, name in found])
    return [
        PredictInput(path, name, renamed=name != own)
        for (path, own), name in zip(found, names, strict=True)
    ]


def unique_names(names: Sequence[str]) -> list[str]:
    """``names`` with repeats made unique (``a``, ``a_2``, ...), deterministic and O(n).

    A suffixed name never takes a name some input has by itself: with inputs
    ``a, a, a_2`` the second ``a`` becomes ``a_3``.
    """
    wanted = {name.casefold() for name in names}
    used: set[str] = set()
    next_number: dict[str, int] = {}
    unique: list[str] = []
    for name in names:
        chosen = name
        if name.casefold() in used:
            number = next_number.get(name.casefold(), 2)
            while f"{name}_{number}".casefold() in wanted:
                number += 1
            chosen, next_number[name.casefold()] = f"{name}_{number}", number + 1
            wanted.add(chosen.casefold())
        used.add(chosen.casefold())
        unique.append(chosen)
    return unique


def select_part(items: Sequence[Item], num_parts: int, part_id: int) -> list[Item]:
    """Part ``part_id`` of ``num_parts`` (every num_parts-th input, from part_id).

    The parts are disjoint and together hold every input; interleaving keeps
    them the same size even when one folder holds the big images.
    """
    if num_parts < 1 or not 0 <= part_id < num_parts:
        raise ValueError(
            f"--num-parts {num_parts} --part-id {part_id}: give N >= 1 and K from 0 to N-1 "
            "(e.g. --num-parts 4 --part-id 0 on the first of four machines)."
        )
    return list(items[part_id::num_parts])


def process_share(items: Sequence[Item], num_parts: int, part_id: int) -> list[Item]:
    """This process's inputs: part ``part_id`` of ``num_parts``, and under torchrun
    (``WORLD_SIZE``, ``RANK``) this rank's share of that part. The part is the same
    with or without torchrun, so machines may mix both."""
    part = select_part(items, num_parts, part_id)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    return select_part(part, world_size, int(os.environ.get("RANK", "0")))


def _expand(entry: Path, recursive: bool) -> Iterator[tuple[Path, str]]:
    if entry.is_dir():
        found = sorted(_folder_images(entry, entry, recursive), key=lambda pair: pair[1])
        if not found:
            raise FileNotFoundError(
                f"Folder {entry} holds no images ({', '.join(SUPPORTED_SUFFIXES)})"
                + ("." if recursive else "; add --recursive to look in its subfolders.")
            )
        yield from found
    elif entry.suffix.lower() == FILE_LIST_SUFFIX and entry.is_file():
        for line in _list_lines(entry):
            yield from _expand(line, recursive)
    elif entry.is_file():
        yield entry, entry.stem
    else:
        raise FileNotFoundError(f"Input {entry} does not exist; check the path and file name.")


def _folder_images(folder: Path, root: Path, recursive: bool) -> Iterator[tuple[Path, str]]:
    """(path, name inside root without extension) of the images; hidden folders skipped."""
    with os.scandir(folder) as entries:
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir() and recursive and not entry.name.startswith("."):
                yield from _folder_images(path, root, recursive)
            elif entry.is_file() and is_image_file(path):
                yield path, path.relative_to(root).with_suffix("").as_posix()


def _list_lines(file_list: Path) -> list[Path]:
    """The paths in a list file; relative ones are relative to the list's folder.
    Blank lines and lines starting with # are left out."""
    lines = file_list.read_text(encoding="utf-8").splitlines()
    paths = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return [file_list.parent / path for path in paths]
