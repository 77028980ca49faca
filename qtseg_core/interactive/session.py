"""ClickSession: one image, one class, a mask that follows the user's clicks, with undo."""

from __future__ import annotations

import numpy as np

from qtseg_core.interactive.clicks import Click, check_click
from qtseg_core.interactive.refiners import Refiner
from qtseg_core.pixel_rect import Rect


class ClickSession:
    """Click-guided correction of one class on one image (Qt-free; the app's click tool).

    image: (H, W[, C]) any dtype. mask: (H, W), nonzero = the class being
    corrected. refiner: what turns clicks (and boxes, for refiners with an
    ``outline`` method) into a mask. probability: (H, W) P(class) from the
    automatic model, for refiners that use it.
    """

    def __init__(
        self, image: np.ndarray, mask: np.ndarray, refiner: Refiner,
        probability: np.ndarray | None = None,
    ) -> None:
        if mask.shape != image.shape[:2]:
            raise ValueError(
                f"Mask of shape {mask.shape} does not match the image's {image.shape[:2]}; "
                "give the mask of this image."
            )
        self.image, self.refiner, self.probability = image, refiner, probability
        # one entry per step: the run's box and clicks the refiner is given from then on, the mask
        self._steps: list[tuple[Rect | None, tuple[Click, ...], np.ndarray]] = [
            (None, (), mask.astype(bool))
        ]

    @property
    def mask(self) -> np.ndarray:
        """The current (H, W) bool mask."""
        return self._steps[-1][2]

    @property
    def clicks(self) -> list[Click]:
        """The clicks since the session started or since the last box, oldest first."""
        return list(self._steps[-1][1])

    @property
    def box(self) -> Rect | None:
        """The box that began the current run of clicks, if any."""
        return self._steps[-1][0]

    def add(self, click: Click) -> np.ndarray:
        """Refine with one more click; returns the new mask (one undo step)."""
        check_click(click, self.mask.shape)
        clicks = (*self.clicks, click)
        extra = {} if self.box is None else {"box": self.box}  # refiners that outline boxes
        refined = self.refiner.refine(self.image, self.mask, list(clicks), self.probability,
                                      **extra)
        self._steps.append((self.box, clicks, np.asarray(refined, dtype=bool)))
        return self.mask

    def add_box(self, box: Rect) -> np.ndarray:
        """Outline the object inside ``box`` (one undo step); returns the new mask.

        The box starts a new run: the clicks after it refine its object (the
        refiner is given the box with them), and the clicks before it are no
        longer given to the refiner.
        """
        outline = getattr(self.refiner, "outline", None)
        if outline is None:
            raise ValueError(
                f"The {self.refiner.name!r} refinement takes no box; click inside the object "
                "instead, or use RandomWalkerRefiner, which outlines boxes."
            )
        refined = outline(self.image, self.mask, box, self.probability)
        self._steps.append((box, (), np.asarray(refined, dtype=bool)))
        return self.mask

    def undo(self) -> np.ndarray:
        """Take back the last click or box; returns the mask before it (no-op at the start)."""
        if len(self._steps) > 1:
            self._steps.pop()
        return self.mask
