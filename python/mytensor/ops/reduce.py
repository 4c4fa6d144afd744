"""Reduction Functions: sum, mean, max/min, var/std, logsumexp, softmax, log_softmax."""

from __future__ import annotations

import builtins
import collections
import warnings

from mytensor import _C
from mytensor._tensor import Tensor
from mytensor.autograd.function import Function
from mytensor.ops._util import dims_arg, native

# The (values, indices) results of max/min along a dim, as torch.return_types.max / min.
max_result = collections.namedtuple("max", ["values", "indices"])  # type: ignore[name-match]
min_result = collections.namedtuple("min", ["values", "indices"])  # type: ignore[name-match]


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
        out = _C.sum(x, dims, keepdim)
        if True in ctx.needs_input_grad:  # only backward reads the shapes
            ctx.in_shape = x.shape
            ctx.kept = _kept_shape(ctx.in_shape, dims)
        return out

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.kept, ctx.in_shape), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        out = _C.mean(x, dims, keepdim)
        if True in ctx.needs_input_grad:  # only backward reads the shapes
            ctx.in_shape = x.shape
            ctx.kept = _kept_shape(ctx.in_shape, dims)
            ctx.count = x.numel() // builtins.max(1, _prod(ctx.kept))
        return out

    @staticmethod
    def backward(ctx, g):
        g = native(_C.reshape, g, ctx.kept) * (1.0 / builtins.max(ctx.count, 1))
        return _expand_back(g, ctx.kept, ctx.in_shape), None, None


def _expand_back(g, kept, in_shape):
    """A reduction's gradient g, reshaped to the kept dims and broadcast back to the input."""
    return native(lambda g: _C.contiguous(_C.expand(_C.reshape(g, kept), list(in_shape))), g)


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def sum(x, dim=None, keepdim: bool = False, dtype=None):  # noqa: A001
    """Sum over ``dim`` (an int or a tuple; all dims when None), computed in ``dtype`` if given."""
    if dtype is not None:
        x = x.to(dtype)
    return Sum.apply(x, dims_arg(dim), keepdim)


def mean(x, dim=None, keepdim: bool = False, dtype=None):
    """Mean over ``dim`` (an int or a tuple; all dims when None), computed in ``dtype`` if given."""
    if dtype is not None:
        x = x.to(dtype)
    return Mean.apply(x, dims_arg(dim), keepdim)


def _reshape(t, shape):
    from mytensor.ops.shape import reshape

    return reshape(t, list(shape))


def _zero_like_scalar(ref):
    return native(_C.full, [], 0.0, ref.dtype._c, ref.device._c)


# ---- max / min -------------------------------------------------------------------------------
class MaxDim(Function):
    """max(x, dim) -> (values, indices). The gradient goes to the returned index only."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_max):
        fn = _C.max_dim if is_max else _C.min_dim
        values, indices = fn(x, dim, keepdim)
        ctx.in_shape = x.shape
        ctx.dim = dim % builtins.max(x.ndim, 1)
        ctx.kept = _kept_shape(x.shape, [dim])
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, g, _g_indices):
        from mytensor.creation import arange

        (indices,) = ctx.saved_tensors
        shape = ctx.in_shape
        # One-hot of the returned index along dim: arange(r) (shaped to broadcast) == index.
        r = shape[ctx.dim] if shape else 1
        positions = _reshape(
            arange(r, device=g.device), [r if i == ctx.dim else 1 for i in range(len(shape))]
        )
        hit = positions == _reshape(indices, ctx.kept)
        from mytensor.ops.elementwise import where

        grad = where(hit, _reshape(g, ctx.kept), _zero_like_scalar(g))
        return grad, None, None, None


class Amax(Function):
    """amax/amin over dims; the gradient is split evenly between tied extremes (as PyTorch).

    A NaN extreme equals no element: amax/amin then give NaN to the whole slice (PyTorch's
    scale_grad_by_count), while max()/min() of every element (``nan_ties``) split the gradient
    between the NaN elements (PyTorch's evenly_distribute_backward)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, is_max, nan_ties=False):
        out = (_C.amax if is_max else _C.amin)(x, dims, keepdim)
        ctx.dims = dims
        ctx.kept = _kept_shape(x.shape, dims)
        ctx.nan_ties = nan_ties
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        out = _reshape(out, ctx.kept)
        hit = x == out
        if ctx.nan_ties:  # or both NaN (bool add is a logical or, mul a logical and)
            hit = native(_C.add, hit, native(_C.mul, x != x, out != out))
        mask = hit.to(g.dtype)
        count = sum(mask, ctx.dims or None, keepdim=True)
        return _reshape(g, ctx.kept) / count * mask, None, None, None, None


def _extreme(x, dim, keepdim, other, is_max, name):
    from mytensor.ops.elementwise import maximum, minimum

    if isinstance(dim, Tensor):  # x.max(other): the elementwise maximum
        other, dim = dim, None
    if other is not None:
        return (maximum if is_max else minimum)(x, other)
    if dim is None:
        if keepdim:
            raise TypeError(f"[{name}] keepdim=True needs a dim")
        if x.numel() == 0:
            raise RuntimeError(
                f"[{name}] expected reduction dim to be specified for an empty tensor of shape "
                f"{x.shape}; pass dim="
            )
        return Amax.apply(x, [], False, is_max, True)
    if not isinstance(dim, int):
        raise TypeError(f"[{name}] dim must be an int, got {type(dim).__name__}")
    values, indices = MaxDim.apply(x, dim, keepdim, is_max)
    return (max_result if is_max else min_result)(values, indices)


def max(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Max of every element (a 0-d tensor); along ``dim``, a namedtuple (values, indices);
    with a tensor as second argument, the elementwise :func:`maximum`."""
    return _extreme(input, dim, keepdim, other, True, "max")


def min(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Min of every element; along ``dim``, a namedtuple (values, indices); with a tensor as
    second argument, the elementwise :func:`minimum`."""
    return _extreme(input, dim, keepdim, other, False, "min")


def amax(input, dim=(), keepdim: bool = False):
    """Max over ``dim`` (an int or a tuple; all dims when empty); ties share the gradient evenly."""
    return Amax.apply(input, dims_arg(dim), keepdim, True)


def amin(input, dim=(), keepdim: bool = False):
    """Min over ``dim`` (an int or a tuple; all dims when empty); ties share the gradient evenly."""
    return Amax.apply(input, dims_arg(dim), keepdim, False)


def argmax(input, dim=None, keepdim: bool = False):
    """Index of the max along ``dim`` (the first on ties), or into the flattened tensor."""
    return native(_C.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim: bool = False):
    """Index of the min along ``dim`` (the first on ties), or into the flattened tensor."""
    return native(_C.argmin, input, dim, keepdim)


# ---- var / std -------------------------------------------------------------------------------
class Var(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.dims = dims
        ctx.kept = _kept_shape(x.shape, dims)
        # N - correction, at least 0 as in PyTorch (the gradient is then inf * 0 = NaN)
        ctx.dof = builtins.max(0.0, x.numel() // builtins.max(1, _prod(ctx.kept)) - correction)
        ctx.save_for_backward(x)
        return _C.var(x, dims, correction, keepdim)

    @staticmethod
    def backward(ctx, g):
        # d var / dx = 2 (x - mean) / (n - correction), as PyTorch's var_backward.
        (x,) = ctx.saved_tensors
        centered = x - mean(x, ctx.dims or None, keepdim=True)
        scale = 2.0 / ctx.dof if ctx.dof != 0 else float("inf")
        return _reshape(g, ctx.kept) * centered * scale, None, None, None


def _correction(name, dim, unbiased, correction):
    """PyTorch's var/std argument forms: var(x, unbiased), var(x, dim, unbiased, keepdim) and
    var(x, dim, correction=c, keepdim)."""
    if isinstance(dim, bool):  # var(x, False): the legacy positional unbiased
        if unbiased is not None:
            raise TypeError(f"[{name}] unbiased given twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"[{name}] pass either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dims_arg(dim), float(correction)


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance over ``dim`` (all dims when None), divided by N - correction (default 1)."""
    dims, c = _correction("var", dim, unbiased, correction)
    return Var.apply(input, dims, c, keepdim)


class _SqrtOfVar(Function):
    """sqrt of a variance, whose gradient is 0 (not g / 0 * 0 = NaN) where the deviation is 0,
    as PyTorch's std_backward."""

    @staticmethod
    def forward(ctx, v):
        y = _C.sqrt(v)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        from mytensor.ops.elementwise import where

        (y,) = ctx.saved_tensors
        return where(y == 0, 0.0, g / (y * 2.0))


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Standard deviation: sqrt of :func:`var`, with the same arguments."""
    dims, c = _correction("std", dim, unbiased, correction)
    return _SqrtOfVar.apply(Var.apply(input, dims, c, keepdim))


# ---- logsumexp, softmax ----------------------------------------------------------------------
class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        out = _C.logsumexp(x, dims, keepdim)
        ctx.kept = _kept_shape(x.shape, dims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        from mytensor.ops.elementwise import exp

        x, out = ctx.saved_tensors
        return _reshape(g, ctx.kept) * exp(x - _reshape(out, ctx.kept)), None, None


def logsumexp(input, dim=None, keepdim: bool = False):
    """log(sum(exp(x))) over ``dim``, computed stably (shifted by the max)."""
    return LogSumExp.apply(input, dims_arg(dim), keepdim)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim, log):
        out = (_C.log_softmax if log else _C.softmax)(x, dim)
        ctx.dim, ctx.log = dim, log
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return SoftmaxBackward.apply(g, out, ctx.dim, ctx.log), None, None


class SoftmaxBackward(Function):
    """The fused softmax / log_softmax backward, itself differentiable (double backward)."""

    @staticmethod
    def forward(ctx, g, out, dim, log):
        fn = _C.log_softmax_backward if log else _C.softmax_backward
        ctx.dim, ctx.log = dim, log
        ctx.save_for_backward(g, out)
        return fn(g, out, dim)

    @staticmethod
    def backward(ctx, h):
        from mytensor.ops.elementwise import exp

        g, out = ctx.saved_tensors
        dim = ctx.dim if out.ndim else None
        if ctx.log:  # gi = g - exp(y) * sum(g)
            p = exp(out)
            gg = h - sum(h * p, dim, keepdim=True)
            gy = -h * p * sum(g, dim, keepdim=True)
        else:  # gi = y * (g - sum(g * y))
            gg = SoftmaxBackward.apply(h, out, ctx.dim, False)
            gy = h * (g - sum(g * out, dim, keepdim=True)) - g * sum(h * out, dim, keepdim=True)
        return gg, gy, None, None


def _softmax_dim(name, ndim, dim):
    if dim is not None:
        return dim
    # PyTorch's legacy implicit choice, with its warning.
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to "
        "include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, fused and stable (shifted by the max)."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, _softmax_dim("softmax", input.ndim, dim), False)


def log_softmax(input, dim=None, dtype=None):
    """x - logsumexp(x) along ``dim``, fused."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, _softmax_dim("log_softmax", input.ndim, dim), True)


# ---- all / any: bool reductions through sum --------------------------------------------------
def all(input, dim=None, keepdim: bool = False):  # noqa: A001
    """True where every element along ``dim`` (all dims when None) is non-zero."""
    zeros = native(_C.sum, input == _zero_like_scalar(input), dims_arg(dim), keepdim)
    return zeros == 0


def any(input, dim=None, keepdim: bool = False):  # noqa: A001
    """True where some element along ``dim`` (all dims when None) is non-zero."""
    nonzeros = native(_C.sum, input != _zero_like_scalar(input), dims_arg(dim), keepdim)
    return nonzeros > 0
