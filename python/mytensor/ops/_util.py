"""Helpers shared by the op modules: wrapping native results, scalars, broadcast gradients."""

from __future__ import annotations

import importlib
import numbers

from mytensor import _C

# mytensor.dtype is shadowed by the dtype class on the package: load the module itself.
_dt = importlib.import_module("mytensor.dtype")


def wrap(impl):
    from mytensor.tensor import Tensor

    return Tensor._make(impl)


def scalar_dtype(value, ref) -> _dt.dtype:
    """The dtype a Python scalar takes next to tensor `ref` (PyTorch's promotion for scalars)."""
    ref_dtype = ref.dtype
    if isinstance(value, bool):
        return ref_dtype
    if isinstance(value, numbers.Integral):
        return _dt.int64 if ref_dtype is _dt.bool_ else ref_dtype
    if isinstance(value, numbers.Real):
        return ref_dtype if ref_dtype.is_floating_point else _dt.get_default_dtype()
    raise TypeError(f"unsupported operand type {type(value).__name__}")


def as_tensor(value, ref):
    """`value` itself if it is a Tensor, else a 0-d tensor on `ref`'s device."""
    from mytensor.tensor import Tensor

    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number):
        dtype = scalar_dtype(value, ref)
        return wrap(_C.full([], float(value), dtype._c, ref._impl.device))
    raise TypeError(
        f"expected a Tensor or a Python number, got {type(value).__name__}"
    )


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
