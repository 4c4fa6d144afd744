"""Matrix products: matmul and linear."""

from __future__ import annotations


def matmul(*args, **kwargs):
    raise NotImplementedError("[matmul] is not implemented yet")


def linear(*args, **kwargs):
    raise NotImplementedError("[linear] is not implemented yet")
