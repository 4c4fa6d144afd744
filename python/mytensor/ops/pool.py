"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d (PyTorch semantics, ceil_mode=False)."""

from __future__ import annotations

import numbers

from mytensor import _C
from mytensor._tensor import Tensor
from mytensor.autograd.function import Function
from mytensor.ops._util import native
from mytensor.ops.conv import _pair


def _check_input(input, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"[{op}] input must be a Tensor, got {type(input).__name__}")


def _stride(stride, op: str) -> list[int]:
    """stride=None (or an empty list) means stride = kernel_size: the native op reads [] so."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return []
    return _pair(stride, op, "stride")


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        out, indices = _C.max_pool2d(x, kernel_size, stride, padding)
        ctx.x_shape = x.shape
        ctx.save_for_backward(indices)
        return out, indices

    @staticmethod
    def backward(ctx, g, _g_indices):
        (indices,) = ctx.saved_tensors
        return native(_C.max_pool2d_backward, g, indices, list(ctx.x_shape)), None, None, None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        ctx.args = (list(x.shape), kernel_size, stride, padding, count_include_pad)
        return _C.avg_pool2d(x, kernel_size, stride, padding, count_include_pad)

    @staticmethod
    def backward(ctx, g):
        return native(_C.avg_pool2d_backward, g, *ctx.args), None, None, None, None


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.x_shape = x.shape
        return _C.adaptive_avg_pool2d(x, output_size)

    @staticmethod
    def backward(ctx, g):
        return native(_C.adaptive_avg_pool2d_backward, g, list(ctx.x_shape)), None


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.max_pool2d``.

    Padding (at most half the kernel) counts as -inf. With ``return_indices=True`` also returns
    the flat ``h * W + w`` position of each maximum within its input plane (int64).
    Only ``dilation=1`` and ``ceil_mode=False`` are supported.
    """
    _check_input(input, "max_pool2d")
    if _pair(dilation, "max_pool2d", "dilation") != [1, 1]:
        raise ValueError(f"[max_pool2d] only dilation=1 is supported, got {dilation!r}")
    if ceil_mode:
        raise ValueError("[max_pool2d] ceil_mode=True is not supported")
    out, indices = MaxPool2d.apply(
        input,
        _pair(kernel_size, "max_pool2d", "kernel_size"),
        _stride(stride, "max_pool2d"),
        _pair(padding, "max_pool2d", "padding"),
    )
    return (out, indices) if return_indices else out


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
):
    """2-D average pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.avg_pool2d``.

    ``count_include_pad`` divides by the full window (zero padding included) rather than by the
    number of input pixels in it. Only ``ceil_mode=False`` and no ``divisor_override``.
    """
    _check_input(input, "avg_pool2d")
    if ceil_mode:
        raise ValueError("[avg_pool2d] ceil_mode=True is not supported")
    if divisor_override is not None:
        raise ValueError("[avg_pool2d] divisor_override is not supported")
    return AvgPool2d.apply(
        input,
        _pair(kernel_size, "avg_pool2d", "kernel_size"),
        _stride(stride, "avg_pool2d"),
        _pair(padding, "avg_pool2d", "padding"),
        bool(count_include_pad),
    )


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H_out, W_out), as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output cell i averages input rows floor(i*H/H_out) to ceil((i+1)*H/H_out) (same for columns).
    ``output_size`` is an int or a pair; a None entry keeps that input dim.
    """
    _check_input(input, "adaptive_avg_pool2d")
    if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
        size = [int(output_size), int(output_size)]
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        size = [input.shape[-2 + i] if s is None else s for i, s in enumerate(output_size)]
        size = _pair(size, "adaptive_avg_pool2d", "output_size")
    else:
        raise TypeError(
            f"[adaptive_avg_pool2d] output_size must be an int or a pair, got {output_size!r}"
        )
    return AdaptiveAvgPool2d.apply(input, size)
