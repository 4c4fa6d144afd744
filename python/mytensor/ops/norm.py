"""Normalization Functions: batch_norm."""

from __future__ import annotations

import numbers

from mytensor import _C
from mytensor.autograd.function import Function
from mytensor.ops._util import native


class BatchNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        y, save_mean, save_invstd = _C.batch_norm(
            x, weight, bias, running_mean, running_var, training, momentum, eps
        )
        ctx.training = training
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, weight, save_mean, save_invstd)
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, invstd = ctx.saved_tensors
        gx, gw, gb = native(_C.batch_norm_backward, g, x, weight, mean, invstd, ctx.training)
        if not ctx.needs_input_grad[1]:
            gw = None
        if gb is None and ctx.has_bias and ctx.needs_input_grad[2]:
            # No weight: the kernel skips the per-channel sums, so grad_bias = sum of g over
            # every dim but the channel dim.
            gb = native(_C.sum, g, [d for d in range(g.ndim) if d != 1], False)
        if not ctx.needs_input_grad[2]:
            gb = None
        return gx, gw, gb, None, None, None, None, None


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Batch normalization over the channel dim 1 of an (N, C, *) input.

    Args:
        input: (N, C) or (N, C, *) float tensor.
        running_mean: (C,) buffer or None (with running_var).
        running_var: (C,) buffer or None. In training they are updated in place:
            ``r = (1 - momentum) * r + momentum * batch_stat`` (the variance unbiased); in eval
            they are the statistics used.
        weight: optional (C,) scale.
        bias: optional (C,) shift.
        training: use batch statistics (True) or the running ones (False).
        momentum: weight of the new batch statistics in the running average.
        eps: added to the variance for numerical stability.

    Returns:
        y of ``input``'s shape: ``(x - mean) / sqrt(var + eps) * weight + bias``.
    """
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"[batch_norm] momentum must be a number, got {type(momentum).__name__}")
    return BatchNorm.apply(
        input, weight, bias, running_mean, running_var, bool(training), float(momentum), float(eps)
    )
