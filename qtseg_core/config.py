"""Frozen configuration dataclasses shared by the CLI, the app and the tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


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
        object.__setattr__(self, "decoder_depths", tuple(int(d) for d in self.decoder_depths))
        if self.num_classes < 2:
            raise ValueError(
                f"num_classes={self.num_classes}: QTSeg needs at least 2 classes "
                "(background included); use 2 for a binary task."
            )
        if self.in_channels not in (1, 3):
            raise ValueError(f"in_channels={self.in_channels}: use 1 (grey) or 3 (RGB).")
        if len(self.decoder_depths) != 3 or min(self.decoder_depths) < 1:
            raise ValueError(
                f"decoder_depths={self.decoder_depths}: give three depths >= 1, "
                "one per decoder stage (shallow to deep), e.g. (1, 2, 3)."
            )
        smallest_attention_width = self.stage_channels[0] // 2
        if self.base_width < 1 or smallest_attention_width % self.num_heads:
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
