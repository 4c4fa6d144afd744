"""Linear layers: Linear and Identity."""

from __future__ import annotations

import math

from mytensor import _C
from mytensor.creation import empty
from mytensor.nn import functional as F
from mytensor.nn import init
from mytensor.nn._util import check_positive
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x @ weight.T + bias.

    Args:
        in_features: size of each input sample (the last dim).
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        device: where the parameters are created.
        dtype: the parameters' dtype.

    Shape:
        input (*, in_features) -> output (*, out_features).

    Weight and bias start as in PyTorch: U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.in_features = check_positive(in_features, "in_features", "Linear")
        self.out_features = check_positive(out_features, "out_features", "Linear")
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)) is PyTorch's default: a bound of 1/sqrt(fan_in).
        """Re-draws weight and bias as PyTorch's Linear initialises them (Kaiming uniform)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            got = x.shape[-1] if x.ndim else None
            hint = (
                f"; the input has {got} features: if it comes from Flatten, use "
                f"Linear({got}, {self.out_features}) or change the layers before it"
                if got
                else ""
            )
            raise _C.ShapeError(
                f"[Linear] expected an input whose last dim is in_features = "
                f"{self.in_features}, got shape {tuple(x.shape)}{hint}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
