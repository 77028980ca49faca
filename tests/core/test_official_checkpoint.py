"""Importing the authors' checkpoints, built from their published entry list."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from qtseg_core import load_checkpoint
from qtseg_core.cli import main
from qtseg_core.official_checkpoint import (
    CheckpointMismatchError,
    convert_official_state_dict,
    official_name,
)

KEY_LIST = Path(__file__).parent / "data" / "official-checkpoint-keys.tsv"


def authors_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors under every entry name and shape of the published checkpoint."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for line in KEY_LIST.read_text().splitlines()[1:]:
        name, shape, dtype = line.split("\t")
        shape = tuple(int(s) for s in shape.strip("()").split(",") if s.strip())
        if dtype == "int64":
            state[name] = torch.tensor(7)
        elif name.endswith("running_var"):
            state[name] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[name] = torch.randn(shape, generator=generator) * 0.1
    return state


def test_every_entry_lands_where_it_belongs():
    state = authors_state_dict()
    model = convert_official_state_dict(state)
    assert len(state) == 614
    for ours, tensor in model.state_dict().items():
        assert torch.equal(tensor, state[official_name(model, ours)]), ours


@pytest.mark.parametrize("wrapped", [False, True])
def test_cli_converts_bare_and_wrapped_files(tmp_path, wrapped):
    state = authors_state_dict(1)
    source = tmp_path / "authors.pt"
    torch.save({"state_dict_model": state, "epoch": 349} if wrapped else state, source)
    target = tmp_path / "model.safetensors"
    assert main(["import-checkpoint", str(source), "-o", str(target)]) == 0
    loaded = load_checkpoint(target)
    images = torch.randn(1, 3, 64, 64)
    reference = convert_official_state_dict(state)
    with torch.no_grad():
        logits = loaded.model(images)
        assert torch.isfinite(logits).all()
        assert torch.allclose(logits, reference(images))
    assert loaded.metadata.provenance["imported_from"] == str(source)


def test_missing_unexpected_and_misshapen_entries_are_listed():
    state = authors_state_dict()
    del state["mask_decoder.PE_s1.positional_encoding_gaussian_matrix"]
    state["mask_decoder.extra_head.weight"] = torch.zeros(3)
    state["bridge.neck_0_0.conv.weight"] = torch.zeros(32, 64, 3, 3)
    with pytest.raises(CheckpointMismatchError) as caught:
        convert_official_state_dict(state)
    message = str(caught.value)
    assert "missing entries (1)" in message and "PE_s1" in message
    assert "unexpected entries (1)" in message and "extra_head" in message
    assert "bridge.neck_0_0.conv.weight: file (32, 64, 3, 3), model (32, 64, 1, 1)" in message


def test_a_pickle_that_would_run_code_is_refused(tmp_path, capsys):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    source = tmp_path / "evil.pt"
    source.write_bytes(pickle.dumps({"state_dict_model": Payload()}))
    assert main(["import-checkpoint", str(source), "-o", str(tmp_path / "m.safetensors")]) == 2
    captured = capsys.readouterr()
    assert "this must never run" not in captured.out
    assert "weights-only" in captured.err
    assert not (tmp_path / "m.safetensors").exists()


def test_the_authors_weights_become_a_click_model_that_agrees_without_clicks():
    from qtseg_core.models import add_click_inputs

    automatic = convert_official_state_dict(authors_state_dict(2)).eval()
    clicked = add_click_inputs(automatic).eval()
    images, clicks = torch.randn(1, 3, 64, 64), torch.zeros(1, 3, 64, 64)
    clicks[:, 1, 30:35, 30:35] = 1
    with torch.no_grad():
        assert torch.equal(clicked(images, clicks), automatic(images))
