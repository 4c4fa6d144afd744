"""TF32 tensor cores: PyTorch's switches and defaults, and results within TF32's precision
(10-bit mantissa inputs, float32 accumulation: relative error near 1e-3, never garbage)."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest


def test_switches_have_pytorch_defaults():
    import subprocess
    import sys

    code = (
        "import mytensor as mt; print(mt.backends.cuda.matmul.allow_tf32, "
        "mt.backends.cudnn.allow_tf32)"
    )
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
    got_mm = (
        (
            mt.tensor(a, dtype=mt.float32, device=device)
            @ mt.tensor(b, dtype=mt.float32, device=device)
        )
        .cpu()
        .numpy()
    )
    got_conv = (
        mt.nn.functional.conv2d(
            mt.tensor(x, dtype=mt.float32, device=device),
            mt.tensor(w, dtype=mt.float32, device=device),
            padding=1,
        )
        .cpu()
        .numpy()
    )
    import torch

    ref_mm = a @ b
    ref_conv = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    limit = 5e-3 if (tf32 and device == "cuda") else 1e-5
    assert _rel(got_mm, ref_mm) < limit
    assert _rel(got_conv, ref_conv) < limit


# Geometries of the TF32 convolution kernels (the implicit GEMM on CUDA): the reference CNN's
# layers, odd sizes and channel counts that are not multiples of 4 or of a tile, stride, padding,
# dilation, rectangular kernels, bias, a batch of one, and groups (served by the im2col path).
CONV_CASES = [
    # (n, c, h, w, o, kh, kw, stride, padding, dilation, groups, bias)
    (8, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, False),
    (4, 32, 16, 16, 64, 3, 3, 1, 1, 1, 1, False),
    (2, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1, False),
    (3, 5, 13, 11, 7, 3, 3, 1, 1, 1, 1, True),
    (2, 6, 9, 10, 70, 3, 5, 1, (1, 2), 1, 1, True),
    (2, 9, 15, 15, 33, 3, 3, 2, 1, 1, 1, False),
    (1, 4, 12, 12, 130, 3, 3, 1, 2, 2, 1, True),
    (2, 16, 7, 7, 16, 1, 1, 1, 0, 1, 1, False),
    (5, 3, 6, 7, 2, 2, 2, (2, 1), 0, 1, 1, False),
    (2, 8, 10, 10, 12, 3, 3, 1, 1, 1, 2, True),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_tf32_conv_forward_and_backward(case, device):
    """Forward, input gradient and weight gradient with TF32 on, against float64 PyTorch."""
    import torch

    n, c, h, w, o, kh, kw, stride, padding, dilation, groups, bias = CONV_CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((o, c // groups, kh, kw))
    b = rng.standard_normal(o) if bias else None
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    ref = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    g = rng.standard_normal(tuple(ref.shape))
    ref.backward(torch.tensor(g))

    mt.backends.cudnn.allow_tf32 = True

    def leaf(a):
        return mt.tensor(a, dtype=mt.float32, device=device, requires_grad=True)

    mx, mw = leaf(x), leaf(wt)
    mb = leaf(b) if bias else None
    out = mt.nn.functional.conv2d(mx, mw, mb, stride, padding, dilation, groups)
    out.backward(mt.tensor(g, dtype=mt.float32, device=device))
    limit = 5e-3 if device == "cuda" else 1e-5
    assert _rel(out.detach().cpu().numpy(), ref.detach().numpy()) < limit
    assert _rel(mx.grad.cpu().numpy(), tx.grad.numpy()) < limit
    assert _rel(mw.grad.cpu().numpy(), tw.grad.numpy()) < limit
    if bias:
        assert _rel(mb.grad.cpu().numpy(), tb.grad.numpy()) < limit
