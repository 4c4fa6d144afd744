"""Data sets in their official file formats."""

from mytensor.data.datasets.cifar10 import CIFAR10

__all__ = ["CIFAR10"]
