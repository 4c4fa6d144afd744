"""Shape Functions: views (reshape, permute, slicing, expand, ...), cat/stack/pad/flip, and
device/dtype conversion."""

from __future__ import annotations

import math
import numbers

import numpy as np

from mytensor import _C
from mytensor._dtype import from_c
from mytensor._tensor import Tensor
from mytensor.autograd.function import Function
from mytensor.ops._util import dims_arg, native, sum_to


def _shape_arg(shape) -> list[int]:
    """Accepts f(2, 3) and f((2, 3)) as PyTorch does."""
    if len(shape) == 1 and type(shape[0]) is not int and not isinstance(shape[0], numbers.Integral):
        return [int(s) for s in shape[0]]
    return [int(s) for s in shape]


# ---- views -----------------------------------------------------------------------------------
class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape, view_only):
        if True in ctx.needs_input_grad:
            ctx.in_shape = x.shape
        return (_C.view if view_only else _C.reshape)(x, shape)

    @staticmethod
    def backward(ctx, g):
        return native(_C.reshape, g, list(ctx.in_shape)), None, None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _C.permute(x, dims)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d % len(ctx.dims)] = i
        return native(_C.permute, g, inverse), None


class Transpose(Function):
    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return _C.transpose(x, dim0, dim1)

    @staticmethod
    def backward(ctx, g):
        return native(_C.transpose, g, *ctx.dims), None, None


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return _C.expand(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape), None


class Squeeze(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.in_shape = x.shape
        return _C.squeeze(x, dims)

    @staticmethod
    def backward(ctx, g):
        return native(_C.reshape, g, list(ctx.in_shape)), None


class Unsqueeze(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return _C.unsqueeze(x, dim)

    @staticmethod
    def backward(ctx, g):
        return native(_C.squeeze, g, [ctx.dim]), None


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _C.flip(x, dims)

    @staticmethod
    def backward(ctx, g):
        return native(_C.flip, g, ctx.dims), None


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        return _C.contiguous(x)

    @staticmethod
    def backward(ctx, g):
        return g


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return _C.clone(x)

    @staticmethod
    def backward(ctx, g):
        return g


class To(Function):
    @staticmethod
    def forward(ctx, x, device, dtype):
        ctx.src = (x.device, x.dtype)
        if dtype is not None:
            x = _C.to_dtype(x, dtype._c)
        if device is not None:
            x = _C.to_device(x, device._c)
        return x

    @staticmethod
    def backward(ctx, g):
        device, dtype = ctx.src
        return native(_C.to_device, native(_C.to_dtype, g, dtype), device), None, None


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        out = _C.cat(list(xs), dim)  # validates dim and shapes first
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] if x.ndim else 1 for x in xs]
        # Mixed inputs are promoted: their grads go back cast.
        ctx.dtypes = [from_c(x.dtype) for x in xs]
        return out

    @staticmethod
    def backward(ctx, g):
        grads, at = [], 0
        for k, size in enumerate(ctx.sizes):
            gk = None
            if ctx.needs_input_grad[k + 1]:
                gk = native(_C.slice, g, ctx.dim, at, at + size, 1)
                if gk.dtype is not ctx.dtypes[k]:
                    gk = gk.to(ctx.dtypes[k])
            grads.append(gk)
            at += size
        return (None, *grads)


class Pad(Function):
    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        return _C.pad(x, pads, float(value))

    @staticmethod
    def backward(ctx, g):
        # Cropping by the negated padding undoes it (and zero-pads where the input was cropped).
        return native(_C.pad, g, [-p for p in ctx.pads], 0.0), None, None


class BasicIndex(Function):
    """x[index] for ints, slices, None and Ellipsis: a view."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape = x.shape
        ctx.index = index
        return _apply_basic(x, index)

    @staticmethod
    def backward(ctx, g):
        from mytensor.creation import zeros

        out = zeros(ctx.in_shape, dtype=g.dtype, device=g.device)
        _C.copy_(_apply_basic(out._impl, ctx.index), g._impl)
        return out, None


# ---- the functional forms --------------------------------------------------------------------
def reshape(x, *shape):
    """``x`` in a new shape (one dim may be -1): a view where the strides allow, else a copy."""
    return Reshape.apply(x, _shape_arg(shape), False)


def view(x, *shape):
    return Reshape.apply(x, _shape_arg(shape), True)


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def permute(x, *dims):
    """A view of ``x`` with its dims reordered (``permute(x, 2, 0, 1)`` or a tuple)."""
    return Permute.apply(x, _shape_arg(dims))


def transpose(x, dim0: int, dim1: int):
    """A view of ``x`` with dims ``dim0`` and ``dim1`` swapped."""
    return Transpose.apply(x, dim0, dim1)


def t(x):
    if x.ndim > 2:
        raise ValueError(f"[t] expects a tensor with <= 2 dims, got shape {x.shape}")
    return x if x.ndim < 2 else Transpose.apply(x, 0, 1)


def expand(x, *shape):
    return Expand.apply(x, _shape_arg(shape))


def expand_as(x, other):
    return expand(x, other.shape)


def broadcast_to(x, shape):
    """A broadcast view of ``x`` with shape ``shape`` (no memory is copied)."""
    return expand(x, tuple(shape))


def squeeze(x, dim=None):
    """A view of ``x`` without its size-1 dims (only those in ``dim``, if given)."""
    return Squeeze.apply(x, None if dim is None else dims_arg(dim))


def unsqueeze(x, dim: int):
    """A view of ``x`` with a new size-1 dim at position ``dim``."""
    return Unsqueeze.apply(x, dim)


def _wrap_dim(op: str, dim: int, ndim: int) -> int:
    # Python-side dim arguments get the same check (and message) as the native ops' dims.
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"[{op}] dim {dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected a dim in [{-ndim}, {ndim - 1}])"
        )
    return dim % ndim


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """``x`` with the dims from ``start_dim`` to ``end_dim`` merged into one (a view if it can)."""
    if x.ndim == 0:  # dims 0 and -1 name a scalar's one dim, as in PyTorch
        for d in (start_dim, end_dim):
            if d not in (0, -1):
                raise IndexError(
                    f"[flatten] dim {d} is out of range for a tensor with 0 "
                    "dimensions (expected a dim in [-1, 0])"
                )
        return reshape(x, 1)
    shape = x.shape
    s, e = _wrap_dim("flatten", start_dim, x.ndim), _wrap_dim("flatten", end_dim, x.ndim)
    if s > e:
        raise ValueError(f"[flatten] start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(shape[s : e + 1], dtype=np.int64))
    return reshape(x, (*shape[:s], merged, *shape[e + 1 :]))


def flip(x, dims):
    """A copy of ``x`` with the order of the elements along ``dims`` reversed."""
    return Flip.apply(x, dims_arg(dims))


def contiguous(x):
    return x if x.is_contiguous() else Contiguous.apply(x)


def clone(x):
    return Clone.apply(x)


def to(x, device=None, dtype=None):
    if device is not None and device == x.device:
        device = None
    if dtype is not None and dtype is x.dtype:
        dtype = None
    if device is None and dtype is None:
        return x
    out = To.apply(x, device, dtype)
    if out.grad_fn is not None and dtype is not None and not dtype.is_floating_point:
        out.grad_fn, out.requires_grad = None, False
    return out


def cat(tensors, dim: int = 0):
    """The tensors joined along the existing dim ``dim`` (same shape in every other dim)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("[cat] expected a non-empty list of tensors")
    return Cat.apply(dim, *tensors)


def stack(tensors, dim: int = 0):
    """The tensors (all of one shape) joined along a new dim ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("[stack] expected a non-empty list of tensors")
    first = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != first:
            raise _C.ShapeError(
                f"[stack] expects each tensor to be equal size, but got {first} at entry 0 and "
                f"{x.shape} at entry {i}"
            )
    d = _wrap_dim("stack", dim, len(first) + 1)
    return cat([unsqueeze(x, d) for x in tensors], d)


def pad(x, pad, mode: str = "constant", value: float = 0.0):
    """Pads the last dims: ``pad = (left, right, top, bottom, ...)``, as torch.nn.functional.pad."""
    if mode != "constant":
        raise ValueError(f"[pad] only mode='constant' is supported, got {mode!r}")
    return Pad.apply(x, [int(p) for p in pad], value)


# ---- indexing --------------------------------------------------------------------------------
def _is_0d_bool(i) -> bool:
    """A 0-d bool tensor index: like None it adds a dim (of size 1 if True, 0 if False)."""
    return isinstance(i, Tensor) and i.ndim == 0 and i.dtype.name == "bool"


def _normalize_index(index, ndim: int):
    if not isinstance(index, tuple):
        index = (index,)
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis and not _is_0d_bool(i))
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("[getitem] an index can only have a single ellipsis ('...')")
    out = []
    for i in index:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(i)
    if consumed > ndim:
        raise IndexError(f"[getitem] too many indices for a tensor of dimension {ndim}")
    return tuple(out)


def _apply_basic(impl, index):
    dim = 0
    for i in index:
        if i is None:
            impl = _C.unsqueeze(impl, dim)
            dim += 1
        elif isinstance(i, slice):
            step = 1 if i.step is None else int(i.step)
            if step <= 0:
                raise ValueError(f"[getitem] slice step must be positive, got {step}")
            start = None if i.start is None else int(i.start)
            stop = None if i.stop is None else int(i.stop)
            impl = _C.slice(impl, dim, start, stop, step)
            dim += 1
        else:
            impl = _C.select(impl, dim, int(i))
    return impl


def _is_basic(i) -> bool:
    return (
        i is None
        or i is Ellipsis
        or isinstance(i, (slice, numbers.Integral))
        and not isinstance(i, bool)
    )


def getitem(x, index):
    if (type(index) is slice or type(index) is int) and x.ndim:
        return BasicIndex.apply(x, (index,))  # x[i], x[a:b]: nothing to normalize
    from mytensor.ops.index import index_select

    parts = _normalize_index(index, x.ndim)
    advanced = [k for k, i in enumerate(parts) if not _is_basic(i)]
    if not advanced:
        return BasicIndex.apply(x, parts)
    if len(advanced) > 1:
        raise IndexError(
            "[getitem] only one tensor/list index per indexing expression is supported"
        )
    k = advanced[0]
    idx = parts[k]
    if isinstance(idx, (list, np.ndarray)):
        from mytensor.creation import tensor as make_tensor

        # An empty list selects nothing (PyTorch makes it an int64 index, not float32).
        if isinstance(idx, list) and len(idx) == 0:
            idx = np.zeros(0, dtype=np.int64)
        idx = make_tensor(idx, device=x.device)
    if not isinstance(idx, Tensor):
        raise IndexError(f"[getitem] unsupported index type {type(idx).__name__}")
    # The indexed dim of x: basic ints before position k remove dims, None adds one.
    dim = sum(1 for i in parts[:k] if isinstance(i, slice) or i is None)
    if idx.ndim == 0 and idx.dtype.name == "bool":
        # x[True] is x[None] masked by [True]: a new dim of size 1 (or 0 for False).
        view = BasicIndex.apply(x, parts[:k] + (None,) + parts[k + 1 :])
        idx = reshape(idx, 1)
    elif len(parts) > 1:
        view = BasicIndex.apply(x, parts[:k] + (slice(None),) + parts[k + 1 :])
    else:
        view = x
    if idx.dtype.name == "bool":
        if idx.ndim == 0 or idx.shape != view.shape[dim : dim + idx.ndim]:
            raise IndexError(
                f"[getitem] a boolean mask of shape {idx.shape} does not match the indexed "
                f"dims {view.shape[dim : dim + idx.ndim]}"
            )
        # Masks need the count of True values: one host read.
        flat = flatten(view, dim, dim + idx.ndim - 1) if idx.ndim > 1 else view
        positions = np.flatnonzero(idx.detach().cpu().numpy())
        from mytensor.creation import tensor as make_tensor

        return index_select(flat, dim, make_tensor(positions, device=x.device))
    if idx.dtype.is_floating_point:
        raise IndexError(
            f"[getitem] tensors used as indices must be integer or bool, got {idx.dtype}"
        )
    flat_idx = _wrap_negative(reshape(idx, -1), view.shape[dim])
    shape = view.shape
    if (
        idx.ndim
        and flat_idx.numel()
        and shape[dim]
        and math.prod(shape[:dim] + shape[dim + 1 :]) == 0
    ):
        # The result is empty: nothing is read, and PyTorch checks no index value then (but a
        # 0-d index is an integer index, and an indexed dim of size 0 has no valid index).
        out = reshape(
            index_select(view, dim, flat_idx[:0]),
            (*shape[:dim], flat_idx.numel(), *shape[dim + 1 :]),
        )
    else:
        out = index_select(view, dim, flat_idx)
    if idx.ndim != 1:
        shape = view.shape
        out = reshape(out, (*shape[:dim], *idx.shape, *shape[dim + 1 :]))
    return out


def _wrap_negative(idx, size: int):
    """idx + size where idx < 0 (PyTorch's indexing counts negative positions from the end); on
    the index's device, without a host read. Out-of-range values are left to index_select."""
    from mytensor.ops.elementwise import where

    if idx.numel() == 0:
        return idx
    # Below -size stays as it is, so that the error names the index the user wrote.
    return where(idx < 0, where(idx < -size, idx, idx + size), idx)


def setitem(x, index, value) -> None:
    from mytensor.ops._util import scalar_value

    parts = _normalize_index(index, x.ndim)
    if not all(_is_basic(i) for i in parts):
        raise IndexError("[setitem] only ints, slices, None and ... are supported in assignments")
    x._check_inplace("setitem", value)
    target = _apply_basic(x._impl, parts)
    if isinstance(value, Tensor):
        # Leading size-1 dims of the value beyond the target's rank are dropped, as in PyTorch
        # and NumPy (x[:] = v with x (3,) and v (1, 3)).
        src = value._impl
        while src.ndim > target.ndim and src.shape[0] == 1:
            src = _C.squeeze(src, [0])
        _C.copy_(target, src)
        return
    # A Python number is written exactly, and NaN or an out-of-range value into an integer
    # tensor raises (a cast through a float 0-d tensor would wrap), as in PyTorch.
    v = scalar_value(value, "setitem")
    _C.check_convertible(v, x.dtype._c, "setitem")
    _C.fill_(target, v)
