"""An exponential moving average (EMA) of the network's weights, for validation and checkpoints.

After every optimiser step the average moves ``1 - decay`` of the way to the
trained weights (BatchNorm running statistics included; counters are copied).
Early on the decay is ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates,
so the random initial weights are forgotten within the first steps. On a
small data set the weights at the end of any one epoch are noisy; their
average over the last ~``1 / (1 - decay)`` steps validates more steadily, and
it is what validation scores and ``best.safetensors`` / ``last.safetensors``
hold. The training itself (gradients, optimiser) is unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class WeightAverage:
    """``model``: a copy of the network holding the averaged weights (kept in eval mode)."""

    def __init__(self, network: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay={decay}: give a decay between 0 and 1 (e.g. 0.95), "
                             "or 0 to validate the trained weights themselves.")
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(network).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    def current_decay(self) -> float:
        """The decay of the next update: small at first, ``decay`` after ~``10 / (1 - decay)``."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, network: nn.Module) -> None:
        """Move the average towards ``network``'s weights (call after each optimiser step)."""
        keep = self.current_decay()
        trained = network.state_dict()
        for name, value in self.model.state_dict().items():
            if value.dtype.is_floating_point:
                value.lerp_(trained[name].detach(), 1.0 - keep)
            else:
                value.copy_(trained[name])
        self.updates += 1

    def state_dict(self) -> dict[str, Any]:
        """The averaged weights and the update count (what ``resume.pt`` keeps)."""
        return {"weights": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["weights"])
        self.updates = int(state["updates"])
