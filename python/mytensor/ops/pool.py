"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d."""

from __future__ import annotations


def max_pool2d(*args, **kwargs):
    raise NotImplementedError("[max_pool2d] is not implemented yet")


def avg_pool2d(*args, **kwargs):
    raise NotImplementedError("[avg_pool2d] is not implemented yet")


def adaptive_avg_pool2d(*args, **kwargs):
    raise NotImplementedError("[adaptive_avg_pool2d] is not implemented yet")
