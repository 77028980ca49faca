"""Every CLI mistake gets a one-line message and exit code 2, never a traceback."""

from __future__ import annotations

import pytest
import torch

from qtseg_core.cli import main
from qtseg_core.training.state import load_training_state


@pytest.mark.parametrize(("argv", "named"), [
    (["info", "--size", "0"], "argument --size: '0': give a whole number of at least 1"),
    (["info", "--size", "-32"], "'-32': give a whole number of at least 1"),
    (["train", "data", "-o", "run", "--val-fraction", "2"], "between 0 and 1"),
    (["train", "data", "-o", "run", "--batch-size", "0"], "--batch-size"),
    (["predict", "m.safetensors", "x", "-o", "out", "--batch-size", "0"], "--batch-size"),
    (["eval", "m.safetensors", "data", "--size", "100"], "multiple of 32"),
    (["finetune", "ws", "--epochs", "0"], "--epochs"),
])
def test_bad_flag_values_are_refused_by_name(argv, named, capsys):
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert named in error and "Traceback" not in error


@pytest.mark.parametrize("command", ["train", "eval"])
def test_an_output_that_is_an_existing_file_gets_a_message(command, tmp_path, capsys):
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    argv = {"train": ["train", str(tmp_path), "-o", str(taken)],
            "eval": ["eval", "m.safetensors", str(tmp_path), "-o", str(taken)]}[command]
    assert main(argv) == 2
    assert "is an existing file" in capsys.readouterr().err and taken.read_text() == "mine"


def test_resume_says_which_flags_it_ignores(tmp_path, capsys):
    main(["train", "--resume", str(tmp_path / "nowhere"), "--lr", "0.1", "--batch-size", "4",
          "--epochs", "3"])
    error = capsys.readouterr().err
    assert "ignoring --batch-size, --lr:" in error and "ignoring --epochs" not in error


def test_a_bad_config_file_value_is_named(tmp_path, capsys):
    config = tmp_path / "bad.json"
    config.write_text('{"lr": "fast", "batch_size": 0}')
    assert main(["train", str(tmp_path), "-o", str(tmp_path / "run"), "--config",
                 str(config)]) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and ("lr" in error or "batch_size" in error)


def test_truncated_or_foreign_resume_files_get_a_message(tmp_path):
    foreign = tmp_path / "resume.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="is not the resume.pt of a qtseg train run"):
        load_training_state(foreign)
    foreign.write_bytes(foreign.read_bytes()[:40])
    with pytest.raises(ValueError, match="could not be read as the resume.pt") as caught:
        load_training_state(foreign)
    assert "weights_only" not in str(caught.value)
