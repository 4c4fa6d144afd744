"""Rows for reductions and softmax (src/core/ops/reduce.cpp)."""

import mytensor as mt
import numpy as np
import torch

from tests.ops.op_table import ErrorRow, Row, ones_on, tensor_on

# Shapes covering rows (inner == 1), columns (inner > 1), 0-d, size-1 dims, odd sizes and one
# large enough to be split across threads.
DIM1 = [((3, 4),), ((2, 3, 5),), ((1, 5),), ((4, 1),), ((0, 3),), ((7, 33, 9),), ((130, 600),)]
ALL = [((3, 4),), ((),), ((1, 5),), ((2, 3, 5),), ((70000,),), ((257, 33),)]


def ties(shapes, rng, dtype):
    # Few distinct values: max/min must pick the first index of a tie, as PyTorch.
    return [rng.integers(0, 3, s).astype(dtype) for s in shapes]


def with_nans(shapes, rng, dtype):
    out = []
    for s in shapes:
        x = rng.uniform(-2, 2, s)
        x[rng.uniform(0, 1, s) < 0.2] = np.nan
        out.append(np.asarray(x).astype(dtype))
    return out


def far_from_zero_mean(shapes, rng, dtype):
    # A large offset: variance must not lose the small spread (two-pass, not E[x^2] - E[x]^2).
    return [(rng.uniform(-1, 1, s) + 1000.0).astype(dtype) for s in shapes]


def large_values(shapes, rng, dtype):
    # exp overflows without the max shift.
    return [rng.uniform(-1000, 1000, s).astype(dtype) for s in shapes]


def with_infs(shapes, rng, dtype):
    x = rng.uniform(-2, 2, shapes[0])
    x[0, :] = -np.inf  # a row of -inf: logsumexp -inf
    x[1, 0] = np.inf  # a row with +inf: logsumexp +inf
    return [x.astype(dtype)]


ROWS = [
    # ---- sum / mean --------------------------------------------------------------------------
    Row(
        "sum",
        lambda x: x.sum(),
        lambda x: x.sum(),
        [((3, 4),), ((),), ((0, 3),), ((70000,),)],
        label="plain",
    ),
    Row(
        "sum",
        lambda x: x.sum(1),
        lambda x: x.sum(1),
        [((3, 4),), ((2, 3, 5),), ((2, 0),)],
        label="1",
    ),
    Row(
        "sum",
        lambda x: x.sum((0, 2), keepdim=True),
        lambda x: x.sum((0, 2), keepdim=True),
        [((2, 3, 5),), ((4, 1, 3),)],
        label="0_2_keepdim_True",
    ),
    Row(
        "sum",
        lambda x: x.sum(0),
        lambda x: x.sum(0),
        [((257, 33),), ((1, 5),), ((50000, 10),), ((3, 40000),)],
        label="0",
    ),
    Row(
        "sum",
        lambda x: x.long().sum(-1),
        lambda x: x.long().sum(-1),
        [((3, 4),)],
        grad=(),
        label="long_sum_1",
    ),
    Row(
        "mean",
        lambda x: x.mean(),
        lambda x: x.mean(),
        [((3, 4),), ((),), ((70000,),)],
        label="plain",
    ),
    Row("mean", lambda x: x.mean((0, 2)), lambda x: x.mean((0, 2)), [((2, 3, 5),)], label="0_2"),
    Row(
        "mean",
        lambda x: mt.mean(x, -1, keepdim=True),
        lambda x: torch.mean(x, -1, keepdim=True),
        [((4, 6),)],
        label="1_keepdim_True",
    ),
    # ---- max / min along a dim: (values, indices) ---------------------------------------------
    Row("max_dim", lambda x: mt.max(x, 1), lambda x: torch.max(x, 1), DIM1, label="1"),
    Row(
        "max_dim",
        lambda x: x.max(-1, keepdim=True),
        lambda x: x.max(-1, keepdim=True),
        [((3, 4),), ((),), ((70000,),), ((2, 3, 5),)],
        label="1_keepdim_True",
    ),
    Row(
        "max_dim",
        lambda x: x.max(dim=0),
        lambda x: x.max(dim=0),
        [((5, 4),), ((50000, 10),), ((3, 0),)],
        label="dim_0",
    ),
    Row(
        "max_dim",
        lambda x: mt.max(x, 1),
        lambda x: torch.max(x, 1),
        [((6, 9),), ((4, 3, 5),), ((300, 257),)],
        make=ties,
        gradcheck=False,
        label="1-6x9",
    ),
    Row(
        "max_dim",
        lambda x: mt.max(x, 0),
        lambda x: torch.max(x, 0),
        [((9, 6),), ((3000, 31),)],
        make=with_nans,
        grad=(),
        label="0",
    ),
    Row("min_dim", lambda x: mt.min(x, 1), lambda x: torch.min(x, 1), DIM1, label="1"),
    Row(
        "min_dim",
        lambda x: x.min(-2, keepdim=True),
        lambda x: x.min(-2, keepdim=True),
        [((3, 4),), ((2, 3, 5),), ((50000, 10),)],
        label="2_keepdim_True",
    ),
    Row(
        "min_dim",
        lambda x: mt.min(x, 1),
        lambda x: torch.min(x, 1),
        [((6, 9),), ((300, 257),)],
        make=ties,
        gradcheck=False,
        label="1-6x9",
    ),
    Row(
        "min_dim",
        lambda x: mt.min(x, 1),
        lambda x: torch.min(x, 1),
        [((9, 6),), ((31, 3000),)],
        make=with_nans,
        grad=(),
        label="1-9x6",
    ),
    Row(
        "max_dim",
        lambda x: x.long().max(1).values,
        lambda x: x.long().max(1).values,
        [((3, 4),)],
        grad=(),
        make=ties,
        label="long_max_1_values",
    ),
    Row(
        "max_dim",
        lambda x: (x > 0).max(1).values,
        lambda x: (x > 0).max(1).values,
        [((3, 4),)],
        grad=(),
        label="0_max_1_values",
    ),
    # ---- amax / amin and the full max / min -----------------------------------------------------
    Row("amax", lambda x: mt.max(x), lambda x: torch.max(x), ALL, label="max"),
    Row("amin", lambda x: x.min(), lambda x: x.min(), ALL, label="min"),
    Row(
        "amax",
        lambda x: x.amax((0, 2)),
        lambda x: x.amax((0, 2)),
        [((2, 3, 5),), ((4, 1, 3),), ((3, 0, 2),)],
        label="0_2",
    ),
    Row(
        "amax",
        lambda x: mt.amax(x, (-1, 0), keepdim=True),
        lambda x: torch.amax(x, (-1, 0), keepdim=True),
        [((3, 4, 5),), ((1, 1, 1),)],
        label="1_0_keepdim_True",
    ),
    Row("amin", lambda x: x.amin(1), lambda x: x.amin(1), DIM1[:4] + [((50000, 10),)], label="1"),
    Row(
        "amax",
        lambda x: x.amax(1),
        lambda x: x.amax(1),
        [((6, 9),), ((4, 3, 5),)],
        make=ties,
        gradcheck=False,
        label="1",
    ),
    Row(
        "amin",
        lambda x: x.amin(),
        lambda x: x.amin(),
        [((6, 9),)],
        make=ties,
        gradcheck=False,
        label="plain",
    ),
    Row(
        "amax",
        lambda x: x.amax(0),
        lambda x: x.amax(0),
        [((9, 6),), ((5000,),)],
        make=with_nans,
        grad=(),
        label="0",
    ),
    Row(
        "amax",
        lambda x: x.long().amax(0),
        lambda x: x.long().amax(0),
        [((9, 6),)],
        grad=(),
        make=ties,
        label="long_amax_0",
    ),
    # ---- argmax / argmin ------------------------------------------------------------------------
    Row(
        "argmax",
        lambda x: x.argmax(),
        lambda x: x.argmax(),
        [((3, 4),), ((),), ((70000,),), ((2, 3, 5),)],
        grad=(),
        label="plain",
    ),
    Row(
        "argmax",
        lambda x: mt.argmax(x, 1),
        lambda x: torch.argmax(x, 1),
        DIM1[:4],
        grad=(),
        label="1",
    ),
    Row(
        "argmax",
        lambda x: x.argmax(dim=-1, keepdim=True),
        lambda x: x.argmax(dim=-1, keepdim=True),
        [((3, 4),), ((6, 9),)],
        grad=(),
        make=ties,
        label="dim_1_keepdim_True",
    ),
    Row(
        "argmax",
        lambda x: x.argmax(keepdim=True),
        lambda x: x.argmax(keepdim=True),
        [((3, 4),)],
        grad=(),
        label="keepdim_True",
    ),
    Row(
        "argmin",
        lambda x: x.argmin(),
        lambda x: x.argmin(),
        [((3, 4),), ((),), ((70000,),)],
        grad=(),
        label="plain",
    ),
    Row(
        "argmin",
        lambda x: x.argmin(0),
        lambda x: x.argmin(0),
        [((5, 4),), ((50000, 10),)],
        grad=(),
        label="0",
    ),
    Row(
        "argmin",
        lambda x: x.argmin(1),
        lambda x: x.argmin(1),
        [((6, 9),)],
        grad=(),
        make=ties,
        label="1",
    ),
    Row(
        "argmax",
        lambda x: x.argmax(1),
        lambda x: x.argmax(1),
        [((6, 9),)],
        grad=(),
        make=with_nans,
        label="1-6x9",
    ),
    # ---- max(other) is the elementwise maximum ---------------------------------------------------
    Row("maximum", lambda a, b: a.max(b), lambda a, b: a.max(b), [((3, 4), (3, 4))], grad=(0, 1)),
    Row(
        "minimum",
        lambda a, b: mt.min(a, b),
        lambda a, b: torch.min(a, b),
        [((3, 4), (4,))],
        grad=(0, 1),
    ),
    # ---- var / std -----------------------------------------------------------------------------
    Row("var", lambda x: x.var(1), lambda x: x.var(1), DIM1[:4] + DIM1[5:], label="1"),
    Row(
        "var",
        lambda x: x.var(),
        lambda x: x.var(),
        [((3, 4),), ((70000,),), ((257, 33),)],
        label="plain",
    ),
    Row(
        "var",
        lambda x: mt.var(x, (0, 2), keepdim=True, correction=0),
        lambda x: torch.var(x, (0, 2), keepdim=True, correction=0),
        [((2, 3, 5),), ((4, 1, 3),)],
        label="0_2_keepdim_True_correction_0",
    ),
    Row(
        "var",
        lambda x: x.var(0, unbiased=False),
        lambda x: x.var(0, unbiased=False),
        [((5, 4),), ((50000, 10),), ((1, 3),)],
        label="0_unbiased_False",
    ),
    Row("var", lambda x: x.var(False), lambda x: x.var(False), [((5, 4),)], label="False"),
    Row(
        "var",
        lambda x: x.var(-1, correction=2),
        lambda x: x.var(-1, correction=2),
        [((3, 7),)],
        label="1_correction_2",
    ),
    Row(
        "var",
        lambda x: x.var(1),
        lambda x: x.var(1),
        [((4, 50),), ((3, 20000),)],
        make=far_from_zero_mean,
        gradcheck=False,
        label="1-4x50",
    ),
    Row("var", lambda x: x.var(0), lambda x: x.var(0), [((0, 3),)], grad=(), label="0"),
    Row("var", lambda x: x.std(1), lambda x: x.std(1), DIM1[:2] + [((70000, 1),)], label="std_1"),
    Row(
        "var",
        lambda x: mt.std(x, (0, 1), keepdim=True, unbiased=False),
        lambda x: torch.std(x, (0, 1), keepdim=True, unbiased=False),
        [((3, 4, 2),)],
        label="std_0_1_keepdim_True_unbiased_False",
    ),
    Row("var", lambda x: x.std(), lambda x: x.std(), [((3, 4),), ((70000,),)], label="std"),
    # ---- logsumexp -----------------------------------------------------------------------------
    Row(
        "logsumexp", lambda x: mt.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), DIM1, label="1"
    ),
    Row(
        "logsumexp",
        lambda x: x.logsumexp((0, 2), keepdim=True),
        lambda x: x.logsumexp((0, 2), keepdim=True),
        [((2, 3, 5),), ((4, 1, 3),)],
        label="0_2_keepdim_True",
    ),
    Row(
        "logsumexp",
        lambda x: x.logsumexp(-1),
        lambda x: x.logsumexp(-1),
        [((3, 4),), ((),), ((70000,),), ((2, 0),)],
        label="1-3x4",
    ),
    Row(
        "logsumexp",
        lambda x: x.logsumexp(0),
        lambda x: x.logsumexp(0),
        [((5, 4),), ((50000, 10),)],
        label="0",
    ),
    Row(
        "logsumexp",
        lambda x: x.logsumexp(1),
        lambda x: x.logsumexp(1),
        [((4, 9),)],
        make=large_values,
        label="1-4x9",
    ),
    Row(
        "logsumexp",
        lambda x: x.logsumexp(1),
        lambda x: x.logsumexp(1),
        [((3, 5),)],
        make=with_infs,
        grad=(),
        label="1-3x5",
    ),
    Row(
        "logsumexp",
        lambda x: x.logsumexp(0),
        lambda x: x.logsumexp(0),
        [((5, 3),)],
        make=with_infs,
        grad=(),
        label="0-5x3",
    ),
    Row(
        "logsumexp",
        lambda x: x.logsumexp(1),
        lambda x: x.logsumexp(1),
        [((9, 6),), ((5000, 7),)],
        make=with_nans,
        grad=(),
        label="1-9x6",
    ),
    Row(
        "logsumexp",
        lambda x: x.long().logsumexp(1),
        lambda x: x.long().logsumexp(1),
        [((3, 5),)],
        grad=(),
        make=ties,
        label="long_logsumexp_1",
    ),
    # ---- softmax / log_softmax (fused forward and backward) ------------------------------------
    Row(
        "softmax",
        lambda x: mt.softmax(x, -1),
        lambda x: torch.softmax(x, -1),
        [((3, 4),), ((),), ((1, 5),), ((0, 3),), ((70000,),), ((300, 257),), ((2, 3, 1),)],
        covers=("softmax_backward",),
        label="1",
    ),
    Row(
        "softmax",
        lambda x: x.softmax(1),
        lambda x: x.softmax(1),
        [((2, 3, 5),), ((4, 1),), ((7, 33, 9),), ((3, 5000, 7),)],
        covers=("softmax_backward",),
        label="1-2x3x5",
    ),
    Row(
        "softmax",
        lambda x: mt.nn.functional.softmax(x, dim=0),
        lambda x: torch.nn.functional.softmax(x, dim=0),
        [((5, 4),), ((50000, 10),)],
        label="dim_0",
    ),
    Row(
        "softmax",
        lambda x: mt.softmax(x, 1),
        lambda x: torch.softmax(x, 1),
        [((4, 9),)],
        make=large_values,
        gradcheck=False,
        label="1-4x9",
    ),
    Row(
        "log_softmax",
        lambda x: mt.log_softmax(x, -1),
        lambda x: torch.log_softmax(x, -1),
        [((3, 4),), ((),), ((1, 5),), ((0, 3),), ((70000,),), ((300, 257),)],
        covers=("log_softmax_backward",),
        label="1",
    ),
    Row(
        "log_softmax",
        lambda x: x.log_softmax(1),
        lambda x: x.log_softmax(1),
        [((2, 3, 5),), ((4, 1),), ((7, 33, 9),), ((3, 5000, 7),)],
        label="1-2x3x5",
    ),
    Row(
        "log_softmax",
        lambda x: mt.nn.functional.log_softmax(x, dim=-3),
        lambda x: torch.nn.functional.log_softmax(x, dim=-3),
        [((2, 3, 4),), ((50000, 2, 5),)],
        label="dim_3",
    ),
    Row(
        "log_softmax",
        lambda x: mt.log_softmax(x, 1),
        lambda x: torch.log_softmax(x, 1),
        [((4, 9),)],
        make=large_values,
        gradcheck=False,
        label="1-4x9",
    ),
    # ---- all / any (bool reductions through compare + sum) -------------------------------------
    Row(
        "ne",
        lambda x: (x > 0).any(),
        lambda x: (x > 0).any(),
        [((3, 4),), ((),), ((0, 3),)],
        grad=(),
        label="0_any",
    ),
    Row(
        "ne",
        lambda x: mt.any(x > 1.5, 1, keepdim=True),
        lambda x: torch.any(x > 1.5, 1, keepdim=True),
        [((3, 4),), ((2, 0),)],
        grad=(),
        label="any_1.5_1_keepdim_True",
    ),
    Row(
        "eq",
        lambda x: (x > -1.8).all(),
        lambda x: (x > -1.8).all(),
        [((3, 4),), ((0, 3),)],
        grad=(),
        label="1.8_all",
    ),
    Row(
        "eq",
        lambda x: mt.all(x, 0),
        lambda x: torch.all(x, 0),
        [((3, 4),)],
        grad=(),
        make=ties,
        label="all_0",
    ),
]

# Bad calls: dims out of range or repeated, empty reductions with no value, dtypes, argument forms.
ERRORS = [
    ErrorRow(
        "sum-dim-out-of-range",
        lambda d: ones_on(d, 2, 3).sum(3),
        IndexError,
        r"\[sum\] dim 3 is out of range",
    ),
    ErrorRow(
        "sum-repeated-dim",
        lambda d: ones_on(d, 2, 3).sum((0, 0)),
        ValueError,
        r"\[sum\] dim 0 appears more than once",
    ),
    ErrorRow(
        "mean-of-int64",
        lambda d: tensor_on(d, [1, 2]).mean(),
        mt.DTypeError,
        r"\[mean\] input dtype must be floating",
    ),
    ErrorRow(
        "max-dim-out-of-range",
        lambda d: ones_on(d, 3, 4).max(2),
        IndexError,
        r"\[max\] dim 2 is out of range",
    ),
    ErrorRow(
        "amin-dim-out-of-range",
        lambda d: ones_on(d, 3, 4).amin((0, -3)),
        IndexError,
        r"\[amin\] dim -3 is out of range",
    ),
    ErrorRow(
        "amax-repeated-dim",
        lambda d: ones_on(d, 3, 4).amax((1, -1)),
        ValueError,
        r"\[amax\] dim -1 appears more than once",
    ),
    ErrorRow(
        "argmax-dim-out-of-range",
        lambda d: ones_on(d, 3).argmax(1),
        IndexError,
        r"\[argmax\] dim 1 is out of range",
    ),
    ErrorRow(
        "var-dim-out-of-range",
        lambda d: ones_on(d, 3, 4).var(5),
        IndexError,
        r"\[var\] dim 5 is out of range",
    ),
    ErrorRow(
        "logsumexp-dim-out-of-range",
        lambda d: ones_on(d, 3, 4).logsumexp(-3),
        IndexError,
        r"\[logsumexp\] dim -3 is out of range",
    ),
    ErrorRow(
        "softmax-dim-out-of-range",
        lambda d: mt.softmax(ones_on(d, 3, 4), 2),
        IndexError,
        r"\[softmax\] dim 2 is out of range",
    ),
    ErrorRow(
        "log_softmax-dim-out-of-range-0d",
        lambda d: mt.log_softmax(ones_on(d), 1),
        IndexError,
        r"\[log_softmax\] dim 1 is out of range",
    ),
    # max/min/argmax of an empty reduction have no value
    ErrorRow(
        "max-empty-dim",
        lambda d: ones_on(d, 0, 3).max(0),
        IndexError,
        r"\[max\] expected a non-empty reduction dim",
    ),
    ErrorRow(
        "min-empty-dim",
        lambda d: ones_on(d, 0, 3).min(-2),
        IndexError,
        r"\[min\] expected a non-empty reduction dim",
    ),
    ErrorRow(
        "amax-empty-tensor",
        lambda d: ones_on(d, 0, 3).amax(),
        IndexError,
        r"\[amax\] cannot reduce the empty tensor of shape",
    ),
    ErrorRow(
        "amin-empty-dim",
        lambda d: ones_on(d, 2, 0).amin(1),
        IndexError,
        r"\[amin\] .*size 0 in shape \(2, 0\)",
    ),
    ErrorRow(
        "argmax-empty-tensor",
        lambda d: ones_on(d, 0, 3).argmax(),
        IndexError,
        r"\[argmax\] cannot reduce the empty tensor",
    ),
    ErrorRow(
        "argmin-empty-dim",
        lambda d: ones_on(d, 0).argmin(0),
        IndexError,
        r"\[argmin\] expected a non-empty reduction dim",
    ),
    ErrorRow(
        "max-empty-tensor-without-dim",
        lambda d: ones_on(d, 0, 3).max(),
        RuntimeError,
        r"\[max\] expected reduction dim to be specified",
    ),
    # dtypes
    ErrorRow(
        "softmax-of-int64",
        lambda d: mt.softmax(ones_on(d, 3, dtype=mt.int64), 0),
        mt.DTypeError,
        r"\[softmax\] input must be float32 or float64, got int64",
    ),
    ErrorRow(
        "log_softmax-of-bool",
        lambda d: mt.log_softmax(ones_on(d, 3) > 0, 0),
        mt.DTypeError,
        r"\[log_softmax\] .*got bool",
    ),
    ErrorRow(
        "var-of-int64",
        lambda d: ones_on(d, 3, dtype=mt.int64).var(),
        mt.DTypeError,
        r"\[var\] input must be float32",
    ),
    ErrorRow(
        "std-of-int32",
        lambda d: ones_on(d, 3, dtype=mt.int32).std(),
        mt.DTypeError,
        r"\[var\] input must be float32",
    ),
    # argument forms
    ErrorRow(
        "var-unbiased-and-correction",
        lambda d: ones_on(d, 3, 4).var(0, unbiased=True, correction=0),
        TypeError,
        r"\[var\] pass either",
    ),
    ErrorRow(
        "max-keepdim-without-dim",
        lambda d: ones_on(d, 3, 4).max(keepdim=True),
        TypeError,
        r"\[max\] keepdim=True needs a dim",
    ),
    ErrorRow(
        "max-float-dim",
        lambda d: ones_on(d, 3, 4).max(1.5),
        TypeError,
        r"\[max\] dim must be an int",
    ),
    # The _C ops validate too (the Python wrappers may be bypassed).
    ErrorRow(
        "softmax_backward-grad-shape",
        lambda d: mt._C.softmax_backward(ones_on(d, 3)._impl, ones_on(d, 4)._impl, 0),
        mt.ShapeError,
        r"\[softmax_backward\] grad has shape \(3,\)",
    ),
    ErrorRow(
        "log_softmax_backward-grad-dtype",
        lambda d: mt._C.log_softmax_backward(
            ones_on(d, 4, dtype=mt.float64)._impl, ones_on(d, 4)._impl, 0
        ),
        mt.DTypeError,
        r"\[log_softmax_backward\] grad is float64",
    ),
]
