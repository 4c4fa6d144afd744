"""Activation layers: ReLU, GELU, Sigmoid, Tanh, SiLU, LeakyReLU, ELU, SELU, Softplus, Mish,
Hardswish, Hardsigmoid, PReLU, Softmax, LogSoftmax."""

from __future__ import annotations

import numbers

from mytensor.creation import full
from mytensor.nn import functional as F
from mytensor.nn._util import check_positive
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


class ReLU(Module):
    """max(x, 0). ``inplace=True`` writes the result into the input (see ``Tensor.relu_``)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """x * Phi(x), the exact (erf) form."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"[GELU] approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class SiLU(Module):
    """``x * sigmoid(x)``. ``inplace=True`` writes the result into the input."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.silu(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """``x`` where x > 0, else ``negative_slope * x``.

    Args:
        negative_slope: the slope for x <= 0 (default 0.01).
        inplace: write the result into the input.
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """``x`` where x > 0, else ``alpha * (exp(x) - 1)``.

    Args:
        alpha: default 1.0.
        inplace: write the result into the input.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(Module):
    """``scale * elu(x, alpha)`` with the self-normalising constants. ``inplace=True`` writes the
    result into the input."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.selu(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear (``x``) where ``beta * x > threshold``.

    Args:
        beta: default 1.0.
        threshold: default 20.0.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Mish(Module):
    """``x * tanh(softplus(x))``. ``inplace=True`` writes the result into the input."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.mish(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardswish(Module):
    """``x * relu6(x + 3) / 6``. ``inplace=True`` writes the result into the input
    (PyTorch's repr does not show it, nor does this one)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.hardswish(x, self.inplace)


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6``. ``inplace=True`` writes the result into the input
    (PyTorch's repr does not show it, nor does this one)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.hardsigmoid(x, self.inplace)


class PReLU(Module):
    """``x`` where x > 0, else ``weight * x``, with a learnable slope.

    Args:
        num_parameters: 1 (one slope shared by all channels) or the number of channels (dim 1
            of the input; an input of fewer than 2 dims has one channel).
        init: the initial slope (default 0.25).

    Attributes:
        weight: the Parameter of shape (num_parameters,).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = check_positive(num_parameters, "num_parameters", "PReLU")
        if not isinstance(init, numbers.Real):
            raise ValueError(f"[PReLU] init must be a number, got {init!r}")
        self.init: float = float(init)
        self.weight: Parameter = Parameter(
            full((self.num_parameters,), self.init, dtype=dtype, device=device)
        )

    def reset_parameters(self) -> None:
        """Sets every slope back to ``init``."""
        from mytensor.nn import init as nn_init

        nn_init.constant_(self.weight, self.init)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``dim`` (dim=None takes PyTorch's legacy implicit choice,
    with its warning)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``x - logsumexp(x)`` along ``dim`` (dim=None as :class:`Softmax`)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
