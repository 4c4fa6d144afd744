"""Creating tensors: from data (``tensor``, ``from_numpy``, ``from_dlpack``), filled
(``zeros``, ``full``, ``arange``, ...) and random (``rand``, ``randn``, ... from the
counter-based generator that ``manual_seed`` seeds)."""

from __future__ import annotations

import importlib
import numbers

import numpy as np

from mytensor import _C
from mytensor.device import as_device
from mytensor.tensor import Tensor

# mytensor.dtype is shadowed by the dtype class on the package: load the module itself.
_dt = importlib.import_module("mytensor.dtype")


def _shape(size) -> list[int]:
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = tuple(size[0])
    return [int(s) for s in size]


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
            "order; convert it first: array.astype(array.dtype.newbyteorder('='))")


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
            "obj.__dlpack__(), to import it again)")
    if state is None:
        if not hasattr(obj, "__dlpack__"):
            raise TypeError(
                "[from_dlpack] expected an object with __dlpack__ (a NumPy array, a torch "
                f"tensor, ...) or a DLPack capsule, got {type(obj).__name__}")
        obj = obj.__dlpack__()  # the producer's own errors propagate unchanged
    try:
        impl = _C.from_dlpack(obj)
    except TypeError as e:
        if "incompatible function arguments" not in str(e):
            raise
        raise TypeError(
            "[from_dlpack] the DLPack tensor can't be imported (read-only, or a dtype, device "
            "or layout mytensor does not support)") from None
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
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(np.float32)
        if array.dtype.kind in "iu" and dtype is None and array.dtype != np.uint8:
            array = array.astype(np.int64)
        if array.dtype == object:
            raise TypeError("[tensor] could not infer a dtype: data must be numbers of one kind")
    if dtype is not None:
        if dtype.numpy is None:
            raise _C.DTypeError(f"[tensor] dtype {dtype} is not supported yet")
        array = array.astype(dtype.numpy)
    t = from_numpy(array)
    dev = as_device(device)
    if dev.type != "cpu":
        t = Tensor._make(_C.to_device(t._impl, dev._c))
    return _finish(t._impl, requires_grad)


as_tensor = tensor


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    impl = _C.empty(_shape(size), _default(dtype)._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = _dt.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = _dt.int64
        else:
            dtype = _dt.get_default_dtype()
    shape = [int(size)] if isinstance(size, numbers.Integral) else [int(s) for s in size]
    impl = _C.full(shape, float(fill_value), dtype._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(
        _shape(size), 0.0, dtype=_default(dtype), device=device, requires_grad=requires_grad
    )


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(
        _shape(size), 1.0, dtype=_default(dtype), device=device, requires_grad=requires_grad
    )


def _like(x: Tensor, dtype, device):
    return (x.dtype if dtype is None else dtype), (x.device if device is None else device)


def zeros_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return full(x.shape, 0.0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return full(x.shape, 1.0, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(
    x: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return empty(x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from start (inclusive) to end (exclusive); int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = _dt.int64 if ints else _dt.get_default_dtype()
    impl = _C.arange(float(start), float(end), float(step), dtype._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def eye(
    n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
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
    seed, offset = state
    _C.set_rng_state(int(seed), int(offset))


def rand(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    impl = _C.rand(_shape(size), _default(dtype)._c, as_device(device)._c)
    return _finish(impl, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    impl = _C.randn(_shape(size), _default(dtype)._c, as_device(device)._c)
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
    dtype, device = _like(x, dtype, device)
    return rand(x.shape, dtype=dtype, device=device)


def randn_like(x: Tensor, dtype=None, device=None) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return randn(x.shape, dtype=dtype, device=device)
