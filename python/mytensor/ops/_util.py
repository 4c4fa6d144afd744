"""Helpers shared by the op modules: native calls outside a Function, scalars, broadcast
gradients."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from mytensor import _C
from mytensor import _dtype as _dt

if TYPE_CHECKING:
    from mytensor._tensor import Tensor


# mytensor._tensor imports the op modules, so the Tensor class is looked up on first use.
_Tensor: type[Tensor] | None = None


def _tensor_class() -> type[Tensor]:
    global _Tensor
    from mytensor._tensor import Tensor

    _Tensor = Tensor
    return Tensor


def wrap(impl) -> Tensor:
    """A Tensor (requiring no grad) around a native impl."""
    return (_Tensor or _tensor_class())._make(impl)


def native(c_fn, *args):
    """``c_fn`` (a ``_C`` op) called on the impls of the Tensor args, its result(s) wrapped:
    for the few native calls outside a Function's forward (backward kernels, comparisons),
    which record no graph."""
    tensor_cls = _Tensor or _tensor_class()
    result = c_fn(*[a._impl if isinstance(a, tensor_cls) else a for a in args])
    if type(result) is tuple:
        return tuple(None if r is None else tensor_cls._make(r) for r in result)
    return tensor_cls._make(result)


def scalar_dtype(value, ref) -> _dt.dtype:
    """The dtype a Python scalar takes next to tensor `ref` (PyTorch's promotion for scalars)."""
    ref_dtype = ref.dtype
    kind = type(value)  # exact-type checks first: the abc checks below are slow
    if kind is float:
        return ref_dtype if ref_dtype.is_floating_point else _dt.get_default_dtype()
    if kind is int:
        return _dt.int64 if ref_dtype is _dt.bool_ else ref_dtype
    if isinstance(value, (bool, np.bool_)):
        return ref_dtype
    if isinstance(value, numbers.Integral):
        return _dt.int64 if ref_dtype is _dt.bool_ else ref_dtype
    if isinstance(value, numbers.Real):
        return ref_dtype if ref_dtype.is_floating_point else _dt.get_default_dtype()
    raise TypeError(f"unsupported operand type {type(value).__name__}")


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_FLT_MAX = float(np.finfo(np.float32).max)
_EXACT = 2**24  # every int of at most this magnitude is exact in float32


def scalar_value(value, op: str):
    """`value` as the bool, int (within int64) or float that ``_C`` takes as an exact Scalar.

    A 0-d (or one-element) tensor gives its item. An int beyond int64 but within uint64 becomes
    a float (so that float tensors accept it and integer tensors raise the overflow error, as in
    PyTorch); a larger one raises OverflowError.
    """
    kind = type(value)
    if kind is float or (kind is int and _INT64_MIN <= value <= _INT64_MAX):
        return value
    if isinstance(value, _Tensor or _tensor_class()):
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
    if isinstance(value, _Tensor or _tensor_class()):
        return value
    kind = type(value)
    if (
        (kind is float and -_FLT_MAX <= value <= _FLT_MAX)
        or (kind is int and -_EXACT <= value <= _EXACT)
    ) and ref.dtype is _dt.float32:
        # The commonest case (x * 2.0 on float32), what the general path below gives it.
        return wrap(_C.full([], value, _dt.float32._c, ref._impl.device))
    if kind is int or kind is float or isinstance(value, (numbers.Number, np.bool_)):
        dtype = scalar_dtype(value, ref)
        v = scalar_value(value, op)
        if (
            wrap_ints
            and type(v) is float
            and isinstance(value, numbers.Integral)
            and not dtype.is_floating_point
        ):
            # An int in [2^63, 2^64) next to an integer tensor wraps to int64 first (PyTorch
            # holds it as a uint64 Scalar): int32_tensor - 2**63 subtracts 0.
            v = int(value) - 2**64
        if wrap_ints and type(v) is int and dtype in (_dt.uint8, _dt.int32):
            v = _wrap_int(v, dtype)
        device = ref._impl.device
        if (
            dtype is _dt.float32
            and -_FLT_MAX <= v <= _FLT_MAX
            and (type(v) is float or -_EXACT <= v <= _EXACT)
        ):
            # The common case: a finite float32 value, which full rounds once as the cast below
            # would (and an int that float32 holds exactly).
            return wrap(_C.full([], v, dtype._c, device))
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
    return native(_C.sum_to_shape, grad, list(shape))


def dims_arg(dim) -> list[int]:
    """``dim`` as a list: None -> [] (every dim), an int -> [dim]."""
    if dim is None:
        return []
    if isinstance(dim, int):
        return [dim]
    return list(dim)
