"""Random Functions: dropout (the generator and rand/randn/... live in mytensor.creation)."""

from __future__ import annotations

import numbers

from mytensor import _C
from mytensor.autograd.function import Function


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p):
        out, mask = _C.dropout(x, p)
        # backward = grad * mask / (1 - p); p = 1 keeps nothing, so its gradient is all zeros.
        ctx.scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * (mask.to(g.dtype) * ctx.scale), None


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes each element with probability ``p`` and scales the kept ones by ``1 / (1 - p)``.

    Args:
        input: a float32 or float64 tensor.
        p: probability of an element being zeroed, in [0, 1].
        training: when False, returns ``input`` unchanged (as PyTorch).
        inplace: write the result into ``input`` (not recorded by autograd).

    Returns:
        A tensor of ``input``'s shape. Element i is kept iff the i-th uniform draw of the shared
        generator (Philox, counter offset + i) is >= p, identically on CPU and CUDA.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"[dropout] expected a probability p in [0, 1], got {p}")
    if not training:
        return input
    if inplace:
        input._check_inplace("dropout_")
        out, _ = _C.dropout(input._impl, float(p))
        _C.copy_(input._impl, out)
        return input
    return Dropout.apply(input, float(p))
