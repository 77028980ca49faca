"""The order in which the app predicts images: the one on screen, its prefetch, Predict all.

Qt-free, so the order is plain data. A Predict all of 10^5 images waits in an
insertion-ordered map, so opening an image meanwhile (which moves it to the
head) and taking the next image cost the same whatever the batch holds; only
the few images on screen and prefetched live in a short list.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


class PredictionQueue:
    """Image ids waiting for a prediction, each at most once, in the order they are predicted.

    First the image on screen and its prefetch ("ahead"), then the batch
    images (Predict all) in the order they were queued. A batch image stays
    queued until it is taken or the queue is cleared: when a newer request
    pushes it out of the images ahead, it goes back to the front of the batch.
    The others pushed out are dropped, and the calls that drop images return them.
    """

    def __init__(self) -> None:
        self._ahead: list[int] = []  # the image on screen, then its prefetch (a few)
        self._on_screen: int | None = None  # the latest image shown, until the prefetch
        self._batch: OrderedDict[int, None] = OrderedDict()  # batch images not ahead, in order
        self._kept: set[int] = set()  # every batch image, ahead or not

    def __len__(self) -> int:
        return len(self._ahead) + len(self._batch)

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._batch or image_id in self._ahead

    def show(self, image_id: int) -> list[int]:
        """The image on screen goes first; the earlier one and its prefetch leave the head
        (returns those dropped, the batch images among them stay queued)."""
        leaving = [i for i in self._ahead if i != image_id]
        self._batch.pop(image_id, None)
        self._ahead, self._on_screen = [image_id], image_id
        return self._leave(leaving)

    def prefetch(self, image_ids: Iterable[int]) -> list[int]:
        """Queue ``image_ids`` right after the image just shown (if it still waits), in place
        of the previous prefetch; returns the images dropped."""
        screen, self._on_screen = self._on_screen, None
        head = [screen] if screen is not None and screen in self._ahead else []
        wanted = [i for i in dict.fromkeys(image_ids) if i not in head]
        for image_id in wanted:
            self._batch.pop(image_id, None)
        leaving = [i for i in self._ahead if i not in head and i not in wanted]
        self._ahead = head + wanted
        return self._leave(leaving)

    def add(self, image_ids: Iterable[int]) -> None:
        """Batch images (Predict all): kept until taken or cleared, behind everything queued;
        an image already queued keeps its place."""
        for image_id in image_ids:
            self._kept.add(image_id)
            if image_id not in self:
                self._batch[image_id] = None

    def take(self) -> int | None:
        """The next image to predict, removed from the queue; None when it is empty."""
        if self._ahead:
            image_id = self._ahead.pop(0)
        elif self._batch:
            image_id, _ = self._batch.popitem(last=False)
        else:
            return None
        self._kept.discard(image_id)
        return image_id

    def clear(self) -> list[int]:
        """Empty the queue; returns every image that waited, in order."""
        waiting = [*self._ahead, *self._batch]
        self._ahead, self._on_screen = [], None
        self._batch.clear()
        self._kept.clear()
        return waiting

    def _leave(self, image_ids: list[int]) -> list[int]:
        """Images no longer ahead: batch images back to the front of the batch, in their
        order; the others are returned (dropped)."""
        for image_id in reversed([i for i in image_ids if i in self._kept]):
            self._batch[image_id] = None
            self._batch.move_to_end(image_id, last=False)
        return [i for i in image_ids if i not in self._kept]
