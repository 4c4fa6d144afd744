"""Rows for random ops (src/core/ops/random.cpp). Draws differ from PyTorch's by value, so the rows
compare the shape and dtype of a draw plus a rounded statistic both frameworks must agree on;
dropout under a reseeded generator is compared by value and gradient with x * mask / (1 - p)."""

import re

import mytensor as mt
import numpy as np
import torch

from tests.ops.op_table import ErrorRow, Row, ones_on


def _t(lib, array, like):
    """A tensor of `array` on the device of `like` (mytensor rows run on every device)."""
    return lib.tensor(array, device=like.device)


def _summary(lib, x, mean=0.0, std=1.0):
    """(x * 0, [mean ok, std ok]) of a float draw: shape, dtype and device of the draw plus
    whether its mean and standard deviation lie within 6 standard errors of the distribution's
    (`mean`, `std`): true for any good generator, whatever its stream (rounded statistics of two
    streams can straddle a rounding boundary)."""
    a = x.detach().cpu().numpy().astype(np.float64)
    big = a.size >= 1000  # statistics of a few draws are noise: then only shape and dtype
    n = a.size
    stats = (
        [abs(a.mean() - mean) < 6 * std / n**0.5, abs(a.std() - std) < 6 * std / (2 * n) ** 0.5]
        if big
        else []
    )
    return x * 0, _t(lib, np.array(stats, dtype=bool), x)


def _uniform_summary(lib, x):
    zero, stats = _summary(lib, x, 0.5, 12**-0.5)
    a = x.detach().cpu().numpy()
    return zero, stats, _t(lib, np.array([a.min() >= 0, a.max() < 1]), x)


def _int_summary(lib, x, low, high):
    """(x * 0, [min, max], frequencies of each value times (high - low), rounded to 0.1)."""
    a = x.cpu().numpy()
    freq = np.bincount(a.ravel() - low, minlength=high - low) * (high - low) / a.size
    return x * 0, _t(lib, np.array([a.min(), a.max()]), x), _t(lib, np.round(freq, 1), x)


def _sorted(lib, x):
    return x * 0, _t(lib, np.sort(x.cpu().numpy()), x)


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
    """Dropout of ones: shape/dtype, the rounded keep rate and the largest output value."""

    def f(device="cpu"):
        y = F.dropout(lib.ones(400, 500, device=device), p)
        a = y.detach().cpu().numpy()
        return y * 0, _t(lib, np.round([(a > 0).mean(), np.unique(a).max()], 2), y)

    return f


_ONE = {"grad": (), "dtypes": ("float32",)}  # no inputs: run once per device
_DEV = {**_ONE, "device_arg": True}

ROWS = [
    Row(
        "rand",
        lambda device: _uniform_summary(mt, mt.rand(300, 400, device=device)),
        lambda: _uniform_summary(torch, torch.rand(300, 400)),
        [()],
        **_DEV,
        label="300x400",
    ),
    Row(
        "rand",
        lambda device: _uniform_summary(mt, mt.rand(1001, 7, dtype=mt.float64, device=device)),
        lambda: _uniform_summary(torch, torch.rand(1001, 7, dtype=torch.float64)),
        [()],
        **_DEV,
        label="1001x7-float64",
    ),
    Row(
        "rand",
        lambda device: _uniform_summary(mt, mt.rand((), device=device)),
        lambda: _uniform_summary(torch, torch.rand(())),
        [()],
        **_DEV,
        label="0d",
    ),
    Row(
        "rand",
        lambda device: mt.rand(0, 3, device=device) * 0,
        lambda: torch.rand(0, 3) * 0,
        [()],
        **_DEV,
        label="empty",
    ),
    Row(
        "randn",
        lambda device: _summary(mt, mt.randn(1000, 1000, device=device)),
        lambda: _summary(torch, torch.randn(1000, 1000)),
        [()],
        **_DEV,
        label="1000x1000",
    ),
    Row(
        "randn",
        lambda device: _summary(mt, mt.randn(3, 7777, dtype=mt.float64, device=device)),
        lambda: _summary(torch, torch.randn(3, 7777, dtype=torch.float64)),
        [()],
        **_DEV,
        label="3x7777-float64",
    ),
    Row(
        "randn",
        lambda device: mt.randn((), device=device) * 0,
        lambda: torch.randn(()) * 0,
        [()],
        **_DEV,
        label="0d",
    ),
    Row(
        "randint",
        lambda device: _int_summary(mt, mt.randint(3, 10, (100000,), device=device), 3, 10),
        lambda: _int_summary(torch, torch.randint(3, 10, (100000,)), 3, 10),
        [()],
        **_DEV,
        label="3to10",
    ),
    Row(
        "randint",
        lambda device: _int_summary(
            mt, mt.randint(-5, 0, (333, 301), dtype=mt.int32, device=device), -5, 0
        ),
        lambda: _int_summary(torch, torch.randint(-5, 0, (333, 301), dtype=torch.int32), -5, 0),
        [()],
        **_DEV,
        label="int32-negative",
    ),
    Row(
        "randint",
        lambda device: mt.randint(0, 4, (2, 0), device=device) * 0,
        lambda: torch.randint(0, 4, (2, 0)) * 0,
        [()],
        **_DEV,
        label="empty",
    ),
    Row(
        "randperm",
        lambda device: _sorted(mt, mt.randperm(1000, device=device)),
        lambda: _sorted(torch, torch.randperm(1000)),
        [()],
        **_DEV,
        label="1000",
    ),
    Row(
        "randperm",
        lambda device: _sorted(mt, mt.randperm(37, dtype=mt.int32, device=device)),
        lambda: _sorted(torch, torch.randperm(37, dtype=torch.int32)),
        [()],
        **_DEV,
        label="37-int32",
    ),
    Row(
        "randperm",
        lambda device: mt.randperm(0, device=device),
        lambda: torch.randperm(0),
        [()],
        **_DEV,
        label="empty",
    ),
    Row(
        "dropout",
        _keep_rate(mt, mt.nn.functional, 0.3),
        _keep_rate(torch, torch.nn.functional, 0.3),
        [()],
        **_DEV,
        label="keep-rate-0.3",
    ),
    # Reseeded dropout vs x * mask / (1 - p): values, gradients and (in float64) gradcheck.
    Row(
        "dropout",
        _mt_dropout(0.5),
        _torch_dropout(0.5),
        [((4, 5),), ((),), ((0, 3),), ((3, 7, 9),), ((257, 301),)],
        label="p0.5",
    ),
    Row(
        "dropout",
        _mt_dropout(0.1),
        _torch_dropout(0.1),
        [((6, 7),), ((70000,),)],
        label="p0.1",
    ),
    Row(
        "dropout",
        lambda x: mt.nn.functional.dropout(x, 0.0),
        lambda x: torch.nn.functional.dropout(x, 0.0),
        [((3, 4),), ((),)],
        label="p0.0",
    ),
    Row(
        "dropout",
        lambda x: mt.nn.functional.dropout(x, 1.0),
        lambda x: torch.nn.functional.dropout(x, 1.0),
        [((3, 4),), ((5,),)],
        label="p1.0",
    ),
    Row(
        "dropout",
        lambda x: mt.nn.functional.dropout(x, 0.5, training=False),
        lambda x: torch.nn.functional.dropout(x, 0.5, training=False),
        [((3, 4),)],
        grad=(),
        label="p0.5-eval",
    ),
]

# Bad calls: a typed exception naming the op and the bad argument (literal message fragments).
ERRORS = [
    ErrorRow(
        "rand-int64",
        lambda d: mt.rand(2, 3, dtype=mt.int64, device=d),
        mt.DTypeError,
        re.escape("[rand] dtype must be float32"),
    ),
    ErrorRow(
        "randn-bool",
        lambda d: mt.randn(2, dtype=mt.bool, device=d),
        mt.DTypeError,
        re.escape("[randn] dtype must be float32"),
    ),
    ErrorRow(
        "rand-negative-dim",
        lambda d: mt.rand(-1, 3, device=d),
        mt.ShapeError,
        re.escape("[rand] negative dimension"),
    ),
    ErrorRow(
        "randint-empty-range",
        lambda d: mt.randint(5, 5, (2,), device=d),
        ValueError,
        re.escape("[randint] expected low < high, got low=5"),
    ),
    ErrorRow(
        "randint-high-beyond-dtype",
        lambda d: mt.randint(0, 300, (2,), dtype=mt.uint8, device=d),
        ValueError,
        re.escape("does not fit dtype uint8"),
    ),
    ErrorRow(
        "randint-bool",
        lambda d: mt.randint(0, 2, (2,), dtype=mt.bool, device=d),
        mt.DTypeError,
        re.escape("[randint] dtype bool"),
    ),
    ErrorRow(
        "randperm-negative-n",
        lambda d: mt.randperm(-3, device=d),
        ValueError,
        re.escape("[randperm] n must be non-negative, got -3"),
    ),
    ErrorRow(
        "randperm-n-beyond-dtype",
        lambda d: mt.randperm(300, dtype=mt.uint8, device=d),
        ValueError,
        re.escape("[randperm] n=300 is too large"),
    ),
    ErrorRow(
        "dropout-native-p-above-1",
        lambda d: mt._C.dropout(ones_on(d, 3)._impl, 1.5),
        ValueError,
        re.escape("[dropout] expected a probability"),
    ),
    ErrorRow(
        "dropout-negative-p",
        lambda d: mt.nn.functional.dropout(ones_on(d, 3), -0.1),
        ValueError,
        re.escape("[dropout] expected a probability p in"),
    ),
    ErrorRow(
        "dropout-int-p-above-1",
        lambda d: mt.nn.functional.dropout(ones_on(d, 3), 2),
        ValueError,
        re.escape("got 2"),
    ),
    ErrorRow(
        "dropout-int64-input",
        lambda d: mt.nn.functional.dropout(ones_on(d, 3, dtype=mt.int64), 0.5),
        mt.DTypeError,
        re.escape("[dropout] input must be float32 or float64, got int64"),
    ),
]
