"""Argument helpers shared by the layers: int-or-tuple arguments and hyper-parameter checks."""

from __future__ import annotations

import numbers


def pair(value, name: str, layer: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair; anything else raises naming the argument."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value), int(value))
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"[{layer}] {name} must be an int or a pair of ints, got {value!r}")


def check_positive(value, name: str, layer: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"[{layer}] {name} must be a positive integer, got {value!r}")
    return int(value)
