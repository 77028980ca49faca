"""The one default palette and default class names, for every part that needs a default.

Class 0 is the background (black, drawn transparent); classes 1, 2, ... take
the palette's colours in order, cycling when there are more classes than
colours. A checkpoint, a workspace or a data set that names its own classes
and colours overrides these.
"""

from __future__ import annotations

Color = tuple[int, int, int]

#: Colours of classes 1, 2, ... (RGB): distinct on grey medical images and for common
#: colour-vision deficiencies in the first four.
PALETTE: tuple[Color, ...] = (
    (255, 60, 60),
    (60, 200, 255),
    (255, 210, 40),
    (80, 230, 100),
    (220, 90, 255),
    (255, 140, 20),
    (40, 120, 255),
    (250, 250, 250),
)
BACKGROUND_COLOR: Color = (0, 0, 0)


def default_color(index: int) -> Color:
    """The colour of class ``index`` (0 = background)."""
    return BACKGROUND_COLOR if index == 0 else PALETTE[(index - 1) % len(PALETTE)]


def default_colors(num_classes: int) -> tuple[Color, ...]:
    return tuple(default_color(i) for i in range(num_classes))


def default_name(index: int, num_classes: int) -> str:
    """'background', then 'foreground' for a binary task, else 'class 1', 'class 2', ..."""
    if index == 0:
        return "background"
    return "foreground" if num_classes == 2 else f"class {index}"


def default_names(num_classes: int) -> tuple[str, ...]:
    return tuple(default_name(i, num_classes) for i in range(num_classes))
