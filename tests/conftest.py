"""Shared fixtures: the `device` parameter, seeding, and MYTENSOR_REQUIRE_CUDA."""

from __future__ import annotations

import os
import random

import mytensor as mt
import numpy as np
import pytest

REQUIRE_CUDA = os.environ.get("MYTENSOR_REQUIRE_CUDA") == "1"


def pytest_addoption(parser):
    parser.addoption(
        "--cifar-dir",
        default=os.environ.get("MYTENSOR_CIFAR10_DIR"),
        help="folder holding cifar-10-batches-py/ (or set MYTENSOR_CIFAR10_DIR)",
    )
    # tests/fuzz: the differential fuzzer (tests/fuzz/README.md).
    parser.addoption(
        "--fuzz-budget",
        type=int,
        default=0,
        help="run the long fuzz session of N cases (tests/fuzz) and write a report",
    )
    parser.addoption("--fuzz-seed", type=int, default=0, help="seed of the long fuzz session")
    parser.addoption("--fuzz-device", default="cpu", help="device of the fuzz session (cpu, cuda)")
    parser.addoption("--fuzz-jobs", type=int, default=1, help="fuzz workers run in parallel")
    parser.addoption(
        "--fuzz-report", default="fuzz-report", help="folder for fuzz_report.json / fuzz_report.md"
    )


def pytest_configure(config):
    if REQUIRE_CUDA and not mt.cuda.is_available():
        raise pytest.UsageError(
            "MYTENSOR_REQUIRE_CUDA=1 but CUDA is not available "
            f"(compiled in: {mt.cuda.is_compiled()}, devices: {mt.cuda.device_count()})"
        )


def _devices():
    return ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


@pytest.fixture(params=_devices())
def device(request) -> str:
    """Each test taking `device` runs on the CPU and on CUDA (skipped without a GPU, unless
    MYTENSOR_REQUIRE_CUDA=1, where a missing GPU fails the run at start-up)."""
    if request.param == "cuda" and not mt.cuda.is_available():
        pytest.skip("CUDA is not available (no GPU, or mytensor built without CUDA)")
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    np.random.seed(0)
    mt.manual_seed(0) if hasattr(mt._C, "manual_seed") else None
    try:
        import torch

        torch.manual_seed(0)
    except ImportError:
        pass
    yield


@pytest.fixture(autouse=True)
def _exact_float32():
    """Parity tests compare with PyTorch on the CPU in exact float32, so TF32 tensor cores (on by
    default for convolutions, as in PyTorch) are off here; tests/ops/test_tf32.py covers them."""
    matmul, conv = mt.backends.cuda.matmul.allow_tf32, mt.backends.cudnn.allow_tf32
    mt.backends.cuda.matmul.allow_tf32 = mt.backends.cudnn.allow_tf32 = False
    yield
    mt.backends.cuda.matmul.allow_tf32, mt.backends.cudnn.allow_tf32 = matmul, conv


@pytest.fixture
def cifar_dir(request):
    root = request.config.getoption("--cifar-dir")
    if not root or not os.path.isdir(os.path.join(root, "cifar-10-batches-py")):
        pytest.skip(
            "real CIFAR-10 not found: pass --cifar-dir DIR or set MYTENSOR_CIFAR10_DIR to a folder "
            "holding cifar-10-batches-py/ (python ../shared/cifar10/prepare.py DIR makes one)"
        )
    return root
