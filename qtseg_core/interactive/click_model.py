"""Refinement by the click-conditioned QTSeg, in a crop around the object (RITM's zoom-in).

Each click runs the network once on a window resized to the model's canvas (so
a click costs one small forward pass, whatever the image size), with the
current mask and the click disks as its extra inputs; the window's answer is
pasted back and every click's own pixel is put on the side the user asked.
The first click of a run sees the whole image, as RITM's zoom-in skips its
first click: the mask does not tell yet how far the clicked object reaches (the
starter misses most objects), and a window around the mask and the click alone
cut the object (IoU 0.15 after a click on a missed brain, against 0.97 on the
whole image). Training zooms only onto windows that hold the whole object.
Later clicks run on a square window around the current object and the clicks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from qtseg_core.data.preprocess import Letterbox, prepare_image, prepare_mask
from qtseg_core.interactive.clicks import CLICK_RADIUS, Click, click_maps, enforce_clicks
from qtseg_core.interactive.refiners import clicks_in, object_crop
from qtseg_core.models import prepare_for_inference
from qtseg_core.pixel_rect import Rect

#: The window is the object's box grown by this share of its size on each side.
CROP_EXPAND = 0.4


class ClickModelRefiner:
    """Click-guided correction with a QTSeg that has click inputs (``config.click_inputs``).

    size: the canvas the window is resized to (the checkpoint's input size, e.g.
    ``Checkpoint.metadata.input_size``; 256 when not given).
    class_index: the class being corrected (1 for a binary model).
    """

    name = "refine"

    def __init__(self, model: nn.Module, *, size: int | None = None, class_index: int = 1) -> None:
        if not model.config.click_inputs:
            raise ValueError(
                "This model has no click inputs; use RandomWalkerRefiner (training-free) or "
                "train a click-conditioned model with `qtseg train --interactive`."
            )
        self.size = int(size or 256)
        self.in_channels, self.class_index = int(model.config.in_channels), class_index
        self._model = prepare_for_inference(model)

    def refine(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None = None,
    ) -> np.ndarray:
        crop = self.window(mask, clicks)
        local = clicks_in(crop, clicks)
        window = self.window_probability(image[crop.slices], mask[crop.slices], local)
        refined = mask.astype(bool, copy=True)
        refined[crop.slices] = window >= 0.5
        return enforce_clicks(refined, clicks)

    def window(self, mask: np.ndarray, clicks: Sequence[Click]) -> Rect:
        """Where the network runs: the whole image for a run's first click, else the square
        around the current object (``mask``) and the clicks."""
        if len(clicks) <= 1:
            return Rect(0, 0, *mask.shape)
        crop = object_crop(mask, clicks, expand=CROP_EXPAND, min_side=_min_side(mask))
        return square(crop, mask.shape)

    def window_probability(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click]
    ) -> np.ndarray:
        """P(class) over a window (h, w) from its pixels, current mask and clicks."""
        canvas, letterbox = prepare_image(image, self.size, self.in_channels)
        inputs = self._click_inputs(mask, clicks, letterbox)
        with torch.inference_mode():
            logits = self._model(torch.from_numpy(canvas)[None], torch.from_numpy(inputs)[None])
        probabilities = logits.float().softmax(dim=1)[0].numpy()
        return letterbox.restore(probabilities[self.class_index])

    def _click_inputs(
        self, mask: np.ndarray, clicks: Sequence[Click], letterbox: Letterbox
    ) -> np.ndarray:
        """3 x S x S: the current mask and the click disks on the window's canvas."""
        previous = prepare_mask(mask.astype(np.uint8), self.size).astype(np.float32)
        scale = letterbox.resized_shape[0] / letterbox.original_shape[0]
        maps = click_maps(clicks, (self.size, self.size), CLICK_RADIUS, scale=scale)
        return np.concatenate([previous[None], maps])


def square(crop: Rect, shape: tuple[int, int]) -> Rect:
    """The crop grown to a square around its centre (as the model was trained), within the image."""
    side = min(max(crop.shape), *shape)
    top = int(np.clip((crop.top + crop.bottom - side) // 2, 0, shape[0] - side))
    left = int(np.clip((crop.left + crop.right - side) // 2, 0, shape[1] - side))
    return Rect(top, left, top + side, left + side)


def _min_side(mask: np.ndarray) -> int:
    """The smallest window: a quarter of the image's longer side, at least 32 pixels."""
    return max(32, max(mask.shape) // 4)
