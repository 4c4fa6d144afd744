"""Helpers shared by the op modules: wrapping native results, scalars, broadcast gradients."""

from __future__ import annotations

import numbers

import numpy as np

from mytensor import _C
from mytensor import _dtype as _dt


def wrap(impl):
    from mytensor._tensor import Tensor

    return Tensor._make(impl)


def scalar_dtype(value, ref) -> _dt.dtype:
    """The dtype a Python scalar takes next to tensor `ref` (PyTorch's promotion for scalars)."""
    ref_dtype = ref.dtype
    if isinstance(value, (bool, np.bool_)):
        return ref_dtype
    if isinstance(value, numbers.Integral):
        return _dt.int64 if ref_dtype is _dt.bool_ else ref_dtype
    if isinstance(value, numbers.Real):
        return ref_dtype if ref_dtype.is_floating_point else _dt.get_default_dtype()
    raise TypeError(f"unsupported operand type {type(value).__name__}")


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def scalar_value(value, op: str):
    """`value` as the bool, int (within int64) or float that ``_C`` takes as an exact Scalar.

    A 0-d (or one-element) tensor gives its item. An int beyond int64 but within uint64 becomes
    a float (so that float tensors accept it and integer tensors raise the overflow error, as in
    PyTorch); a larger one raises OverflowError.
    """
    from mytensor._tensor import Tensor

    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(
                f"[{op}] only a one-element tensor can be used as a scalar value, got shape "
                f"{value.shape}"
            )
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        v = int(value)
        if _INT64_MIN <= v <= _INT64_MAX:
            return v
        if -(2**64) < v < 2**64:
            return float(v)
        raise OverflowError(f"[{op}] int {v} is too big to convert to a tensor element")
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"[{op}] expected a Python number, got {type(value).__name__}")


def _wrap_int(v: int, dtype) -> int:
    """An int scalar of integer arithmetic taken modulo 2^bits of `dtype`, as PyTorch wraps it."""
    bits = 8 * dtype.itemsize
    if dtype is _dt.uint8:
        return v % (1 << bits)
    return (v + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))


def as_tensor(value, ref, op: str = "scalar", wrap_ints: bool = False):
    """`value` itself if it is a Tensor, else a 0-d tensor on `ref`'s device of the dtype that
    PyTorch gives a scalar next to `ref` (see scalar_dtype).

    The value is exact; one that does not fit the dtype raises RuntimeError, except that with
    `wrap_ints` (arithmetic and comparisons) an int wraps modulo the integer dtype, as in PyTorch.
    """
    from mytensor._tensor import Tensor

    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.bool_)):
        dtype = scalar_dtype(value, ref)
        v = scalar_value(value, op)
        if wrap_ints and type(v) is int and dtype in (_dt.uint8, _dt.int32):
            v = _wrap_int(v, dtype)
        device = ref._impl.device
        if wrap_ints and dtype.is_floating_point and dtype is not _dt.float64:
            # Arithmetic rounds a float beyond float32 to inf (x * 1e308), as PyTorch does.
            return wrap(_C.to_dtype(_C.full([], v, _dt.float64._c, device), dtype._c))
        _C.check_convertible(v, dtype._c, op)
        return wrap(_C.full([], v, dtype._c, device))
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


def sum_to(grad, shape):
    """Reduces a gradient of a broadcast result back to an input's shape."""
    if grad.shape == tuple(shape):
        return grad
    return wrap(_C.sum_to_shape(grad._impl, list(shape)))


def dims_arg(dim) -> list[int]:
    """``dim`` as a list: None -> [] (every dim), an int -> [dim]."""
    if dim is None:
        return []
    if isinstance(dim, int):
        return [dim]
    return list(dim)
