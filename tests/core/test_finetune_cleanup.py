"""A failed or cancelled fine-tune deletes only the folder its job created."""

from __future__ import annotations

import json

from qtseg_core.cli import main
from qtseg_core.finetune import FinetuneJob, FinetuneSettings, discard_job
from qtseg_core.finetune.job import JOB_FORMAT, JOB_MARKER, _new_job_folder


def _job_file(tmp_path, output_dir) -> str:
    job = FinetuneJob(workspace=str(tmp_path), model_version="v1",
                      model_path=str(tmp_path / "missing.safetensors"), train=(), val=(),
                      settings=FinetuneSettings(input_size=64), output_dir=str(output_dir),
                      created_at="2026-01-01T00:00:00+00:00")
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job.to_dict()))
    assert json.loads(path.read_text())["format"] == JOB_FORMAT
    return str(path)


def test_a_failed_job_whose_output_dir_existed_before_leaves_that_folder_alone(tmp_path):
    mine = tmp_path / "my results"
    mine.mkdir()
    (mine / "thesis.docx").write_text("months of work")

    code = main(["finetune", "--job", _job_file(tmp_path, mine)])

    assert code != 0
    assert (mine / "thesis.docx").read_text() == "months of work"


def test_a_planned_job_folder_is_marked_and_removed_when_discarded(tmp_path):
    folder = _new_job_folder(tmp_path)
    assert (folder / JOB_MARKER).is_file()
    job = FinetuneJob.from_dict({**json.loads(open(_job_file(tmp_path, folder)).read())})
    assert job.owns_output_dir
    discard_job(job)
    assert not folder.exists()
