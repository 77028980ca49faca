"""A checkpoint's metadata and tensors are checked before anything is built from them."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors.torch import load_file, save_file

from qtseg_core import build_model, load_model, save_model
from qtseg_core.checkpoint import read_metadata, verify_checkpoint
from qtseg_core.cli import main
from qtseg_core.official_checkpoint import import_checkpoint
from tests.core.test_official_checkpoint import authors_state_dict

TINY = dict(base_width=8, decoder_depths=(1, 1, 1), num_heads=4, mlp_dim=64)
CONFIG = {"num_classes": 2, "in_channels": 3, **TINY, "decoder_depths": [1, 1, 1]}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "good.safetensors"
    save_model(build_model("qtseg", **TINY), path, input_size=64)
    return path


def _rewrite(good, tmp_path, tensors=None, **fields):
    """A copy of ``good`` with metadata fields replaced (None removes one) or other tensors."""
    from safetensors import safe_open

    with safe_open(str(good), framework="pt") as handle:
        strings = dict(handle.metadata())
    for key, value in fields.items():
        if value is None:
            strings.pop(key)
        else:
            strings[key] = value if isinstance(value, str) else json.dumps(value)
    path = tmp_path / "bad.safetensors"
    save_file(tensors if tensors is not None else load_file(str(good)), str(path), strings)
    return path


BAD_FIELDS = [
    ({"model_config": None}, "model_config"),
    ({"model_config": "null"}, "model_config"),
    ({"model_config": {**CONFIG, "num_classes": "2"}}, "num_classes='2'"),
    ({"model_config": {**CONFIG, "num_classes": 2.5}}, "num_classes=2.5"),
    ({"model_config": {**CONFIG, "num_classes": 10**5}}, "num_classes=100000"),
    ({"model_config": {**CONFIG, "decoder_depths": [1, 1, 10**6]}}, "decoder_depths"),
    ({"model_config": {**CONFIG, "num_heads": 0}}, "num_heads=0"),
    ({"class_names": None}, "class_names"),
    ({"class_names": ["background", "a", "b"]}, "3 names for 2 classes"),
    ({"class_colors": [[0, 0, 0], [1e9, 0, 0]]}, "class_colors"),
    ({"input_size": "0"}, "input_size"),
    ({"input_size": "-64"}, "input_size"),
    ({"input_size": str(10**6)}, "input_size"),
    ({"normalization": {"kind": "z-score"}}, "normalization"),
]


@pytest.mark.parametrize(("fields", "named"), BAD_FIELDS, ids=[n for _, n in BAD_FIELDS])
def test_malformed_fields_give_one_message_naming_the_file_and_field(good, tmp_path, capsys,
                                                                     fields, named):
    path = _rewrite(good, tmp_path, **fields)
    for reader in (read_metadata, load_model):
        with pytest.raises(ValueError) as caught:
            reader(path)
        assert str(path) in str(caught.value) and named in str(caught.value)
    assert main(["info", str(path)]) == 2
    assert named in capsys.readouterr().err


def test_a_tensor_larger_than_its_config_is_refused_before_building(good, tmp_path):
    tensors = load_file(str(good))
    tensors["decoder.query_tokens.weight"] = torch.zeros(100_000, 64)
    path = _rewrite(good, tmp_path, tensors=tensors)
    with pytest.raises(ValueError, match=r"'tensors'.*query_tokens.weight is \(100000, 64\)"):
        load_model(path)


def test_non_finite_weights_are_never_loaded_nor_saved(good, tmp_path):
    tensors = load_file(str(good))
    name = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[name][...] = float("nan")
    path = _rewrite(good, tmp_path, tensors=tensors)
    for check in (load_model, verify_checkpoint):
        with pytest.raises(ValueError, match="NaN or Inf"):
            check(path)
    model = load_model(good)
    with torch.no_grad():
        next(model.parameters()).fill_(float("inf"))
    with pytest.raises(ValueError, match="NaN or Inf"):
        save_model(model, tmp_path / "diverged.safetensors")
    assert not (tmp_path / "diverged.safetensors").exists()


def test_authors_file_with_a_huge_query_token_tensor_is_refused_naming_it(tmp_path):
    state = authors_state_dict()
    state["mask_decoder.mask_tokens.weight"] = torch.zeros(100_000, 256)
    source = tmp_path / "authors.pt"
    torch.save(state, source)
    with pytest.raises(ValueError, match=r"authors.pt.*num_classes=100000"):
        import_checkpoint(source, tmp_path / "m.safetensors")


def test_import_refuses_to_write_over_its_source_or_into_a_folder(tmp_path, capsys):
    source = tmp_path / "same.pt"
    torch.save(authors_state_dict(), source)
    before = source.read_bytes()
    assert main(["import-checkpoint", str(source), "-o", str(source)]) == 2
    assert "source file itself" in capsys.readouterr().err
    assert source.read_bytes() == before
    assert main(["import-checkpoint", str(source), "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_a_refused_pickle_message_does_not_advise_weights_only_false(tmp_path, capsys):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    source = tmp_path / "evil.pt"
    source.write_bytes(pickle.dumps({"state_dict_model": Payload()}))
    assert main(["import-checkpoint", str(source), "-o", str(tmp_path / "m.safetensors")]) == 2
    error = capsys.readouterr().err
    assert "evil.pt" in error and "refused" in error
    assert "weights_only" not in error and "False" not in error
