"""The Hopper (sm_90a) implicit-GEMM convolutions (issue #12) against float64 PyTorch: forward,
input gradient and weight gradient over ResNet-18's layer shapes and odd geometries (partial
tiles, strides, dilation, rectangular kernels, bias, channel counts that are not multiples of a
tile), and a check that each pass the kernels claim really ran on them (on a 9.0 device).

Elsewhere the same cases run on the older kernels and must still match."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
from mytensor import _C

pytestmark = pytest.mark.cuda

# (n, c, h, w, o, kh, kw, stride, padding, dilation, bias)
CASES = [
    (4, 64, 32, 32, 64, 3, 3, 1, 1, 1, False),  # ResNet-18 stage 1
    (4, 64, 32, 32, 128, 3, 3, 2, 1, 1, False),  # stage transition
    (4, 64, 32, 32, 128, 1, 1, 2, 0, 1, False),  # its shortcut
    (4, 128, 16, 16, 128, 3, 3, 1, 1, 1, True),
    (8, 256, 8, 8, 256, 3, 3, 1, 1, 1, False),
    (16, 512, 4, 4, 512, 3, 3, 1, 1, 1, False),
    (2, 36, 13, 11, 40, 3, 3, 1, 1, 1, True),  # odd sizes: partial pixel and channel tiles
    (2, 8, 12, 20, 24, 3, 5, 1, (1, 2), 1, True),  # rectangular kernel
    (3, 16, 16, 16, 20, 3, 3, 1, 2, 2, False),  # dilation
    (2, 32, 64, 64, 16, 3, 3, 1, 1, 1, False),  # wide image: 32-column k-tiles
    (1, 4, 9, 9, 8, 2, 2, 1, 0, 1, False),  # even kernel, no padding
    (2, 12, 16, 16, 10, 1, 1, 1, 0, 1, True),  # pointwise
    (2, 64, 15, 15, 32, 3, 3, 2, 1, 1, False),  # stride 2 on an odd size
    (2, 3, 32, 32, 16, 3, 3, 1, 1, 1, True),  # 3 input channels: the first layer
    (1, 300, 8, 8, 260, 3, 3, 1, 1, 1, False),  # several channel blocks, ragged
    (2, 64, 16, 16, 32, 1, 1, 1, 0, 1, False),  # 1x1: the weight gradient reads X unshifted
]


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def _log2ceil(v: int) -> int:
    return max(v - 1, 0).bit_length()


def _expected_sm90(case) -> int:
    """How many of the three passes conv_sm90.cu takes for this geometry (its host checks)."""
    n, c, h, w, o, kh, kw, stride, padding, dilation, _ = case
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    tw = min(_log2ceil(ow), 7)
    th = min(_log2ceil(oh), 7 - tw)
    strided = (sh, sw) != (1, 1)
    # A strided 1x1 forward keeps the older kernel (faster there: it reads a quarter of X).
    fwd = c % 4 == 0 and not (kh * kw == 1 and strided)
    fwd = fwd and (1 << tw) * sw <= 256 and (1 << th) * sh <= 256
    # Strided input gradients run one pass per phase of the stride.
    dgrad = o % 4 == 0 and sh <= 8 and sw <= 8
    # Weight gradient: K-tiles of 32 consecutive pixels of the flat H*W index ("same" padding,
    # stride 1), or of an explicit K-major im2col when that stays under 128M floats; a column
    # tile holds up to 4 taps of the channels (c >= 256, or c dividing 256, 128 or 64).
    flat = not strided and (oh, ow) == (h, w) and (h * w) % 32 == 0 and w % 4 == 0
    k = n * oh * ow
    cols = k % 4 == 0 and kh * kw * c * k <= 128 << 20
    chans = c >= 256 or any(t % c == 0 and t // c <= 4 for t in (256, 128, 64))
    wgrad = (flat or cols) and chans
    return int(fwd) + int(dgrad) + int(wgrad)


def _check(got: np.ndarray, ref: np.ndarray) -> None:
    """TF32 (10-bit mantissa inputs, float32 sums): a relative error near 1e-3 overall, and no
    element off by more than 1% of the largest (a missed or misplaced element is far above)."""
    assert np.all(np.isfinite(got))
    scale = float(np.abs(ref).max()) or 1.0
    assert float(np.linalg.norm(got - ref) / (np.linalg.norm(ref) or 1.0)) < 5e-3
    assert float(np.abs(got - ref).max()) / scale < 1e-2


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_conv_sm90_matches_float64(case, device):
    import torch

    if device != "cuda":
        pytest.skip("the Hopper convolutions are CUDA kernels")
    n, c, h, w, o, kh, kw, stride, padding, dilation, bias = case
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((o, c, kh, kw)) / np.sqrt(c * kh * kw)
    b = rng.standard_normal(o) if bias else None
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)
    tb = torch.tensor(b) if bias else None
    ref = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation)
    g = rng.standard_normal(tuple(ref.shape))
    ref.backward(torch.tensor(g))

    mt.backends.cudnn.allow_tf32 = True
    mx = mt.tensor(x, dtype=mt.float32, device=device, requires_grad=True)
    mw = mt.tensor(wt, dtype=mt.float32, device=device, requires_grad=True)
    mb = mt.tensor(b, dtype=mt.float32, device=device) if bias else None
    before = _C.cuda_sm90_conv_launches()
    out = mt.nn.functional.conv2d(mx, mw, mb, stride, padding, dilation)
    out.backward(mt.tensor(g, dtype=mt.float32, device=device))
    mt.cuda.synchronize()
    ran = _C.cuda_sm90_conv_launches() - before

    _check(out.detach().cpu().numpy(), ref.detach().numpy())
    _check(mx.grad.cpu().numpy(), tx.grad.numpy())
    _check(mw.grad.cpu().numpy(), tw.grad.numpy())
    if torch.cuda.is_available() and torch.cuda.get_device_capability() == (9, 0):
        assert ran == _expected_sm90(case)


def test_conv_sm90_off_for_exact_float32(device):
    """With TF32 off (PyTorch's allow_tf32 = False) the Hopper kernels stay unused."""
    if device != "cuda":
        pytest.skip("the Hopper convolutions are CUDA kernels")
    x = mt.randn(2, 16, 8, 8, device=device, requires_grad=True)
    w = mt.randn(16, 16, 3, 3, device=device, requires_grad=True)
    mt.backends.cudnn.allow_tf32 = False
    try:
        before = _C.cuda_sm90_conv_launches()
        mt.nn.functional.conv2d(x, w, padding=1).sum().backward()
        mt.cuda.synchronize()
        assert _C.cuda_sm90_conv_launches() == before
    finally:
        mt.backends.cudnn.allow_tf32 = True
