"""Elementwise Functions: unary math, binary arithmetic with broadcasting, comparisons."""

from __future__ import annotations

import numbers

import numpy as np

from mytensor import _C
from mytensor import _dtype as _dt
from mytensor._tensor import Tensor
from mytensor.autograd.function import Function
from mytensor.ops._util import as_tensor, native, scalar_value, sum_to

_as_tensor = as_tensor


def _pair(a, b, op: str, wrap_ints: bool = True):
    """Both operands as tensors; a Python scalar takes its dtype and device from the tensor.

    Arithmetic and comparisons wrap an int scalar modulo an integer dtype, as PyTorch does;
    `wrap_ints=False` (where, masked_fill) raises for a value the dtype cannot hold.
    """
    if isinstance(a, Tensor):
        return a, as_tensor(b, a, op, wrap_ints)
    if isinstance(b, Tensor):
        return as_tensor(a, b, op, wrap_ints), b
    raise TypeError(f"[{op}] at least one operand must be a Tensor")


# ---- unary -----------------------------------------------------------------------------------
class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return _C.neg(x)

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = _C.exp(x)
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
        return _C.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = _C.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2.0 * y)


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = _C.rsqrt(x)
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
        return _C.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        zero = _zero(x)
        return g * ((x > zero).to(x.dtype) - (x < zero).to(x.dtype))


class Relu(Function):
    # NOTE: relu'(0) = 0, as in PyTorch.
    @staticmethod
    def forward(ctx, x):
        y = _C.relu(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return native(_C.relu_backward, g, y)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = _C.sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return native(_C.sigmoid_backward, g, y)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = _C.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return native(_C.tanh_backward, g, y)


class Gelu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _C.gelu(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return native(_C.gelu_backward, g, x)


class PowScalar(Function):
    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return _C.pow_scalar(x, exponent)

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
        return _C.clamp(x, min, max)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        mask = None
        if lo is not None:
            mask = x > lo
        if hi is not None:
            upper = x < hi
            mask = upper if mask is None else native(_C.mul, mask, upper)
        return where(mask, g, 0.0), None, None


# ---- binary ----------------------------------------------------------------------------------
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        if True in ctx.needs_input_grad:  # (the shapes cost more than the add of small tensors)
            ctx.shapes = (a.shape, b.shape)
        return _C.add(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return sum_to(g, sa), sum_to(g, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        if True in ctx.needs_input_grad:
            ctx.shapes = (a.shape, b.shape)
        return _C.sub(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        gb = sum_to(-g, sb) if ctx.needs_input_grad[1] else None
        return sum_to(g, sa), gb


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _C.mul(a, b)

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
        return _C.div(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = sum_to(g / b, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        y = _C.pow(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # b * a^(b-1), 0 where b == 0 (not 0 * 0^-1 = NaN), as PyTorch's pow_backward_self
            zero_exp = b == _zero(b)
            ga = sum_to(g * where(zero_exp, 0.0, b * a ** (b - 1.0)), a.shape)
        if ctx.needs_input_grad[1]:
            # d/db a^b = a^b log a, masked as PyTorch's pow_backward_exponent: 0 where a == 0 and
            # b >= 0; where a == 0 and b < 0 it is inf * log(0) = -inf. The base is taken in the
            # result's dtype (a bool or integer base too).
            base = a if a.dtype is y.dtype else a.to(y.dtype)
            zero_base = native(_C.mul, a == _zero(a), b >= _zero(b))
            gb = sum_to(g * where(zero_base, 0.0, y * log(base)), b.shape)
        return ga, gb


class Maximum(Function):
    # NOTE: on ties the gradient is split evenly between both inputs, as in PyTorch.
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _C.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a, b, _C.gt)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _C.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a, b, _C.lt)


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = (a.shape, b.shape)
        return _C.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        zero = _zero(g)
        ga = sum_to(native(_C.where, cond, g, zero), sa) if ctx.needs_input_grad[1] else None
        gb = sum_to(native(_C.where, cond, zero, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def _zero(ref):
    return native(_C.full, [], 0.0, ref.dtype._c, ref.device._c)


def _promote_for_scalar(x, value):
    """x cast to the dtype of `x (op) value` (PyTorch's rule: core/scalar.h result_type)."""
    from mytensor.ops._util import scalar_dtype

    dtype = scalar_dtype(value, x)
    return x if dtype is x.dtype else x.to(dtype)


def _minmax_grads(ctx, g, a, b, strictly):
    """PyTorch's maximum/minimum backward: half of g to each side of a tie, all of it to the
    winner, 0 to the loser (``strictly(a, b)``: a wins); where a comparison involves NaN neither
    side loses, so both get g."""
    half = where(a == b, g * 0.5, g)
    ga = (
        sum_to(where(native(strictly, b, a), 0.0, half), a.shape)
        if ctx.needs_input_grad[0]
        else None
    )
    gb = (
        sum_to(where(native(strictly, a, b), 0.0, half), b.shape)
        if ctx.needs_input_grad[1]
        else None
    )
    return ga, gb


# ---- the functional forms --------------------------------------------------------------------
def _promoted(a, b, op: str, wrap_ints: bool = True):
    """Both operands as tensors of the result dtype, so each gradient matches its input's dtype
    (the cast is recorded by autograd)."""
    a, b = _pair(a, b, op, wrap_ints)
    if (a.requires_grad or b.requires_grad) and a.dtype is not b.dtype:
        common = _dt.from_c(_C.result_type(a._impl, b._impl))
        a, b = a.to(common), b.to(common)
    return a, b


def _binary(fn, op: str, a, b):
    if type(a) is Tensor and type(b) is Tensor and not (a.requires_grad or b.requires_grad):
        return fn.apply(a, b)  # the common case: nothing to convert or cast for autograd
    return fn.apply(*_promoted(a, b, op))


def neg(x):
    """``-x``, elementwise."""
    return Neg.apply(x)


def exp(x):
    """``e ** x``, elementwise."""
    return Exp.apply(x)


def log(x):
    """Natural logarithm, elementwise."""
    return Log.apply(x)


def sqrt(x):
    """Square root, elementwise."""
    return Sqrt.apply(x)


def rsqrt(x):
    """``1 / sqrt(x)``, elementwise."""
    return Rsqrt.apply(x)


def abs(x):  # noqa: A001
    """Absolute value, elementwise (its gradient at 0 is 0)."""
    return Abs.apply(x)


def relu(x, inplace: bool = False):
    """max(x, 0); NaN stays NaN. ``inplace=True`` writes the result into ``x`` and returns it."""
    if inplace:
        return x.relu_()
    return Relu.apply(x)


def sigmoid(x):
    """``1 / (1 + exp(-x))``, elementwise."""
    return Sigmoid.apply(x)


def tanh(x):
    """Hyperbolic tangent, elementwise."""
    return Tanh.apply(x)


def gelu(x, approximate: str = "none"):
    """GELU, ``x * Phi(x)`` with the exact normal CDF; only ``approximate='none'``."""
    if approximate != "none":
        raise ValueError(f"[gelu] only approximate='none' is supported, got {approximate!r}")
    return Gelu.apply(x)


def square(x):
    # The dtype of x ** 2 (bool becomes int64, as in PyTorch), computed as x * x.
    """``x * x`` (a bool tensor gives int64, as in PyTorch)."""
    x = _promote_for_scalar(x, 2)
    return Mul.apply(x, x)


def _times_alpha(a, b, alpha, op):
    """b * alpha for add/sub. As in PyTorch alpha takes no part in type promotion: with two
    bool operands it is cast to bool, so bool + bool * 0 stays bool; a float alpha needs a
    floating result and a bool alpha a bool result (PyTorch raises otherwise)."""
    if type(alpha) is int and alpha == 1:
        return b
    ta, tb = _pair(a, b, op)
    result = check_alpha(ta, tb, alpha, op)
    if alpha == 1:
        return b
    if result is _dt.bool_:
        return tb if alpha else mul(tb, False)
    # alpha scales b in the result's dtype: uint8 b * -2 would wrap before a float64 a - b * -2
    return mul(tb if tb.dtype is result else tb.to(result), alpha)


def check_alpha(ta, tb, alpha, op):
    """The result dtype of ``ta (op) tb``, after checking that `alpha` suits it (add/sub)."""
    result = _dt.from_c(_C.result_type(ta._impl, tb._impl))
    if isinstance(alpha, (bool, np.bool_)):
        if result is not _dt.bool_:
            raise RuntimeError(
                f"[{op}] Boolean alpha only supported for Boolean results, got {result}"
            )
    elif not isinstance(alpha, numbers.Integral) and not result.is_floating_point:
        raise RuntimeError(
            f"[{op}] For integral input tensors, argument alpha must not be a floating point "
            f"number (alpha={alpha!r}, result dtype {result})"
        )
    return result


def add(a, b, alpha=1):
    """``a + alpha * b``, with broadcasting and PyTorch's type promotion (scalars included)."""
    if type(alpha) is not int or alpha != 1:  # alpha=1.0 or True is still checked
        b = _times_alpha(a, b, alpha, "add")
    return _binary(Add, "add", a, b)


def sub(a, b, alpha=1):
    """``a - alpha * b``, with broadcasting and PyTorch's type promotion (scalars included)."""
    if type(alpha) is not int or alpha != 1:  # alpha=1.0 or True is still checked
        b = _times_alpha(a, b, alpha, "sub")
    return _binary(Sub, "sub", a, b)


def mul(a, b):
    """``a * b``, with broadcasting and PyTorch's type promotion (scalars included)."""
    return _binary(Mul, "mul", a, b)


def div(a, b):
    """True division ``a / b`` with broadcasting (integer inputs give a float result). An int
    scalar next to an integer or bool tensor enters as a float, never wrapped to the tensor's
    dtype: ``2**40 / int32_tensor`` is exact to float32, as in PyTorch."""
    if isinstance(a, Tensor) and not a.dtype.is_floating_point:
        b = _int_scalar_as_float(b)
    elif isinstance(b, Tensor) and not b.dtype.is_floating_point:
        a = _int_scalar_as_float(a)
    return _binary(Div, "div", a, b)


def _int_scalar_as_float(v):
    if isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
        return float(scalar_value(v, "div"))
    return v


def pow(a, b):  # noqa: A001
    """``a ** b`` with broadcasting; a number exponent takes a faster path."""
    if isinstance(a, Tensor) and isinstance(b, numbers.Number) and not isinstance(b, bool):
        e = scalar_value(b, "pow")
        if isinstance(b, numbers.Integral) and not a.dtype.is_floating_point:
            # an int exponent must fit the integer tensor's dtype (int32 ** 2**31 raises)
            _C.check_convertible(e, a.dtype._c, "pow")
        return PowScalar.apply(a, e)
    return _binary(Pow, "pow", a, b)


def maximum(a, b):
    """Elementwise maximum of ``a`` and ``b`` (ties split the gradient evenly)."""
    return _binary(Maximum, "maximum", a, b)


def minimum(a, b):
    """Elementwise minimum of ``a`` and ``b`` (ties split the gradient evenly)."""
    return _binary(Minimum, "minimum", a, b)


def _is_float_bound(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


def _clamp_bound(x, value, name: str, floating: bool):
    """A clamp bound as an exact Scalar, rejected as PyTorch rejects it: an int beyond int64 with
    an integer result, a finite float beyond the range of a float result (``clamp(max=1e308)`` of
    float32). `floating`: the result is floating (x is, or a bound is a float)."""
    if value is None:
        return None
    v = scalar_value(value, "clamp")
    if type(v) is float:
        if not floating and isinstance(value, numbers.Integral) and not isinstance(value, bool):
            raise RuntimeError(
                f"[clamp] {name} {int(value)} is outside the range of {x.dtype.name}"
            )
        result = x.dtype if x.dtype.is_floating_point else _dt.get_default_dtype()
        _C.check_convertible(v, result._c, "clamp")
    return v


def clamp(x, min=None, max=None):  # noqa: A002
    """Elementwise ``min(max(x, min), max)``; either bound may be None. The gradient passes
    only where min < x < max."""
    floating = x.dtype.is_floating_point or _is_float_bound(min) or _is_float_bound(max)
    return Clamp.apply(
        x, _clamp_bound(x, min, "min", floating), _clamp_bound(x, max, "max", floating)
    )


def where(cond, a, b):
    """``a`` where ``cond`` is True, else ``b`` (broadcast together; either may be a number)."""
    return Where.apply(cond, *_promoted(a, b, "where", wrap_ints=False))


def masked_fill(x, mask, value):
    """x with `value` where `mask` is True; the result keeps x's dtype (a float value into an
    integer tensor truncates, NaN or an out-of-range value raises), as in PyTorch."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"[masked_fill] only supports a 0-dimensional value tensor, got shape {value.shape}"
            )
        fill = value.to(x.dtype)
    else:
        v = scalar_value(value, "masked_fill")
        _C.check_convertible(v, x.dtype._c, "masked_fill")
        fill = native(_C.full, [], v, x.dtype._c, x.device._c)
    return Where.apply(mask, fill, x)


def _compare(c_fn, a, b):
    a, b = _pair(a, b, c_fn.__name__)
    return native(c_fn, a, b)


def eq(a, b):
    """``a == b``, elementwise, as a bool tensor."""
    return _compare(_C.eq, a, b)


def ne(a, b):
    """``a != b``, elementwise, as a bool tensor."""
    return _compare(_C.ne, a, b)


def lt(a, b):
    """``a < b``, elementwise, as a bool tensor."""
    return _compare(_C.lt, a, b)


def le(a, b):
    """``a <= b``, elementwise, as a bool tensor."""
    return _compare(_C.le, a, b)


def gt(a, b):
    """``a > b``, elementwise, as a bool tensor."""
    return _compare(_C.gt, a, b)


def ge(a, b):
    """``a >= b``, elementwise, as a bool tensor."""
    return _compare(_C.ge, a, b)
