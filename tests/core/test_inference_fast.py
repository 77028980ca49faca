"""The fast inference path computes what the eager model computes, on every backend."""

from __future__ import annotations

import os
import sys
import time

import pytest
import torch

from qtseg_core import build_model
from qtseg_core.models import onnx_runtime, openvino_runtime, prepare_for_inference
from qtseg_core.models.inference_fast import BACKEND_VARIABLE, InferenceModel, default_backend
from qtseg_core.models.pixel_blocks import PixelBlockMaskHead
from qtseg_core.models.token_side_attention import (
    ImageAttendsToTokens,
    TokensAttendToImage,
    TokenSideDualMix,
)


def trained_looking_model(seed: int = 0):
    """Tiny model with non-trivial BatchNorm statistics, as after training."""
    torch.manual_seed(seed)
    model = build_model("qtseg", base_width=8, decoder_depths=(1, 1, 1), num_heads=4, mlp_dim=64)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_(1, 0.2)
                module.bias.normal_(0, 0.2)
        for name, parameter in model.named_parameters():
            if name.endswith("channel_attention.gamma"):
                parameter.fill_(0.5)  # CAB's gamma starts at 0, which would hide that branch
    return model.eval()


def assert_same_masks(model, fast, images):
    with torch.inference_mode():
        expected, got = model(images), fast(images)
    assert got.shape == expected.shape
    assert torch.allclose(expected, got, atol=1e-4)
    assert torch.equal(expected.argmax(1), got.argmax(1))


def test_folded_channels_last_model_gives_the_same_logits_and_leaves_the_original_alone():
    model = trained_looking_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = prepare_for_inference(model, backend="torch")
    assert_same_masks(model, fast, torch.randn(2, 3, 64, 96))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.network.modules())
    kinds = {type(m) for m in fast.network.modules()}
    assert {PixelBlockMaskHead, TokenSideDualMix, TokensAttendToImage,
            ImageAttendsToTokens} <= kinds
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training is False and any(isinstance(m, torch.nn.BatchNorm2d)
                                           for m in model.modules())


@pytest.mark.slow  # Inductor's first compile: 232 s at a load of 8 on 2 cores
def test_compiled_path_gives_the_same_masks():
    model = trained_looking_model()
    compiled = prepare_for_inference(model, compile=True)
    assert_same_masks(model, compiled, torch.randn(1, 3, 64, 64))


@pytest.fixture(scope="session")
def exported():
    """(model, its ONNX Runtime preparation, seconds the export took): one export per session."""
    model = trained_looking_model()
    start = time.perf_counter()
    prepared = prepare_for_inference(model, backend="onnxruntime")
    return model, prepared, time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(1, 3, 96, 160), (2, 3, 224, 32), (2, 3, 64, 64)])
def test_onnx_runtime_gives_the_same_masks_at_any_size_and_batch(exported, shape):
    model, prepared, _ = exported
    assert_same_masks(model, prepared, torch.randn(*shape))


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(1, 3, 96, 160), (2, 3, 224, 32), (2, 3, 64, 64)])
def test_openvino_gives_the_same_masks_at_any_size_and_batch(exported, shape):
    model, _, _ = exported
    prepared = prepare_for_inference(model, backend="openvino")
    assert isinstance(prepared.network, openvino_runtime.OpenVinoNetwork)
    assert_same_masks(model, prepared, torch.randn(*shape))


@pytest.mark.slow
def test_auto_answers_at_once_and_switches_to_the_fastest_runtime_when_ready(
    exported, monkeypatch,
):
    monkeypatch.setenv(BACKEND_VARIABLE, "auto")  # the suite runs "auto" on torch
    model, _, _ = exported
    auto = prepare_for_inference(model)
    images = torch.randn(2, 3, 96, 64)
    assert_same_masks(model, auto, images)  # torch or the runtime, whichever is ready
    assert auto.network.wait(timeout=120), auto.network.error
    assert isinstance(auto.network.runtime, openvino_runtime.OpenVinoNetwork)
    other = torch.randn(1, 3, 64, 128)  # a shape not compiled yet: torch answers meanwhile
    assert_same_masks(model, auto, other)
    assert auto.network.wait(timeout=120, shape=tuple(other.shape))
    assert auto.network.runtime.ready_for(tuple(other.shape))
    assert_same_masks(model, auto, other)  # now OpenVINO


@pytest.mark.slow
def test_a_second_preparation_compiles_nothing_again_and_a_broken_compiled_shape_is_remade(
    exported,
):
    model, first, _ = exported
    shape = (1, 3, 96, 96)
    graph = first.network.graph
    openvino_runtime.OpenVinoNetwork(graph).compiled_for(shape)
    kept = openvino_runtime.compiled_path(graph, shape, torch.get_num_threads())
    assert kept.stat().st_size > 1000  # the compiled shape is kept beside the graph
    inode = kept.stat().st_ino
    again = prepare_for_inference(model, backend="openvino")
    images = torch.randn(*shape)
    assert_same_masks(model, again, images)
    assert kept.stat().st_ino == inode  # imported, not compiled and written anew
    kept.write_bytes(b"cut short")  # e.g. the disk filled while it was written
    mended = openvino_runtime.OpenVinoNetwork(graph)
    assert_same_masks(model, InferenceModel(mended, channels_last=False), images)
    assert kept.stat().st_size > 1000  # compiled again and kept
    assert not list(kept.parent.glob(".*.tmp"))  # no partial file left


@pytest.mark.slow
def test_only_the_most_recently_used_compiled_shapes_stay_on_disk(exported):
    graph = exported[1].network.graph
    network = openvino_runtime.OpenVinoNetwork(graph)
    shapes = [(1, 3, 32, 32 * k) for k in range(1, openvino_runtime.SHAPES + 2)]
    for shape in shapes:
        network.compiled_for(shape)
    kept = {p.name for p in graph.parent.glob(f"{graph.stem}.*.blob")}
    assert kept == {openvino_runtime.compiled_path(graph, shape, network.threads).name
                    for shape in shapes[1:]}  # the first one compiled went


@pytest.mark.slow
def test_a_second_preparation_of_the_same_model_reuses_the_exported_graph(exported):
    model, first, export_seconds = exported
    inode = first.network.graph.stat().st_ino
    start = time.perf_counter()
    second = prepare_for_inference(model, backend="onnxruntime")
    assert second.network.graph == first.network.graph
    assert second.network.graph.stat().st_ino == inode  # not written again
    assert time.perf_counter() - start < export_seconds
    assert_same_masks(model, second, torch.randn(1, 3, 64, 64))


@pytest.mark.slow
def test_the_next_start_loads_this_machines_optimised_graph_and_a_broken_one_is_made_again(
    exported,
):
    model, first, _ = exported
    optimized = onnx_runtime.optimized_graph_path(first.network.graph)
    assert optimized.is_file()  # kept by the first start
    before = optimized.stat().st_mtime_ns
    again = onnx_runtime.OnnxRuntimeNetwork(first.network.graph)
    assert optimized.stat().st_mtime_ns >= before  # loaded (touched), not optimised anew
    images = torch.randn(2, 3, 64, 96)
    with torch.inference_mode():
        assert torch.equal(again(images), first(images))
    optimized.write_bytes(b"cut short")  # e.g. the disk filled while it was written
    mended = onnx_runtime.OnnxRuntimeNetwork(first.network.graph)
    assert optimized.stat().st_size > 1000  # optimised again and kept
    assert_same_masks(model, InferenceModel(mended, channels_last=False), images)
    assert not list(optimized.parent.glob(".*.tmp"))  # no partial file left


@pytest.mark.slow
def test_onnx_runtime_spins_during_a_run_unless_other_threads_share_the_cpu(exported):
    model, alone, _ = exported
    shared = prepare_for_inference(model, backend="onnxruntime", share_cpu=True)

    def spins(prepared):
        options = prepared.network.session.get_session_options()
        return options.get_session_config_entry("session.intra_op.allow_spinning")

    assert (spins(alone), spins(shared)) == ("1", "0")
    assert_same_masks(model, shared, torch.randn(1, 3, 64, 64))


def test_the_switch_makes_auto_run_torch_and_a_wrong_value_says_what_to_set(monkeypatch):
    monkeypatch.setenv(BACKEND_VARIABLE, "torch")
    auto = prepare_for_inference(trained_looking_model())
    assert isinstance(auto.network, torch.nn.Module)  # no background export either
    monkeypatch.setenv(BACKEND_VARIABLE, "onnx")
    with pytest.raises(ValueError, match=r"QTSEG_INFERENCE_BACKEND='onnx'.*'torch'"):
        prepare_for_inference(trained_looking_model())


def test_without_openvino_auto_takes_onnx_runtime_and_openvino_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if not installed
    monkeypatch.setenv(BACKEND_VARIABLE, "auto")
    assert not openvino_runtime.available()
    assert default_backend() == "onnxruntime"
    with pytest.raises(ValueError, match="pip install openvino onnx"):
        prepare_for_inference(trained_looking_model(), backend="openvino")


def test_without_any_runtime_auto_falls_back_to_torch_and_onnxruntime_says_what_to_do(
    monkeypatch,
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "openvino", None)
    monkeypatch.setenv(BACKEND_VARIABLE, "auto")
    assert not onnx_runtime.available()
    model = trained_looking_model()
    auto = prepare_for_inference(model)
    assert isinstance(auto.network, torch.nn.Module)
    assert_same_masks(model, auto, torch.randn(2, 3, 64, 96))
    with pytest.raises(ValueError, match="pip install onnxruntime onnx"):
        prepare_for_inference(model, backend="onnxruntime")


def test_the_cache_keeps_only_the_most_recently_used_graphs(monkeypatch, tmp_path):
    monkeypatch.setenv("QTSEG_CACHE_DIR", str(tmp_path))
    folder = onnx_runtime.cache_dir()
    folder.mkdir(parents=True)
    legacy = folder.parent / "openvino"  # OpenVINO's own cache, used before: never pruned
    legacy.mkdir()
    (legacy / "0123.blob").write_bytes(b"compiled")

    def made_from(graph):
        return [onnx_runtime.optimized_graph_path(graph),
                openvino_runtime.compiled_path(graph, (1, 3, 64, 64), 2)]

    for age, name in enumerate(["newest", "middle", "oldest"]):
        graph = folder / f"{name}.onnx"
        graph.write_bytes(b"graph")
        for made in made_from(graph):
            made.write_bytes(b"made")
        os.utime(graph, (1e9 - age * 100, 1e9 - age * 100))
    onnx_runtime.prune_cache(keep=2)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        path.name for stem in ("middle", "newest")
        for graph in [folder / f"{stem}.onnx"] for path in [graph, *made_from(graph)])
    assert not legacy.exists()
