"""Flatten: merges a range of dims into one."""

from __future__ import annotations

from mytensor.nn.module import Module


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: all but the batch dim).

    Shape:
        (N, *dims) -> (N, prod(dims)) with the defaults.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
