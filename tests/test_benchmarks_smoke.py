"""The benchmarks still run: each on the CPU, on the smallest setting (issue #12)."""

from __future__ import annotations

import importlib.util
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "benchmarks")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_models_runs_on_the_cpu(capsys):
    bench = _load("bench_models")
    flags = ["--device", "cpu", "--models", "cnn", "--steps", "1", "--warmup", "1"]
    rows = bench.main(flags + ["--batch-size", "4"])
    out = capsys.readouterr().out
    assert out.startswith("commit ")  # provenance first
    by_config = {r[2]: r for r in rows}
    assert set(by_config) == set(bench.CONFIGS)
    for config in ("torch-eager", "mt-eager"):
        assert float(by_config[config][3]) > 0
    assert by_config["torch-eager"][5] == "1.00"  # the only fp32 PyTorch row is the baseline
    assert "CUDA graphs need --device cuda" in by_config["mt-graph"][6]
    # ResNet-18 is built the same by both frameworks: same parameter names and shapes.
    import mytensor as mt
    import torch

    tnet, mnet = bench.resnet18(torch.nn), bench.resnet18(mt.nn)
    shapes = {k: tuple(v.shape) for k, v in tnet.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in mnet.state_dict().items()} == shapes
    assert sum(v.numel() for v in tnet.parameters()) == 11_173_962


def test_bench_models_steps_agree_across_frameworks():
    # Same weights, same batch: the first two losses of the reference CNN match.
    bench = _load("bench_models")
    torch_fn, _ = bench.torch_step("cnn", "cpu", "torch-eager", 4)
    mt_fn, _ = bench.mt_step("cnn", "cpu", "mt-eager", 4)
    for _ in range(2):
        t, m = float(torch_fn().item()), float(mt_fn().item())
        assert abs(t - m) < 1e-4 * max(1.0, abs(t)), (t, m)
