"""The Hopper (sm_90a) wgmma/TMA GEMM (issue #12) against float64 references, and against the
mma.sync path it replaces: odd sizes, both layouts of each operand, batches, broadcast batches,
misaligned operands, bias + accumulate (linear), grouped convolutions forward and backward (the
convolutions' GEMMs with bias and the NCHW column scatter), poisoned outputs.

MYTENSOR_GEMM is read once by the extension, so each path runs in its own subprocess
(gemm_sm90_worker.py) over the same inputs. On a device other than compute capability 9.0 the
forced sm90 path falls back to the old kernels and the checks still hold; the test that the sm90
kernel really ran needs a 9.0 device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mytensor as mt
import numpy as np
import pytest

pytestmark = pytest.mark.cuda

WORKER = Path(__file__).with_name("gemm_sm90_worker.py")
sys.path.insert(0, str(WORKER.parent))
import gemm_sm90_worker as worker  # noqa: E402

# METHOD.md: tf32 lands near 3e-4 (wgmma truncates operands to tf32, so a bit higher); float32 far
# under 1e-5 at these depths. NaN never passes.
TOL = {"sm90": 1e-3, "mma": 1e-3, "auto": 1e-3, "simt": 1e-5}
KEYS = [f"{c['id']}__{name}" for c in worker.CASES for name in worker.expected_outputs(c)]


def _need_cuda():
    if not mt.cuda.is_available():
        pytest.skip("CUDA is not available (no GPU, or mytensor built without CUDA)")


_RUNS: dict[str, tuple[dict, dict]] = {}


def _run(path: str, tmp_path_factory) -> tuple[dict, dict]:
    """(report, arrays) of one worker run with MYTENSOR_GEMM=path (auto: unset)."""
    _need_cuda()
    if path not in _RUNS:
        out = tmp_path_factory.mktemp(f"gemm-{path}") / "out.npz"
        env = dict(os.environ)
        env.pop("MYTENSOR_GEMM", None)
        if path != "auto":
            env["MYTENSOR_GEMM"] = path
        proc = subprocess.run(
            [sys.executable, str(WORKER), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"worker ({path}) failed:\n{proc.stdout}\n{proc.stderr}"
        with np.load(out) as z:
            report = json.loads(str(z["report"]))
            arrays = {k: z[k] for k in z.files if k != "report"}
        _RUNS[path] = (report, arrays)
    return _RUNS[path]


@pytest.mark.parametrize("path", ["sm90", "mma", "auto", "simt"])
@pytest.mark.parametrize("key", KEYS)
def test_matches_float64(path, key, tmp_path_factory):
    report, _ = _run(path, tmp_path_factory)
    r = report[key]
    assert r["shape_ok"], f"{key}: wrong shape"
    assert r["nan"] == 0, f"{key} ({path}): {r['nan']} NaN (unwritten or poisoned) elements"
    assert r["rel"] < TOL[path], f"{key} ({path}): ||out - ref|| / ||ref|| = {r['rel']:.3g}"


@pytest.mark.parametrize("key", KEYS)
def test_sm90_agrees_with_mma(key, tmp_path_factory):
    _, sm90 = _run("sm90", tmp_path_factory)
    _, mma = _run("mma", tmp_path_factory)
    a, b = sm90[key].astype(np.float64), mma[key].astype(np.float64)
    scale = max(float(np.linalg.norm(b)), 1e-30)
    assert float(np.linalg.norm(a - b)) / scale < 2e-3


def _is_hopper() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.get_device_capability() == (9, 0)


@pytest.mark.parametrize("path", ["sm90", "auto"])
def test_sm90_kernel_runs_on_hopper(path, tmp_path_factory):
    """Forced, and chosen by default for a 1000^3 TF32 product, on a 9.0 device."""
    report, _ = _run(path, tmp_path_factory)
    if not _is_hopper():
        pytest.skip("needs a compute capability 9.0 GPU")
    kernels = report["_kernels"]
    if kernels and kernels[0].startswith("profiler unavailable"):
        pytest.skip(kernels[0])
    assert any("gemm_sm90_kernel" in k for k in kernels), kernels


def test_mma_path_avoids_sm90(tmp_path_factory):
    report, _ = _run("mma", tmp_path_factory)
    assert not any("gemm_sm90_kernel" in k for k in report["_kernels"]), report["_kernels"]
