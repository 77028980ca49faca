"""The one checkpoint format: round trip, metadata, and refusal of foreign files."""

from __future__ import annotations

import pickle
import sys

import pytest
import torch

from qtseg_core import build_model, load_checkpoint, load_model, save_model
from qtseg_core.checkpoint import read_metadata
from qtseg_core.cli import main

TINY = dict(base_width=8, decoder_depths=(1, 1, 1), num_heads=4, mlp_dim=64)


def test_round_trip_rebuilds_the_same_model_from_the_file_alone(tmp_path):
    model = build_model("qtseg", num_classes=3, in_channels=1, **TINY).eval()
    path = tmp_path / "model.safetensors"
    save_model(
        model, path, class_names=["background", "tumour", "oedema"],
        class_colors=[(0, 0, 0), (255, 0, 0), (0, 255, 0)], input_size=256,
        trained_on="brain MRI", command="qtseg train ...", val_dice=81.5,
    )
    checkpoint = load_checkpoint(path)
    loaded, meta = checkpoint.model, checkpoint.metadata
    images = torch.randn(2, 1, 64, 96)
    with torch.no_grad():
        assert torch.equal(model(images), loaded(images))
    assert meta.config == model.config
    assert meta.class_names == ("background", "tumour", "oedema")
    assert meta.class_colors[1] == (255, 0, 0)
    assert meta.input_size == 256
    assert meta.provenance == {"trained_on": "brain MRI", "command": "qtseg train ...",
                               "val_dice": 81.5}
    assert read_metadata(path) == meta


def test_half_precision_file_is_half_the_size_and_nearly_the_same(tmp_path):
    model = build_model("qtseg", **TINY).eval()
    save_model(model, tmp_path / "full.safetensors")
    save_model(model, tmp_path / "half.safetensors", half_precision=True)
    full, half = (tmp_path / "full.safetensors").stat().st_size, (tmp_path / "half.safetensors")
    assert half.stat().st_size < 0.6 * full
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        difference = (load_model(half)(images) - model(images)).abs().max()
    assert difference < 0.05


def test_wrong_number_of_class_names_is_refused(tmp_path):
    with pytest.raises(ValueError, match="one name per class"):
        save_model(build_model("qtseg", **TINY), tmp_path / "m.safetensors", class_names=["x"])


def test_missing_corrupt_and_pickled_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nothing.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ValueError, match="not a readable .safetensors"):
        load_model(corrupt)
    pickled = tmp_path / "model.pt"
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="qtseg import-checkpoint"):
        load_model(pickled)


def test_foreign_safetensors_file_is_not_taken_for_a_model(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not a QTSeg Studio checkpoint"):
        load_model(path)


def test_info_command_prints_parameters_flops_and_shape(tmp_path, capsys):
    path = tmp_path / "m.safetensors"
    save_model(build_model("qtseg", **TINY), path, trained_on="unit test")
    assert main(["info", str(path), "--size", "64"]) == 0
    out = capsys.readouterr().out
    assert "trained_on: unit test" in out
    assert "output: logits (1, 2, 64, 64)" in out
    assert "FLOPs at 1x3x64x64" in out
    assert "inference backend on the CPU: torch (QTSEG_INFERENCE_BACKEND=torch)" in out  # suite


def test_info_says_openvino_runs_the_default_path_when_installed(monkeypatch, capsys):
    monkeypatch.setenv("QTSEG_INFERENCE_BACKEND", "auto")
    assert main(["info", "--size", "64"]) == 0
    assert "inference backend on the CPU: openvino 20" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if not installed
    assert main(["info", "--size", "64"]) == 0
    assert "inference backend on the CPU: onnxruntime 1." in capsys.readouterr().out
