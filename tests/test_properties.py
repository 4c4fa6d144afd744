"""Property tests: random shapes, broadcast patterns, strided views and values, compared with
PyTorch forward and backward. Bounded (few examples, small tensors) to stay quick on 2 cores."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import assert_matches_torch

SETTINGS = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

dims = st.integers(min_value=1, max_value=5)
shapes = st.lists(dims, min_size=0, max_size=4).map(tuple)
layouts = st.sampled_from(["contiguous", "transposed", "sliced"])


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: the second drops leading dims and sets some dims to 1."""
    a = draw(shapes)
    keep = draw(st.integers(min_value=0, max_value=len(a)))
    b = list(a[len(a) - keep :])
    for i in range(len(b)):
        if draw(st.booleans()):
            b[i] = 1
    if draw(st.booleans()):
        a, b = tuple(b), a
    return tuple(a), tuple(b)


def _values(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float64)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "maximum": (mt.maximum, torch.maximum),
}


@SETTINGS
@given(
    pair=broadcast_pair(),
    op=st.sampled_from(sorted(BINARY)),
    lay=layouts,
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_like_torch(pair, op, lay, seed):
    a, b = _values(pair[0], seed), _values(pair[1], seed + 1)
    mt_fn, torch_fn = BINARY[op]
    assert_matches_torch(
        mt_fn,
        torch_fn,
        [a, b],
        "cpu",
        grad_inputs=(0, 1),
        layouts=[lay, "contiguous"],
        atol=1e-10,
        rtol=1e-9,
        name=op,
    )


UNARY = {
    "exp": (mt.exp, torch.exp),
    "tanh": (mt.tanh, torch.tanh),
    "sigmoid": (mt.sigmoid, torch.sigmoid),
    "gelu": (mt.gelu, torch.nn.functional.gelu),
    "square": (lambda x: x * x, lambda x: x * x),
}


@SETTINGS
@given(shape=shapes, op=st.sampled_from(sorted(UNARY)), lay=layouts, seed=st.integers(0, 2**16))
def test_unary_ops_on_strided_views(shape, op, lay, seed):
    mt_fn, torch_fn = UNARY[op]
    assert_matches_torch(
        mt_fn,
        torch_fn,
        [_values(shape, seed)],
        "cpu",
        grad_inputs=(0,),
        layouts=[lay],
        atol=1e-10,
        rtol=1e-9,
        name=op,
    )


@SETTINGS
@given(
    shape=st.lists(dims, min_size=1, max_size=4).map(tuple),
    data=st.data(),
    lay=layouts,
    keepdim=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_sum_and_mean_over_random_dims(shape, data, lay, keepdim, seed):
    n = len(shape)
    reduce_dims = data.draw(
        st.lists(st.integers(-n, n - 1), min_size=1, max_size=n, unique_by=lambda d: d % n)
    )
    for name in ("sum", "mean"):
        assert_matches_torch(
            lambda x, name=name: getattr(x, name)(tuple(reduce_dims), keepdim=keepdim),
            lambda x, name=name: getattr(x, name)(tuple(reduce_dims), keepdim=keepdim),
            [_values(shape, seed)],
            "cpu",
            grad_inputs=(0,),
            layouts=[lay],
            atol=1e-10,
            rtol=1e-9,
            name=name,
        )


@SETTINGS
@given(
    shape=st.lists(dims, min_size=2, max_size=4).map(tuple),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_view_chains_match_numpy(shape, seed, data):
    """Random chains of permute / slice / reshape give NumPy's values (views, no copies)."""
    a = _values(shape, seed)
    t = mt.tensor(a)
    for _ in range(3):
        kind = data.draw(st.sampled_from(["permute", "slice", "reshape", "flip"]))
        if kind == "permute":
            perm = data.draw(st.permutations(range(a.ndim)))
            a, t = a.transpose(perm), t.permute(*perm)
        elif kind == "slice" and a.ndim:
            d = data.draw(st.integers(0, a.ndim - 1))
            step = data.draw(st.integers(1, 3))
            idx = [slice(None)] * a.ndim
            idx[d] = slice(None, None, step)
            a, t = a[tuple(idx)], t[tuple(idx)]
        elif kind == "flip" and a.ndim:
            d = data.draw(st.integers(0, a.ndim - 1))
            a, t = np.flip(a, d), t.flip(d)
        else:
            a, t = a.reshape(-1), t.reshape(-1)
        np.testing.assert_array_equal(t.numpy(), a)


if __name__ == "__main__":
    pytest.main([__file__])


@SETTINGS
@given(
    m=st.integers(1, 9),
    k=st.integers(1, 9),
    n=st.integers(1, 9),
    batch=st.sampled_from([(), (3,), (2, 1), (1, 4)]),
    other_batch=st.sampled_from([(), (1,), (2, 3)]),
    lay=layouts,
    seed=st.integers(0, 2**16),
)
def test_matmul_with_broadcast_batches(m, k, n, batch, other_batch, lay, seed):
    a_shape, b_shape = (*batch, m, k), (*other_batch, k, n)
    try:
        np.broadcast_shapes(batch, other_batch)
    except ValueError:
        return
    assert_matches_torch(
        mt.matmul,
        torch.matmul,
        [_values(a_shape, seed), _values(b_shape, seed + 1)],
        "cpu",
        grad_inputs=(0, 1),
        layouts=[lay, "contiguous"],
        atol=1e-10,
        rtol=1e-9,
        name="matmul",
    )


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 2]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding, dilation = (
        draw(st.integers(1, 2)),
        draw(st.integers(0, 2)),
        draw(st.integers(1, 2)),
    )
    h = draw(st.integers(dilation * (kh - 1) + 1, 7))
    w = draw(st.integers(dilation * (kw - 1) + 1, 7))
    return (
        (draw(st.integers(1, 2)), cin, h, w),
        (cout, cin // groups, kh, kw),
        stride,
        padding,
        dilation,
        groups,
    )


@SETTINGS
@given(case=conv_case(), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_with_random_geometry(case, bias, seed):
    x_shape, w_shape, stride, padding, dilation, groups = case
    arrays = [_values(x_shape, seed), _values(w_shape, seed + 1)]
    if bias:
        arrays.append(_values((w_shape[0],), seed + 2))
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    assert_matches_torch(
        lambda *t: mt.nn.functional.conv2d(*t, **kw),
        lambda *t: torch.nn.functional.conv2d(*t, **kw),
        arrays,
        "cpu",
        grad_inputs=tuple(range(len(arrays))),
        atol=1e-9,
        rtol=1e-8,
        name="conv2d",
    )


@SETTINGS
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(3, 8),
    w=st.integers(3, 8),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_pooling_with_random_windows(n, c, h, w, k, stride, data, seed):
    padding = data.draw(st.integers(0, k // 2))
    x = _values((n, c, h, w), seed)
    for name in ("max_pool2d", "avg_pool2d"):
        assert_matches_torch(
            lambda t, name=name: getattr(mt.nn.functional, name)(t, k, stride, padding),
            lambda t, name=name: getattr(torch.nn.functional, name)(t, k, stride, padding),
            [x],
            "cpu",
            grad_inputs=(0,),
            atol=1e-10,
            rtol=1e-9,
            name=name,
        )
