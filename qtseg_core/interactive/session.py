"""ClickSession: one image, one class, a mask that follows the user's clicks, with undo."""

from __future__ import annotations

import numpy as np

from qtseg_core.interactive.clicks import Click, check_click
from qtseg_core.interactive.refiners import Refiner


class ClickSession:
    """Click-guided correction of one class on one image (Qt-free; the app's click tool).

    image: (H, W[, C]) any dtype. mask: (H, W), nonzero = the class being
    corrected. refiner: what turns clicks into a mask. probability: (H, W)
    P(class) from the automatic model, for refiners that use it.
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
        self.clicks: list[Click] = []
        self._masks = [mask.astype(bool)]

    @property
    def mask(self) -> np.ndarray:
        """The current (H, W) bool mask."""
        return self._masks[-1]

    def add(self, click: Click) -> np.ndarray:
        """Refine with one more click; returns the new mask (one undo step)."""
        check_click(click, self.mask.shape)
        clicks = [*self.clicks, click]
        refined = self.refiner.refine(self.image, self.mask, clicks, self.probability)
        self.clicks.append(click)
        self._masks.append(np.asarray(refined, dtype=bool))
        return self.mask

    def undo(self) -> np.ndarray:
        """Take back the last click; returns the mask before it (no-op with no clicks)."""
        if self.clicks:
            self.clicks.pop()
            self._masks.pop()
        return self.mask
