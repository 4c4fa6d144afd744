"""TF32 tensor cores: PyTorch's switches and defaults, and results within TF32's precision
(10-bit mantissa inputs, float32 accumulation: relative error near 1e-3, never garbage)."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest


def test_switches_have_pytorch_defaults():
    import subprocess
    import sys

    code = ("import mytensor as mt; print(mt.backends.cuda.matmul.allow_tf32, "
            "mt.backends.cudnn.allow_tf32)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def _rel(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("tf32", [False, True])
def test_matmul_and_conv_precision(tf32, device):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((130, 70)), rng.standard_normal((70, 90))
    x, w = rng.standard_normal((4, 16, 12, 12)), rng.standard_normal((8, 16, 3, 3))
    mt.backends.cuda.matmul.allow_tf32 = tf32
    mt.backends.cudnn.allow_tf32 = tf32
    got_mm = (mt.tensor(a, dtype=mt.float32, device=device)
              @ mt.tensor(b, dtype=mt.float32, device=device)).cpu().numpy()
    got_conv = mt.nn.functional.conv2d(mt.tensor(x, dtype=mt.float32, device=device),
                                       mt.tensor(w, dtype=mt.float32, device=device),
                                       padding=1).cpu().numpy()
    import torch

    ref_mm = a @ b
    ref_conv = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    limit = 5e-3 if (tf32 and device == "cuda") else 1e-5
    assert _rel(got_mm, ref_mm) < limit
    assert _rel(got_conv, ref_conv) < limit
