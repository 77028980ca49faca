"""The bundled files are found through one lookup, from the source tree and from a wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qtseg_core import resources
from qtseg_core.checkpoint import read_metadata
from qtseg_core.resources import bundled_models, resource_path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = (resources.STARTER_MODEL, resources.MODEL_CARD, resources.DEMO_IMAGES,
           resources.DEMO_GROUND_TRUTH, resources.DEMO_LICENSES, resources.APP_ICON)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_named_resource_is_shipped(name):
    assert resource_path(name).exists()


def test_a_missing_resource_is_named_and_says_reinstall():
    with pytest.raises(FileNotFoundError, match=r"'models/absent.safetensors'.*reinstall"):
        resource_path("models/absent.safetensors")


def test_the_starter_model_is_the_first_bundled_model_and_readable():
    models = bundled_models()
    assert models[0] == resource_path(resources.STARTER_MODEL)
    assert read_metadata(models[0]).class_names


# What a user who ran `pip install qtseg-studio` gets: resources inside the
# installed package, found from another folder, with no source tree around.
CHECK_INSTALLED = """
import qtseg_core, sys
from pathlib import Path
from qtseg_core import resources
assert not Path(qtseg_core.__file__).is_relative_to(sys.argv[1]), qtseg_core.__file__
for name in (resources.STARTER_MODEL, resources.DEMO_LICENSES, resources.APP_ICON):
    print(resources.resource_path(name))
print(len(list(resources.resource_path(resources.DEMO_IMAGES).glob('*.png'))))
"""


@pytest.mark.slow
def test_resources_are_found_in_an_installed_wheel(tmp_path):
    source, target = tmp_path / "src", tmp_path / "site"  # a copy: no build/ left in the repo
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    for package in ("qtseg_core", "qtseg_app"):
        shutil.copytree(REPO / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
           "--no-build-isolation", "--no-index", "--target", str(target), str(source)]
    subprocess.run(pip, check=True, cwd=tmp_path, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", CHECK_INSTALLED, str(REPO)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(target) and Path(p).is_file() for p in out[:3])
    assert int(out[3]) == len(list(resource_path(resources.DEMO_IMAGES).glob("*.png"))) > 0


def test_a_bundled_model_is_found_by_its_short_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resources.find_model("starter") == resource_path(resources.STARTER_MODEL)
    (tmp_path / "starter").write_text("a file of the user's")  # a real path always wins
    assert resources.find_model("starter") == Path("starter")
    assert resources.find_model("absent") == Path("absent")  # the reader names it


def test_qtseg_predict_takes_the_starter_by_name(tmp_path, capsys):
    from qtseg_core.cli import main

    image = next(iter(sorted(resource_path(resources.DEMO_IMAGES).glob("*.png"))))
    code = main(["predict", "starter", str(image), "-o", str(tmp_path / "out"), "--device", "cpu"])

    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out" / image.name).is_file()
