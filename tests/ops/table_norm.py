"""Rows for batch normalization (src/core/ops/norm.cpp): y and the running buffers after the call
are compared with PyTorch, in training and eval, with and without the affine parameters."""

import re

import mytensor as mt
import numpy as np
import torch

from tests.ops.op_table import ErrorRow, Row, ones_on

_F = {mt: mt.nn.functional, torch: torch.nn.functional}


def _bn(lib, training, params="wb", momentum=0.1, eps=1e-5):
    """f(x, *params) -> (y, running_mean, running_var): fresh running buffers per call, so the
    finite-difference gradcheck sees the same function every time."""

    def f(x, *args):
        c = x.shape[1]
        rm = lib.tensor(np.linspace(-0.5, 0.5, c), dtype=x.dtype, device=x.device)
        rv = lib.tensor(np.linspace(0.5, 2.0, c), dtype=x.dtype, device=x.device)
        given = dict(zip(params, args))
        y = _F[lib].batch_norm(
            x,
            rm,
            rv,
            weight=given.get("w"),
            bias=given.get("b"),
            training=training,
            momentum=momentum,
            eps=eps,
        )
        return y, rm, rv

    return f


def _no_stats(lib):
    def f(x, w, b):
        return _F[lib].batch_norm(x, None, None, w, b, training=True)

    return f


def _shifted(shapes, rng, dtype):
    x = rng.uniform(50.0, 51.0, shapes[0]).astype(dtype)
    return [x] + [rng.uniform(-2.0, 2.0, s).astype(dtype) for s in shapes[1:]]


def _cases(shapes, params="wb"):
    return [(s,) + tuple((s[1],) for _ in params) for s in shapes]


SHAPES_2D = [(4, 3), (1000, 7), (300, 130), (2, 1)]
SHAPES_ND = [(2, 3, 4, 5), (3, 5, 7), (3, 5, 7, 9), (8, 16, 20, 20), (4, 3, 1, 1)]

ROWS = [
    Row(
        "batch_norm",
        _bn(mt, True),
        _bn(torch, True),
        _cases(SHAPES_2D),
        grad=(0, 1, 2),
        covers=("batch_norm_backward",),
        label="train-2d",
    ),
    Row(
        "batch_norm",
        _bn(mt, True),
        _bn(torch, True),
        _cases(SHAPES_ND),
        grad=(0, 1, 2),
        label="train-nd",
    ),
    Row(
        "batch_norm",
        _bn(mt, True, ""),
        _bn(torch, True, ""),
        _cases([(5, 4)] + SHAPES_ND, ""),
        grad=(0,),
        label="train-no-affine",
    ),
    Row(
        "batch_norm",
        _bn(mt, True, "w"),
        _bn(torch, True, "w"),
        _cases([(2, 3, 3)], "w"),
        grad=(0, 1),
        label="train-weight-only",
    ),
    Row(
        "batch_norm",
        _bn(mt, True, "b"),
        _bn(torch, True, "b"),
        _cases([(3, 2, 2), (6, 5)], "b"),
        grad=(0, 1),
        label="train-bias-only",
    ),
    Row(
        "batch_norm",
        _bn(mt, True, momentum=0.7, eps=1e-3),
        _bn(torch, True, momentum=0.7, eps=1e-3),
        _cases([(3, 4, 2), (16, 8, 5, 5)]),
        grad=(0, 1, 2),
        label="train-momentum-eps",
    ),
    # A large mean next to a small spread: the centred kernels must not cancel it away.
    Row(
        "batch_norm",
        _bn(mt, True),
        _bn(torch, True),
        _cases([(6, 3, 4), (64, 8, 9)]),
        grad=(0, 1, 2),
        make=_shifted,
        gradcheck=False,
        label="train-shifted-mean",
    ),
    Row(
        "batch_norm",
        _no_stats(mt),
        _no_stats(torch),
        _cases([(4, 3, 2), (7, 2)]),
        grad=(0, 1, 2),
        label="no-running-stats",
    ),
    Row(
        "batch_norm",
        _bn(mt, False),
        _bn(torch, False),
        _cases(SHAPES_2D + SHAPES_ND),
        grad=(0, 1, 2),
        label="eval",
    ),
    Row(
        "batch_norm",
        _bn(mt, False, ""),
        _bn(torch, False, ""),
        _cases([(4, 3, 5), (9, 2)], ""),
        grad=(0,),
        label="eval-no-affine",
    ),
    # Empty batches: y is empty and the running buffers are left alone, as in PyTorch.
    Row(
        "batch_norm",
        _bn(mt, True),
        _bn(torch, True),
        _cases([(0, 3), (0, 2, 4)]),
        grad=(),
        layouts=False,
        label="train-empty-batch",
    ),
    Row(
        "batch_norm",
        _bn(mt, False),
        _bn(torch, False),
        _cases([(0, 3, 2)]),
        grad=(),
        layouts=False,
        label="eval-empty-batch",
    ),
]


# Bad calls: a typed exception naming the op and the bad shape or dtype (literal fragments).
def _randn(d, *shape):
    return mt.randn(*shape, device=d)


def _with_stats(d, x, c_rm=None, **kw):
    c = x.shape[1] if x.ndim > 1 else 1
    rm = mt.zeros(c if c_rm is None else c_rm, device=d)
    return mt.nn.functional.batch_norm(x, rm, ones_on(d, c), **kw)


ERRORS = [
    ErrorRow(
        "batch_norm-running-mean-shape",
        lambda d: _with_stats(d, _randn(d, 4, 16), c_rm=8),
        mt.ShapeError,
        re.escape("[batch_norm] expected running_mean of shape (C,) = (16,), got (8,)"),
    ),
    ErrorRow(
        "batch_norm-weight-shape",
        lambda d: mt.nn.functional.batch_norm(
            _randn(d, 4, 3), None, None, ones_on(d, 4), training=True
        ),
        mt.ShapeError,
        re.escape("expected weight of shape (C,) = (3,), got (4,)"),
    ),
    ErrorRow(
        "batch_norm-bias-shape",
        lambda d: mt.nn.functional.batch_norm(
            _randn(d, 4, 3), None, None, None, ones_on(d, 3, 1), training=True
        ),
        mt.ShapeError,
        re.escape("expected bias of shape (C,) = (3,), got (3, 1)"),
    ),
    ErrorRow(
        "batch_norm-one-value-per-channel-2d",
        lambda d: _with_stats(d, _randn(d, 1, 16), training=True),
        ValueError,
        re.escape("Expected more than 1 value per channel when training"),
    ),
    ErrorRow(
        "batch_norm-one-value-per-channel-4d",
        lambda d: _with_stats(d, _randn(d, 1, 16, 1, 1), training=True),
        ValueError,
        re.escape("got input of shape (1, 16, 1, 1)"),
    ),
    ErrorRow(
        "batch_norm-1d-input",
        lambda d: mt.nn.functional.batch_norm(_randn(d, 5), None, None, training=True),
        mt.ShapeError,
        re.escape("[batch_norm] expected an input of 2 or more dims (N, C, *), got shape (5,)"),
    ),
    ErrorRow(
        "batch_norm-eval-without-stats",
        lambda d: mt.nn.functional.batch_norm(_randn(d, 4, 3), None, None, training=False),
        ValueError,
        re.escape("running_mean and running_var must be given when training=False"),
    ),
    ErrorRow(
        "batch_norm-int64-input",
        lambda d: mt.nn.functional.batch_norm(
            ones_on(d, 4, 3, dtype=mt.int64), None, None, training=True
        ),
        mt.DTypeError,
        re.escape("[batch_norm] input must be float32 or float64, got int64"),
    ),
    ErrorRow(
        "batch_norm-weight-dtype",
        lambda d: mt.nn.functional.batch_norm(
            _randn(d, 4, 3), None, None, ones_on(d, 3, dtype=mt.float64), training=True
        ),
        mt.DTypeError,
        re.escape("expected weight of dtype float32 (the input's), got float64"),
    ),
    ErrorRow(
        "batch_norm_backward-grad-shape",
        lambda d: mt._C.batch_norm_backward(
            ones_on(d, 4, 2)._impl,
            ones_on(d, 4, 3)._impl,
            None,
            ones_on(d, 3)._impl,
            ones_on(d, 3)._impl,
            True,
        ),
        mt.ShapeError,
        re.escape("[batch_norm_backward] grad of shape (4, 2) does not match the input"),
    ),
]
