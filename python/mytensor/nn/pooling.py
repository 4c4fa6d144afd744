"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""

from __future__ import annotations

from mytensor.nn import functional as F
from mytensor.nn._util import pair
from mytensor.nn.module import Module


def _window(layer: str, kernel_size, stride, padding):
    k = pair(kernel_size, "kernel_size", layer)
    s = k if stride is None or stride == () else pair(stride, "stride", layer)
    p = pair(padding, "padding", layer)
    if min(k) <= 0 or min(s) <= 0:
        raise ValueError(
            f"[{layer}] kernel_size and stride must be positive, got "
            f"kernel_size={kernel_size}, stride={stride}"
        )
    if min(p) < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(
            f"[{layer}] padding should be at most half of the kernel size, got "
            f"padding={padding}, kernel_size={kernel_size}"
        )
    return k, s, p


def _same_form(value, pair_value):
    """Keeps an int argument an int in repr (PyTorch prints what it was given)."""
    return value if isinstance(value, int) else pair_value


class MaxPool2d(Module):
    """Max over kh x kw windows of an (N, C, H, W) input.

    Args:
        kernel_size: an int or (kh, kw).
        stride: defaults to kernel_size.
        padding: implicit -inf padding on both sides (at most half the kernel).
        dilation: only the default (1) is supported.
        return_indices: only the default (False) is supported.
        ceil_mode: only the default (False) is supported.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        k, s, p = _window("MaxPool2d", kernel_size, stride, padding)
        if dilation != 1 and pair(dilation, "dilation", "MaxPool2d") != (1, 1):
            raise ValueError(f"[MaxPool2d] dilation={dilation!r} is not supported (only 1)")
        if return_indices or ceil_mode:
            raise ValueError(
                f"[MaxPool2d] return_indices={return_indices}, "
                f"ceil_mode={ceil_mode} are not supported (only False)"
            )
        self.kernel_size = _same_form(kernel_size, k)
        self.stride = _same_form(kernel_size if stride is None else stride, s)
        self.padding = _same_form(padding, p)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Mean over kh x kw windows of an (N, C, H, W) input.

    Args:
        kernel_size: an int or (kh, kw).
        stride: defaults to kernel_size.
        padding: implicit zero padding on both sides (at most half the kernel).
        count_include_pad: count padding zeros in the divisor (default True).
        ceil_mode: only the default (False) is supported.
        divisor_override: only the default (None) is supported.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override=None,
    ) -> None:
        super().__init__()
        k, s, p = _window("AvgPool2d", kernel_size, stride, padding)
        if ceil_mode or divisor_override is not None:
            raise ValueError(
                f"[AvgPool2d] ceil_mode={ceil_mode}, divisor_override="
                f"{divisor_override} are not supported (only False, None)"
            )
        self.kernel_size = _same_form(kernel_size, k)
        self.stride = _same_form(kernel_size if stride is None else stride, s)
        self.padding = _same_form(padding, p)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, count_include_pad=self.count_include_pad
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Mean pooling to a fixed (out_h, out_w) whatever the input's size (PyTorch's windows).

    Args:
        output_size: an int or (out_h, out_w); None in a position keeps the input's size.
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size: int | tuple
        if isinstance(output_size, (tuple, list)):
            if len(output_size) != 2 or not all(
                v is None or (isinstance(v, int) and v > 0) for v in output_size
            ):
                raise ValueError(
                    f"[AdaptiveAvgPool2d] output_size must be a positive int or a "
                    f"pair of positive ints (or None), got {output_size!r}"
                )
            self.output_size = tuple(output_size)
        elif isinstance(output_size, int) and not isinstance(output_size, bool) and output_size > 0:
            self.output_size = output_size
        else:
            raise ValueError(
                f"[AdaptiveAvgPool2d] output_size must be a positive int or a pair "
                f"of positive ints, got {output_size!r}"
            )

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
