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


class Split(Function):
    """The pieces of x along ``dim`` (views): one node for all of them, so that backward is one
    cat of their gradients rather than a full-size zeros per piece."""

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        out, at = [], 0
        for s in sizes:
            out.append(_C.slice(x, dim, at, at + s, 1))
            at += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), ctx.dim), None, None


class Unbind(Function):
    """The slices of x along ``dim`` (views, without that dim); backward stacks their grads."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(_C.select(x, dim, i) for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.dim), None


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


# ---- split, chunk, narrow, movedim, repeat, roll, tril/triu, meshgrid (issue #14) ------------
# Composed from the views and ops above, so that autograd and every backend come for free.
def _dim_for(op: str, x, dim: int) -> int:
    if x.ndim == 0:
        raise IndexError(f"[{op}] dim {dim} is out of range for a 0-d tensor (it has no dims)")
    return _wrap_dim(op, int(dim), x.ndim)


def _slice_dim(x, dim: int, start: int, stop: int):
    """A view of ``x[..., start:stop, ...]`` with the slice on dim ``dim`` (already wrapped)."""
    return BasicIndex.apply(x, (slice(None),) * dim + (slice(start, stop),))


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def split(tensor, split_size_or_sections, dim: int = 0):
    """Splits ``tensor`` into views along ``dim``.

    Args:
        tensor: the tensor to split (at least 1-d).
        split_size_or_sections: an int (each piece has that size along ``dim``, the last one
            may be smaller) or a list of sizes that add up to ``tensor.size(dim)``.
        dim: the dim to split along.

    Returns:
        A tuple of views of ``tensor``.
    """
    if tensor.ndim == 0:
        raise ValueError("[split] expects at least a 1-dimensional tensor, got a 0-d tensor")
    d = _wrap_dim("split", int(dim), tensor.ndim)
    size = tensor.shape[d]
    if _is_int(split_size_or_sections):
        step = int(split_size_or_sections)
        if step < 0:
            raise ValueError(f"[split] split_size must be non-negative, got {step}")
        if step == 0:
            if size != 0:
                raise ValueError(
                    f"[split] split_size can only be 0 if dim {dim} has size 0, but it has size "
                    f"{size} (shape {tensor.shape})"
                )
            return Split.apply(tensor, d, [0])
        sizes = [min(step, size - at) for at in range(0, size, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != size:
            raise _C.ShapeError(
                f"[split] split sizes {sizes} must be non-negative and sum exactly to {size}, the "
                f"size of dim {dim} of the input of shape {tensor.shape}"
            )
    return Split.apply(tensor, d, sizes)


def chunk(input, chunks: int, dim: int = 0):
    """Splits ``input`` into ``chunks`` views along ``dim`` (fewer where the size does not allow
    that many): each of size ``ceil(size / chunks)``, the last one maybe smaller.

    Args:
        input: the tensor to split (at least 1-d).
        chunks: the number of pieces, at least 1.
        dim: the dim to split along.

    Returns:
        A tuple of views of ``input``.
    """
    chunks = int(chunks)
    if chunks <= 0:
        raise ValueError(f"[chunk] chunks must be greater than 0, got {chunks}")
    if input.ndim == 0:
        raise ValueError("[chunk] expects at least a 1-dimensional tensor, got a 0-d tensor")
    size = input.shape[_wrap_dim("chunk", int(dim), input.ndim)]
    if size == 0:  # as PyTorch: `chunks` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, -(-size // chunks), dim)


def unbind(input, dim: int = 0):
    """The slices of ``input`` along ``dim``, each without that dim, as a tuple of views."""
    return Unbind.apply(input, _dim_for("unbind", input, dim))


def narrow(input, dim: int, start: int, length: int):
    """A view of ``input`` holding ``length`` elements of dim ``dim`` from ``start`` on
    (``start`` may be negative, counted from the end)."""
    d = _dim_for("narrow", input, dim)
    size = input.shape[d]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(
            f"[narrow] start {start} is out of range for dim {dim} of size {size} (expected "
            f"a start in [{-size}, {size}])"
        )
    if start < 0:
        start += size
    if length < 0:
        raise ValueError(f"[narrow] length must be non-negative, got {length}")
    if start + length > size:
        raise ValueError(
            f"[narrow] start ({start}) + length ({length}) exceeds the size ({size}) of dim "
            f"{dim} of the input of shape {input.shape}"
        )
    return _slice_dim(input, d, start, start + length)


def movedim(input, source, destination):
    """A view of ``input`` with the dims in ``source`` moved to the positions in
    ``destination`` (ints or tuples of one length); the other dims keep their order."""
    src = [int(source)] if _is_int(source) else [int(s) for s in source]
    dst = [int(destination)] if _is_int(destination) else [int(s) for s in destination]
    if len(src) != len(dst):
        raise ValueError(
            f"[movedim] source {tuple(src)} and destination {tuple(dst)} must name the same "
            "number of dims"
        )
    nd = max(input.ndim, 1)  # a 0-d tensor's one dim may be named 0 or -1, as in PyTorch
    src = [_wrap_dim("movedim", s, nd) for s in src]
    dst = [_wrap_dim("movedim", s, nd) for s in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ValueError(f"[movedim] repeated dim in {name}: {tuple(dims)}")
    if input.ndim == 0:
        return input.view(())
    order: list[int | None] = [None] * nd
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(nd) if d not in src)
    return permute(input, [next(rest) if o is None else o for o in order])


def unflatten(input, dim: int, sizes):
    """A view of ``input`` with dim ``dim`` split into the dims ``sizes`` (one may be -1)."""
    d = _dim_for("unflatten", input, dim)
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise ValueError("[unflatten] sizes must be non-empty")
    size = input.shape[d]
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or (
        known != size if -1 not in sizes else (known == 0 or size % known != 0)
    ):
        raise _C.ShapeError(
            f"[unflatten] sizes {tuple(sizes)} don't multiply up to the size ({size}) of dim "
            f"{dim} of the input of shape {input.shape}"
        )
    if -1 in sizes:  # inferred here: in the whole shape, a -1 beside a size-0 dim is ambiguous
        sizes[sizes.index(-1)] = size // known
    shape = input.shape
    return view(input, (*shape[:d], *sizes, *shape[d + 1 :]))


def repeat(input, *sizes):
    """``input`` repeated ``sizes[i]`` times along dim i (a copy); ``sizes`` may have more dims
    than ``input``, which then gets leading size-1 dims first."""
    reps = _shape_arg(sizes)
    if len(reps) < input.ndim:
        raise ValueError(
            f"[repeat] the number of repeats {len(reps)} can not be smaller than the number of "
            f"dims of the input of shape {input.shape}"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"[repeat] repeats must be non-negative, got {tuple(reps)}")
    shape = (1,) * (len(reps) - input.ndim) + input.shape
    # (s0, s1) -> (1, s0, 1, s1) -> expand (r0, s0, r1, s1) -> reshape (r0*s0, r1*s1).
    interleaved = [v for s in shape for v in (1, s)]
    grown = [v for r, s in zip(reps, shape) for v in (r, s)]
    x = reshape(input, interleaved)
    return reshape(expand(x, grown), [r * s for r, s in zip(reps, shape)])


def tile(input, dims):
    """``input`` repeated ``dims[i]`` times along dim i; a shorter ``dims`` is padded with 1s
    in front (unlike :meth:`Tensor.repeat`)."""
    reps = [int(dims)] if _is_int(dims) else [int(r) for r in dims]
    return repeat(input, [1] * (input.ndim - len(reps)) + reps)


def roll(input, shifts, dims=None):
    """``input`` with its elements shifted by ``shifts`` along ``dims`` (ints or tuples of one
    length), wrapping around; with ``dims=None`` the tensor is rolled as if flattened."""
    shift_list = [int(shifts)] if _is_int(shifts) else [int(s) for s in shifts]
    if dims is None:
        if len(shift_list) != 1:
            raise ValueError(
                f"[roll] with dims=None expects a single shift, got shifts {tuple(shift_list)}"
            )
        return reshape(roll(flatten(input), shift_list[0], 0), input.shape)
    dim_list = [int(dims)] if _is_int(dims) else [int(d) for d in dims]
    if len(shift_list) != len(dim_list) or not dim_list:
        raise ValueError(
            f"[roll] shifts {tuple(shift_list)} and dims {tuple(dim_list)} must align (the "
            "same non-zero number of each)"
        )
    if input.numel() == 0:  # PyTorch checks no dim of an empty tensor
        return clone(input)
    out = input
    for s, dim in zip(shift_list, dim_list):
        d = _dim_for("roll", input, dim)
        n = input.shape[d]
        s = s % n if n else 0
        if s:
            out = cat([_slice_dim(out, d, n - s, n), _slice_dim(out, d, 0, n - s)], d)
    return out if out is not input else clone(input)


def _triangle(op: str, input, diagonal: int, keep_upper: bool):
    if input.ndim < 2:
        raise ValueError(
            f"[{op}] input tensor must have at least 2 dimensions, got shape {input.shape}"
        )
    from mytensor.creation import arange
    from mytensor.ops.elementwise import masked_fill

    rows, cols = input.shape[-2:]
    # offset[i, j] = j - i: the diagonal that element (i, j) lies on.
    offset = reshape(arange(cols, device=input.device), 1, cols) - reshape(
        arange(rows, device=input.device), rows, 1
    )
    drop = offset < int(diagonal) if keep_upper else offset > int(diagonal)
    return masked_fill(input, drop, 0)


def tril(input, diagonal: int = 0):
    """The lower triangle of the matrices in the last two dims of ``input`` (batched): the
    elements above diagonal ``diagonal`` (0 = main, > 0 above, < 0 below) are set to 0."""
    return _triangle("tril", input, diagonal, keep_upper=False)


def triu(input, diagonal: int = 0):
    """The upper triangle of the matrices in the last two dims of ``input`` (batched): the
    elements below diagonal ``diagonal`` (0 = main, > 0 above, < 0 below) are set to 0."""
    return _triangle("triu", input, diagonal, keep_upper=True)


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-d (or 0-d) tensors, as broadcast views.

    Args:
        tensors: N tensors of sizes s0, ..., sN-1 (or one list of them), of one dtype and device.
        indexing: ``"ij"`` gives grids of shape (s0, s1, ...); ``"xy"`` (Cartesian, as NumPy's
            default) swaps the first two: (s1, s0, ...).

    Returns:
        A tuple of N tensors; grid i holds tensors[i] broadcast along the other dims.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"[meshgrid] indexing must be one of 'xy' or 'ij', got {indexing!r}")
    if not tensors:
        raise ValueError("[meshgrid] expects a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"[meshgrid] expects tensors, got {type(t).__name__} at entry {i}")
        if t.ndim > 1:
            raise _C.ShapeError(
                f"[meshgrid] expects 0-d or 1-d tensors, got shape {t.shape} at entry {i}"
            )
        if t.dtype is not tensors[0].dtype or t.device != tensors[0].device:
            raise TypeError(
                f"[meshgrid] expects all tensors to have one dtype and device, got "
                f"{tensors[0].dtype} on {tensors[0].device} at entry 0 and {t.dtype} on "
                f"{t.device} at entry {i}"
            )
    swap = indexing == "xy" and len(tensors) >= 2
    ts = list(tensors)
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = [t.numel() for t in ts]
    n = len(ts)
    grids = [
        expand(reshape(t, [-1 if k == i else 1 for k in range(n)]), sizes) for i, t in enumerate(ts)
    ]
    if swap:  # the grids of the swapped inputs, back in the order of the inputs
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def outer(input, vec2):
    """The outer product of two 1-d tensors: ``out[i, j] = input[i] * vec2[j]``."""
    from mytensor.ops.elementwise import mul

    for name, v in (("input", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise _C.ShapeError(f"[outer] expects a 1-d {name}, got shape {v.shape}")
    return mul(reshape(input, -1, 1), vec2)
