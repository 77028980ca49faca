"""Frozen configuration dataclasses shared by the CLI, the app and the tests."""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, fields

# Sane bounds (inclusive; the paper's model is 16 wide, depths 1-3, 8 heads, MLP 2048): a
# config outside them is a typo or a hostile file, and building it could take gigabytes.
# At most 256 classes: masks are stored as uint8 class indices.
_BOUNDS = {"num_classes": (2, 256), "in_channels": (1, 3), "base_width": (1, 64),
           "num_heads": (1, 32), "mlp_dim": (1, 8192)}
MAX_DECODER_DEPTH = 8


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a QTSeg network; stored in every checkpoint.

    The defaults are the paper's binary model (9,214,850 parameters).
    ``click_inputs`` adds the click-conditioned inputs (previous mask, positive
    and negative click maps; ``qtseg_core.models.qtseg.ClickEncoder``).
    ``decoder_depths`` lists the number of DMA blocks per decoder stage, shallow
    to deep (stage 0 at stride 8 first), as in the paper's h = 1, 2, 3.
    """

    num_classes: int = 2
    in_channels: int = 3
    base_width: int = 16
    decoder_depths: tuple[int, int, int] = (1, 2, 3)
    num_heads: int = 8
    mlp_dim: int = 2048
    click_inputs: bool = False

    def __post_init__(self) -> None:
        for name, (low, high) in _BOUNDS.items():
            object.__setattr__(self, name, _whole(name, getattr(self, name), low, high))
        object.__setattr__(self, "decoder_depths", _decoder_depths(self.decoder_depths))
        if self.in_channels not in (1, 3):
            raise ValueError(f"in_channels={self.in_channels}: use 1 (grey) or 3 (RGB).")
        smallest_attention_width = self.stage_channels[0] // 2
        if smallest_attention_width % self.num_heads:
            raise ValueError(
                f"base_width={self.base_width}, num_heads={self.num_heads}: the shallowest "
                f"attention width ({smallest_attention_width}) must divide into the heads; "
                "use a base_width that is a multiple of num_heads / 2."
            )

    @property
    def stage_channels(self) -> tuple[int, int, int]:
        """Channels of P3, P4, P5 (strides 8, 16, 32)."""
        return (4 * self.base_width, 8 * self.base_width, 16 * self.base_width)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["decoder_depths"] = list(self.decoder_depths)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown model config entries {unknown}; known: {sorted(known)}.")
        return cls(**data)


_HINTS = {"num_classes": " (background included: 2 for a binary task)"}


def _is_whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _decoder_depths(depths: object) -> tuple[int, int, int]:
    if not isinstance(depths, (list, tuple)) or len(depths) != 3 or not all(
            _is_whole(d) and 1 <= int(d) <= MAX_DECODER_DEPTH for d in depths):
        raise ValueError(
            f"decoder_depths={depths!r}: give three whole numbers from 1 to "
            f"{MAX_DECODER_DEPTH}, one per decoder stage (shallow to deep), e.g. (1, 2, 3)."
        )
    return tuple(int(d) for d in depths)  # type: ignore[return-value]


def _whole(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an int within [low, high], else ValueError naming the field and the value."""
    if not _is_whole(value) or not low <= int(value) <= high:  # type: ignore[call-overload]
        raise ValueError(f"{name}={value!r}: give a whole number from {low} to {high}"
                         f"{_HINTS.get(name, '')}.")
    return int(value)  # type: ignore[call-overload]
