"""Convolution: conv2d."""

from __future__ import annotations


def conv2d(*args, **kwargs):
    raise NotImplementedError("[conv2d] is not implemented yet")
