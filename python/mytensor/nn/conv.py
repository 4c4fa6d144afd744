"""Convolution layers: Conv2d."""

from __future__ import annotations

import math

from mytensor import _C
from mytensor.creation import empty
from mytensor.nn import functional as F
from mytensor.nn import init
from mytensor.nn._util import check_positive, pair
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


class Conv2d(Module):
    """2-D convolution (cross-correlation) over an (N, C, H, W) input.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: an int or an (h, w) pair.
        stride: an int or an (h, w) pair.
        padding: an int, an (h, w) pair, "valid" (0) or "same" (stride 1 only).
        dilation: an int or an (h, w) pair: the spacing between kernel taps.
        groups: split channels into this many independent groups.
        bias: learn a per-channel bias (default True).
        padding_mode: only "zeros".

    Shape:
        input (N, in_channels, H, W) -> output (N, out_channels, H_out, W_out) with
        H_out = (H + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) // stride[0] + 1.

    Weight (out_channels, in_channels // groups, kh, kw) and bias start as in PyTorch:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels // groups * kh * kw.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        name = "Conv2d"
        self.in_channels = check_positive(in_channels, "in_channels", name)
        self.out_channels = check_positive(out_channels, "out_channels", name)
        self.groups = check_positive(groups, "groups", name)
        if in_channels % groups:
            raise ValueError(
                f"[Conv2d] in_channels must be divisible by groups, got "
                f"in_channels={in_channels}, groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"[Conv2d] out_channels must be divisible by groups, got "
                f"out_channels={out_channels}, groups={groups}"
            )
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = pair(stride, "stride", name)
        self.dilation = pair(dilation, "dilation", name)
        for arg, value in (
            ("kernel_size", self.kernel_size),
            ("stride", self.stride),
            ("dilation", self.dilation),
        ):
            if min(value) <= 0:
                raise ValueError(f"[Conv2d] {arg} must be positive, got {value}")
        if padding_mode != "zeros":
            raise ValueError(
                f"[Conv2d] padding_mode={padding_mode!r} is not supported (only 'zeros')"
            )
        self.padding_mode = padding_mode
        self.padding = self._resolve_padding(padding)
        self.weight = Parameter(
            empty(
                out_channels, in_channels // groups, *self.kernel_size, dtype=dtype, device=device
            )
        )
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _resolve_padding(self, padding) -> tuple[int, int]:
        if padding == "valid":
            return (0, 0)
        if padding == "same":
            if self.stride != (1, 1):
                raise ValueError(
                    f"[Conv2d] padding='same' is not supported for strided "
                    f"convolutions, got stride={self.stride}"
                )
            total = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            if any(t % 2 for t in total):
                raise ValueError(
                    f"[Conv2d] padding='same' needs an odd effective kernel size, "
                    f"got kernel_size={self.kernel_size}, dilation={self.dilation}"
                )
            return (total[0] // 2, total[1] // 2)
        if isinstance(padding, str):
            raise ValueError(
                f"[Conv2d] invalid padding string {padding!r}, should be one of 'valid', 'same'"
            )
        value = pair(padding, "padding", "Conv2d")
        if min(value) < 0:
            raise ValueError(f"[Conv2d] padding must be non-negative, got {value}")
        return value

    def reset_parameters(self) -> None:
        """Re-draws weight and bias as PyTorch's Conv2d initialises them (Kaiming uniform)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise _C.ShapeError(
                f"[Conv2d] expected input (N, {self.in_channels}, H, W), got shape {tuple(x.shape)}"
            )
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
