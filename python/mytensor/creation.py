"""Creating tensors: from data (``tensor``, ``from_numpy``, ``from_dlpack``), filled
(``zeros``, ``full``, ``arange``, ...) and random (``rand``, ``randn``, ... from the
counter-based generator that ``manual_seed`` seeds)."""

from __future__ import annotations

import numbers
import operator

import numpy as np

from mytensor import _C
from mytensor import _dtype as _dt
from mytensor._device import as_device
from mytensor._tensor import Tensor
from mytensor.ops._util import scalar_value


def _shape(size, op: str) -> list[int]:
    """The sizes of ``zeros(2, 3)`` or ``zeros((2, 3))`` as ints; anything else (a str, a
    float) raises TypeError, as in PyTorch."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, bool) or not hasattr(s, "__index__"):
            raise TypeError(
                f"[{op}] size must be ints or one tuple of ints, got {type(s).__name__} {s!r}"
            )
        out.append(operator.index(s))
    return out


def _finish(impl, requires_grad: bool) -> Tensor:
    t = Tensor._make(impl)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _default(dtype) -> _dt.dtype:
    return _dt.get_default_dtype() if dtype is None else dtype


def _check_byte_order(array: np.ndarray, op: str) -> None:
    if not array.dtype.isnative:
        raise ValueError(
            f"[{op}] the array's byte order ({array.dtype.str}) is not the machine's native "
            "order; convert it first: array.astype(array.dtype.newbyteorder('='))"
        )


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array (copied if its strides can't be
    represented: negative or not a multiple of the item size; or if it is read-only, since a
    tensor is always writable)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"[from_numpy] expected a numpy.ndarray, got {type(array).__name__}")
    _check_byte_order(array, "from_numpy")
    _dt.from_numpy(array.dtype)  # raises a clear error for unsupported dtypes
    if any(s < 0 or s % array.itemsize for s in array.strides) or not array.flags.writeable:
        array = np.array(array, copy=True, order="C")
    return Tensor._make(_C.from_dlpack(array))


def _capsule_state(obj) -> bool | None:
    """None if `obj` is not a PyCapsule; else whether it is an unconsumed DLPack capsule
    (a consumer renames "dltensor" to "used_dltensor")."""
    if type(obj).__name__ != "PyCapsule":
        return None
    import ctypes

    is_valid = ctypes.pythonapi.PyCapsule_IsValid
    is_valid.restype, is_valid.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
    return bool(is_valid(obj, b"dltensor") or is_valid(obj, b"dltensor_versioned"))


def from_dlpack(obj) -> Tensor:
    """A tensor sharing memory with any object exporting DLPack (NumPy, PyTorch, ...) or with a
    DLPack capsule. An exception raised by the object's ``__dlpack__`` propagates."""
    if isinstance(obj, Tensor):
        return obj.detach()
    if isinstance(obj, np.ndarray):
        return from_numpy(obj)  # read-only or oddly strided arrays are copied
    state = _capsule_state(obj)
    if state is False:
        raise RuntimeError(
            "[from_dlpack] the capsule is not a DLPack tensor capsule or was already consumed: "
            "a DLPack capsule can be imported only once (pass the producer object, not "
            "obj.__dlpack__(), to import it again)"
        )
    if state is None:
        if not hasattr(obj, "__dlpack__"):
            raise TypeError(
                "[from_dlpack] expected an object with __dlpack__ (a NumPy array, a torch "
                f"tensor, ...) or a DLPack capsule, got {type(obj).__name__}"
            )
        obj = obj.__dlpack__()  # the producer's own errors propagate unchanged
    try:
        impl = _C.from_dlpack(obj)
    except TypeError as e:
        if "incompatible function arguments" not in str(e):
            raise
        raise TypeError(
            "[from_dlpack] the DLPack tensor can't be imported (read-only, or a dtype, device "
            "or layout mytensor does not support)"
        ) from None
    return Tensor._make(impl)


def tensor(
    data, dtype: _dt.dtype | None = None, device=None, requires_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays, tensors).

    Python floats become float32 (the default dtype), ints int64 and bools bool, as in PyTorch.
    """
    if isinstance(data, Tensor):
        out = data.detach().to(
            device=as_device(device) if device else data.device, dtype=dtype or data.dtype
        )
        out = Tensor._make(_C.clone(out._impl))
        return _finish(out._impl, requires_grad)
    if isinstance(data, np.ndarray):
        _check_byte_order(data, "tensor")
        array = np.array(data, copy=True, order="C")
    else:
        array = np.array(data, order="C")
        _check_values_fit(array, dtype)
        if array.dtype == np.float64 and dtype is None:
            with np.errstate(over="ignore"):  # 1e300 becomes inf in float32, as in PyTorch
                array = array.astype(np.float32)
        if array.dtype.kind in "iu" and dtype is None and array.dtype != np.uint8:
            array = array.astype(np.int64)
        if array.dtype == object:
            raise TypeError("[tensor] could not infer a dtype: data must be numbers of one kind")
    if dtype is not None:
        if dtype.numpy is None:
            raise _C.DTypeError(f"[tensor] dtype {dtype} is not supported yet")
        with np.errstate(over="ignore"):
            array = array.astype(dtype.numpy)
    t = from_numpy(array)
    dev = as_device(device)
    if dev.type != "cpu":
        t = Tensor._make(_C.to_device(t._impl, dev._c))
    return _finish(t._impl, requires_grad)


as_tensor = tensor


def _check_values_fit(array: np.ndarray, dtype) -> None:
    """Raises, as PyTorch, when Python numbers do not fit the tensor: an int beyond int64
    (ValueError), NaN, inf or an out-of-range value for an integer dtype (RuntimeError)."""
    floating = dtype is not None and (dtype.is_floating_point or dtype is _dt.bool_)
    if (array.dtype == np.uint64 and not floating) or (
        array.dtype == object
        and any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in array.flat)
    ):
        bad = next(int(v) for v in array.flat if not -(2**63) <= int(v) < 2**63)
        raise ValueError(f"[tensor] int {bad} is out of range for int64 (overflow)")
    if dtype is None or dtype.numpy is None or array.size == 0:
        return
    if dtype.is_floating_point or dtype is _dt.bool_ or array.dtype.kind not in "iuf":
        return
    info = np.iinfo(dtype.numpy)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            bad = array.flat[np.flatnonzero(~np.isfinite(array))[0]]
            raise RuntimeError(
                f"[tensor] value {bad} cannot be converted to type {dtype.name} without overflow"
            )
        # Fractions truncate, as in PyTorch; max + 1 is exact in float64 where max is not.
        values, lowest, above = np.trunc(array), info.min, float(info.max) + 1
    else:
        # As c10: negative ints down to -max wrap into an unsigned type (-1 -> 255 in uint8).
        values, lowest, above = array, (-info.max if info.min == 0 else info.min), info.max + 1
    lo, hi = values.min(), values.max()
    if lo < lowest or hi >= above:
        bad = array.flat[np.argmin(array) if lo < lowest else np.argmax(array)]
        raise RuntimeError(
            f"[tensor] value {bad} cannot be converted to type {dtype.name} without overflow"
        )


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given size with unspecified values (``empty(2, 3)`` or ``empty((2, 3))``)."""
    impl = _C.empty(_shape(size, "empty"), _default(dtype)._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value` (exact: int64 values keep every digit). The
    dtype defaults to bool, int64 or the default float dtype after the value's type; a value the
    dtype cannot hold (NaN into int64, 256 into uint8) raises RuntimeError."""
    value = scalar_value(fill_value, "full")
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = _dt.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = _dt.int64
        else:
            dtype = _dt.get_default_dtype()
    shape = _shape((size,), "full")
    impl = _C.full(shape, value, dtype._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given size (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
    shape = _shape(size, "zeros")
    return full(shape, 0.0, dtype=_default(dtype), device=device, requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given size (``ones(2, 3)`` or ``ones((2, 3))``)."""
    shape = _shape(size, "ones")
    return full(shape, 1.0, dtype=_default(dtype), device=device, requires_grad=requires_grad)


def _like(x: Tensor, dtype, device):
    return (x.dtype if dtype is None else dtype), (x.device if device is None else device)


def zeros_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape (and dtype and device unless given)."""
    dtype, device = _like(x, dtype, device)
    return full(x.shape, 0.0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape (and dtype and device unless given)."""
    dtype, device = _like(x, dtype, device)
    return full(x.shape, 1.0, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(
    x: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``x``'s shape (and dtype and device unless given) filled with ``fill_value``."""
    dtype, device = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``x``'s shape (and dtype and device unless given)."""
    dtype, device = _like(x, dtype, device)
    return empty(x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from start (inclusive) to end (exclusive); int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    start, end, step = (scalar_value(v, "arange") for v in (start, end, step))
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = _dt.int64 if ints else _dt.get_default_dtype()
    impl = _C.arange(start, end, step, dtype._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def eye(
    n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """An ``n`` x ``m`` (``m`` defaults to ``n``) matrix with ones on the diagonal."""
    impl = _C.eye(int(n), int(n if m is None else m), _default(dtype)._c, as_device(device)._c)
    return _finish(impl, requires_grad)


# ---- random ----------------------------------------------------------------------------------
def manual_seed(seed: int) -> None:
    """Seeds the generator of every device; draws are then reproducible (and equal on CPU and
    CUDA, since element i of a draw depends only on the seed and the generator's offset)."""
    _C.manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)


def get_rng_state() -> tuple[int, int]:
    """(seed, offset) of the generator, for checkpoints."""
    return tuple(_C.get_rng_state())


def set_rng_state(state) -> None:
    """Restores the generator state ``(seed, offset)`` returned by :func:`get_rng_state`."""
    seed, offset = state
    _C.set_rng_state(int(seed), int(offset))


def rand(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    impl = _C.rand(_shape(size, "rand"), _default(dtype)._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    impl = _C.randn(_shape(size, "randn"), _default(dtype)._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None) -> Tensor:
    """Integers uniform on [low, high)."""
    if high is None:
        low, high = 0, low
    dtype = _dt.int64 if dtype is None else dtype
    return Tensor._make(
        _C.randint(int(low), int(high), [int(s) for s in size], dtype._c, as_device(device)._c)
    )


def randperm(n: int, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    dtype = _dt.int64 if dtype is None else dtype
    return Tensor._make(_C.randperm(int(n), dtype._c, as_device(device)._c))


def rand_like(x: Tensor, dtype=None, device=None) -> Tensor:
    """Uniform values in [0, 1) of ``x``'s shape (and dtype and device unless given)."""
    dtype, device = _like(x, dtype, device)
    return rand(x.shape, dtype=dtype, device=device)


def randn_like(x: Tensor, dtype=None, device=None) -> Tensor:
    """Standard normal values of ``x``'s shape (and dtype and device unless given)."""
    dtype, device = _like(x, dtype, device)
    return randn(x.shape, dtype=dtype, device=device)
