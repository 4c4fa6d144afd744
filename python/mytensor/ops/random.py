"""Random ops: dropout."""

from __future__ import annotations


def dropout(*args, **kwargs):
    raise NotImplementedError("[dropout] is not implemented yet")
