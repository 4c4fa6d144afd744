"""Regression tests for the differential fuzzer's findings (issue #10, fuzzer finding): each was a
`triage.NEW` entry; PyTorch's behaviour is the reference."""

from __future__ import annotations

import math
import warnings

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


# ---- long CPU run, seed 1 (5,000 cases): alpha, clamp bounds, int scalars in div, ... ---------
def _both(fn):
    """fn(mt) and fn(torch): (value, None) or (None, exception) each."""
    out = []
    for lib in (mt, torch):
        try:
            out.append((fn(lib), None))
        except Exception as e:  # noqa: BLE001  (compared below)
            out.append((None, e))
    return out


ALPHA_ERRORS = {
    "int+int, float alpha": lambda L: L.add(L.tensor([2, 1]), L.tensor([1, 1]), alpha=-1.5),
    "int+bool, float alpha": lambda L: L.add(L.tensor([2, 1]), L.tensor([False]), alpha=0.5),
    "int+int, bool alpha": lambda L: L.add(L.tensor([2, 1]), L.tensor([1, 1]), alpha=True),
    "uint8+uint8, bool alpha": lambda L: L.add(
        L.tensor([1], dtype=L.uint8), L.tensor([2], dtype=L.uint8), alpha=True
    ),
    "int-float, bool alpha": lambda L: L.sub(L.tensor(2), L.tensor([2.5]), alpha=False),
    "int.add_ float alpha": lambda L: L.tensor([1, 2]).add_(2, alpha=1.5),
    "float.add_ bool alpha": lambda L: L.tensor([1.0, 2.0]).add_(2, alpha=True),
    "int.sub_ float alpha": lambda L: L.tensor([1, 2]).sub_(L.tensor([1, 1]), alpha=1.0),
}


@pytest.mark.parametrize("case", ALPHA_ERRORS)
def test_alpha_that_does_not_suit_the_result_dtype_raises(case):
    """issue #10, fuzzer finding (seed 1): mt.add(int, int, alpha=-1.5) returned float32 and
    add(int, int, alpha=True) an int; PyTorch raises for a float alpha with an integral result and
    a bool alpha with a non-bool result."""
    (_, mt_err), (_, torch_err) = _both(ALPHA_ERRORS[case])
    assert isinstance(torch_err, RuntimeError), torch_err
    assert isinstance(mt_err, RuntimeError) and "alpha" in str(mt_err), mt_err


def test_bool_inplace_add_with_bool_alpha_stays_bool():
    for lib in (mt, torch):
        x = lib.tensor([True, False])
        assert x.add_(True, alpha=False).tolist() == [True, False]


CLAMP_BOUNDS = {
    "int64, min 2**63": lambda L: L.tensor([1, 2]).clamp(min=2**63),
    "uint8, min 2**63": lambda L: L.tensor([0, 3], dtype=L.uint8).clamp(min=2**63, max=1),
    "float32, max 1e308": lambda L: L.tensor([1.0, 2.0]).clamp(min=0.0, max=1e308),
    "float32 0-d, max -1e300": lambda L: L.tensor(2.5).clamp(max=-1e300),
}


@pytest.mark.parametrize("case", CLAMP_BOUNDS)
def test_clamp_bound_outside_the_result_dtype_raises(case):
    """issue #10, fuzzer finding (seed 1): uint8.clamp(min=2**63) returned float32 ones and
    float32.clamp(max=1e308) ignored the bound; PyTorch raises (out of range / overflow)."""
    (_, mt_err), (_, torch_err) = _both(CLAMP_BOUNDS[case])
    assert isinstance(torch_err, RuntimeError), torch_err
    assert isinstance(mt_err, RuntimeError) and "clamp" in str(mt_err), mt_err


def test_clamp_bounds_that_fit_still_work():
    for lib in (mt, torch):
        assert lib.tensor([1.0, 5.0]).clamp(max=float("inf"), min=2**63).dtype == lib.float32
        assert lib.tensor([1.0, 5.0], dtype=lib.float64).clamp(max=1e308).tolist() == [1.0, 5.0]


@pytest.mark.parametrize(
    "expr",
    [
        lambda L, x: (2**53 + 1) / x,
        lambda L, x: (2**40) / x,
        lambda L, x: x / (2**40),
        lambda L, x: x / 2**63,
        lambda L, x: L.div(x, 300),
        lambda L, x: L.div(-(2**62), x),
    ],
)
@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool"])
def test_true_division_by_a_big_int_scalar_is_not_wrapped(expr, dtype):
    """issue #10, fuzzer finding (seed 1): (2**53 + 1) / int32 tensor gave 1 / x (the scalar was
    wrapped modulo 2**32 before the division); PyTorch divides in float32."""
    data = [1, 3, 0] if dtype != "bool" else [True, False, True]
    x = mt.tensor(data, dtype=getattr(mt, dtype))
    t = torch.tensor(data, dtype=getattr(torch, dtype))
    got = expr(mt, x)
    try:
        want = expr(torch, t)
    except RuntimeError as e:  # bool / 2**63: torch cannot promote bool with its uint64 scalar
        assert dtype == "bool" and "uint64" in str(e).lower(), e
        want = t.to(torch.float64) / float(2**63)
    assert got.dtype == mt.float32
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_pow_gradient_at_zero_exponent_is_zero_not_nan():
    """issue #10, fuzzer finding (seed 1): d/da a**b at b == 0, a == 0 was 0 * 0**-1 = NaN, which
    also poisoned the sum over a broadcast dim; PyTorch masks it to 0."""
    base = [[0.0, 2.0, 0.0]]
    expo = [[0.0], [-2.0], [2.0]]
    grads = []
    for lib in (mt, torch):
        a = lib.tensor(base, dtype=lib.float64, requires_grad=True)
        lib.pow(a, lib.tensor(expo, dtype=lib.float32)).sum().backward()
        grads.append(_np(a.grad))
    np.testing.assert_array_equal(grads[0], grads[1])
    assert not np.isnan(grads[0]).any()


@pytest.mark.parametrize(
    "shape,index",
    [((1, 0, 2), [-3, 0]), ((2, 2, 0), [[3, -3], [0, 1]]), ((3, 0), [7])],
)
def test_advanced_index_with_an_empty_result_checks_no_value(shape, index):
    """issue #10, fuzzer finding (seed 1): x[[-3, 0]] of an empty x raised IndexError; PyTorch
    reads nothing and checks no index value when the result is empty."""
    x, t = mt.zeros(shape), torch.zeros(shape)
    got, want = x[mt.tensor(index)], t[torch.tensor(index)]
    assert got.shape == tuple(want.shape)
    with pytest.raises(IndexError):  # a non-empty result still checks
        mt.zeros(2, 1)[mt.tensor([5])]
    with pytest.raises(IndexError):  # and a 0-d index is an integer index, always checked
        mt.zeros(1, 2, 0)[mt.tensor(2)]
    with pytest.raises(IndexError):  # and an indexed dim of size 0 has no valid index
        mt.zeros(0, 0, 5)[[4, -3]]


def test_cat_of_mixed_dtypes_gives_each_input_a_gradient_of_its_dtype():
    """issue #10, fuzzer finding (seed 1): stack([uint8, float64, float32 (requires grad)])
    failed in backward: CatBackward returned the promoted float64 grad for the float32 input."""
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0], dtype=mt.float64, requires_grad=True)
    (mt.cat([a, b, mt.tensor([1], dtype=mt.uint8)]) ** 2).sum().backward()
    assert a.grad.dtype == mt.float32 and b.grad.dtype == mt.float64
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0])
    e = mt.zeros(0, 2, requires_grad=True)
    mt.stack([mt.zeros(2, 0, dtype=mt.float64), e.t()], 1).sum().backward()
    assert e.grad.dtype == mt.float32 and e.grad.shape == (0, 2)


# ---- seeds 2-4 on CPU and CUDA (GPU machine, ASan/UBSan build) ----------------------------------
@pytest.mark.parametrize(
    "start,end,step",
    [(-2.58, 3, 1), (0.5, 4, 0.7), (-2.5, 3, 1.5), (1, 10, 2.5), (0, 2.5, 0.5), (3, -2.2, -1)],
)
@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64"])
def test_integer_arange_with_float_bounds_truncates_start_and_step(start, end, step, dtype, device):
    """issue #10, fuzzer finding (CUDA, seed 0): arange(-2.58, 3, dtype=uint8) gave
    [254, 255, 0, 0, 1, 2]; PyTorch counts the length in double but the values are
    trunc(start) + i * trunc(step): [254, 255, 0, 1, 2, 3]."""
    got = mt.arange(start, end, step, dtype=getattr(mt, dtype), device=device)
    n = math.ceil((end - start) / step)
    rule = [int(start) + i * int(step) for i in range(n)]
    assert got.cpu().tolist() == np.array(rule).astype(dtype).tolist()
    if dtype != "int64":
        # torch 2.11's int64 path counts the length from the truncated bounds (one element short
        # here) and divides by zero for |step| < 1; torch >= 2.15 and its other dtypes agree.
        want = torch.arange(start, end, step, dtype=getattr(torch, dtype))
        assert got.cpu().tolist() == want.tolist()


_EDGE_FLOATS = [3.4028234663852886e38, -3.4e38, math.nan, -1.5, -2.7, 255.9, 256.5, 1e10, -1e10]
_EDGE_FLOATS += [2.1e9, -2.2e9, math.inf, -math.inf, -0.0, 0.99]


@pytest.mark.parametrize("src", ["float32", "float64"])
@pytest.mark.parametrize("dst", ["uint8", "int32", "int64", "bool"])
def test_float_to_integer_conversion_follows_torch(src, dst, device):
    """issue #10, fuzzer finding (CUDA, seed 0): float -> uint8 of -1.36 gave 0 on CUDA (the GPU
    saturates) where PyTorch gives 255 (through int64), and 3.4e38 -> int64 gave INT64_MAX where
    PyTorch gives INT64_MIN; a plain C++ cast is undefined there. Both devices now follow torch's
    CPU rule, strided too."""
    data = np.array(_EDGE_FLOATS, dtype=src)
    x = mt.from_numpy(np.repeat(data, 2)).to(device)[::2]
    got = x.to(getattr(mt, dst)).cpu().tolist()
    want = torch.from_numpy(data).to(getattr(torch, dst)).tolist()
    assert got == want


@pytest.mark.parametrize(
    "expr",
    [
        lambda L, x: x - 2**63,
        lambda L, x: 2**63 <= x,
        lambda L, x: x == 2**63,
        lambda L, x: x < 2**63,
        lambda L, x: x * (2**64 - 1),
        lambda L, x: x + (2**63 + 5),
    ],
)
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_int_scalar_beyond_int64_wraps_in_integer_arithmetic(expr, dtype, device):
    """issue #10, fuzzer finding (seeds 3, 4): int32_tensor < 2**63 raised an overflow error;
    PyTorch holds such an int as a uint64 Scalar and wraps it into the tensor's dtype."""
    data = [0, 5, 3] if dtype == "uint8" else [0, 5, -3]
    x = mt.tensor(data, dtype=getattr(mt, dtype), device=device)
    t = torch.tensor(data, dtype=getattr(torch, dtype))
    assert expr(mt, x).cpu().tolist() == expr(torch, t).tolist()


def test_std_gradient_is_zero_where_the_deviation_is_zero(device):
    """issue #10, fuzzer finding (ASan run, seed 3): d std / dx of a constant (expanded) input
    was NaN (g / 0 * 0); PyTorch's std_backward gives 0 there."""
    grads = []
    for lib, dev in ((mt, device), (torch, "cpu")):
        a = lib.tensor([-2.0], device=dev, requires_grad=True)
        b = lib.tensor([[1.0, 1.0, 1.0], [-2.0, 1.0, 3.5]], dtype=lib.float64, device=dev)
        b.requires_grad_()
        lib.std(a.expand(5), (), unbiased=False, keepdim=True).sum().backward()
        lib.std(b, 1).sum().backward()
        grads.append((_np(a.grad.cpu()), _np(b.grad.cpu())))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)


@pytest.mark.parametrize("p", [0.5, 1.0])
def test_dropout_keeps_nan_where_it_drops(p, device):
    """issue #10, fuzzer finding (seed 2): dropout wrote 0 where it dropped a NaN; PyTorch
    computes x * mask * scale, so NaN stays NaN everywhere (and inf * 0 is NaN)."""
    x = mt.full((64,), math.nan, device=device)
    y = mt.nn.functional.dropout(x, p)
    assert np.isnan(y.cpu().numpy()).all()
    z = mt.nn.functional.dropout(mt.ones(1000, device=device), 0.5).cpu().numpy()
    assert set(np.unique(z)) <= {0.0, 2.0}


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_overflow_wraps_as_in_torch(dtype, device):
    """issue #10, UBSan on the GPU machine: int64 sums and products of edge values overflowed in
    C++ (undefined behaviour; the build may assume it never happens). They wrap, as in PyTorch."""
    big = 2**63 - 1 if dtype == "int64" else 2**31 - 1
    data = [big, 255, -big - 1, 3]
    x = mt.tensor(data, dtype=getattr(mt, dtype), device=device)
    t = torch.tensor(data, dtype=getattr(torch, dtype))
    assert (x * x).cpu().tolist() == (t * t).tolist()
    assert (x + x).cpu().tolist() == (t + t).tolist()
    assert (-x).cpu().tolist() == (-t).tolist()
    assert x.sum().item() == t.sum().item()


def test_clamp_of_an_integer_tensor_with_a_float_bound_accepts_a_huge_int_bound():
    """issue #10, fuzzer finding (seed 3): x_int64.clip(2**63, 1.5) raised; the float bound makes
    the result float32, where 2**63 is a valid bound (PyTorch)."""
    for lib in (mt, torch):
        x = lib.tensor([0, 1, -3])
        assert x.clip(2**63, 1.5).tolist() == [1.5, 1.5, 1.5]
        with pytest.raises(RuntimeError):
            x.clip(2**63, 1)


# ---- CPU seed 4 -------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["minimum", "maximum"])
def test_min_max_gradient_with_nan_goes_to_both_sides(op, device):
    """issue #10, fuzzer finding (seed 4): minimum(nan, 1) gave the NaN side no gradient;
    PyTorch masks only the side that loses a comparison, and a NaN loses none (ties halve)."""
    grads = []
    for lib, dev in ((mt, device), (torch, "cpu")):
        a = lib.tensor([[math.nan, 1.0], [2.0, 0.5]], dtype=lib.float64, device=dev)
        b = lib.tensor([1.0, 1.0], dtype=lib.float64, device=dev)
        a.requires_grad_()
        b.requires_grad_()
        getattr(lib, op)(a, b).sum().backward()
        grads.append((_np(a.grad.cpu()), _np(b.grad.cpu())))
    for got, want in zip(grads[0], grads[1]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("inplace", [False, True])
def test_alpha_scales_the_other_operand_in_the_result_dtype(inplace, device):
    """issue #10, fuzzer finding (seed 4): float64.sub_(uint8, alpha=-2) computed uint8 * -2 (it
    wrapped to 250) before subtracting; PyTorch scales in the result's dtype."""
    out = []
    for lib, dev in ((mt, device), (torch, "cpu")):
        x = lib.tensor([-3.0, 0.0, 3.0], dtype=lib.float64, device=dev)
        y = lib.tensor([3, 3, 1], dtype=lib.uint8, device=dev)
        out.append((x.sub_(y, alpha=-2) if inplace else lib.sub(x, y, alpha=-2)).cpu().tolist())
    assert out[0] == out[1] == [3.0, 6.0, 5.0]


def test_var_gradient_with_no_degrees_of_freedom_is_nan(device):
    """issue #10, fuzzer finding (seed 4): var(x, correction=2) of one element had gradient -0
    (2 / (1 - 2) * 0); PyTorch clamps N - correction at 0, so the gradient is inf * 0 = NaN."""
    x = mt.tensor(0.82, device=device, requires_grad=True)
    mt.var(x, 0, correction=2, keepdim=True).sum().backward()
    assert math.isnan(x.grad.item())
    y = mt.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    mt.var(y, correction=4).backward()
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.var(t, correction=4).backward()
    # infinite where x != mean, NaN at the mean, as torch (whose signs of inf are not those of
    # x - mean: not asserted)
    g = y.grad.cpu().numpy()
    np.testing.assert_array_equal(np.isnan(g), np.isnan(t.grad.numpy()))
    np.testing.assert_array_equal(np.abs(g), np.abs(t.grad.numpy()))


def test_integer_power_with_an_exponent_beyond_the_dtype_raises(device):
    """issue #10, fuzzer finding (seed 4): int32 ** 2**31 returned [0, 0, 1]; PyTorch raises, as
    the exponent does not fit int32."""
    with pytest.raises(RuntimeError, match=r"\[pow\].*int32"):
        mt.tensor([2, 0, 1], dtype=mt.int32, device=device) ** 2**31
    with pytest.raises(RuntimeError, match=r"\[pow\].*uint8"):
        mt.tensor([2, 3], dtype=mt.uint8, device=device) ** 256
    x = mt.tensor([2, 3], device=device)
    assert (x**40).cpu().tolist() == (torch.tensor([2, 3]) ** 40).tolist()
