"""Tool and display settings: evented dataclasses the tool bar and display dock render.

Changing a field emits one ``changed((name, value))`` event; setting a field to
the value it has emits nothing, so a widget that writes back what it was just
shown does not loop.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from qtseg_app.state.events import Evented
from qtseg_app.state.levels import WindowLevel


class Tool(str, enum.Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    POLYGON = "polygon"
    FILL = "fill"
    PAN = "pan"
    CLICK = "click"


MIN_RADIUS, MAX_RADIUS = 1.0, 200.0


@dataclass(eq=False)
class ToolSettings(Evented):
    """What the pointer does: the tool, the class it paints, brush and clean-up sizes."""

    tool: Tool = Tool.BRUSH
    label: int = 1
    radius: float = 6.0
    island_min_pixels: int = 20
    grow_pixels: int = 2

    def set_radius(self, radius: float) -> None:
        """Brush radius in pixels, kept within 1..200."""
        self.radius = float(min(max(radius, MIN_RADIUS), MAX_RADIUS))

    def grow_brush(self, factor: float) -> None:
        """``[`` and ``]``: multiply the radius by ``factor`` (0.8 and 1.25 undo each other),
        changing it by at least one pixel."""
        change = self.radius * factor - self.radius
        step = max(1.0, abs(change))
        self.set_radius(self.radius + step if change > 0 else self.radius - step)


@dataclass(eq=False)
class DisplaySettings(Evented):
    """How the image and masks are drawn.

    window: display window on the image's native values (None before an image).
    preset: "Automatic" or a CT preset name, kept from image to image.
    threshold: foreground probability of binary models' masks.
    show_prediction: show the model's own mask read-only instead of the correction.
    """

    window: WindowLevel | None = None
    preset: str = "Automatic"
    opacity: float = 0.45
    outline: bool = False
    show_mask: bool = True
    show_uncertainty: bool = False
    show_prediction: bool = False
    threshold: float = 0.5
