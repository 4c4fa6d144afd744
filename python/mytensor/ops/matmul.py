"""Matrix products: matmul (NumPy/PyTorch rules, batch dims broadcast) and linear."""

from __future__ import annotations

from mytensor import _C
from mytensor._tensor import Tensor
from mytensor.autograd.function import Function
from mytensor.ops._util import sum_to


def _check_tensor(value, op: str, name: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"[{op}] {name} must be a Tensor, got {type(value).__name__}")


def _rows(shape) -> int:
    """The row count of `shape` folded to 2-D (every dim but the last), spelled out: a
    reshape to (-1, 0) is ambiguous when the last dim is empty."""
    n = 1
    for s in shape[:-1]:
        n *= s
    return n


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _C.matmul(a, b)
        need_a, need_b = ctx.needs_input_grad
        if need_a or need_b:
            ctx.a_shape, ctx.b_shape = a.shape, b.shape
            # Each gradient needs only the other operand.
            ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_shape, b_shape = ctx.a_shape, ctx.b_shape
        # Put back the dims the forward dropped: a 1-D a is a row (1, K), a 1-D b a column (K, 1).
        if len(b_shape) == 1:
            g = g.unsqueeze(-1)
        if len(a_shape) == 1:
            g = g.unsqueeze(-2)
        grad_a = grad_b = None
        if need_a:
            b2 = b.unsqueeze(-1) if len(b_shape) == 1 else b
            a2_shape = (1, *a_shape) if len(a_shape) == 1 else a_shape
            # Batch dims that were broadcast are summed back (sum_to is a no-op otherwise).
            grad_a = sum_to(matmul(g, b2.mT), a2_shape).reshape(a_shape)
        if need_b:
            a2 = a.unsqueeze(0) if len(a_shape) == 1 else a
            b2_shape = (*b_shape, 1) if len(b_shape) == 1 else b_shape
            if len(b2_shape) == 2 and a2.ndim > 2:
                # An unbatched b: fold a's batch into its rows, one (K, B*M) @ (B*M, N) product.
                k, n = b2_shape
                rows = _rows(a2.shape)
                grad_b = matmul(a2.reshape(rows, k).mT, g.reshape(rows, n))
            else:
                grad_b = sum_to(matmul(a2.mT, g), b2_shape)
            grad_b = grad_b.reshape(b_shape)
        return grad_a, grad_b


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        need_x, need_w, _ = ctx.needs_input_grad
        ctx.x_shape = x.shape
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        return _C.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        out_features = g.shape[-1]
        g2 = g.reshape(_rows(g.shape), out_features)  # every leading dim of x is a row
        grad_x = matmul(g, weight) if need_x else None
        grad_w = matmul(g2.mT, x.reshape(g2.shape[0], ctx.x_shape[-1])) if need_w else None
        grad_b = g2.sum(0) if need_b else None
        return grad_x, grad_w, grad_b


def matmul(input, other):
    """Matrix product of two tensors, with NumPy's rules (as ``torch.matmul``).

    1-D operands are vectors (a dot product for two of them); N-D operands are stacks of
    matrices in their last two dims, whose batch dims broadcast.

    Args:
        input: (..., n, m) or (m,), float32 or float64.
        other: (..., m, p) or (m,), of input's dtype and device.

    Returns:
        The product, of shape broadcast(batch) + (n, p), without the n or p of a 1-D operand.
    """
    _check_tensor(input, "matmul", "input")
    _check_tensor(other, "matmul", "other")
    return MatMul.apply(input, other)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (as ``torch.nn.functional.linear``).

    Shape:
        input (*, in_features), weight (out_features, in_features), bias (out_features) or None;
        returns (*, out_features).
    """
    _check_tensor(input, "linear", "input")
    _check_tensor(weight, "linear", "weight")
    if bias is not None:
        _check_tensor(bias, "linear", "bias")
    return Linear.apply(input, weight, bias)
