"""Elementwise Functions: unary math, binary arithmetic with broadcasting, comparisons."""

from __future__ import annotations

import numbers

from mytensor import _C
from mytensor.autograd.function import Function
from mytensor.ops._util import as_tensor, scalar_value, sum_to, wrap

_as_tensor = as_tensor


def _pair(a, b, op: str, wrap_ints: bool = True):
    """Both operands as tensors; a Python scalar takes its dtype and device from the tensor.

    Arithmetic and comparisons wrap an int scalar modulo an integer dtype, as PyTorch does;
    `wrap_ints=False` (where, masked_fill) raises for a value the dtype cannot hold.
    """
    from mytensor._tensor import Tensor

    if isinstance(a, Tensor):
        return a, as_tensor(b, a, op, wrap_ints)
    if isinstance(b, Tensor):
        return as_tensor(a, b, op, wrap_ints), b
    raise TypeError(f"[{op}] at least one operand must be a Tensor")


# ---- unary -----------------------------------------------------------------------------------
class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return wrap(_C.neg(x._impl))

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = wrap(_C.exp(x._impl))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_C.log(x._impl))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = wrap(_C.sqrt(x._impl))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2.0 * y)


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = wrap(_C.rsqrt(x._impl))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (-0.5) * y * y * y


class Abs(Function):
    # NOTE: abs'(0) = 0, as in PyTorch (sign(0) = 0).
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_C.abs(x._impl))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dt = x._impl.dtype
        pos = _C.to_dtype(_C.gt(x._impl, _zero(x)._impl), dt)
        neg = _C.to_dtype(_C.lt(x._impl, _zero(x)._impl), dt)
        return g * wrap(_C.sub(pos, neg))


class Relu(Function):
    # NOTE: relu'(0) = 0, as in PyTorch.
    @staticmethod
    def forward(ctx, x):
        y = wrap(_C.relu(x._impl))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return wrap(_C.relu_backward(g._impl, y._impl))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = wrap(_C.sigmoid(x._impl))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return wrap(_C.sigmoid_backward(g._impl, y._impl))


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = wrap(_C.tanh(x._impl))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return wrap(_C.tanh_backward(g._impl, y._impl))


class Gelu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_C.gelu(x._impl))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return wrap(_C.gelu_backward(g._impl, x._impl))


class PowScalar(Function):
    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return wrap(_C.pow_scalar(x._impl, exponent))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        e = ctx.exponent
        if e == 0:
            return g * 0.0, None
        return g * e * x ** (e - 1), None


class Clamp(Function):
    # NOTE: the gradient passes only where min < x < max (not at the bounds, nor anywhere when
    # min >= max or a bound is NaN), as PyTorch 2.x's clamp with number bounds.
    @staticmethod
    def forward(ctx, x, min, max):
        ctx.save_for_backward(x)
        ctx.bounds = (min, max)
        return wrap(_C.clamp(x._impl, min, max))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        mask = None
        if lo is not None:
            mask = x > lo
        if hi is not None:
            upper = x < hi
            mask = upper if mask is None else wrap(_C.mul(mask._impl, upper._impl))
        return where(mask, g, 0.0), None, None


# ---- binary ----------------------------------------------------------------------------------
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return wrap(_C.add(a._impl, b._impl))

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return sum_to(g, sa), sum_to(g, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return wrap(_C.sub(a._impl, b._impl))

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        gb = sum_to(-g, sb) if ctx.needs_input_grad[1] else None
        return sum_to(g, sa), gb


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(_C.mul(a._impl, b._impl))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = sum_to(g * b, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * a, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(_C.div(a._impl, b._impl))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = sum_to(g / b, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        y = wrap(_C.pow(a._impl, b._impl))
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(g * b * a ** (b - 1.0), a.shape)
        if ctx.needs_input_grad[1]:
            # d/db a^b = a^b log a, masked as PyTorch's pow_backward_exponent: 0 where a == 0 and
            # b >= 0; where a == 0 and b < 0 it is inf * log(0) = -inf. The base is taken in the
            # result's dtype (a bool or integer base too).
            base = a if a.dtype is y.dtype else a.to(y.dtype)
            zero_base = _C.mul(_C.eq(a._impl, _zero(a)._impl), _C.ge(b._impl, _zero(b)._impl))
            gb = sum_to(g * where(wrap(zero_base), 0.0, y * log(base)), b.shape)
        return ga, gb


class Maximum(Function):
    # NOTE: on ties the gradient is split evenly between both inputs, as in PyTorch.
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(_C.maximum(a._impl, b._impl))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a, b, _C.gt)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(_C.minimum(a._impl, b._impl))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a, b, _C.lt)


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = (a.shape, b.shape)
        return wrap(_C.where(cond._impl, a._impl, b._impl))

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        zero = _zero(g)
        ga = (
            sum_to(wrap(_C.where(cond._impl, g._impl, zero._impl)), sa)
            if ctx.needs_input_grad[1]
            else None
        )
        gb = (
            sum_to(wrap(_C.where(cond._impl, zero._impl, g._impl)), sb)
            if ctx.needs_input_grad[2]
            else None
        )
        return None, ga, gb


def _zero(ref):
    return wrap(_C.full([], 0.0, ref._impl.dtype, ref._impl.device))


def _one(ref):
    return wrap(_C.full([], 1.0, ref._impl.dtype, ref._impl.device))


def _promote_for_scalar(x, value):
    """x cast to the dtype of `x (op) value` (PyTorch's rule: core/scalar.h result_type)."""
    from mytensor.ops._util import scalar_dtype

    dtype = scalar_dtype(value, x)
    return x if dtype is x.dtype else x.to(dtype)


def _minmax_grads(ctx, g, a, b, strictly):
    wins_a = wrap(strictly(a._impl, b._impl)).to(g.dtype)
    ties = wrap(_C.eq(a._impl, b._impl)).to(g.dtype)
    share_a = wins_a + ties * 0.5
    ga = sum_to(g * share_a, a.shape) if ctx.needs_input_grad[0] else None
    gb = sum_to(g * (1.0 - share_a), b.shape) if ctx.needs_input_grad[1] else None
    return ga, gb


# ---- the functional forms --------------------------------------------------------------------
def _promoted(a, b, op: str, wrap_ints: bool = True):
    """Both operands as tensors of the result dtype, so each gradient matches its input's dtype
    (the cast is recorded by autograd)."""
    a, b = _pair(a, b, op, wrap_ints)
    if a.dtype is not b.dtype and (a.requires_grad or b.requires_grad):
        from mytensor._dtype import from_c

        common = from_c(_C.result_type(a._impl, b._impl))
        a, b = a.to(common), b.to(common)
    return a, b


def _binary(fn, a, b):
    return fn.apply(*_promoted(a, b, fn.__name__.lower()))


def neg(x):
    return Neg.apply(x)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def rsqrt(x):
    return Rsqrt.apply(x)


def abs(x):  # noqa: A001
    return Abs.apply(x)


def relu(x, inplace: bool = False):
    """max(x, 0); NaN stays NaN. ``inplace=True`` writes the result into ``x`` and returns it."""
    if inplace:
        return x.relu_()
    return Relu.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def gelu(x, approximate: str = "none"):
    if approximate != "none":
        raise ValueError(f"[gelu] only approximate='none' is supported, got {approximate!r}")
    return Gelu.apply(x)


def square(x):
    # The dtype of x ** 2 (bool becomes int64, as in PyTorch), computed as x * x.
    x = _promote_for_scalar(x, 2)
    return Mul.apply(x, x)


def _bool_dtype():
    from mytensor._dtype import bool_

    return bool_


def _times_alpha(a, b, alpha, op):
    """b * alpha for add/sub. As in PyTorch alpha takes no part in type promotion: with two
    bool operands it is cast to bool, so bool + bool * 0 stays bool."""
    if alpha == 1:
        return b
    ta, tb = _pair(a, b, op)
    if ta.dtype is tb.dtype is _bool_dtype():
        return tb if alpha else mul(tb, False)
    return mul(tb, alpha)


def add(a, b, alpha=1):
    return _binary(Add, a, _times_alpha(a, b, alpha, "add"))


def sub(a, b, alpha=1):
    return _binary(Sub, a, _times_alpha(a, b, alpha, "sub"))


def mul(a, b):
    return _binary(Mul, a, b)


def div(a, b):
    return _binary(Div, a, b)


def pow(a, b):  # noqa: A001
    from mytensor._tensor import Tensor

    if isinstance(a, Tensor) and isinstance(b, numbers.Number) and not isinstance(b, bool):
        return PowScalar.apply(a, scalar_value(b, "pow"))
    return _binary(Pow, a, b)


def maximum(a, b):
    return _binary(Maximum, a, b)


def minimum(a, b):
    return _binary(Minimum, a, b)


def clamp(x, min=None, max=None):  # noqa: A002
    lo = None if min is None else scalar_value(min, "clamp")
    hi = None if max is None else scalar_value(max, "clamp")
    return Clamp.apply(x, lo, hi)


def where(cond, a, b):
    return Where.apply(cond, *_promoted(a, b, "where", wrap_ints=False))


def masked_fill(x, mask, value):
    """x with `value` where `mask` is True; the result keeps x's dtype (a float value into an
    integer tensor truncates, NaN or an out-of-range value raises), as in PyTorch."""
    from mytensor._tensor import Tensor

    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"[masked_fill] only supports a 0-dimensional value tensor, got shape {value.shape}"
            )
        fill = value.to(x.dtype)
    else:
        v = scalar_value(value, "masked_fill")
        _C.check_convertible(v, x._impl.dtype, "masked_fill")
        fill = wrap(_C.full([], v, x._impl.dtype, x._impl.device))
    return Where.apply(mask, fill, x)


def _compare(c_fn, a, b):
    a, b = _pair(a, b, c_fn.__name__)
    return wrap(c_fn(a._impl, b._impl))


def eq(a, b):
    return _compare(_C.eq, a, b)


def ne(a, b):
    return _compare(_C.ne, a, b)


def lt(a, b):
    return _compare(_C.lt, a, b)


def le(a, b):
    return _compare(_C.le, a, b)


def gt(a, b):
    return _compare(_C.gt, a, b)


def ge(a, b):
    return _compare(_C.ge, a, b)
