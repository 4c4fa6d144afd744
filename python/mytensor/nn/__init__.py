"""Neural-network building blocks."""

from mytensor.nn import functional

__all__ = ["functional"]
