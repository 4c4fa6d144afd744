"""Dropout (Srivastava et al., 2014)."""

from __future__ import annotations

import numbers

from mytensor.nn import functional as F
from mytensor.nn.module import Module


class Dropout(Module):
    """In training, zeroes each element with probability p and scales the rest by 1/(1-p);
    the identity in eval.

    Args:
        p: the probability of an element to be zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility; the result is a new tensor.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
            raise ValueError(
                f"[Dropout] dropout probability has to be between 0 and 1, but got {p!r}"
            )
        self.p: float = float(p)
        self.inplace: bool = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
