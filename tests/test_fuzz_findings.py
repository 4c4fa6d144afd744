"""Regression tests for the differential fuzzer's findings (issue #10, fuzzer finding): each was a
`triage.NEW` entry; PyTorch's behaviour is the reference."""

from __future__ import annotations

import math

import mytensor as mt
import mytensor.nn.functional as F
import numpy as np
import pytest
import torch


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _grad_pair(mt_fn, torch_fn, data, dtype="float64"):
    """(mytensor grad, torch grad) of fn(x).sum() at x = data."""
    x = mt.tensor(data, dtype=getattr(mt, dtype), requires_grad=True)
    mt_fn(x).sum().backward()
    y = torch.tensor(data, dtype=getattr(torch, dtype), requires_grad=True)
    torch_fn(y).sum().backward()
    return x.grad.numpy(), y.grad.numpy()


# ---- bool add/sub with alpha ------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0, 2, -1, True, False])
def test_bool_add_with_alpha_stays_bool(alpha):
    """issue #10, fuzzer finding: mt.add(bool, bool, alpha=0) returned int64; PyTorch casts alpha
    to the (bool) result dtype and keeps bool."""
    a, b = [True, False, True], [False, False, True]
    out = mt.add(mt.tensor(a), mt.tensor(b), alpha=alpha)
    want = torch.add(torch.tensor(a), torch.tensor(b), alpha=alpha)
    assert out.dtype == mt.bool
    np.testing.assert_array_equal(out.numpy(), want.numpy())


def test_bool_sub_with_alpha_raises_as_without():
    """issue #10, fuzzer finding: bool - bool * 0 went through int64 and returned; bool
    subtraction is refused with or without alpha, as in PyTorch."""
    b = mt.tensor([True, False])
    with pytest.raises(TypeError, match=r"\[sub\] is not supported for bool"):
        mt.sub(b, b, alpha=0)


def test_add_alpha_with_a_number_operand():
    """issue #10, fuzzer finding (same path): a Python number as `other` with alpha."""
    out = mt.add(mt.tensor([True, False]), 1, alpha=0)
    want = torch.add(torch.tensor([True, False]), 1, alpha=0)
    assert out.dtype == mt.int64
    np.testing.assert_array_equal(out.numpy(), want.numpy())


# ---- repeated reduction dims ------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.tensor(1.0).sum((0, 0)),
        lambda L: L.tensor(1.0).amax((0, -1)),
        lambda L: L.logsumexp(L.tensor(2.0), (0, 0, 0)),
        lambda L: L.tensor(3.0).std((-1, 0)),
        lambda L: L.amin(L.ones(3), dim=(0, 0)),
        lambda L: L.ones(3).std((-1, 0)),
        lambda L: L.ones(2, 3).mean((1, -1)),
    ],
)
def test_repeated_reduction_dims_are_refused(fn):
    """issue #10, fuzzer finding: a repeated dim was accepted (on 0-d tensors); PyTorch raises
    "dim 0 appears multiple times in the list of dims"."""
    with pytest.raises(RuntimeError, match="appears multiple times"):
        fn(torch)
    with pytest.raises(ValueError, match=r"dim -?\d appears more than once"):
        fn(mt)


def test_distinct_dims_of_a_0d_tensor_still_reduce():
    """issue #10, fuzzer finding: the repeated-dim check keeps dim 0 / -1 of a 0-d tensor."""
    assert mt.tensor(2.0).sum(0).item() == 2.0
    assert mt.tensor(2.0).amax(-1).item() == 2.0


# ---- batch_norm eps ---------------------------------------------------------------------------
def test_batch_norm_training_needs_a_positive_eps():
    """issue #10, fuzzer finding: F.batch_norm(training=True, eps=0) returned inf/nan for a
    constant channel; PyTorch raises ValueError ("eps must be positive during training")."""
    x = mt.ones(4, 3)
    with pytest.raises(ValueError, match=r"\[batch_norm\] eps must be positive during training"):
        F.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match=r"eps must be positive during training, got -1"):
        F.batch_norm(x, mt.zeros(3), mt.ones(3), training=True, eps=-1.0)
    with pytest.raises(ValueError, match=r"\[batch_norm\] eps must be non-negative, got -1"):
        F.batch_norm(x, mt.zeros(3), mt.ones(3), training=False, eps=-1.0)
    # eval with eps=0 is allowed, as in PyTorch
    out = F.batch_norm(x, mt.zeros(3), mt.ones(3), training=False, eps=0.0)
    np.testing.assert_array_equal(out.numpy(), np.ones((4, 3), np.float32))


# ---- amax / max backward with NaN -------------------------------------------------------------
NAN = float("nan")


@pytest.mark.parametrize("data", [[1.0, NAN, 3.0], [NAN, NAN, 3.0], [[1.0, NAN], [2.0, 2.0]]])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_of_all_elements_backward_with_nan(name, data):
    """issue #10, fuzzer finding: the gradient of x.max() over a tensor holding NaN was NaN
    everywhere; PyTorch splits it between the NaN elements (the selected ones), 0 elsewhere."""
    got, want = _grad_pair(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), data)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.amax(),
        lambda x: x.amin(0),
        lambda x: x.max(0)[0],
        lambda x: x.min(-1)[0],
        lambda x: x.max(),
    ],
)
def test_extreme_backward_with_nan_matches_torch(fn):
    """issue #10, fuzzer finding: amax/amin (NaN to the whole slice, as PyTorch's
    scale_grad_by_count) and max/min along a dim (the returned index) against PyTorch."""
    for data in ([[1.0, NAN, 0.5], [2.0, 2.0, -1.0]], [[3.0, 3.0, 1.0], [NAN, NAN, 0.0]]):
        got, want = _grad_pair(fn, fn, data)
        np.testing.assert_array_equal(got, want)


# ---- cross_entropy at huge logits -------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_at_huge_logits(dtype, smoothing):
    """issue #10, fuzzer finding: cross_entropy computed logsumexp(x) - x[t], which loses the
    log-sum to rounding at |x| >= 1e16 (1.343 vs log 4 = 1.386); PyTorch's log_softmax subtracts
    the max first. Forward and gradient."""
    data = [[1e16, 1e16, 1e16, 1e16], [3e17, -3e17, 3e17, 1.0], [1e20, 1e20 * (1 - 2**-20), 0, 1]]
    target = [1, 0, 1]
    x = mt.tensor(data, dtype=getattr(mt, dtype), requires_grad=True)
    y = torch.tensor(data, dtype=getattr(torch, dtype), requires_grad=True)
    out = F.cross_entropy(x, mt.tensor(target), reduction="none", label_smoothing=smoothing)
    want = torch.nn.functional.cross_entropy(
        y, torch.tensor(target), reduction="none", label_smoothing=smoothing
    )
    np.testing.assert_allclose(out.detach().numpy(), _np(want), rtol=1e-5, atol=1e-6)
    assert abs(out.detach().numpy()[0] - math.log(4)) < 1e-5  # every logit equal
    out.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_cross_entropy_with_infinite_and_nan_logits():
    """issue #10, fuzzer finding (#134 of the seed-1 run): an infinite row max gives NaN (x - max
    is NaN there), as PyTorch's log_softmax; a -inf target logit gives inf; -0 keeps its sign."""
    inf = float("inf")
    data = [
        [-0.0, -1.0, inf, 1e-308],
        [NAN, 1.0, 2.0, 3.0],
        [-1.7976931348623157e308, -0.45, 2.05, 1.7976931348623157e308],
        [-inf, -inf, -inf, -inf],
        [-inf, 1.0, 2.0, 3.0],
        [inf, inf, 0.0, 0.0],
    ]
    target = [0, 1, 3, 2, 0, 2]
    for smoothing in (0.0, 0.25):
        x = mt.tensor(data, dtype=mt.float64, requires_grad=True)
        y = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        out = F.cross_entropy(x, mt.tensor(target), reduction="none", label_smoothing=smoothing)
        want = torch.nn.functional.cross_entropy(
            y, torch.tensor(target), reduction="none", label_smoothing=smoothing
        )
        got = out.detach().numpy()
        np.testing.assert_array_equal(got, _np(want))
        numbers = ~np.isnan(got)  # the sign of a zero loss too (the sign of NaN means nothing)
        np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(_np(want)[numbers]))
        out.sum().backward()
        want.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [-1, 0])
def test_log_softmax_at_huge_logits(dtype, dim):
    """issue #10, fuzzer finding (cross_entropy's twin): the CPU log_softmax computed
    x - (max + log-sum), which rounds the log-sum away at |x| >= 1e16; PyTorch subtracts the max
    first. Along a contiguous row (dim -1) and across rows (dim 0)."""
    data = [[1e16, 1e16, 1e16, 1e16], [3e17, -3e17, 3e17, 1.0], [1e20, 1e20 * (1 - 2**-20), 0, 1]]
    if dim == 0:
        data = [list(col) for col in zip(*data)]
    got = mt.log_softmax(mt.tensor(data, dtype=getattr(mt, dtype)), dim).numpy()
    want = torch.log_softmax(torch.tensor(data, dtype=getattr(torch, dtype)), dim).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


# ---- matmul backward with an empty inner dim --------------------------------------------------
@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((3, 0), (0, 4)), ((2, 3, 0), (0, 4)), ((2, 3, 4), (4, 0)), ((2, 3, 0), (0,))],
)
def test_matmul_backward_with_an_empty_dim(a_shape, b_shape):
    """issue #10, fuzzer finding: the backward of a batched matmul with an empty inner (or
    output) dim reshaped to (-1, 0) and raised ShapeError; the gradients are zeros of the input
    shapes, as in PyTorch."""
    a = mt.ones(*a_shape, requires_grad=True)
    b = mt.ones(*b_shape, requires_grad=True)
    out = a @ b
    out.sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    assert not a.grad.numpy().any() and not b.grad.numpy().any()


def test_linear_backward_with_no_out_features():
    """issue #10, fuzzer finding: linear with weight (0, in) folded the grad with reshape(-1, 0)."""
    x = mt.ones(2, 3, requires_grad=True)
    w = mt.ones(0, 3, requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad.shape == (2, 3) and w.grad.shape == (0, 3)
    assert not x.grad.numpy().any()


# ---- setitem with extra leading size-1 dims ---------------------------------------------------
def test_setitem_drops_leading_size_one_dims_of_the_value():
    """issue #10, fuzzer finding: x[:] = v with v (1, 3) into x (3,) raised ShapeError; PyTorch
    and NumPy drop the leading size-1 dims of the value."""
    x = mt.zeros(3)
    x[:] = mt.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])
    y = mt.zeros(2, 3)
    y[1:] = mt.ones(1, 1, 1, 3)
    np.testing.assert_array_equal(y.numpy(), [[0, 0, 0], [1, 1, 1]])
    z = mt.zeros(())
    z[...] = mt.ones(1, 1)
    assert z.item() == 1.0
    e = mt.zeros(5, 0, 3, 2)
    e[4:3:3, 2:, 1] = mt.zeros(1, 0, 1, 2)  # the fuzzer's case: an empty target
    with pytest.raises(mt.ShapeError, match="cannot be broadcast"):
        y[:] = mt.ones(2, 1, 3)  # a leading dim that is not 1 still fails


# ---- pow backward at base 0 -------------------------------------------------------------------
@pytest.mark.parametrize("base_dtype", ["bool", "int64", "float32"])
def test_pow_exponent_grad_at_base_zero(base_dtype):
    """issue #10, fuzzer finding: d(a ** b)/db at a == 0 was a^b * 0 (NaN for b < 0); PyTorch
    gives 0 where b >= 0 and a^b * log(a) = -inf where b < 0."""
    base = [0, 0, 1, 0, 0, 0]
    exps = [2.0, -1.5, 3.0, 0.0, float("-inf"), NAN]
    e = mt.tensor(exps, requires_grad=True)
    (mt.tensor(base, dtype=getattr(mt, base_dtype)) ** e).sum().backward()
    te = torch.tensor(exps, requires_grad=True)
    (torch.tensor(base, dtype=getattr(torch, base_dtype)) ** te).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), te.grad.numpy())
