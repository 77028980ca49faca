"""Argument types for the ``qtseg`` sub-commands: a bad value is refused by argparse with
a one-line usage error naming the flag and the value, before anything runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    """A whole number >= 1 (batch sizes, epochs, sizes)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of at least 1")
    return value


def non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of at least 0")
    return value


def canvas_size(text: str) -> int:
    """A canvas side: a positive multiple of 32 (QTSeg's total stride)."""
    value = positive_int(text)
    if value % 32:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a multiple of 32, e.g. {max(32, value // 32 * 32)}")
    return value


def fraction(text: str) -> float:
    """A share strictly between 0 and 1 (e.g. the validation fraction)."""
    value = _number(text, float)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a fraction between 0 and 1, e.g. 0.2")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if not value > 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number, e.g. 0.001")
    return value


def output_folder(text: str) -> str:
    """A folder to write into: refused when it is an existing file."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is an existing file; give a folder (it is created when missing)")
    return text


def _number(text: str, kind: type) -> int | float:
    try:
        return kind(text)
    except ValueError:
        name = "whole number" if kind is int else "number"
        raise argparse.ArgumentTypeError(f"{text!r} is not a {name}") from None
