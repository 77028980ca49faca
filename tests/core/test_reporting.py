"""Run reporting: TensorBoard asked for but not installed is said once, and the run goes on."""

from __future__ import annotations

import io
import sys

from qtseg_core.training.reporting import RunReporter


def test_missing_tensorboard_is_said_once(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if not installed
    stream = io.StringIO()
    reporter = RunReporter(tmp_path, tensorboard=True, stream=stream)
    record = {"epoch": 0, "epochs": 2, "train_loss": 0.5, "val_dice": 10.0,
              "best_val_dice": 10.0, "best_epoch": 0, "lr": 1e-3, "epoch_time_s": 1.0,
              "eta_s": 1.0}
    reporter.epoch(record)
    reporter.epoch({**record, "epoch": 1})
    reporter.close()
    assert stream.getvalue().count("tensorboard is not installed") == 1
    assert "qtseg-studio[tensorboard]" in stream.getvalue()
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2
