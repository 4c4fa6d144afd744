"""Element types: ``mt.float32`` and friends, mirroring ``torch.dtype``."""

from __future__ import annotations

import numpy as np

from mytensor import _C


class dtype:
    """An element type. Compare with ``is`` or ``==``; ``str(mt.float32) == 'mytensor.float32'``."""

    __slots__ = ("name", "_c", "itemsize", "is_floating_point", "numpy")

    def __init__(self, name: str, c_dtype, np_dtype, is_floating_point: bool) -> None:
        self.name = name
        self._c = c_dtype
        self.itemsize = _C.itemsize(c_dtype)
        self.is_floating_point = is_floating_point
        self.numpy = np.dtype(np_dtype) if np_dtype is not None else None

    def __repr__(self) -> str:
        return f"mytensor.{self.name}"

    def __reduce__(self):
        return (_from_name, (self.name,))


bool_ = dtype("bool", _C.DType.bool, np.bool_, False)
uint8 = dtype("uint8", _C.DType.uint8, np.uint8, False)
int32 = dtype("int32", _C.DType.int32, np.int32, False)
int64 = dtype("int64", _C.DType.int64, np.int64, False)
float16 = dtype("float16", _C.DType.float16, np.float16, True)
bfloat16 = dtype("bfloat16", _C.DType.bfloat16, None, True)
float32 = dtype("float32", _C.DType.float32, np.float32, True)
float64 = dtype("float64", _C.DType.float64, np.float64, True)

# PyTorch's aliases.
long, int, float, double, half = int64, int32, float32, float64, float16

_ALL = (bool_, uint8, int32, int64, float16, bfloat16, float32, float64)
# Keyed by identity: the native enum members are singletons, and an Enum's hash is computed in
# Python (this lookup runs for every Tensor.dtype).
_BY_C_ID = {id(d._c): d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NUMPY = {d.numpy: d for d in _ALL if d.numpy is not None}


def _from_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_c(c_dtype) -> dtype:
    """The dtype of a native ``_C.DType``."""
    return _BY_C_ID[id(c_dtype)]


def from_numpy(np_dtype) -> dtype:
    """The mytensor dtype of a NumPy dtype; raises TypeError for unsupported ones."""
    key = np.dtype(np_dtype)
    if key not in _BY_NUMPY:
        raise _C.DTypeError(
            f"[from_numpy] NumPy dtype {key} is not supported; supported: "
            + ", ".join(d.name for d in _ALL if d.numpy is not None)
        )
    return _BY_NUMPY[key]


def promote_types(a: dtype, b: dtype) -> dtype:
    """The dtype that an op on tensors of dtypes ``a`` and ``b`` gives (PyTorch's promotion)."""
    return from_c(_C.promote_types(a._c, b._c))


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats: float32 (it cannot be changed)."""
    return float32
