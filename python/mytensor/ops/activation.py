"""Activations composed from existing differentiable ops (where, exp, log, sigmoid, tanh, ...):
silu, leaky_relu, elu, selu, softplus, mish, hardswish, hardsigmoid, prelu. No kernels of their
own, so autograd and every backend work through the ops they are built from (issue #14)."""

from __future__ import annotations

from mytensor import _C
from mytensor._tensor import Tensor
from mytensor.ops.elementwise import exp, log, sigmoid, tanh, where

# SELU's constants, from Klambauer et al. 2017 (the values PyTorch uses).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _check_float(x, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"[{name}] expected a Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise _C.DTypeError(f"[{name}] expected a floating-point input, got {x.dtype.name}")


def _inplace(x, out):
    """Writes ``out`` into ``x`` and returns ``x`` (the ``inplace=True`` forms)."""
    return x.copy_(out)


def _softplus(z):
    """log(1 + exp(z)) without overflow: z + log(1 + exp(-z)) for z > 0, else log(1 + exp(z)).

    Each branch sees its argument through a where() that zeroes the other side's values, so the
    branch that is not selected stays finite and contributes no NaN to the gradient; at z = 0
    the gradient is sigmoid(0) = 1/2, with no kink from max/abs.
    """
    pos = z > 0
    zp = where(pos, z, 0.0)
    zn = where(pos, 0.0, z)
    return where(pos, zp + log(1.0 + exp(-zp)), log(1.0 + exp(zn)))


def silu(input, inplace: bool = False):
    """SiLU (swish): ``x * sigmoid(x)``.

    Args:
        input: a floating-point tensor, any shape.
        inplace: write the result into ``input`` and return it.
    """
    _check_float(input, "silu")
    out = input * sigmoid(input)
    return _inplace(input, out) if inplace else out


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where x > 0, else ``negative_slope * x``; at 0 the gradient is ``negative_slope``,
    as in PyTorch.

    Args:
        input: a floating-point tensor, any shape.
        negative_slope: the slope for x <= 0.
        inplace: write the result into ``input`` and return it.
    """
    _check_float(input, "leaky_relu")
    out = where(input > 0, input, input * float(negative_slope))
    return _inplace(input, out) if inplace else out


def _elu(x, alpha: float, scale: float = 1.0):
    # exp sees min(x, 0) through a where(), so a large positive x cannot overflow the unused
    # branch (whose inf would turn the masked gradient into NaN); at 0 the negative branch's
    # gradient (alpha) is taken, as in PyTorch.
    pos = x > 0
    neg = alpha * (exp(where(pos, 0.0, x)) - 1.0)
    out = where(pos, x, neg)
    return out * scale if scale != 1.0 else out


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """ELU: ``x`` where x > 0, else ``alpha * (exp(x) - 1)``.

    Args:
        input: a floating-point tensor, any shape.
        alpha: the saturation value for x -> -inf is ``-alpha``.
        inplace: write the result into ``input`` and return it.
    """
    _check_float(input, "elu")
    out = _elu(input, float(alpha))
    return _inplace(input, out) if inplace else out


def selu(input, inplace: bool = False):
    """SELU: ``scale * elu(x, alpha)`` with PyTorch's constants (alpha ~ 1.6733, scale ~ 1.0507).

    Args:
        input: a floating-point tensor, any shape.
        inplace: write the result into ``input`` and return it.
    """
    _check_float(input, "selu")
    out = _elu(input, SELU_ALPHA, SELU_SCALE)
    return _inplace(input, out) if inplace else out


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """Softplus: ``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x >
    threshold`` (PyTorch's linear region). Computed without overflow for large ``|x|``.

    Args:
        input: a floating-point tensor, any shape.
        beta: the sharpness.
        threshold: above ``beta * x > threshold`` the result is ``x``.
    """
    _check_float(input, "softplus")
    beta, threshold = float(beta), float(threshold)
    z = input * beta if beta != 1.0 else input
    soft = _softplus(z)
    if beta != 1.0:
        soft = soft / beta
    return where(z > threshold, input, soft)


def mish(input, inplace: bool = False):
    """Mish: ``x * tanh(softplus(x))``.

    Args:
        input: a floating-point tensor, any shape.
        inplace: write the result into ``input`` and return it.
    """
    _check_float(input, "mish")
    out = input * tanh(_softplus(input))
    return _inplace(input, out) if inplace else out


def hardsigmoid(input, inplace: bool = False):
    """``0`` for x <= -3, ``1`` for x >= 3, ``x / 6 + 1/2`` between; the gradient is 1/6 strictly
    inside (-3, 3) and 0 elsewhere, as in PyTorch.

    Args:
        input: a floating-point tensor, any shape.
        inplace: write the result into ``input`` and return it.
    """
    _check_float(input, "hardsigmoid")
    # NaN stays NaN with a zero gradient (PyTorch's backward tests -3 < x < 3), hence the
    # detached fallback.
    middle = where(input == input, input / 6.0 + 0.5, input.detach())
    out = where(input >= 3.0, 1.0, where(input <= -3.0, 0.0, middle))
    return _inplace(input, out) if inplace else out


def hardswish(input, inplace: bool = False):
    """``x * hardsigmoid(x)``: 0 for x <= -3, ``x`` for x >= 3, ``x * (x + 3) / 6`` between; the
    gradient at -3 is 0 and at 3 is 1, and -inf gives NaN (``-inf * 0``), as in PyTorch.

    Args:
        input: a floating-point tensor, any shape.
        inplace: write the result into ``input`` and return it.
    """
    _check_float(input, "hardswish")
    # The middle piece sees only middle values, so +-inf leave no NaN in the masked gradient.
    xm = where(input <= -3.0, 0.0, where(input >= 3.0, 0.0, input))
    middle = xm * (xm + 3.0) / 6.0
    out = where(input <= -3.0, input * 0.0, where(input >= 3.0, input, middle))
    return _inplace(input, out) if inplace else out


def prelu(input, weight):
    """PReLU: ``x`` where x > 0, else ``weight * x``, with one weight or one per channel.

    Args:
        input: a floating-point tensor; channels on dim 1 (an input of fewer than 2 dims has
            one channel, as in PyTorch).
        weight: a 1-d tensor of 1 or C slopes.

    Shape:
        the output has the input's shape.
    """
    _check_float(input, "prelu")
    if weight.ndim != 1:
        raise _C.ShapeError(f"[prelu] weight must be 1-d, got shape {tuple(weight.shape)}")
    n = weight.shape[0]
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if channels != n:
            raise _C.ShapeError(
                f"[prelu] weight has {n} slopes but the input of shape {tuple(input.shape)} "
                f"has {channels} channels"
            )
    w = weight
    if input.ndim >= 2:
        w = weight.reshape(1, n, *([1] * (input.ndim - 2)))
    else:
        w = weight.reshape(())
    return where(input > 0, input, w * input)


__all__ = [
    "elu",
    "hardsigmoid",
    "hardswish",
    "leaky_relu",
    "mish",
    "prelu",
    "selu",
    "silu",
    "softplus",
]
