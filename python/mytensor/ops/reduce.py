"""Reduction Functions: sum, mean, max/min, var/std, logsumexp, softmax, log_softmax."""

from __future__ import annotations

import builtins

from mytensor import _C
from mytensor.autograd.function import Function
from mytensor.ops._util import dims_arg, wrap


def _kept_shape(shape, dims):
    """The keepdim=True shape of reducing `dims` (all when empty)."""
    n = len(shape)
    if not dims:
        return [1] * n
    wrapped = {d % builtins.max(n, 1) for d in dims}
    return [1 if i in wrapped else s for i, s in enumerate(shape)]


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape = x.shape
        ctx.kept = _kept_shape(x.shape, dims)
        return wrap(_C.sum(x._impl, dims, keepdim))

    @staticmethod
    def backward(ctx, g):
        g = wrap(_C.reshape(g._impl, ctx.kept))
        return wrap(_C.contiguous(_C.expand(g._impl, list(ctx.in_shape)))), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape = x.shape
        ctx.kept = _kept_shape(x.shape, dims)
        ctx.count = x.numel() // builtins.max(1, _prod(ctx.kept))
        return wrap(_C.mean(x._impl, dims, keepdim))

    @staticmethod
    def backward(ctx, g):
        g = wrap(_C.reshape(g._impl, ctx.kept)) * (1.0 / builtins.max(ctx.count, 1))
        return wrap(_C.contiguous(_C.expand(g._impl, list(ctx.in_shape)))), None, None


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def sum(x, dim=None, keepdim: bool = False, dtype=None):  # noqa: A001
    if dtype is not None:
        x = x.to(dtype)
    return Sum.apply(x, dims_arg(dim), keepdim)


def mean(x, dim=None, keepdim: bool = False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return Mean.apply(x, dims_arg(dim), keepdim)


def _todo(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"[{name}] is not implemented yet")

    fn.__name__ = name
    return fn


max = _todo("max")  # noqa: A001
min = _todo("min")  # noqa: A001
amax = _todo("amax")
amin = _todo("amin")
argmax = _todo("argmax")
argmin = _todo("argmin")
var = _todo("var")
std = _todo("std")
logsumexp = _todo("logsumexp")
softmax = _todo("softmax")
log_softmax = _todo("log_softmax")
all = _todo("all")  # noqa: A001
any = _todo("any")  # noqa: A001
