"""Indexing Functions: index_select and gather."""

from __future__ import annotations

from mytensor import _C
from mytensor._tensor import Tensor
from mytensor.autograd.function import Function
from mytensor.ops._util import native


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape = list(x.shape)
        ctx.dim = dim
        ctx.save_for_backward(index)
        return _C.index_select(x, dim, index)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return native(_C.index_select_backward, g, ctx.in_shape, ctx.dim, index), None, None


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape = list(x.shape)
        ctx.dim = dim
        ctx.save_for_backward(index)
        return _C.gather(x, dim, index)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return native(_C.gather_backward, g, ctx.in_shape, ctx.dim, index), None, None


def _check_index(index, op: str) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"[{op}] index must be a Tensor, got {type(index).__name__}")


def index_select(input, dim: int, index):
    """The entries of ``input`` at positions ``index`` (a 1-D int64/int32 tensor) along ``dim``.

    Shape: ``input``'s, with ``dim`` resized to ``len(index)``. Indices must lie in
    ``[0, input.size(dim))`` (IndexError otherwise).
    """
    _check_index(index, "index_select")
    return IndexSelect.apply(input, int(dim), index)


def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` for dim 0 (and likewise for other dims).

    ``index`` has ``input``'s number of dims and ``index.size(d) <= input.size(d)`` for
    ``d != dim``; the output has ``index``'s shape. ``sparse_grad`` is accepted for PyTorch
    compatibility; gradients are always dense.
    """
    _check_index(index, "gather")
    return Gather.apply(input, int(dim), index)
