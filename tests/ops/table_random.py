"""Rows for random ops (src/core/ops/random.cpp). Draws differ from PyTorch's by value, so the rows
compare the shape and dtype of a draw plus a rounded statistic both frameworks must agree on;
dropout under a reseeded generator is compared by value and gradient with x * mask / (1 - p)."""

import numpy as np
import torch

import mytensor as mt
from tests.ops.op_table import Row


def _summary(lib, x, decimals=2):
    """(x * 0, [rounded mean, rounded std, min >= lo, max < hi]) of a float draw: shape and
    dtype of the draw plus statistics that hold for any good generator."""
    a = x.detach().cpu().numpy().astype(np.float64)
    big = a.size >= 1000  # statistics of a few draws are noise: then only shape and dtype
    stats = [np.round(a.mean(), decimals), np.round(a.std(), decimals)] if big else []
    return x * 0, lib.tensor(np.array(stats, dtype=np.float64))


def _uniform_summary(lib, x):
    zero, stats = _summary(lib, x)
    a = x.detach().cpu().numpy()
    in_range = lib.tensor(np.array([a.min() >= 0, a.max() < 1]) if a.size else np.array([True]))
    return zero, stats, in_range


def _int_summary(lib, x, low, high):
    """(x * 0, [min, max], frequencies of each value times (high - low), rounded to 0.1)."""
    a = x.cpu().numpy()
    freq = np.bincount(a.ravel() - low, minlength=high - low) * (high - low) / a.size
    return x * 0, lib.tensor(np.array([a.min(), a.max()])), lib.tensor(np.round(freq, 1))


def _sorted(lib, x):
    a = x.cpu().numpy()
    return x * 0, lib.tensor(np.sort(a))


def _mt_mask(shape, p, seed):
    """The keep-mask mytensor's dropout draws under `seed`, as a NumPy array."""
    mt.manual_seed(seed)
    return mt.nn.functional.dropout(mt.ones(shape, dtype=mt.float64), p).numpy() > 0


def _mt_dropout(p, seed=5):
    def f(x):
        mt.manual_seed(seed)
        return mt.nn.functional.dropout(x, p)
    return f


def _torch_dropout(p, seed=5):
    def f(x):
        mask = torch.tensor(_mt_mask(tuple(x.shape), p, seed), dtype=x.dtype)
        return x * mask / (1 - p)
    return f


def _keep_rate(lib, F, p):
    """Dropout of ones: shape/dtype, the rounded keep rate and the set of output values."""
    def f():
        y = F.dropout(lib.ones(400, 500), p)
        a = y.detach().cpu().numpy()
        return y * 0, lib.tensor(np.round([(a > 0).mean(), np.unique(a).max()], 2))
    return f


ROWS = [
    Row("rand", lambda: _uniform_summary(mt, mt.rand(300, 400)),
        lambda: _uniform_summary(torch, torch.rand(300, 400)), [()], grad=(), dtypes=("float32",)),
    Row("rand", lambda: _uniform_summary(mt, mt.rand(1001, 7, dtype=mt.float64)),
        lambda: _uniform_summary(torch, torch.rand(1001, 7, dtype=torch.float64)), [()], grad=(),
        dtypes=("float32",)),
    Row("rand", lambda: _uniform_summary(mt, mt.rand(())), lambda: _uniform_summary(torch,
        torch.rand(())), [()], grad=(), dtypes=("float32",)),
    Row("rand", lambda: mt.rand(0, 3) * 0, lambda: torch.rand(0, 3) * 0, [()], grad=(),
        dtypes=("float32",)),
    Row("randn", lambda: _summary(mt, mt.randn(1000, 1000)),
        lambda: _summary(torch, torch.randn(1000, 1000)), [()], grad=(), dtypes=("float32",)),
    Row("randn", lambda: _summary(mt, mt.randn(3, 7777, dtype=mt.float64), 1),
        lambda: _summary(torch, torch.randn(3, 7777, dtype=torch.float64), 1), [()], grad=(),
        dtypes=("float32",)),
    Row("randn", lambda: mt.randn(()) * 0, lambda: torch.randn(()) * 0, [()], grad=(),
        dtypes=("float32",)),
    Row("randint", lambda: _int_summary(mt, mt.randint(3, 10, (100000,)), 3, 10),
        lambda: _int_summary(torch, torch.randint(3, 10, (100000,)), 3, 10), [()], grad=(),
        dtypes=("float32",)),
    Row("randint", lambda: _int_summary(mt, mt.randint(-5, 0, (333, 301), dtype=mt.int32), -5, 0),
        lambda: _int_summary(torch, torch.randint(-5, 0, (333, 301), dtype=torch.int32), -5, 0),
        [()], grad=(), dtypes=("float32",)),
    Row("randint", lambda: mt.randint(0, 4, (2, 0)) * 0,
        lambda: torch.randint(0, 4, (2, 0)) * 0, [()], grad=(), dtypes=("float32",)),
    Row("randperm", lambda: _sorted(mt, mt.randperm(1000)),
        lambda: _sorted(torch, torch.randperm(1000)), [()], grad=(), dtypes=("float32",)),
    Row("randperm", lambda: _sorted(mt, mt.randperm(37, dtype=mt.int32)),
        lambda: _sorted(torch, torch.randperm(37, dtype=torch.int32)), [()], grad=(),
        dtypes=("float32",)),
    Row("randperm", lambda: mt.randperm(0), lambda: torch.randperm(0), [()], grad=(),
        dtypes=("float32",)),
    Row("dropout", _keep_rate(mt, mt.nn.functional, 0.3),
        _keep_rate(torch, torch.nn.functional, 0.3), [()], grad=(), dtypes=("float32",)),
    # Reseeded dropout vs x * mask / (1 - p): values, gradients and (in float64) gradcheck.
    Row("dropout", _mt_dropout(0.5), _torch_dropout(0.5),
        [((4, 5),), ((),), ((0, 3),), ((3, 7, 9),), ((257, 301),)]),
    Row("dropout", _mt_dropout(0.1), _torch_dropout(0.1), [((6, 7),), ((70000,),)]),
    Row("dropout", lambda x: mt.nn.functional.dropout(x, 0.0),
        lambda x: torch.nn.functional.dropout(x, 0.0), [((3, 4),), ((),)]),
    Row("dropout", lambda x: mt.nn.functional.dropout(x, 1.0),
        lambda x: torch.nn.functional.dropout(x, 1.0), [((3, 4),), ((5,),)]),
    Row("dropout", lambda x: mt.nn.functional.dropout(x, 0.5, training=False),
        lambda x: torch.nn.functional.dropout(x, 0.5, training=False), [((3, 4),)], grad=()),
]
