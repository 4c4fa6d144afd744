"""Convolution: conv2d (NCHW activations, (out, in / groups, kH, kW) weights, as PyTorch)."""

from __future__ import annotations

import numbers

from mytensor import _C
from mytensor._tensor import Tensor
from mytensor.autograd.function import Function
from mytensor.ops._util import native


def _pair(value, op: str, name: str) -> list[int]:
    """An int or a 1- or 2-sequence of ints as [h, w]."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return [int(value), int(value)]
    if (
        isinstance(value, (tuple, list))
        and len(value) in (1, 2)
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        return [int(value[0]), int(value[-1])]
    raise TypeError(f"[{op}] {name} must be an int or a pair of ints, got {value!r}")


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.params = (stride, padding, dilation, groups)
        ctx.x_shape, ctx.w_shape = x.shape, weight.shape
        # The input gradient needs only the weight, the weight gradient only the input.
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        return _C.conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = native(_C.conv2d_backward_input, g, weight, list(ctx.x_shape), *ctx.params)
        if need_w:
            grad_w = native(_C.conv2d_backward_weight, g, x, list(ctx.w_shape), *ctx.params)
        if need_b:
            # Sum over every dim but the channels: (N, H, W), or (H, W) for a 3-D input.
            grad_b = g.sum((0, 2, 3) if g.ndim == 4 else (1, 2))
        return grad_x, grad_w, grad_b, None, None, None, None


def _same_padding(input, weight, stride, dilation):
    """PyTorch's padding='same': total d*(k-1) per dim, the odd extra on the bottom/right."""
    from mytensor.ops.shape import pad

    if stride != [1, 1]:
        raise ValueError("[conv2d] padding='same' is not supported for strided convolutions")
    lo, extra = [], []
    for d, k in zip(dilation, weight.shape[-2:]):
        total = d * (k - 1)
        lo.append(total // 2)
        extra.append(total - 2 * (total // 2))
    if any(extra):
        input = pad(input, [0, extra[1], 0, extra[0]])
    return input, lo


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out) or None.
        stride: an int or (h, w), positive.
        padding: an int or (h, w) of zeros on both sides, or "valid" / "same".
        dilation: an int or (h, w), positive: the spacing between kernel taps.
        groups: splits the channels into this many independent convolutions.

    Returns:
        (N, C_out, H_out, W_out) with H_out = (H + 2*pad - dilation*(kH-1) - 1) // stride + 1.
    """
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"[conv2d] {name} must be a Tensor, got {type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"[conv2d] bias must be a Tensor or None, got {type(bias).__name__}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"[conv2d] groups must be an int, got {groups!r}")
    stride = _pair(stride, "conv2d", "stride")
    dilation = _pair(dilation, "conv2d", "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = [0, 0]
        elif padding == "same":
            input, padding = _same_padding(input, weight, stride, dilation)
        else:
            raise ValueError(f"[conv2d] padding must be 'valid', 'same' or ints, got {padding!r}")
    else:
        padding = _pair(padding, "conv2d", "padding")
    return Conv2d.apply(input, weight, bias, stride, padding, dilation, int(groups))
