"""``qtseg train | eval | predict`` end to end, and the messages people see on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qtseg_core import __version__
from qtseg_core.cli import main
from qtseg_core.io import read_image
from qtseg_core.training import read_metrics
from tests.core.test_training_fixtures import make_generic_dataset, one_torch_thread  # noqa: F401

TINY = [
    "--model-arg",
    "base_width=8",
    "--model-arg",
    "decoder_depths=[1,1,1]",
    "--model-arg",
    "mlp_dim=64",
    "--size",
    "64",
    "--batch-size",
    "3",
    "--no-tensorboard",
    "--group-pattern",
    r"^(.+)_z\d+$",
    "--val-fraction",
    "0.34",
]


def test_train_resume_eval_predict_through_the_command_line(tmp_path, capsys):
    data = make_generic_dataset(tmp_path / "data")
    (data / "splits.json").write_text(json.dumps({"test": ["vol2_z000", "vol2_z001"]}))
    run = tmp_path / "run"
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"epochs": 5, "lr": 0.002, "data": {"augment": False}}))

    assert (
        main(["train", str(data), "-o", str(run), "--config", str(config), *TINY, "--epochs", "1"])
        == 0
    )
    saved = json.loads((run / "config.json").read_text())
    assert saved["epochs"] == 1 and saved["lr"] == 0.002 and saved["data"]["augment"] is False
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    assert [r["epoch"] for r in read_metrics(run)] == [0, 1]
    record = json.loads((run / "run.json").read_text())
    assert record["qtseg_studio"] == __version__ and record["environment"]["torch"]
    assert len(record["resumed"]) == 1
    files = record["files"]
    assert sorted(Path(p).stem for p in files["held_out"]) == ["vol2_z000", "vol2_z001"]
    assert not set(files["held_out"]) & set(files["train"] + files["val"]) and files["val"]
    assert (run / "train.log").read_text().count("epoch ") >= 2  # both runs' epoch lines

    assert main(["eval", str(run / "best.safetensors"), str(data), "-o", str(tmp_path / "ev")]) == 0
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["images"] == 2 and {"canvas", "original"} <= set(summary)
    assert (tmp_path / "ev" / "per_image.csv").read_text().count("\n") == 3
    assert "paper" in capsys.readouterr().out
    # the folder has no 'val' split: the run's own validation images come from its run.json
    assert main(["eval", str(run / "best.safetensors"), str(data), "--split", "val",
                 "-o", str(tmp_path / "ev-val")]) == 0
    scored = json.loads((tmp_path / "ev-val" / "summary.json").read_text())
    assert scored["images"] == len(files["val"]) and "run.json" in capsys.readouterr().out

    assert (
        main(
            [
                "predict",
                str(run / "best.safetensors"),
                str(data / "images"),
                "-o",
                str(tmp_path / "masks"),
            ]
        )
        == 0
    )
    mask = read_image(tmp_path / "masks" / "vol0_z000.png")
    assert mask.shape == (48, 64) and set(np.unique(mask)) <= {0, 255}


def test_bad_inputs_give_one_clear_line_and_exit_code_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "images").mkdir(parents=True)
    (empty / "masks").mkdir()
    assert main(["train", str(empty), "-o", str(tmp_path / "run"), *TINY]) == 2
    error = capsys.readouterr().err
    assert str(empty) in error and "no layout" in error
    assert not (tmp_path / "run").exists()  # a failed start leaves no half-made run behind

    assert main(["train", "--resume", str(tmp_path / "nowhere")]) == 2
    assert "not a training run folder" in capsys.readouterr().err

    assert (
        main(["train", str(empty), "-o", str(tmp_path / "r2"), "--lr", "1", "--size", "100"]) == 2
    )
    assert "multiple of 32" in capsys.readouterr().err

    assert main(["predict", str(tmp_path / "missing.safetensors"), str(empty), "-o", "x"]) == 2
    assert "missing.safetensors" in capsys.readouterr().err


def test_every_train_flag_has_help_and_choices_are_enforced(capsys):
    from qtseg_core.cli import build_parser

    parser = build_parser("train")
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    for action in train_parser._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help text"
    assert "(paper: 350)" in train_parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "data", "-o", "run", "--optimizer", "adam"])
    assert "invalid choice: 'adam'" in capsys.readouterr().err
